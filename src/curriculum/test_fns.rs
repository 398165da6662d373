//! Finding the test functions of a test file from its source, so the loader
//! can hold an exercise to the format's promise (≥ 3 visible tests, ≥ 2
//! hidden) before anything is compiled.
//!
//! Not a parser, but not a `grep` either: comments and the insides of string
//! and character literals are blanked first, so a `// #[test]` or a test
//! source quoted in a string does not count, and only attributes standing
//! on a `fn` count. A test marked `#[ignore]` does not count either: the
//! grader's harness never runs it.

/// A test function found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestFn {
    /// The function's name.
    pub name: String,
    /// 1-based line of its test attribute.
    pub line: usize,
}

/// The `#[test]` and `#[tokio::test(…)]` functions of `source`, in file order.
pub fn test_functions(source: &str) -> Vec<TestFn> {
    let code = blank_comments_and_literals(source);
    let chars: Vec<char> = code.chars().collect();
    let mut found = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        if chars[at] == '#' && next_non_space(&chars, at + 1).is_some_and(|i| chars[i] == '[') {
            let (attributes, after) = attribute_run(&chars, at);
            let is_test = attributes.iter().any(|a| is_test_attribute(a));
            let ignored = attributes.iter().any(|a| is_ignore_attribute(a));
            if is_test
                && !ignored
                && let Some(name) = function_name(&chars, after)
            {
                found.push(TestFn {
                    name,
                    line: 1 + chars[..at].iter().filter(|&&c| c == '\n').count(),
                });
            }
            at = after.max(at + 1);
        } else {
            at += 1;
        }
    }
    found
}

/// `source` with comments and the contents of string and character literals
/// replaced by spaces; line breaks are kept, so lines still count.
fn blank_comments_and_literals(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let after_ident = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(&chars, i).filter(|_| !after_ident) {
            // r"…", r#"…"#, br"…", cr"…": no escapes, ends at `"` and as many `#`.
            let open = chars[i..].iter().position(|&c| c == '"').unwrap_or(0) + 1;
            out.extend(std::iter::repeat_n(' ', open - 1));
            out.push('"');
            i += open;
            while i < chars.len() {
                if chars[i] == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#')) {
                    out.push('"');
                    out.extend(std::iter::repeat_n(' ', hashes));
                    i += 1 + hashes;
                    break;
                }
                out.push(blank(chars[i]));
                i += 1;
            }
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if let Some(&escaped) = chars.get(i) {
                    out.push(blank(escaped));
                    i += 1;
                }
            }
            if i < chars.len() {
                out.push('"');
                i += 1;
            }
        } else if c == '\'' && (!after_ident || byte_prefix(&chars, i)) {
            // A character literal ('x', '\n', '\u{1F600}') or a lifetime ('a).
            let end = if next == Some('\\') {
                chars[i + 2..]
                    .iter()
                    .position(|&c| c == '\'')
                    .map(|p| i + 2 + p)
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(end) => {
                    out.push('\'');
                    out.extend(std::iter::repeat_n(' ', end - i - 1));
                    out.push('\'');
                    i = end + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Whether the quote at `at` opens a byte literal (`b'x'`).
fn byte_prefix(chars: &[char], at: usize) -> bool {
    at >= 1
        && chars[at - 1] == 'b'
        && (at < 2 || !(chars[at - 2].is_alphanumeric() || chars[at - 2] == '_'))
}

/// The number of `#` of a raw string literal starting at `at`, if one does.
fn raw_string_start(chars: &[char], at: usize) -> Option<usize> {
    let mut i = at;
    if matches!(chars.get(i), Some('b' | 'c')) {
        i += 1;
    }
    if chars.get(i) != Some(&'r') {
        return None;
    }
    i += 1;
    let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
    (chars.get(i + hashes) == Some(&'"')).then_some(hashes)
}

fn next_non_space(chars: &[char], from: usize) -> Option<usize> {
    (from..chars.len()).find(|&i| !chars[i].is_whitespace())
}

/// The outer attributes starting at `at` (`#[…]` after `#[…]`), as their
/// insides without spaces, and the index just after the last one.
fn attribute_run(chars: &[char], mut at: usize) -> (Vec<String>, usize) {
    let mut attributes = Vec::new();
    while let Some(open) = next_non_space(chars, at) {
        if chars[open] != '#' {
            break;
        }
        let Some(bracket) = next_non_space(chars, open + 1).filter(|&i| chars[i] == '[') else {
            break;
        };
        let mut depth = 0;
        let mut end = None;
        for (i, &c) in chars.iter().enumerate().skip(bracket) {
            match c {
                '[' | '(' | '{' => depth += 1,
                ']' | ')' | '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else {
            break;
        };
        attributes.push(
            chars[bracket + 1..end]
                .iter()
                .filter(|c| !c.is_whitespace())
                .collect(),
        );
        at = end + 1;
    }
    (attributes, at)
}

fn is_test_attribute(attribute: &str) -> bool {
    let path = attribute.split('(').next().unwrap_or_default();
    matches!(path, "test" | "tokio::test" | "::tokio::test")
}

fn is_ignore_attribute(attribute: &str) -> bool {
    attribute == "ignore" || attribute.starts_with("ignore=")
}

/// The name of the function whose signature starts at `at` (after its
/// attributes), if a function does.
fn function_name(chars: &[char], at: usize) -> Option<String> {
    let mut i = at;
    loop {
        let start = next_non_space(chars, i)?;
        if chars[start] == '"' {
            // The ABI string of `extern "C"` (blanked).
            i = start + 1 + chars[start + 1..].iter().position(|&c| c == '"')? + 1;
            continue;
        }
        if chars[start] == '(' {
            // `pub(crate)`
            i = start + chars[start..].iter().position(|&c| c == ')')? + 1;
            continue;
        }
        let end = (start..chars.len())
            .find(|&j| !(chars[j].is_alphanumeric() || chars[j] == '_'))
            .unwrap_or(chars.len());
        let word: String = chars[start..end].iter().collect();
        match word.as_str() {
            "pub" | "async" | "const" | "unsafe" | "extern" => i = end,
            "fn" => {
                let name_start = next_non_space(chars, end)?;
                let name_end = (name_start..chars.len())
                    .find(|&j| !(chars[j].is_alphanumeric() || chars[j] == '_'))
                    .unwrap_or(chars.len());
                return (name_end > name_start)
                    .then(|| chars[name_start..name_end].iter().collect());
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(source: &str) -> Vec<String> {
        test_functions(source).into_iter().map(|t| t.name).collect()
    }

    #[test]
    fn plain_and_tokio_tests_count_with_their_lines() {
        let source = "use x::*;\n\n#[test]\nfn adds() {}\n\n#[tokio::test(start_paused = true)]\nasync fn waits() {}\n\n#[tokio::test]\npub async fn runs() {}\n";
        assert_eq!(
            test_functions(source),
            vec![
                TestFn {
                    name: "adds".into(),
                    line: 3
                },
                TestFn {
                    name: "waits".into(),
                    line: 6
                },
                TestFn {
                    name: "runs".into(),
                    line: 9
                },
            ]
        );
    }

    #[test]
    fn tests_under_other_attributes_and_in_modules_count() {
        let source = "mod inner {\n    #[test]\n    #[should_panic(expected = \"boom\")]\n    fn panics() {}\n\n    #[cfg(loom)]\n    #[test]\n    fn model() {}\n\n    #[tokio::test(flavor = \"multi_thread\", worker_threads = 2)]\n    async fn threads() {}\n}\n";
        assert_eq!(names(source), ["panics", "model", "threads"]);
    }

    #[test]
    fn commented_out_quoted_and_ignored_tests_do_not_count() {
        let source = r####"
// #[test]
// fn commented() {}
/* #[test] fn blocked() {} /* nested */ #[test] fn still_blocked() {} */
const SOURCE: &str = "#[test] fn quoted() {}";
const RAW: &str = r#"#[test] fn raw_quoted() {} "still raw" "#;
#[test]
#[ignore = "slow"]
fn ignored() {}
#[test]
fn counted() { let quote = '"'; let byte = b'"'; let _s: &'static str = "#[test] fn fake() {}"; }
#[test]
fn also_counted() {}
"####;
        assert_eq!(names(source), ["counted", "also_counted"]);
    }

    #[test]
    fn a_test_attribute_on_something_else_or_a_helper_does_not_count() {
        let source = "#[test]\nmod not_a_fn {}\n\nfn helper() {}\n#[derive(Debug)]\nstruct Probe;\n#[tokio::main]\nasync fn main() {}\n";
        assert!(names(source).is_empty());
    }

    #[test]
    fn an_empty_file_has_no_tests() {
        assert!(test_functions("").is_empty());
        assert!(test_functions("use x::*;\n").is_empty());
    }
}
