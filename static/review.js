// The page of a `review` exercise: every new-side line number is a button
// that adds a mark under its line (a category and a comment); "Hand in the
// review" sends the marks to POST /api/exercises/{id}/review and reloads the
// page, which then shows the score and the key rendered by the server.
//
// Until then the marks are kept as the exercise's draft (the editor's
// autosave, with its versions), so a reload or another device finds them.
//
// Nothing the learner typed is inserted as HTML: the editor is cloned from a
// <template> and filled through properties.

import { api, errorMessage } from "./js/api.js";

document.documentElement.classList.add("js");

const workspace = document.getElementById("review-workspace");
if (workspace && !workspace.dataset.handedIn) {
  const maxMarks = Number(workspace.dataset.maxMarks) || 50;
  const template = document.getElementById("mark-editor-template");
  const count = document.getElementById("mark-count");
  const errorBox = document.getElementById("review-error");
  const submit = document.getElementById("hand-in-review");
  const saved = document.getElementById("marks-saved");
  const draftUrl = `/api/exercises/${workspace.dataset.exercise}/draft`;
  // "file:line" → the editor row under that line.
  const marks = new Map();
  // The draft's version these marks were loaded at or last saved as.
  let version = 0;
  let pendingSave = null;

  const collect = () => [...marks.values()].map((row) => ({
    file: row.dataset.file,
    line: Number(row.dataset.line),
    category: row.querySelector(".mark-category").value,
    comment: row.querySelector(".mark-comment").value,
  }));

  const save = async () => {
    pendingSave = null;
    const result = await api("PUT", draftUrl, {
      code: JSON.stringify({ marks: collect() }),
      version,
    });
    if (result.ok) {
      version = result.data.version;
      saved.textContent = "Your marks are saved.";
    } else if (result.status === 409 && result.data && result.data.draft) {
      // Another tab or device saved marks since: say so; the next change
      // here saves over them, knowingly.
      version = result.data.draft.version;
      saved.textContent = "Your marks were changed in another tab or device since this page was loaded: reload to see those, or keep marking here to replace them.";
    } else {
      saved.textContent = `Your marks are not saved: ${errorMessage(result)}`;
    }
  };

  const saveSoon = () => {
    if (pendingSave) clearTimeout(pendingSave);
    pendingSave = setTimeout(save, 800);
  };

  const showCount = () => {
    count.textContent = marks.size === 0
      ? "No lines marked yet."
      : `${marks.size} line${marks.size === 1 ? "" : "s"} marked (at most ${maxMarks}).`;
  };

  const removeMark = (button, key) => {
    const row = marks.get(key);
    if (row) row.remove();
    marks.delete(key);
    button.setAttribute("aria-pressed", "false");
    button.focus();
    showCount();
    saveSoon();
  };

  const addMark = (button, key, restored) => {
    if (marks.size >= maxMarks) {
      errorBox.hidden = false;
      errorBox.textContent = `A review holds at most ${maxMarks} marks.`;
      return;
    }
    const row = template.content.firstElementChild.cloneNode(true);
    row.dataset.file = button.dataset.file;
    row.dataset.line = button.dataset.line;
    row.querySelector(".mark-legend").textContent =
      `Your mark on line ${button.dataset.line} of ${button.dataset.file}`;
    row.querySelector(".mark-remove").addEventListener("click", () => removeMark(button, key));
    row.querySelector(".mark-category").addEventListener("change", saveSoon);
    row.querySelector(".mark-comment").addEventListener("input", saveSoon);
    button.closest("tr").after(row);
    marks.set(key, row);
    button.setAttribute("aria-pressed", "true");
    showCount();
    if (restored) {
      row.querySelector(".mark-category").value = restored.category || "";
      row.querySelector(".mark-comment").value = restored.comment || "";
    } else {
      row.querySelector(".mark-category").focus();
      saveSoon();
    }
  };

  // The marks saved before (a draft that is not a review's marks is ignored).
  api("GET", draftUrl).then((result) => {
    if (!result.ok) return;
    version = result.data.version;
    let restored = [];
    try {
      restored = JSON.parse(result.data.code).marks || [];
    } catch {
      return;
    }
    for (const mark of restored) {
      const key = `${mark.file}:${mark.line}`;
      const button = [...document.querySelectorAll("button.mark-line")].find(
        (b) => b.dataset.file === mark.file && b.dataset.line === String(mark.line),
      );
      if (button && !marks.has(key)) addMark(button, key, mark);
    }
    if (marks.size > 0) saved.textContent = "Your marks from before are back.";
  });

  document.querySelectorAll("button.mark-line").forEach((button) => {
    button.addEventListener("click", () => {
      const key = `${button.dataset.file}:${button.dataset.line}`;
      if (marks.has(key)) removeMark(button, key); else addMark(button, key);
    });
  });

  submit.addEventListener("click", async () => {
    errorBox.hidden = true;
    const body = { marks: [] };
    for (const row of marks.values()) {
      const category = row.querySelector(".mark-category");
      if (!category.value) {
        errorBox.hidden = false;
        errorBox.textContent = `Pick a category for your mark on line ${row.dataset.line} of ${row.dataset.file}.`;
        category.focus();
        return;
      }
      body.marks.push({
        file: row.dataset.file,
        line: Number(row.dataset.line),
        category: category.value,
        comment: row.querySelector(".mark-comment").value,
      });
    }
    if (body.marks.length === 0) {
      errorBox.hidden = false;
      errorBox.textContent = "Mark at least one line before handing in the review.";
      return;
    }
    submit.disabled = true;
    if (pendingSave) clearTimeout(pendingSave);
    const result = await api("POST", `/api/exercises/${workspace.dataset.exercise}/review`, body);
    if (result.ok || result.status === 409) {
      window.location.assign(`/exercises/${workspace.dataset.exercise}#review-result`);
      window.location.reload();
      return;
    }
    submit.disabled = false;
    errorBox.hidden = false;
    errorBox.textContent = errorMessage(result);
  });
}
