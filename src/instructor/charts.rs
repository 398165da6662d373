//! Charts drawn on the server as SVG: no chart library, no script, and the
//! numbers behind each one are also given as a table. Colours come from CSS
//! classes (the stylesheet's variables), so light and dark themes both work
//! under a CSP that forbids inline styles.

use std::fmt::Write;

use sqlx::PgPool;
use time::{Date, OffsetDateTime};

/// One day of the cohort's progress.
#[derive(Clone, Debug)]
pub struct ProgressPoint {
    /// The day (UTC).
    pub day: Date,
    /// Exercise passes up to the end of that day, per learner.
    pub passed_per_learner: f64,
    /// Passes that day.
    pub passes: i64,
}

/// The cohort's progress, one point per day from its first pass to today.
pub async fn progress_over_time(
    db: &PgPool,
    cohort_id: i64,
    learners: usize,
) -> sqlx::Result<Vec<ProgressPoint>> {
    // `day` is never NULL (the WHERE keeps passed rows only), nor a count.
    let rows: Vec<(Date, i64)> = sqlx::query!(
        r#"SELECT (p.passed_at AT TIME ZONE 'UTC')::date AS "day!", count(*) AS "passes!"
             FROM cohort_members m JOIN exercise_progress p ON p.user_id = m.user_id
            WHERE m.cohort_id = $1 AND p.passed_at IS NOT NULL
            GROUP BY 1 ORDER BY 1"#,
        cohort_id,
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|row| (row.day, row.passes))
    .collect();
    let Some(&(first, _)) = rows.first() else {
        return Ok(Vec::new());
    };
    let today = OffsetDateTime::now_utc().date();
    let mut points = Vec::new();
    let mut total = 0;
    let mut rows = rows.into_iter().peekable();
    let mut day = first;
    while day <= today.max(first) {
        let passes = match rows.peek() {
            Some(&(d, n)) if d == day => {
                rows.next();
                n
            }
            _ => 0,
        };
        total += passes;
        points.push(ProgressPoint {
            day,
            passed_per_learner: total as f64 / learners.max(1) as f64,
            passes,
        });
        match day.next_day() {
            Some(next) => day = next,
            None => break,
        }
    }
    Ok(points)
}

/// Escapes text for SVG/HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A line chart of exercises passed per learner over time, out of `of` exercises.
pub fn progress_svg(points: &[ProgressPoint], of: usize) -> String {
    const W: f64 = 640.0;
    const H: f64 = 240.0;
    const LEFT: f64 = 40.0;
    const BOTTOM: f64 = 24.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-labelledby="progress-chart-title"><title id="progress-chart-title">Exercises passed per learner, by day (out of {of})</title>"#
    );
    let plot_w = W - LEFT - 8.0;
    let plot_h = H - BOTTOM - 8.0;
    let top = of.max(1) as f64;
    for i in 0..=4 {
        let value = top * f64::from(i) / 4.0;
        let y = 8.0 + plot_h - plot_h * f64::from(i) / 4.0;
        let _ = write!(
            svg,
            r#"<line class="chart-grid" x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}"/><text class="chart-label" x="{}" y="{:.1}" text-anchor="end">{value:.0}</text>"#,
            W - 8.0,
            LEFT - 4.0,
            y + 4.0
        );
    }
    if !points.is_empty() {
        let n = points.len().max(2) - 1;
        let xy = |i: usize, v: f64| {
            (
                LEFT + plot_w * i as f64 / n as f64,
                8.0 + plot_h - plot_h * (v / top).min(1.0),
            )
        };
        let mut line = String::new();
        for (i, p) in points.iter().enumerate() {
            let (x, y) = xy(i, p.passed_per_learner);
            let _ = write!(line, "{x:.1},{y:.1} ");
        }
        let (x0, _) = xy(0, 0.0);
        let (x1, _) = xy(points.len() - 1, 0.0);
        let base = 8.0 + plot_h;
        let _ = write!(
            svg,
            r#"<polygon class="chart-area" points="{x0:.1},{base:.1} {line}{x1:.1},{base:.1}"/><polyline class="chart-line" fill="none" points="{line}"/>"#
        );
        for (i, label) in [
            (0, &points[0]),
            (points.len() - 1, &points[points.len() - 1]),
        ] {
            let (x, _) = xy(i, 0.0);
            let anchor = if i == 0 { "start" } else { "end" };
            let _ = write!(
                svg,
                r#"<text class="chart-label" x="{x:.1}" y="{}" text-anchor="{anchor}">{}</text>"#,
                H - 6.0,
                label.day
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A bar per exercise: (title, passed, attempted, learners).
///
/// Each title sits on its own line above its bar, left-aligned across the
/// chart's whole width: right-aligned beside the bars, long titles ran off
/// the chart's left edge. One too long even for a full line is shortened
/// with an ellipsis, and the whole title is its tooltip (and in the table
/// under the chart).
pub fn pass_rate_svg(bars: &[(String, usize, usize, usize)]) -> String {
    const W: f64 = 640.0;
    const ROW: f64 = 32.0;
    const LABEL_LINE: f64 = 12.0;
    const BAR: f64 = 14.0;
    // Characters of a 10px label that fit in the width, allowing for wide glyphs.
    const MAX_TITLE_CHARS: usize = 96;
    let h = ROW * bars.len() as f64 + 4.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {W} {h}" role="img" aria-labelledby="pass-chart-title"><title id="pass-chart-title">Share of learners who passed each exercise</title>"#
    );
    let plot = W - 50.0;
    for (i, (title, passed, attempted, learners)) in bars.iter().enumerate() {
        let top = 4.0 + ROW * i as f64;
        let bar_y = top + LABEL_LINE + 2.0;
        let of = (*learners).max(1) as f64;
        let pw = plot * *passed as f64 / of;
        let aw = plot * *attempted as f64 / of;
        let shown = if title.chars().count() > MAX_TITLE_CHARS {
            let cut: String = title.chars().take(MAX_TITLE_CHARS - 1).collect();
            format!("{}…", cut.trim_end())
        } else {
            title.clone()
        };
        let _ = write!(
            svg,
            r#"<g><title>{}</title><text class="chart-label" x="0" y="{:.1}" text-anchor="start">{}</text><rect class="chart-bar-passed" x="0" y="{bar_y:.1}" width="{pw:.1}" height="{BAR}"/><rect class="chart-bar-attempted" x="{pw:.1}" y="{bar_y:.1}" width="{aw:.1}" height="{BAR}"/><text class="chart-label" x="{:.1}" y="{:.1}">{:.0}%</text></g>"#,
            escape(title),
            top + LABEL_LINE - 2.0,
            escape(&shown),
            pw + aw + 4.0,
            bar_y + BAR - 3.0,
            100.0 * *passed as f64 / of
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::pass_rate_svg;

    /// The `(x, text-anchor, text)` of every title label in `svg`.
    fn title_labels(svg: &str) -> Vec<(f64, String, String)> {
        svg.split("<text class=\"chart-label\" ")
            .skip(1)
            .filter(|label| label.contains("text-anchor"))
            .map(|label| {
                let attribute = |name: &str| {
                    let start = label.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                    label[start..start + label[start..].find('"').unwrap()].to_string()
                };
                let text_start = label.find('>').unwrap() + 1;
                let text = label[text_start..text_start + label[text_start..].find('<').unwrap()]
                    .to_string();
                (
                    attribute("x").parse().unwrap(),
                    attribute("text-anchor"),
                    text,
                )
            })
            .collect()
    }

    #[test]
    fn long_exercise_titles_start_inside_the_chart() {
        let long =
            "Capstone: a job queue with rate limits, cancellation and a status history".to_string();
        let svg = pass_rate_svg(&[(long.clone(), 3, 1, 5), ("Short".to_string(), 0, 0, 5)]);
        let labels = title_labels(&svg);
        assert_eq!(labels.len(), 2, "{svg}");
        for (x, anchor, _) in &labels {
            assert!(*x >= 0.0 && anchor == "start", "{svg}");
        }
        assert_eq!(labels[0].2, long, "shown whole when it fits the width");
    }

    #[test]
    fn a_title_longer_than_the_chart_is_shortened_and_kept_whole_in_its_tooltip() {
        let long = "x".repeat(150);
        let svg = pass_rate_svg(&[(long.clone(), 1, 0, 1)]);
        let (_, _, shown) = &title_labels(&svg)[0];
        assert!(
            shown.ends_with('…') && shown.chars().count() <= 96,
            "{shown}"
        );
        assert!(svg.contains(&format!("<g><title>{long}</title>")), "{svg}");
    }
}
