// Lessons: every example gets Run (through the sandbox, output checked
// against the recorded one) and Edit (the CodeMirror editor, loaded only
// when first needed).

import { api, errorMessage } from "./api.js";
import { el } from "./dom.js";
import { JobStatus, Outcome, Phase, stepOf } from "./job.js";
import { Jobs } from "./jobs.js";
import { renderVerdict } from "./verdict.js";

/** Loads the editor bundle once, on demand; resolves with it or null. */
var editorLoading = null;
function loadEditor(url) {
  if (window.LockstepEditor) return Promise.resolve(window.LockstepEditor);
  if (!url) return Promise.resolve(null);
  if (!editorLoading) {
    editorLoading = new Promise(function (resolve) {
      var script = document.createElement("script");
      script.src = url;
      script.onload = function () { resolve(window.LockstepEditor || null); };
      script.onerror = function () { resolve(null); };
      document.head.appendChild(script);
    });
  }
  return editorLoading;
}

export function initLesson(article) {
  var signedIn = article.dataset.signedIn === "true";
  var figures = article.querySelectorAll("figure.example[data-example]");
  Array.prototype.forEach.call(figures, function (figure, n) {
    var pre = figure.querySelector("pre");
    if (!pre) return;
    var original = pre.textContent;
    var editor = null;
    var textarea = null;
    var expected = figure.nextElementSibling && figure.nextElementSibling.classList.contains("expected-output")
      ? figure.nextElementSibling.querySelector("pre")
      : null;

    var bar = el("div", "example-toolbar");
    var run = el("button", "example-run", "▶ Run");
    run.type = "button";
    run.setAttribute("aria-label", "Run example " + (n + 1));
    var edit = el("button", "secondary example-edit", "Edit");
    edit.type = "button";
    edit.setAttribute("aria-label", "Edit example " + (n + 1));
    var reset = el("button", "secondary example-reset", "Reset");
    reset.type = "button";
    reset.hidden = true;
    bar.appendChild(run);
    bar.appendChild(edit);
    bar.appendChild(reset);
    var output = el("div", "example-output");
    output.setAttribute("aria-live", "polite");
    output.hidden = true;
    figure.appendChild(bar);
    figure.appendChild(output);

    function code() {
      if (editor) return editor.getValue();
      if (textarea) return textarea.value;
      return original;
    }

    function makeEditable() {
      if (editor || textarea) return Promise.resolve();
      edit.disabled = true;
      return loadEditor(article.dataset.editorUrl).then(function (Editor) {
        var host = el("div", "example-editor");
        pre.replaceWith(host);
        if (Editor) {
          editor = Editor.create(host, { doc: original, ariaLabel: "Example " + (n + 1) + " code" });
          editor.focus();
        } else {
          textarea = el("textarea", "code-textarea");
          textarea.value = original;
          textarea.spellcheck = false;
          textarea.rows = Math.min(30, original.split("\n").length + 1);
          textarea.setAttribute("aria-label", "Example " + (n + 1) + " code");
          host.appendChild(textarea);
          textarea.focus();
        }
        edit.hidden = true;
        reset.hidden = false;
        figure.classList.add("is-editing");
      });
    }

    edit.addEventListener("click", makeEditable);
    pre.addEventListener("click", function () {
      // A click that selects text is for copying, not editing.
      if (!String(window.getSelection() || "")) makeEditable();
    });
    reset.addEventListener("click", function () {
      if (editor) editor.setValue(original);
      if (textarea) textarea.value = original;
    });

    run.addEventListener("click", function () {
      output.hidden = false;
      output.textContent = "";
      if (!signedIn) {
        var p = el("p", "meta", "");
        var link = el("a", null, "Sign in");
        link.href = "/login?next=" + encodeURIComponent(location.pathname);
        p.appendChild(link);
        p.appendChild(document.createTextNode(" to run examples in the sandbox."));
        output.appendChild(p);
        return;
      }
      run.disabled = true;
      var status = el("p", "example-status meta", "Queued…");
      status.setAttribute("role", "status");
      output.appendChild(status);
      var words = {};
      words[JobStatus.Queued] = "Queued…";
      words[Phase.Compiling] = "Compiling…";
      words[Phase.Running] = "Running…";
      api("POST", "/api/run", { code: code() })
        .then(function (result) {
          if (!result.ok) throw result;
          return Jobs.follow(result.data.id, function (state) {
            if (state.status !== JobStatus.Done) status.textContent = words[stepOf(state)];
          });
        })
        .then(function (submission) {
          var diagnostics = renderVerdict(output, submission, null);
          var verdict = submission.verdict || {};
          if (editor && diagnostics.length) editor.setDiagnostics(diagnostics);
          if (expected && verdict.status === Outcome.Pass) {
            var same = (verdict.stdout || "").trim() === expected.textContent.trim();
            output.appendChild(el("p", same ? "example-match" : "meta", same ? "✓ Matches the expected output." : "The output differs from the expected output shown below."));
          }
          figure.dataset.ran = verdict.status || Outcome.Error;
        })
        .catch(function (result) {
          output.textContent = "";
          output.appendChild(el("p", "form-error", errorMessage(result || { status: 0 })));
        })
        .then(function () { run.disabled = false; });
    });
  });
}
