// The page of a `written` exercise: the note's draft autosaves with the same
// optimistic locking as code (js/drafts.js: a stale save gets 409 and the
// learner chooses), and Preview shows the markdown as the server renders it
// for the instructor. Handing in is a plain form post, so the page works
// without this script.
//
// The preview's HTML comes from the server's renderer, which escapes any raw
// HTML in the markdown; nothing the learner typed is inserted as HTML here.

import { api, errorMessage } from "./js/api.js";
import { autosave } from "./js/drafts.js";

document.documentElement.classList.add("js");

const workspace = document.getElementById("written-workspace");
if (workspace) {
  const note = document.getElementById("note");
  autosave(workspace.dataset.exercise, Number(workspace.dataset.version) || 0, {
    get: () => note.value,
    set: (text) => { note.value = text; },
    focus: () => note.focus(),
  });

  const previewBox = document.getElementById("preview");
  const previewBody = document.getElementById("preview-body");
  document.getElementById("preview-button").addEventListener("click", async () => {
    const result = await api("POST", "/api/written/preview", { body: note.value });
    previewBox.hidden = false;
    if (result.ok) {
      previewBody.innerHTML = result.data.html;
    } else {
      previewBody.textContent = "No preview: " + errorMessage(result);
    }
    previewBox.scrollIntoView({ block: "nearest" });
  });

  // Handing in posts the textarea itself; the draft is saved as the page
  // is left (pagehide), so what was handed in is also what reopens.
}
