// Small DOM helpers. Text from the grader is only ever set as text, never
// parsed as HTML.

/** A new `tag` element with an optional class and text content. */
export function el(tag, className, text) {
  var node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

/** `14:03:07` in the learner's locale. */
export function clockTime(date) {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}
