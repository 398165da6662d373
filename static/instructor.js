// The instructor's overview: keyboard focus on matrix cells shows what the
// cell means, and the matrix follows the cohort live — when a learner's
// submission is graded (the same /api/events stream as the learner page,
// already filtered to this instructor's learners) their row is re-read.
// An ES module.

import { JobStatus } from "./js/job.js";

(() => {
  const overview = document.getElementById("overview");
  const table = document.getElementById("matrix");
  if (!overview || !table) return;
  const cohort = overview.dataset.cohort;
  const module = overview.dataset.module || "";
  const detail = document.getElementById("cell-detail");
  const status = document.getElementById("live-status");

  // Roving focus: one cell is in the tab order; arrow keys move between cells.
  const cells = () => Array.from(table.querySelectorAll("tbody td.cell"));
  const first = table.querySelector("tbody td.cell");
  if (first) first.tabIndex = 0;
  table.addEventListener("focusin", (event) => {
    const cell = event.target.closest("td.cell");
    if (!cell) return;
    const row = cell.parentElement.querySelector("th");
    const column = table.querySelectorAll("thead tr:nth-child(2) th")[cell.cellIndex - 1];
    detail.textContent = `${row ? row.textContent : ""}, ${column ? column.querySelector("a").title : ""}: ${cell.title}`;
  });
  table.addEventListener("keydown", (event) => {
    const cell = event.target.closest("td.cell");
    if (!cell) return;
    const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    const move = moves[event.key];
    if (!move) return;
    const row = cell.parentElement;
    const target = move[0] === 0
      ? row.cells[cell.cellIndex + move[1]]
      : (move[0] < 0 ? row.previousElementSibling : row.nextElementSibling)?.cells[cell.cellIndex];
    if (target && target.classList.contains("cell")) {
      event.preventDefault();
      cell.tabIndex = -1;
      target.tabIndex = 0;
      target.focus();
    }
  });

  const pending = new Map();
  const refresh = async (learner) => {
    const row = table.querySelector(`tbody tr[data-learner="${learner}"]`);
    if (!row) return;
    const query = module ? `?module=${encodeURIComponent(module)}` : "";
    const response = await fetch(`/api/instructor/cohorts/${cohort}/learners/${learner}/progress${query}`, { credentials: "same-origin" });
    if (!response.ok) return;
    const data = await response.json();
    const learnerData = data.learners[0];
    if (!learnerData) return;
    const tds = row.querySelectorAll("td.cell");
    learnerData.cells.forEach((cell, i) => {
      const td = tds[i];
      if (!td) return;
      td.className = `cell cell-${cell.state}`;
      td.title = cell.label;
      td.textContent = "";
      if (cell.state !== "not-started") {
        const mark = document.createElement("span");
        mark.setAttribute("aria-hidden", "true");
        mark.textContent = cell.state === "passed" ? "✓" : String(cell.attempts);
        td.append(mark);
      }
      const hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = cell.label;
      td.append(hidden);
    });
    const total = row.querySelector("td.total");
    if (total) total.textContent = `${learnerData.passed}/${data.exercises.length}`;
    const seen = row.querySelector("td.last-seen");
    if (seen) seen.textContent = "just now";
    row.classList.add("updated");
    if (status) status.textContent = `Updated ${learnerData.display_name}.`;
  };
  const events = new EventSource("/api/events");
  events.addEventListener("job", (event) => {
    let job;
    try { job = JSON.parse(event.data); } catch { return; }
    if (job.status !== JobStatus.Done || !job.user_id || !job.exercise_id) return;
    // Coalesce bursts: one re-read per learner per half second.
    if (pending.has(job.user_id)) return;
    pending.set(job.user_id, setTimeout(() => {
      pending.delete(job.user_id);
      refresh(job.user_id).catch(() => {});
    }, 500));
  });
})();
