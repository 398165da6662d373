// Lockstep learner pages: the exercise workspace (editor, autosave with
// conflict handling, hints, Submit / Run visible tests with live results)
// runnable lesson examples and concept checks. An ES module: its parts live in `js/`, and
// need no build step. This file's URL is fingerprinted (cached for a year);
// the modules it imports are plain URLs, served `no-cache`, so a changed
// module is revalidated on the next load and never goes stale.
//
// Every page reads without this script; it only adds behaviour. Output from
// the grader is always inserted as text, never as HTML.

import { initChecks } from "./js/checks.js";
import { initExercise } from "./js/exercise.js";
import { initLesson } from "./js/lesson.js";

document.documentElement.classList.add("js");

// Module scripts run once the document is parsed: the page is all there.
const workspace = document.getElementById("workspace");
if (workspace) initExercise(workspace);
const lesson = document.getElementById("lesson");
if (lesson) initLesson(lesson);
const checks = document.getElementById("checks");
if (checks) initChecks(checks);
