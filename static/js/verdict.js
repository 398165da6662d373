// Rendering a verdict (the JSON of src/grading/verdict.rs) into a page:
// headline, compiler diagnostics, per-test results, output and timing.

import { el } from "./dom.js";
import { Mode, Outcome } from "./job.js";

var REASONS = {
  compile_error: "It does not compile",
  timeout: "Time limit exceeded",
  memory_limit: "Memory limit exceeded",
  output_limit: "Too much output",
  runtime_error: "It crashed",
  internal_error: "The grader had a problem (not your fault) — please try again",
};

export function headline(verdict, mode) {
  var tests = verdict.tests || [];
  var passed = tests.filter(function (t) { return t.status === Outcome.Pass; }).length;
  if (verdict.status === Outcome.Pass) {
    if (mode === Mode.Run) return "Finished";
    return mode === Mode.Visible
      ? "All " + tests.length + " visible tests pass — now Submit to run every test"
      : "Passed: all " + tests.length + " tests pass";
  }
  if (verdict.status === Outcome.Fail) return passed + " of " + tests.length + " tests pass";
  return REASONS[verdict.reason] || "Error";
}

// Output can be wider than the panel: keyboard users must be able to focus
// it to scroll it, and a focusable region needs a name.
function scrollable(pre, name) {
  pre.tabIndex = 0;
  pre.setAttribute("role", "region");
  pre.setAttribute("aria-label", name);
  return pre;
}

function outputBlock(label, text, className) {
  var wrap = el("div", "output-block " + (className || ""));
  wrap.appendChild(el("p", "output-label", label));
  wrap.appendChild(scrollable(el("pre", "output", text), label));
  return wrap;
}

// Fills `container` with the verdict; returns the diagnostics to mark.
export function renderVerdict(container, submission, handlers) {
  var verdict = submission.verdict || {};
  container.textContent = "";
  var status = verdict.status || Outcome.Error;
  var head = el("div", "verdict-head verdict-" + status);
  head.appendChild(el("span", "verdict-icon", status === Outcome.Pass ? "✓" : "✗"));
  head.lastChild.setAttribute("aria-hidden", "true");
  head.appendChild(el("strong", "verdict-title", headline(verdict, submission.mode)));
  container.appendChild(head);
  if (verdict.message) container.appendChild(el("p", "verdict-message", verdict.message));

  var diagnostics = (verdict.diagnostics || []).filter(function (d) { return d.line; });
  if (diagnostics.length && handlers && handlers.reveal) {
    var list = el("ul", "diagnostic-list");
    diagnostics.forEach(function (d) {
      var item = el("li", "diagnostic diagnostic-" + d.level);
      var button = el("button", "link-button diagnostic-jump", "line " + d.line + (d.column ? ":" + d.column : ""));
      button.type = "button";
      button.addEventListener("click", function () { handlers.reveal(d.line); });
      item.appendChild(el("span", "diagnostic-level", d.level));
      item.appendChild(document.createTextNode(" "));
      item.appendChild(button);
      item.appendChild(document.createTextNode(" " + d.message));
      list.appendChild(item);
    });
    container.appendChild(list);
  }
  if (verdict.compile_output) {
    container.appendChild(outputBlock("Compiler output (rustc)", verdict.compile_output, "compiler-output"));
  }

  var tests = verdict.tests || [];
  if (tests.length) {
    var ol = el("ol", "test-results");
    ol.setAttribute("aria-label", "Test results");
    tests.forEach(function (test) {
      var li = el("li", "test test-" + test.status);
      var row = el("div", "test-row");
      var icon = el("span", "test-icon", test.status === Outcome.Pass ? "✓" : "✗");
      icon.setAttribute("aria-hidden", "true");
      row.appendChild(icon);
      row.appendChild(el("code", "test-name", test.name));
      var passed = test.status === Outcome.Pass;
      var word = passed ? "passed" : test.status === Outcome.Fail ? "failed" : test.status;
      row.appendChild(el("span", "badge badge-" + (passed ? Outcome.Pass : Outcome.Fail), word));
      if (test.hidden) row.appendChild(el("span", "badge", "hidden test"));
      li.appendChild(row);
      if (test.message) li.appendChild(scrollable(el("pre", "output test-message", test.message), "Failure message of " + test.name));
      if (test.output) {
        var details = el("details", "test-output");
        details.appendChild(el("summary", null, "Output"));
        details.appendChild(scrollable(el("pre", "output", test.output), "Output of " + test.name));
        li.appendChild(details);
      }
      ol.appendChild(li);
    });
    container.appendChild(ol);
  }
  if (verdict.stdout) container.appendChild(outputBlock("Standard output", verdict.stdout, "stdout"));
  if (verdict.stderr) container.appendChild(outputBlock("Standard error", verdict.stderr, "stderr"));
  if (submission.mode === Mode.Run && !verdict.stdout && !verdict.stderr && !verdict.compile_output && status === Outcome.Pass) {
    container.appendChild(el("p", "meta", "(no output)"));
  }
  if (verdict.duration_ms && verdict.duration_ms.total) {
    var d = verdict.duration_ms;
    container.appendChild(
      el("p", "meta verdict-timing", "Took " + (d.total / 1000).toFixed(1) + " s (compile " + ((d.compile || 0) / 1000).toFixed(1) + " s, run " + ((d.run || 0) / 1000).toFixed(1) + " s)")
    );
  }
  return diagnostics;
}
