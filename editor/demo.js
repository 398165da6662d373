// Demo + self-checks for the editor bundle (external file: the CSP forbids
// inline scripts). Results are written to #results as "N passed, N failed".
(function () {
  "use strict";
  var out = document.getElementById("results");
  var lines = [], passed = 0, failed = 0;
  function check(name, ok, extra) {
    if (ok) passed++; else failed++;
    lines.push((ok ? "ok   " : "FAIL ") + name + (extra ? "  (" + extra + ")" : ""));
  }

  var changes = 0;
  var doc = [
    "// Sum the even numbers in a slice.",
    "use std::collections::HashMap;",
    "",
    "#[derive(Debug, Clone)]",
    "struct Counter<'a> {",
    "    name: &'a str,",
    "    hits: u32,",
    "}",
    "",
    "fn sum_even(xs: &[i64]) -> i64 {",
    "    let mut total = 0;",
    "    for x in xs {",
    "        if x % 2 == 0 {",
    "            total += x;",
    "        }",
    "    }",
    "    total",
    "}",
    "",
    "fn main() {",
    "    let v = vec![1, 2, 3, 4, 5, 6];",
    "    let s: i64 = sum_even(&v);",
    "    println!(\"sum = {}\\n\", s);",
    "    let unused = 3.5_f64;",
    "}",
    "",
  ].join("\n");

  var ed = window.LockstepEditor.create(document.getElementById("editor"), {
    doc: doc,
    ariaLabel: "Solution code (Rust)",
    ariaDescribedBy: "editor-help",
    onChange: function () { changes++; },
  });

  check("API present", ["getValue", "setValue", "focus", "setDiagnostics", "clearDiagnostics", "revealLine"]
    .every(function (k) { return typeof ed[k] === "function"; }));
  check("getValue returns doc", ed.getValue() === doc);

  var root = document.querySelector("#editor .cm-editor");
  var content = root && root.querySelector(".cm-content");
  check("editor mounted", !!root && !!content);
  check("aria-label set", content && content.getAttribute("aria-label") === "Solution code (Rust)");
  check("CodeMirror styles applied under CSP", root && getComputedStyle(root).display === "flex",
    root && getComputedStyle(root).display);
  check("line numbers", root.querySelectorAll(".cm-lineNumbers .cm-gutterElement").length > 5);
  // setValue round-trip and onChange
  var before = changes;
  ed.setValue("fn a() {}\n");
  check("setValue/getValue", ed.getValue() === "fn a() {}\n");
  check("onChange fired", changes === before + 1);
  ed.setValue(doc);

  // Escape then Tab must not be swallowed by indentWithTab (focus can leave).
  ed.focus();
  check("focus()", document.activeElement === content);
  function key(k, code) {
    var e = new KeyboardEvent("keydown", { key: k, keyCode: code, which: code, bubbles: true, cancelable: true });
    content.dispatchEvent(e);
    return e.defaultPrevented;
  }
  var tabPrevented = key("Tab", 9);
  check("Tab alone is handled by the editor (indent)", tabPrevented === true);
  ed.setValue(doc);
  key("Escape", 27);
  var tabAfterEsc = key("Tab", 9);
  check("Escape then Tab is left to the browser (focus moves)", tabAfterEsc === false);
  check("doc unchanged by Escape+Tab", ed.getValue() === doc);

  // Diagnostics
  ed.setDiagnostics([
    { line: 22, column: 18, level: "error", message: "mismatched types: expected `&[i64]`, found `&Vec<{integer}>`" },
    { line: 24, column: 9, level: "warning", message: "unused variable: `unused`" },
    { line: 999, level: "note", message: "clamped to the last line" },
  ]);
  // Highlighting may finish asynchronously (the parser works in slices).
  setTimeout(function () {
    check("syntax highlighting spans", content.querySelectorAll("span[class]").length > 20,
      content.querySelectorAll("span[class]").length + " spans");
    var kw = Array.prototype.filter.call(content.querySelectorAll("span"), function (s) { return s.textContent === "fn"; })[0];
    var probe = document.createElement("span");
    probe.style.color = "var(--accent)"; // CSSOM, allowed by the CSP
    document.body.appendChild(probe);
    var accent = getComputedStyle(probe).color;
    probe.remove();
    check("keyword 'fn' uses the site's --accent colour", kw && getComputedStyle(kw).color === accent,
      kw && getComputedStyle(kw).color + " vs " + accent);
    var errs = root.querySelectorAll(".cm-lintRange-error").length;
    var warns = root.querySelectorAll(".cm-lintRange-warning").length;
    var marks = root.querySelectorAll(".cm-gutter-lint .cm-lint-marker").length;
    check("error underline", errs >= 1, errs);
    check("warning underline", warns >= 1, warns);
    check("gutter markers", marks >= 2, marks);
    var errEl = root.querySelector(".cm-lintRange-error");
    check("error underline covers the word", errEl && errEl.textContent === "sum_even", errEl && errEl.textContent);
    if (!/noreveal/.test(location.search)) ed.revealLine(20);
    if (!/noreveal/.test(location.search)) check("revealLine moves cursor", ed.view.state.selection.main.head === ed.view.state.doc.line(20).from);
    window.scrollTo(0, 0);
    if (document.activeElement) document.activeElement.blur();

    // A read-only editor, toggled writable, then destroyed.
    var ro = window.LockstepEditor.create(document.getElementById("readonly"), {
      doc: "fn fixed() {}\n", readOnly: true, ariaLabel: "Read-only example",
    });
    check("readOnly state", ro.view.state.readOnly === true);
    ro.setReadOnly(false);
    check("setReadOnly(false)", ro.view.state.readOnly === false);
    ro.destroy();
    check("destroy() removes the DOM", !document.querySelector("#readonly .cm-editor"));
    check("aria-describedby set", content.getAttribute("aria-describedby") === "editor-help");

    out.textContent = lines.join("\n") + "\n" + passed + " passed, " + failed + " failed";
    document.body.setAttribute("data-done", "1");
  }, 300);
})();
