//! Markdown to HTML, done once at start-up.
//!
//! Code blocks get special treatment: a ```` ```rust,runnable ```` block is an
//! example the learner can run, and the ```` ```output ```` block right after
//! it records what the example prints (checked by `lockstep curriculum verify`).

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd, html};

/// A runnable example found in a lesson.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Example {
    /// The program's source.
    pub code: String,
    /// What it must print on stdout (trailing whitespace ignored).
    pub expected_output: Option<String>,
}

/// A rendered document.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Safe HTML (markdown's raw HTML is escaped, not passed through).
    pub html: String,
    /// The runnable examples, in order; the HTML refers to them by index.
    pub examples: Vec<Example>,
}

/// Renders markdown, collecting runnable examples.
pub fn render(markdown: &str) -> Rendered {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_FOOTNOTES;
    let mut events = Vec::new();
    let mut examples: Vec<Example> = Vec::new();
    let mut code_block: Option<(String, String)> = None; // (info, text)
    let mut last_was_example = false;

    for event in Parser::new_ext(markdown, options) {
        match (&mut code_block, event) {
            (None, Event::Start(Tag::CodeBlock(kind))) => {
                let info = match kind {
                    CodeBlockKind::Fenced(info) => info.trim().to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                code_block = Some((info, String::new()));
            }
            (Some((_, text)), Event::Text(chunk)) => text.push_str(&chunk),
            (Some(_), Event::End(TagEnd::CodeBlock)) => {
                let (info, text) = code_block.take().unwrap_or_default();
                let html = match info.as_str() {
                    "rust,runnable" => {
                        examples.push(Example {
                            code: text.clone(),
                            expected_output: None,
                        });
                        last_was_example = true;
                        example_html(examples.len() - 1, &text)
                    }
                    "output" if last_was_example => {
                        if let Some(example) = examples.last_mut() {
                            example.expected_output = Some(text.clone());
                        }
                        last_was_example = false;
                        format!(
                            "<div class=\"expected-output\"><div class=\"label\">Output</div><pre {}>{}</pre></div>\n",
                            scrollable("Expected output"),
                            escape(&text)
                        )
                    }
                    _ => {
                        last_was_example = false;
                        let language = info.split(',').next().unwrap_or("");
                        code_html(language, &text)
                    }
                };
                events.push(Event::Html(html.into()));
            }
            (Some(_), _) => {}
            // Raw HTML in content is shown as text, never trusted.
            (None, Event::Html(raw) | Event::InlineHtml(raw)) => events.push(Event::Text(raw)),
            (None, event) => {
                if matches!(event, Event::Start(_)) {
                    last_was_example = false;
                }
                events.push(event);
            }
        }
    }
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events.into_iter());
    Rendered {
        html: out,
        examples,
    }
}

fn example_html(index: usize, code: &str) -> String {
    format!(
        "<figure class=\"example\" data-example=\"{index}\"><figcaption>Runnable example</figcaption>{}</figure>\n",
        code_html("rust", code)
    )
}

fn code_html(language: &str, code: &str) -> String {
    let class = if language.is_empty() {
        String::new()
    } else {
        format!(" class=\"language-{}\"", escape(language))
    };
    let name = match language {
        "rust" => "Rust code",
        "toml" => "TOML",
        "sh" | "bash" | "shell" | "console" => "Shell commands",
        "text" | "output" => "Text",
        _ => "Code",
    };
    format!(
        "<pre class=\"code\" {}><code{class}>{}</code></pre>\n",
        scrollable(name),
        crate::curriculum::highlight::highlight(language, code)
    )
}

/// Attributes for a `<pre>` that may scroll sideways: keyboard users must
/// be able to focus it to scroll it (WCAG 2.1.1, axe's
/// `scrollable-region-focusable`), and a focusable region needs a name.
pub fn scrollable(name: &str) -> String {
    format!(
        "tabindex=\"0\" role=\"region\" aria-label=\"{}\"",
        escape(name)
    )
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runnable_blocks_become_examples_with_their_output() {
        let rendered = render(
            "Text\n\n```rust,runnable\nfn main() { println!(\"hi\"); }\n```\n\n```output\nhi\n```\n",
        );
        assert_eq!(rendered.examples.len(), 1);
        assert_eq!(
            rendered.examples[0].expected_output.as_deref(),
            Some("hi\n")
        );
        assert!(rendered.html.contains("data-example=\"0\""));
        assert!(rendered.html.contains("expected-output"));
    }

    #[test]
    fn code_blocks_can_be_focused_and_are_named() {
        let rendered = render(
            "```toml\n[package]\n```\n\n```rust,runnable\nfn main() {}\n```\n\n```output\n\n```\n",
        );
        assert!(
            rendered.html.contains(
                "<pre class=\"code\" tabindex=\"0\" role=\"region\" aria-label=\"TOML\">"
            ),
            "{}",
            rendered.html
        );
        assert!(rendered.html.contains("aria-label=\"Rust code\""));
        assert!(
            rendered
                .html
                .contains("<pre tabindex=\"0\" role=\"region\" aria-label=\"Expected output\">")
        );
    }

    #[test]
    fn raw_html_is_escaped() {
        let rendered = render("<script>alert(1)</script>\n\nand <b>inline</b>");
        assert!(!rendered.html.contains("<script>"));
        assert!(!rendered.html.contains("<b>"));
    }

    #[test]
    fn an_output_block_without_an_example_is_plain_code() {
        let rendered = render("```output\nx\n```\n");
        assert!(rendered.examples.is_empty());
        assert!(!rendered.html.contains("expected-output"));
    }
}
