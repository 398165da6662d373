// Hints, one at a time: each is fetched when asked for (and recorded, so an
// instructor sees who needed help), appended to the list and focused.

import { api, errorMessage } from "./api.js";
import { el } from "./dom.js";

/** Wires up the hint form of `exerciseId`'s page, if it has hints left. */
export function initHints(exerciseId) {
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
}
