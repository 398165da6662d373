// Lockstep learner pages: the exercise workspace (editor, autosave with
// conflict handling, hints, Submit / Run visible tests with live results)
// and runnable lesson examples.
//
// Every page reads without this script; it only adds behaviour. Output from
// the grader is always inserted as text, never as HTML.
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  // ---- Small helpers -------------------------------------------------------

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // JSON request with the CSRF header; never throws on HTTP errors.
  function api(method, url, body) {
    var init = {
      method: method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(
      function (response) {
        return response
          .json()
          .catch(function () { return null; })
          .then(function (data) {
            return {
              status: response.status,
              ok: response.ok,
              data: data,
              retryAfter: response.headers.get("Retry-After"),
            };
          });
      },
      function () {
        return { status: 0, ok: false, data: null, retryAfter: null };
      }
    );
  }

  function errorMessage(result) {
    if (result.status === 0) return "The server could not be reached. Check your connection and try again.";
    if (result.status === 429) {
      return "You are running code too often; try again in " + (result.retryAfter || "a few") + " s.";
    }
    if (result.status === 401) return "Your session has ended: sign in again (your draft is saved).";
    return (result.data && result.data.error) || "Something went wrong (HTTP " + result.status + ").";
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function clockTime(date) {
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  // ---- Following a grading job: SSE first, polling as the fallback ---------

  var Jobs = {
    source: null,
    live: false,
    watchers: {},

    connect: function () {
      if (this.source || !window.EventSource) return;
      var jobs = this;
      try {
        this.source = new EventSource("/api/events");
      } catch (e) {
        return;
      }
      this.source.addEventListener("open", function () { jobs.live = true; });
      this.source.addEventListener("error", function () { jobs.live = false; });
      this.source.addEventListener("job", function (message) {
        var event;
        try { event = JSON.parse(message.data); } catch (e) { return; }
        var watcher = jobs.watchers[event.id];
        if (!watcher) return;
        if (event.status === "done") watcher.poll();
        else watcher.update({ id: event.id, status: event.status, phase: event.phase });
      });
    },

    // Calls onUpdate with each state; resolves with the finished submission.
    follow: function (id, onUpdate) {
      var jobs = this;
      this.connect();
      return new Promise(function (resolve, reject) {
        var finished = false;
        var timer = null;
        var failures = 0;
        var watcher = {
          update: function (state) { if (!finished) onUpdate(state); },
          poll: function () {
            if (finished) return;
            clearTimeout(timer);
            api("GET", "/api/submissions/" + id).then(function (result) {
              if (finished) return;
              if (result.ok) {
                failures = 0;
                onUpdate(result.data);
                if (result.data.status === "done") {
                  finished = true;
                  delete jobs.watchers[id];
                  resolve(result.data);
                  return;
                }
              } else if (++failures >= 5) {
                finished = true;
                delete jobs.watchers[id];
                reject(result);
                return;
              }
              // With live events the poll is only a safety net.
              timer = setTimeout(watcher.poll, jobs.live ? 4000 : 1000);
            });
          },
        };
        jobs.watchers[id] = watcher;
        watcher.poll();
      });
    },
  };

  // ---- Rendering a verdict ---------------------------------------------------

  var REASONS = {
    compile_error: "It does not compile",
    timeout: "Time limit exceeded",
    memory_limit: "Memory limit exceeded",
    output_limit: "Too much output",
    runtime_error: "It crashed",
    internal_error: "The grader had a problem (not your fault) — please try again",
  };

  function headline(verdict, mode) {
    var tests = verdict.tests || [];
    var passed = tests.filter(function (t) { return t.status === "pass"; }).length;
    if (verdict.status === "pass") {
      if (mode === "run") return "Finished";
      return mode === "visible"
        ? "All " + tests.length + " visible tests pass — now Submit to run every test"
        : "Passed: all " + tests.length + " tests pass";
    }
    if (verdict.status === "fail") return passed + " of " + tests.length + " tests pass";
    return REASONS[verdict.reason] || "Error";
  }

  function outputBlock(label, text, className) {
    var wrap = el("div", "output-block " + (className || ""));
    wrap.appendChild(el("p", "output-label", label));
    wrap.appendChild(el("pre", "output", text));
    return wrap;
  }

  // Fills `container` with the verdict; returns the diagnostics to mark.
  function renderVerdict(container, submission, handlers) {
    var verdict = submission.verdict || {};
    container.textContent = "";
    var status = verdict.status || "error";
    var head = el("div", "verdict-head verdict-" + status);
    head.appendChild(el("span", "verdict-icon", status === "pass" ? "✓" : "✗"));
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
        var icon = el("span", "test-icon", test.status === "pass" ? "✓" : "✗");
        icon.setAttribute("aria-hidden", "true");
        row.appendChild(icon);
        row.appendChild(el("code", "test-name", test.name));
        row.appendChild(el("span", "badge badge-" + (test.status === "pass" ? "pass" : "fail"), test.status === "pass" ? "passed" : test.status === "fail" ? "failed" : test.status));
        if (test.hidden) row.appendChild(el("span", "badge", "hidden test"));
        li.appendChild(row);
        if (test.message) li.appendChild(el("pre", "output test-message", test.message));
        if (test.output) {
          var details = el("details", "test-output");
          details.appendChild(el("summary", null, "Output"));
          details.appendChild(el("pre", "output", test.output));
          li.appendChild(details);
        }
        ol.appendChild(li);
      });
      container.appendChild(ol);
    }
    if (verdict.stdout) container.appendChild(outputBlock("Standard output", verdict.stdout, "stdout"));
    if (verdict.stderr) container.appendChild(outputBlock("Standard error", verdict.stderr, "stderr"));
    if (submission.mode === "run" && !verdict.stdout && !verdict.stderr && !verdict.compile_output && status === "pass") {
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

  // ---- The exercise workspace ------------------------------------------------

  function initExercise(workspace) {
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
      var order = ["queued", "compiling", "running", "done"];
      var current = state.status === "done" ? "done" : state.status === "running" ? state.phase || "compiling" : "queued";
      var reached = order.indexOf(current);
      Array.prototype.forEach.call(phases.children, function (li) {
        var i = order.indexOf(li.dataset.phase);
        li.className = i < reached ? "phase-done" : i === reached ? "phase-current" : "";
        if (i === reached) li.setAttribute("aria-current", "step");
        else li.removeAttribute("aria-current");
      });
      var words = { queued: "Queued", compiling: "Compiling", running: "Running tests", done: "Verdict ready" };
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
      setPhase({ status: "queued" });
      verdictBox.textContent = "";
      verdictBox.appendChild(el("p", "meta", mode === "visible" ? "Running the visible tests…" : "Grading against every test…"));
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
          workspace.dataset.verdict = (submission.verdict && submission.verdict.status) || "error";
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

    document.getElementById("submit").addEventListener("click", function () { grade(getCode(), "submit"); });
    document.getElementById("run-visible").addEventListener("click", function () { grade(getCode(), "visible"); });
    workspace.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && !buttons[0].disabled) {
        event.preventDefault();
        grade(getCode(), "submit");
      }
    });

    function bindRerun() {
      var rerun = document.getElementById("rerun");
      if (!rerun) return;
      rerun.addEventListener("click", function () {
        document.getElementById("results").scrollIntoView({ block: "start" });
        grade(document.getElementById("passing-code").value, "submit");
      });
    }
    bindRerun();
    phases.hidden = true;
  }

  // ---- Lessons: runnable, editable examples ----------------------------------

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

  function initLesson(article) {
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
        var words = { queued: "Queued…", compiling: "Compiling…", running: "Running…" };
        api("POST", "/api/run", { code: code() })
          .then(function (result) {
            if (!result.ok) throw result;
            return Jobs.follow(result.data.id, function (state) {
              if (state.status !== "done") status.textContent = words[state.status === "running" ? state.phase || "compiling" : "queued"];
            });
          })
          .then(function (submission) {
            var diagnostics = renderVerdict(output, submission, null);
            var verdict = submission.verdict || {};
            if (editor && diagnostics.length) editor.setDiagnostics(diagnostics);
            if (expected && verdict.status === "pass") {
              var same = (verdict.stdout || "").trim() === expected.textContent.trim();
              output.appendChild(el("p", same ? "example-match" : "meta", same ? "✓ Matches the expected output." : "The output differs from the expected output shown below."));
            }
            figure.dataset.ran = verdict.status || "error";
          })
          .catch(function (result) {
            output.textContent = "";
            output.appendChild(el("p", "form-error", errorMessage(result || { status: 0 })));
          })
          .then(function () { run.disabled = false; });
      });
    });
  }

  function start() {
    var workspace = document.getElementById("workspace");
    if (workspace) initExercise(workspace);
    var lesson = document.getElementById("lesson");
    if (lesson) initLesson(lesson);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
