//! Compiler diagnostics and failure reports, as the learner sees them.

use serde::Deserialize;

use super::super::verdict::Diagnostic;
use super::{MAX_MESSAGE, MAX_OUTPUT, non_empty};

#[derive(Deserialize)]
struct RustcMessage {
    #[serde(rename = "$message_type")]
    message_type: Option<String>,
    message: String,
    level: String,
    rendered: Option<String>,
    #[serde(default)]
    spans: Vec<RustcSpan>,
}

#[derive(Deserialize)]
struct RustcSpan {
    file_name: String,
    line_start: u32,
    column_start: u32,
    is_primary: bool,
}

/// Reads rustc's JSON diagnostics: the rendered text (as `cargo` shows it)
/// and the locations in `learner_file`.
///
/// A diagnostic that mentions `secret_file` anywhere — a primary or
/// secondary span, a note, a macro expansion's call site (an `assert_eq!`
/// in a hidden test points into core's macros, with the hidden line as its
/// expansion) — is replaced by one line, so hidden tests never show their
/// source. The whole JSON line is searched, so no nesting is missed.
pub fn read(
    stderr: &str,
    learner_file: &str,
    secret_file: Option<&str>,
) -> (String, Vec<Diagnostic>) {
    let mut rendered = String::new();
    let mut diagnostics = Vec::new();
    let mut secret_errors = 0;
    let secret_json = secret_file.map(|file| serde_json::to_string(file).unwrap_or_default());
    for line in stderr.lines() {
        let Ok(message) = serde_json::from_str::<RustcMessage>(line) else {
            if !line.trim().is_empty() && !line.starts_with('{') {
                rendered.push_str(line);
                rendered.push('\n');
            }
            continue;
        };
        if message
            .message_type
            .as_deref()
            .is_some_and(|t| t != "diagnostic")
        {
            continue;
        }
        if let Some(secret) = &secret_json
            && line.contains(secret.as_str())
        {
            if message.level == "error" {
                secret_errors += 1;
            }
            continue;
        }
        let primary = message.spans.iter().find(|s| s.is_primary);
        if let Some(span) = primary.filter(|s| s.file_name == learner_file) {
            diagnostics.push(Diagnostic {
                level: message.level.clone(),
                message: message.message.clone(),
                line: span.line_start,
                column: span.column_start,
            });
        }
        if let Some(text) = message.rendered {
            rendered.push_str(&text);
        }
    }
    if secret_errors > 0 {
        rendered.push_str(&format!(
            "error: {secret_errors} error(s) in the hidden tests: they use an item your code does not provide as the statement describes\n"
        ));
    }
    (rendered, diagnostics)
}

/// Splits a failed test's captured output into the panic message and what
/// the test printed before it.
pub fn split_failure(captured: &str) -> (Option<String>, Option<String>) {
    let Some(panic_at) = captured.find("panicked at ") else {
        return (None, non_empty(captured, MAX_OUTPUT));
    };
    let line_start = captured[..panic_at].rfind('\n').map_or(0, |i| i + 1);
    let printed = &captured[..line_start];
    let after = &captured[panic_at..];
    let body_start = after.find('\n').map_or(after.len(), |i| i + 1);
    let body = &after[body_start..];
    let body_end = body
        .find("\nnote: ")
        .or_else(|| body.find("\nstack backtrace:"))
        .unwrap_or(body.len());
    (
        non_empty(&body[..body_end], MAX_MESSAGE),
        non_empty(printed, MAX_OUTPUT),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_in_hidden_tests_are_redacted() {
        let stderr = r#"{"$message_type":"diagnostic","message":"cannot find function `secret_helper`","level":"error","rendered":"error: cannot find function `secret_helper` in tests/hidden.rs","spans":[{"file_name":"tests/hidden.rs","line_start":3,"column_start":5,"is_primary":true}]}"#;
        let (rendered, _) = read(stderr, "tests/visible.rs", Some("tests/hidden.rs"));
        assert!(!rendered.contains("secret_helper"));
        assert!(rendered.contains("hidden tests"));
    }

    #[test]
    fn diagnostics_whose_expansion_reaches_a_hidden_file_are_redacted() {
        // `assert_eq!` on a type without PartialEq: the primary span is in
        // core's macros, the hidden line only in the expansion.
        let stderr = r#"{"$message_type":"diagnostic","message":"binary operation `==` cannot be applied to type `Secret`","level":"error","rendered":"error[E0369]: binary operation\n --> tests/hidden.rs:9:5\n  |\n9 |     assert_eq!(answer(), Secret(42));\n","spans":[{"file_name":"/rustc/lib/core/src/macros/mod.rs","line_start":40,"column_start":1,"is_primary":true,"expansion":{"span":{"file_name":"tests/hidden.rs","line_start":9,"column_start":5,"is_primary":false}}}]}"#;
        let (rendered, diagnostics) = read(stderr, "src/lib.rs", Some("tests/hidden.rs"));
        assert!(!rendered.contains("Secret(42)"), "{rendered}");
        assert!(rendered.contains("1 error(s) in the hidden tests"));
        assert!(diagnostics.is_empty());
    }

    #[test]
    fn failure_messages_are_split_from_printed_output() {
        let captured = "hello from the test\nthread 'visible::a' panicked at tests/visible.rs:4:5:\nassertion `left == right` failed\n  left: 1\n right: 2\nnote: run with `RUST_BACKTRACE=1`";
        let (message, output) = split_failure(captured);
        assert_eq!(output.as_deref(), Some("hello from the test"));
        assert!(
            message
                .unwrap()
                .starts_with("assertion `left == right` failed")
        );
    }

    #[test]
    fn output_is_capped_as_exercism_says() {
        let captured = "x".repeat(2000);
        let (_, output) = split_failure(&captured);
        assert!(output.unwrap().chars().count() < 520);
    }
}
