// Autosaved drafts with optimistic locking: every save names the version it
// was based on; a 409 means another tab or device saved in between, and the
// learner chooses (load the newer draft, or keep theirs and overwrite it)
// instead of either being lost silently.

import { api, csrfToken, errorMessage } from "./api.js";
import { clockTime } from "./dom.js";

/**
 * Saves the code of `exerciseId` every few seconds, when the page is
 * hidden and when it is left. `version` is the draft's version the page was
 * loaded with (0: none); `source` is the editor: `get()`, `set(text)` and
 * `focus()`. Returns `{ save }`: a save now, resolving to whether the code
 * is stored.
 */
export function autosave(exerciseId, version, source) {
  var draftUrl = "/api/exercises/" + encodeURIComponent(exerciseId) + "/draft";
  var saveStatus = document.getElementById("save-status");
  var conflictBox = document.getElementById("conflict");

  var saved = source.get();
  var inConflict = false;
  var saving = null;
  var refused = null; // code the server refused (too large…): not retried until it changes

  function setSaveStatus(text, kind) {
    saveStatus.textContent = text;
    saveStatus.className = "save-status" + (kind ? " save-" + kind : "");
  }

  function save() {
    if (saving) return saving;
    var code = source.get();
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
      source.set(newer.code);
      version = newer.version;
      saved = newer.code;
    }
    inConflict = false;
    conflictBox.hidden = true;
    setSaveStatus("Loaded the newer draft", "ok");
    source.focus();
  });
  document.getElementById("conflict-keep").addEventListener("click", function () {
    var newer = conflictBox.newer;
    // Saving on top of the newer version is the explicit overwrite.
    version = newer ? newer.version : 0;
    inConflict = false;
    conflictBox.hidden = true;
    save();
    source.focus();
  });

  setInterval(save, 3000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") save();
  });
  // Leaving the page: one last save that outlives it (no "leave page?" prompt).
  window.addEventListener("pagehide", function () {
    var code = source.get();
    if (inConflict || code === saved || code === refused) return;
    fetch(draftUrl, {
      method: "PUT",
      keepalive: true,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify({ code: code, version: version }),
    }).catch(function () {});
  });

  return { save: save };
}
