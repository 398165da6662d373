// The page of a `review` exercise: every new-side line number is a button
// that adds a mark under its line (a category and a comment); "Hand in the
// review" sends the marks to POST /api/exercises/{id}/review and reloads the
// page, which then shows the score and the key rendered by the server.
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
  // "file:line" → the editor row under that line.
  const marks = new Map();

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
  };

  const addMark = (button, key) => {
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
    button.closest("tr").after(row);
    marks.set(key, row);
    button.setAttribute("aria-pressed", "true");
    row.querySelector(".mark-category").focus();
    showCount();
  };

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
