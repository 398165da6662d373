//! Syntax highlighting on the server, so code reads well without JavaScript.
//!
//! Tokens become `<span class="hl-…">` elements named after their syntect
//! scopes; `static/style.css` colours them.

use std::sync::LazyLock;

use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(SyntaxSet::load_defaults_newlines);

/// HTML for `code` in `language` (by token: `rust`, `toml`, `sh`…); unknown
/// languages are escaped as plain text.
pub fn highlight(language: &str, code: &str) -> String {
    let language = match language {
        "console" | "shell" | "bash" => "sh",
        "text" | "output" | "" => return super::markdown::escape(code),
        other => other,
    };
    let Some(syntax) = SYNTAXES.find_syntax_by_token(language) else {
        return super::markdown::escape(code);
    };
    let mut generator = ClassedHTMLGenerator::new_with_class_style(
        syntax,
        &SYNTAXES,
        ClassStyle::SpacedPrefixed { prefix: "hl-" },
    );
    for line in LinesWithEndings::from(code) {
        if generator
            .parse_html_for_line_which_includes_newline(line)
            .is_err()
        {
            return super::markdown::escape(code);
        }
    }
    generator.finalize()
}

/// Largest learner code highlighted; larger code is shown escaped, uncoloured.
pub const MAX_HIGHLIGHTED_BYTES: usize = 32 * 1024;
/// Longest line highlighted: the grammar's regular expressions run per line,
/// and a pathological line is where backtracking could blow up.
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
    fn rust_keywords_are_marked_and_text_is_escaped() {
        let html = highlight("rust", "fn main() { let s = \"<b>\"; }\n");
        assert!(
            html.contains("hl-keyword") || html.contains("hl-storage"),
            "{html}"
        );
        assert!(html.contains("&lt;b&gt;"), "{html}");
        assert!(!html.contains("<b>"));
    }

    #[test]
    fn oversized_learner_code_is_escaped_not_highlighted() {
        let long_line = format!("fn main() {{ let s = \"{}<\"; }}\n", "a".repeat(600));
        assert_eq!(
            highlight_untrusted("rust", &long_line),
            super::super::markdown::escape(&long_line)
        );
        assert!(highlight_untrusted("rust", "fn main() {}\n").contains("hl-"));
    }

    #[test]
    fn unknown_languages_are_plain_escaped_text() {
        assert_eq!(highlight("klingon", "a < b"), "a &lt; b");
    }
}
