// The exercise workspace: the editor, autosaved drafts with conflict
// handling, hints one at a time, and Submit / Run visible tests followed
// live to the verdict.

import { api, csrfToken, errorMessage } from "./api.js";
import { clockTime, el } from "./dom.js";
import { JobStatus, Mode, Outcome, Phase, STEPS, stepOf } from "./job.js";
import { Jobs } from "./jobs.js";
import { headline, renderVerdict } from "./verdict.js";

/** Wires up the workspace `workspace` (`#workspace` on an exercise page). */
export function initExercise(workspace) {
  var exerciseId = workspace.dataset.exercise;
  var version = Number(workspace.dataset.version) || 0;
  var textarea = document.getElementById("code");
  var starter = document.getElementById("starter-code").value;
  var saveStatus = document.getElementById("save-status");
  var conflictBox = document.getElementById("conflict");
  var verdictBox = document.getElementById("verdict");
  var liveStatus = document.getElementById("live-status");
  var phases = document.getElementById("phases");
  var buttons = ["submit", "run-visible", "reset"].map(function (id) { return document.getElementById(id); });
  var draftUrl = "/api/exercises/" + encodeURIComponent(exerciseId) + "/draft";

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
  var saved = getCode();
  var inConflict = false;
  var saving = null;
  var refused = null; // code the server refused (too large…): not retried until it changes

  function setSaveStatus(text, kind) {
    saveStatus.textContent = text;
    saveStatus.className = "save-status" + (kind ? " save-" + kind : "");
  }

  function save() {
    if (saving) return saving;
    var code = getCode();
    if (inConflict || code === saved || code === refused) return Promise.resolve(true);
    setSaveStatus("Saving…");
    saving = api("PUT", draftUrl, { code: code, version: version }).then(function (result) {
      saving = null;
      if (result.ok) {
        version = result.data.version;
        saved = code;
        setSaveStatus("Saved " + clockTime(new Date()), "ok");
        return true;
      }
      if (result.status === 409) {
        showConflict(result.data && result.data.draft);
        return false;
      }
      if (result.status === 413 || result.status === 422) refused = code;
      setSaveStatus("Not saved: " + errorMessage(result), "bad");
      return false;
    });
    return saving;
  }

  function showConflict(newer) {
    inConflict = true;
    setSaveStatus("Not saved: newer draft elsewhere", "bad");
    var when = document.getElementById("conflict-when");
    when.textContent = newer && newer.updated_at ? " at " + clockTime(new Date(newer.updated_at)) : "";
    conflictBox.hidden = false;
    conflictBox.newer = newer || null;
    document.getElementById("conflict-load").focus();
  }

  document.getElementById("conflict-load").addEventListener("click", function () {
    var newer = conflictBox.newer;
    if (newer) {
      setCode(newer.code);
      version = newer.version;
      saved = newer.code;
    }
    inConflict = false;
    conflictBox.hidden = true;
    setSaveStatus("Loaded the newer draft", "ok");
    if (editor) editor.focus(); else textarea.focus();
  });
  document.getElementById("conflict-keep").addEventListener("click", function () {
    var newer = conflictBox.newer;
    // Saving on top of the newer version is the explicit overwrite.
    version = newer ? newer.version : 0;
    inConflict = false;
    conflictBox.hidden = true;
    save();
    if (editor) editor.focus(); else textarea.focus();
  });

  setInterval(save, 3000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") save();
  });
  // Leaving the page: one last save that outlives it (no "leave page?" prompt).
  window.addEventListener("pagehide", function () {
    var code = getCode();
    if (inConflict || code === saved || code === refused) return;
    fetch(draftUrl, {
      method: "PUT",
      keepalive: true,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify({ code: code, version: version }),
    }).catch(function () {});
  });

  // -- Reset to starter, with confirmation.
  document.getElementById("reset").addEventListener("click", function () {
    if (getCode() === starter) return;
    if (!window.confirm("Replace your code with the starter code? Your current code will be lost unless you have submitted it.")) return;
    setCode(starter);
    if (editor) editor.clearDiagnostics();
    save();
  });

  // -- Hints, one at a time.
  var hintForm = document.getElementById("hint-form");
  if (hintForm) {
    hintForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var index = Number(hintForm.elements.index.value);
      var total = Number(hintForm.dataset.total);
      var button = document.getElementById("hint-button");
      button.disabled = true;
      api("POST", "/api/exercises/" + encodeURIComponent(exerciseId) + "/hints", { index: index }).then(function (result) {
        button.disabled = false;
        if (!result.ok) {
          window.alert(errorMessage(result));
          return;
        }
        var li = el("li", "hint-new", result.data.hint);
        li.id = "hint-" + (index + 1);
        li.tabIndex = -1;
        document.getElementById("hint-list").appendChild(li);
        li.focus();
        var next = result.data.revealed;
        hintForm.elements.index.value = next;
        if (next >= total) {
          hintForm.hidden = true;
          document.getElementById("hints-done").hidden = false;
        } else {
          button.textContent = "Reveal hint " + (next + 1) + " of " + total;
        }
      });
    });
  }

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
  bindRerun();
  phases.hidden = true;
}
