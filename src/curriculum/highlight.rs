//! Syntax highlighting on the server, so code reads well without JavaScript.
//!
//! The grammars are tree-sitter's (Rust, TOML, Bash), the ones editors
//! such as Zed and Helix use, kept current by the tree-sitter project.
//! syntect's bundled Rust grammar, and bat's that `two-face` ships, predate
//! `async`, `.await` and `dyn`, so in an async course `async fn` read as
//! plain text while the editor coloured it. Each token becomes a
//! `<span class="hl-…">` named after its capture (`keyword`, `string`,
//! `function macro`…); `static/style.css` colours them.

use std::sync::LazyLock;

use tree_sitter_highlight::{HighlightConfiguration, HighlightEvent, Highlighter};

/// The captures we colour, in the grammars' own vocabulary; a capture the
/// list lacks falls back to its longest listed prefix (`punctuation.bracket`
/// → `punctuation`).
const CAPTURES: &[&str] = &[
    "attribute",
    "boolean",
    "comment",
    "comment.documentation",
    "constant",
    "constant.builtin",
    "constructor",
    "escape",
    "function",
    "function.macro",
    "function.method",
    "keyword",
    "label",
    "number",
    "operator",
    "property",
    "punctuation",
    "string",
    "string.special",
    "type",
    "type.builtin",
    "variable.builtin",
    "variable.parameter",
];

/// `class` attribute values, one per entry of [`CAPTURES`]:
/// `function.macro` → `hl-function hl-macro`.
static CLASSES: LazyLock<Vec<String>> = LazyLock::new(|| {
    CAPTURES
        .iter()
        .map(|capture| {
            capture
                .split('.')
                .map(|part| format!("hl-{part}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
});

/// One grammar with its compiled highlight queries.
fn configuration(
    language: tree_sitter_language::LanguageFn,
    name: &str,
    highlights: &str,
    injections: &str,
) -> HighlightConfiguration {
    let mut config = HighlightConfiguration::new(language.into(), name, highlights, injections, "")
        .unwrap_or_else(|error| panic!("the bundled {name} highlight queries compile: {error}"));
    config.configure(CAPTURES);
    config
}

// Each compiled once, on first use (the programme is rendered at start-up).
static RUST: LazyLock<HighlightConfiguration> = LazyLock::new(|| {
    configuration(
        tree_sitter_rust::LANGUAGE,
        "rust",
        tree_sitter_rust::HIGHLIGHTS_QUERY,
        "",
    )
});
static TOML: LazyLock<HighlightConfiguration> = LazyLock::new(|| {
    configuration(
        tree_sitter_toml_ng::LANGUAGE,
        "toml",
        tree_sitter_toml_ng::HIGHLIGHTS_QUERY,
        "",
    )
});
static SHELL: LazyLock<HighlightConfiguration> = LazyLock::new(|| {
    configuration(
        tree_sitter_bash::LANGUAGE,
        "bash",
        tree_sitter_bash::HIGHLIGHT_QUERY,
        "",
    )
});

/// The grammar for a code block's language token, if we have one.
fn grammar(language: &str) -> Option<&'static HighlightConfiguration> {
    match language {
        "rust" | "rs" => Some(&RUST),
        "toml" => Some(&TOML),
        "sh" | "bash" | "shell" | "console" => Some(&SHELL),
        _ => None,
    }
}

/// HTML for `code` in `language` (by token: `rust`, `toml`, `sh`…); other
/// languages, and code the grammar cannot get through, are escaped as plain
/// text.
pub fn highlight(language: &str, code: &str) -> String {
    let escape = super::markdown::escape;
    let Some(config) = grammar(language) else {
        return escape(code);
    };
    let mut highlighter = Highlighter::new();
    let Ok(events) = highlighter.highlight(config, code.as_bytes(), None, |_| None) else {
        return escape(code);
    };
    let mut html = String::with_capacity(code.len() * 3);
    for event in events {
        match event {
            Ok(HighlightEvent::Source { start, end }) => html.push_str(&escape(&code[start..end])),
            Ok(HighlightEvent::HighlightStart(capture)) => {
                html.push_str("<span class=\"");
                html.push_str(&CLASSES[capture.0]);
                html.push_str("\">");
            }
            Ok(HighlightEvent::HighlightEnd) => html.push_str("</span>"),
            Err(_) => return escape(code),
        }
    }
    html
}

/// Largest learner code highlighted; larger code is shown escaped, uncoloured.
pub const MAX_HIGHLIGHTED_BYTES: usize = 32 * 1024;
/// Longest line highlighted: beyond it the code is not worth colouring and
/// the work should not grow with what a learner chose to send.
pub const MAX_HIGHLIGHTED_LINE: usize = 500;

/// [`highlight`] for code nobody reviewed (a learner's submission): within
/// [`MAX_HIGHLIGHTED_BYTES`] and [`MAX_HIGHLIGHTED_LINE`] it is coloured,
/// beyond them only escaped, so the work stays bounded whatever was sent.
pub fn highlight_untrusted(language: &str, code: &str) -> String {
    let within_bounds = code.len() <= MAX_HIGHLIGHTED_BYTES
        && code.lines().all(|line| line.len() <= MAX_HIGHLIGHTED_LINE);
    if within_bounds {
        highlight(language, code)
    } else {
        super::markdown::escape(code)
    }
}

#[cfg(test)]
mod tests {
    use super::{highlight, highlight_untrusted};

    #[test]
    fn oversized_learner_code_is_escaped_not_highlighted() {
        let long_line = format!("fn main() {{ let s = \"{}<\"; }}\n", "a".repeat(600));
        assert_eq!(
            highlight_untrusted("rust", &long_line),
            super::super::markdown::escape(&long_line)
        );
        assert!(highlight_untrusted("rust", "fn main() {}\n").contains("hl-"));
    }

    /// The classes of the innermost span around the first occurrence of
    /// `token` in `html` (the token must be alone in its span).
    fn classes_of(html: &str, token: &str) -> Vec<String> {
        let end = html
            .find(&format!(">{token}</span>"))
            .unwrap_or_else(|| panic!("{token:?} is not a token of its own in {html}"));
        let start = html[..end].rfind("<span class=\"").expect("a span") + "<span class=\"".len();
        html[start..end]
            .trim_end_matches('"')
            .split(' ')
            .map(str::to_string)
            .collect()
    }

    fn is_keyword(classes: &[String]) -> bool {
        classes
            .iter()
            .any(|class| class == "hl-keyword" || class == "hl-storage")
    }

    #[test]
    fn rust_keywords_are_marked_and_text_is_escaped() {
        let html = highlight("rust", "fn main() { let s = \"<b>\"; }\n");
        assert!(is_keyword(&classes_of(&html, "fn")), "{html}");
        assert!(html.contains("&lt;b&gt;"), "{html}");
        assert!(!html.contains("<b>"));
    }

    #[test]
    fn async_await_and_dyn_are_keywords() {
        let html = highlight(
            "rust",
            "async fn fetch(client: &dyn Client) -> u32 {\n    client.get().await\n}\n",
        );
        for token in ["async", "await", "dyn"] {
            assert!(
                is_keyword(&classes_of(&html, token)),
                "{token}: {:?} in {html}",
                classes_of(&html, token)
            );
        }
    }

    #[test]
    fn toml_and_shell_are_highlighted() {
        let toml = highlight(
            "toml",
            "[dependencies]\ntokio = { version = \"1\", features = [\"full\"] } # pinned\n",
        );
        assert_eq!(classes_of(&toml, "dependencies"), ["hl-type"], "{toml}");
        // The grammar marks a whole `key = value` pair as the property; the
        // value's own spans sit inside it.
        assert!(
            toml.contains("<span class=\"hl-property\">tokio "),
            "{toml}"
        );
        assert_eq!(classes_of(&toml, "&quot;1&quot;"), ["hl-string"], "{toml}");
        assert_eq!(classes_of(&toml, "# pinned"), ["hl-comment"], "{toml}");
        let shell = highlight("console", "cargo update -p tokio # newer patch\n");
        assert_eq!(classes_of(&shell, "cargo"), ["hl-function"], "{shell}");
        assert_eq!(
            classes_of(&shell, "# newer patch"),
            ["hl-comment"],
            "{shell}"
        );
    }

    #[test]
    fn a_lesson_block_with_async_code_marks_async_and_await() {
        let lesson = crate::curriculum::markdown::render(
            "Some prose.\n\n```rust\nasync fn run() {\n    tokio::task::yield_now().await;\n}\n```\n",
        );
        assert!(
            lesson
                .html
                .contains("<span class=\"hl-keyword\">async</span>"),
            "{}",
            lesson.html
        );
        assert!(
            lesson
                .html
                .contains("<span class=\"hl-keyword\">await</span>"),
            "{}",
            lesson.html
        );
    }

    #[test]
    fn unknown_languages_are_plain_escaped_text() {
        assert_eq!(highlight("klingon", "a < b"), "a &lt; b");
    }
}
