// The exercise workspace: the editor, Reset, and Submit / Run visible tests
// followed live to the verdict; drafts (drafts.js) and hints (hints.js)
// are wired in from their own modules.

import { api, errorMessage } from "./api.js";
import { autosave } from "./drafts.js";
import { el } from "./dom.js";
import { initHints } from "./hints.js";
import { JobStatus, Mode, Outcome, Phase, STEPS, stepOf } from "./job.js";
import { Jobs } from "./jobs.js";
import { headline, renderVerdict } from "./verdict.js";

/** Wires up the workspace `workspace` (`#workspace` on an exercise page). */
export function initExercise(workspace) {
  var exerciseId = workspace.dataset.exercise;
  var textarea = document.getElementById("code");
  var starter = document.getElementById("starter-code").value;
  var verdictBox = document.getElementById("verdict");
  var liveStatus = document.getElementById("live-status");
  var phases = document.getElementById("phases");
  var buttons = ["submit", "run-visible", "reset"].map(function (id) { return document.getElementById(id); });

  var editor = null;
  if (window.LockstepEditor) {
    var host = document.getElementById("editor");
    textarea.hidden = true;
    editor = window.LockstepEditor.create(host, {
      doc: textarea.value,
      ariaLabel: "Solution code",
      ariaDescribedBy: "editor-help",
    });
    host.classList.add("has-editor");
    // Other scripts (and the end-to-end tests) reach the editor through the page.
    workspace.lockstepEditor = editor;
  }
  function getCode() { return editor ? editor.getValue() : textarea.value; }
  function setCode(text) { if (editor) editor.setValue(text); else textarea.value = text; }

  // -- Drafts: autosave with the version the editor was loaded at.
  var drafts = autosave(exerciseId, Number(workspace.dataset.version) || 0, {
    get: getCode,
    set: setCode,
    focus: function () { if (editor) editor.focus(); else textarea.focus(); },
  });
  var save = drafts.save;

  // -- Reset to starter, with confirmation.
  document.getElementById("reset").addEventListener("click", function () {
    if (getCode() === starter) return;
    if (!window.confirm("Replace your code with the starter code? Your current code will be lost unless you have submitted it.")) return;
    setCode(starter);
    if (editor) editor.clearDiagnostics();
    save();
  });

  // -- Hints, one at a time.
  initHints(exerciseId);

  // -- Submit / Run visible tests, followed live.
  function setPhase(state) {
    var current = stepOf(state);
    var reached = STEPS.indexOf(current);
    Array.prototype.forEach.call(phases.children, function (li) {
      var i = STEPS.indexOf(li.dataset.phase);
      li.className = i < reached ? "phase-done" : i === reached ? "phase-current" : "";
      if (i === reached) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    });
    var words = {};
    words[JobStatus.Queued] = "Queued";
    words[Phase.Compiling] = "Compiling";
    words[Phase.Running] = "Running tests";
    words[JobStatus.Done] = "Verdict ready";
    liveStatus.textContent = words[current];
    phases.dataset.state = current;
  }

  function setBusy(busy) {
    buttons.forEach(function (b) { b.disabled = busy; });
    workspace.classList.toggle("is-grading", busy);
  }

  function reveal(line) {
    if (editor) {
      editor.revealLine(line);
      editor.focus();
    }
  }

  function refreshAfter() {
    return fetch("/exercises/" + encodeURIComponent(exerciseId) + "/history", { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return;
        // Our own server-rendered fragment (escaped by the template engine).
        document.getElementById("after").innerHTML = html;
        bindRerun();
      })
      .catch(function () {});
  }

  function grade(code, mode) {
    setBusy(true);
    if (editor) editor.clearDiagnostics();
    phases.hidden = false;
    setPhase({ status: JobStatus.Queued });
    verdictBox.textContent = "";
    verdictBox.appendChild(el("p", "meta", mode === Mode.Visible ? "Running the visible tests…" : "Grading against every test…"));
    return save()
      .then(function () {
        return api("POST", "/api/exercises/" + encodeURIComponent(exerciseId) + "/submissions", { code: code, mode: mode });
      })
      .then(function (result) {
        if (!result.ok) throw result;
        workspace.dataset.submission = result.data.id;
        return Jobs.follow(result.data.id, setPhase);
      })
      .then(function (submission) {
        setPhase(submission);
        var diagnostics = renderVerdict(verdictBox, submission, { reveal: reveal });
        workspace.dataset.verdict = (submission.verdict && submission.verdict.status) || Outcome.Error;
        if (editor && diagnostics.length) {
          editor.setDiagnostics(diagnostics.map(function (d) {
            return { line: d.line, column: d.column, level: d.level, message: d.message };
          }));
        }
        liveStatus.textContent = headline(submission.verdict || {}, submission.mode);
        return refreshAfter();
      })
      .catch(function (result) {
        phases.dataset.state = "failed";
        verdictBox.textContent = "";
        verdictBox.appendChild(el("p", "form-error", errorMessage(result || { status: 0 })));
        liveStatus.textContent = errorMessage(result || { status: 0 });
      })
      .then(function () { setBusy(false); });
  }

  document.getElementById("submit").addEventListener("click", function () { grade(getCode(), Mode.Submit); });
  document.getElementById("run-visible").addEventListener("click", function () { grade(getCode(), Mode.Visible); });
  workspace.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && !buttons[0].disabled) {
      event.preventDefault();
      grade(getCode(), Mode.Submit);
    }
  });

  function bindRerun() {
    var rerun = document.getElementById("rerun");
    if (!rerun) return;
    rerun.addEventListener("click", function () {
      document.getElementById("results").scrollIntoView({ block: "start" });
      grade(document.getElementById("passing-code").value, Mode.Submit);
    });
  }
  // Diffs are computed on demand, one at a time, when the learner opens one.
  document.getElementById("after").addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.open || !details.dataset.diffUrl || details.dataset.loaded) return;
    details.dataset.loaded = "1";
    fetch(details.dataset.diffUrl + "?partial=1", { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { delete details.dataset.loaded; return; }
        var body = details.querySelector("p");
        var holder = document.createElement("div");
        // Our own server-rendered fragment (escaped by the template engine).
        holder.innerHTML = html;
        details.replaceChild(holder, body);
      })
      .catch(function () { delete details.dataset.loaded; });
  }, true);
  bindRerun();
  phases.hidden = true;
}
