// Concept checks at the end of a lesson: each question's form posts the
// learner's answer as JSON and shows the verdict, the right answer and the
// explanation that only the server's reply carries (the page has no key).

import { api, errorMessage } from "./api.js";
import { el } from "./dom.js";

/** Wires every question of `section` (the lesson's `#checks`). */
export function initChecks(section) {
  var base = "/api/lessons/" + encodeURIComponent(section.dataset.module) + "/" +
    encodeURIComponent(section.dataset.lesson) + "/checks/";
  var questions = section.querySelectorAll("li.check[data-question]");
  Array.prototype.forEach.call(questions, function (item) {
    var form = item.querySelector("form.check-form");
    var feedback = item.querySelector(".check-feedback");
    var button = item.querySelector(".check-submit");
    if (!form || !feedback || !button || button.disabled) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var picked = Array.prototype.map.call(
        form.querySelectorAll("input:checked"),
        function (input) { return Number(input.value); }
      );
      feedback.textContent = "";
      if (!picked.length) {
        feedback.appendChild(el("p", "form-error", item.dataset.kind === "line" ? "Pick a line first." : "Pick an answer first."));
        return;
      }
      button.disabled = true;
      api("POST", base + encodeURIComponent(item.dataset.question), { answer: picked })
        .then(function (result) {
          if (!result.ok) throw result;
          show(item, feedback, result.data);
        })
        .catch(function (result) {
          feedback.textContent = "";
          feedback.appendChild(el("p", "form-error", errorMessage(result || { status: 0 })));
        })
        .then(function () { button.disabled = false; });
    });
  });
}

/** The verdict, the right option(s) or line(s) marked, and the explanation. */
function show(item, feedback, data) {
  item.classList.remove("is-correct", "is-wrong");
  item.classList.add(data.correct ? "is-correct" : "is-wrong");
  var right = {};
  data.answer.forEach(function (value) { right[String(value)] = true; });
  Array.prototype.forEach.call(item.querySelectorAll("input"), function (input) {
    var label = input.closest("label");
    if (label) label.classList.toggle("is-right-answer", !!right[input.value]);
  });
  feedback.textContent = "";
  feedback.appendChild(el("p", data.correct ? "check-verdict check-right" : "check-verdict check-wrong",
    data.correct ? "✓ Right." : "✗ Not quite: the right answer is marked."));
  // The explanation is the programme's own rendered markdown (the
  // curriculum, reviewed in git), not anything a learner wrote.
  var explanation = el("div", "check-explanation prose");
  explanation.innerHTML = data.explanation_html;
  feedback.appendChild(explanation);
}
