// Lockstep in-page code editor (CodeMirror 6), bundled by esbuild into
// ../static/editor.js as one IIFE that sets `window.LockstepEditor`.
// Rebuild: `cd editor && npm ci && npm run build` (see editor/README.md).
//
// The page loads it with a plain <script src="/static/editor.js" defer> and
// calls LockstepEditor.create(...) from its own same-origin script, so it
// works under `script-src 'self'` (no inline scripts, no eval).

import { EditorState, Compartment } from "@codemirror/state";
import {
  EditorView,
  keymap,
  lineNumbers,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  drawSelection,
} from "@codemirror/view";
import {
  defaultKeymap,
  history,
  historyKeymap,
  indentWithTab,
} from "@codemirror/commands";
import {
  HighlightStyle,
  syntaxHighlighting,
  bracketMatching,
  indentOnInput,
  indentUnit,
} from "@codemirror/language";
import { rust } from "@codemirror/lang-rust";
import { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { lintGutter, lintKeymap, setDiagnostics as cmSetDiagnostics } from "@codemirror/lint";
import { tags as t } from "@lezer/highlight";

// ---------------------------------------------------------------------------
// Theme: everything comes from the site's CSS variables (static/style.css), so
// the editor follows the light/dark palette automatically. Each var() has a
// light-palette fallback so the editor is still legible on a page without
// the site stylesheet. Syntax colours that the site palette has no slot for
// are private `--lse-*` variables with a dark variant under
// prefers-color-scheme, the same switch the site itself uses.
// ---------------------------------------------------------------------------

const v = (name, fallback) => `var(--${name}, ${fallback})`;
const BG = v("code-bg", "#f4f2ec");
const FG = v("code-text", "#24292f");
const SURFACE = v("surface", "#ffffff");
const TEXT = v("text", "#1d1f24");
const MUTED = v("muted", "#5b616e");
const BORDER = v("border", "#e3e1da");
const ACCENT = v("accent", "#b4441d");
const ACCENT_SOFT = v("accent-soft", "#fbe9e1");
const BAD = v("bad", "#b91c1c");
const WARN = v("warn", "#92400e");
const OK = v("ok", "#15803d");
const MONO = v("mono", 'ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace');

const lightSyntax = {
  "--lse-type": "#1d5b9e",
  "--lse-fn": "#0e6b70",
  "--lse-number": "#7c3aed",
  "--lse-selection": "rgba(180, 68, 29, 0.18)",
  "--lse-active-line": "rgba(0, 0, 0, 0.035)",
  "--lse-match": "rgba(21, 128, 61, 0.18)",
};
const darkSyntax = {
  "--lse-type": "#7cc4fa",
  "--lse-fn": "#5fd4c8",
  "--lse-number": "#c4a5fd",
  "--lse-selection": "rgba(240, 128, 79, 0.28)",
  "--lse-active-line": "rgba(255, 255, 255, 0.04)",
  "--lse-match": "rgba(74, 222, 128, 0.2)",
};

const lockstepTheme = EditorView.theme({
  "&": {
    color: FG,
    backgroundColor: BG,
    border: `1px solid ${BORDER}`,
    borderRadius: v("radius", "10px"),
    fontSize: "0.9rem",
    ...lightSyntax,
  },
  // Custom properties for tooltips/panels too (they live inside .cm-editor).
  "@media (prefers-color-scheme: dark)": {
    ".cm-scroller, .cm-tooltip, .cm-panels, .cm-gutters": darkSyntax,
  },
  "&.cm-focused": {
    outline: `3px solid ${ACCENT}`,
    outlineOffset: "2px",
  },
  ".cm-scroller": {
    fontFamily: MONO,
    lineHeight: "1.55",
    overflow: "auto",
  },
  ".cm-content": {
    caretColor: ACCENT,
    padding: "0.6rem 0",
  },
  // The editor grows with its content; give an empty one some room. Pages
  // can cap it with e.g. `#id .cm-editor { max-height: 70vh }`.
  ".cm-content, .cm-gutter": { minHeight: "8rem" },
  // The site's global :focus-visible ring would otherwise draw inside the
  // editor; the ring is on the whole editor instead (&.cm-focused above).
  ".cm-content:focus-visible": { outline: "none" },
  ".cm-line": { padding: "0 0.9rem 0 0.6rem" },
  "&.cm-focused > .cm-scroller > .cm-cursorLayer .cm-cursor, .cm-cursor, .cm-dropCursor": {
    borderLeftColor: ACCENT,
    borderLeftWidth: "2px",
  },
  "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, .cm-content ::selection":
    { backgroundColor: "var(--lse-selection)" },
  ".cm-activeLine": { backgroundColor: "var(--lse-active-line)" },
  ".cm-selectionMatch": { backgroundColor: "var(--lse-match)" },
  "&.cm-focused .cm-matchingBracket": {
    backgroundColor: "var(--lse-match)",
    outline: `1px solid ${OK}`,
  },
  "&.cm-focused .cm-nonmatchingBracket": {
    backgroundColor: "transparent",
    outline: `1px solid ${BAD}`,
  },
  ".cm-gutters": {
    backgroundColor: BG,
    color: MUTED,
    borderRight: `1px solid ${BORDER}`,
    borderTopLeftRadius: v("radius", "10px"),
    borderBottomLeftRadius: v("radius", "10px"),
  },
  ".cm-lineNumbers .cm-gutterElement": { padding: "0 0.5rem 0 0.7rem", minWidth: "2.2em" },
  ".cm-activeLineGutter": { backgroundColor: "var(--lse-active-line)", color: TEXT },
  // Search / lint panels.
  ".cm-panels": { backgroundColor: SURFACE, color: TEXT, fontFamily: "inherit" },
  ".cm-panels.cm-panels-top": { borderBottom: `1px solid ${BORDER}` },
  ".cm-panels.cm-panels-bottom": { borderTop: `1px solid ${BORDER}` },
  ".cm-panel input[type=text], .cm-textfield": {
    font: "inherit",
    fontSize: "0.85rem",
    color: TEXT,
    backgroundColor: BG,
    border: `1px solid ${BORDER}`,
    borderRadius: "6px",
    padding: "0.15rem 0.4rem",
  },
  // The site styles every <button> as a big accent button; keep panel
  // buttons compact and secondary-looking.
  ".cm-button": {
    display: "inline-block",
    font: "inherit",
    fontSize: "0.8rem",
    fontWeight: "600",
    padding: "0.15rem 0.6rem",
    margin: "0.15rem 0.2rem",
    borderRadius: "6px",
    border: `1px solid ${ACCENT}`,
    backgroundColor: "transparent",
    backgroundImage: "none",
    color: ACCENT,
    cursor: "pointer",
  },
  ".cm-button:active": { backgroundColor: ACCENT_SOFT, backgroundImage: "none" },
  ".cm-panel button[name=close]": {
    border: "none",
    background: "transparent",
    color: MUTED,
    padding: "0 0.3rem",
    fontSize: "1.1rem",
  },
  ".cm-panel label": { fontSize: "0.85rem", color: MUTED },
  ".cm-searchMatch": {
    backgroundColor: "var(--lse-match)",
    outline: `1px solid ${OK}`,
  },
  ".cm-searchMatch.cm-searchMatch-selected": { backgroundColor: "var(--lse-selection)" },
  // Tooltips (lint messages on hover).
  ".cm-tooltip": {
    backgroundColor: SURFACE,
    color: TEXT,
    border: `1px solid ${BORDER}`,
    borderRadius: "6px",
    boxShadow: "0 4px 16px rgba(0,0,0,.12)",
  },
  ".cm-tooltip .cm-tooltip-arrow:before": { borderTopColor: BORDER, borderBottomColor: BORDER },
  ".cm-tooltip .cm-tooltip-arrow:after": { borderTopColor: SURFACE, borderBottomColor: SURFACE },
  ".cm-diagnostic": { fontFamily: MONO, fontSize: "0.85rem", whiteSpace: "pre-wrap" },
  ".cm-diagnostic-error": { borderLeftColor: BAD },
  ".cm-diagnostic-warning": { borderLeftColor: WARN },
  ".cm-diagnostic-info, .cm-diagnostic-hint": { borderLeftColor: v("link", "#9a3412") },
  ".cm-lintRange-error": {
    backgroundImage: "none",
    textDecoration: `underline wavy ${BAD}`,
    textDecorationSkipInk: "none",
    textUnderlineOffset: "3px",
  },
  ".cm-lintRange-warning": {
    backgroundImage: "none",
    textDecoration: `underline wavy ${WARN}`,
    textDecorationSkipInk: "none",
    textUnderlineOffset: "3px",
  },
  ".cm-lintRange-info, .cm-lintRange-hint": {
    backgroundImage: "none",
    textDecoration: `underline dotted ${MUTED}`,
    textUnderlineOffset: "3px",
  },
  ".cm-lintPoint:after": { borderBottomColor: BAD },
  ".cm-lintPoint-warning:after": { borderBottomColor: WARN },
  ".cm-lintPoint-info:after, .cm-lintPoint-hint:after": { borderBottomColor: MUTED },
  ".cm-panel.cm-panel-lint ul [aria-selected]": { backgroundColor: ACCENT_SOFT, color: TEXT },
  ".cm-panel.cm-panel-lint ul:focus [aria-selected]": { backgroundColor: ACCENT_SOFT, color: TEXT },
});

const lockstepHighlight = HighlightStyle.define([
  { tag: [t.keyword, t.controlKeyword, t.definitionKeyword, t.moduleKeyword, t.operatorKeyword, t.modifier], color: ACCENT },
  { tag: t.self, color: ACCENT, fontStyle: "italic" },
  { tag: [t.string, t.character, t.special(t.string)], color: OK },
  { tag: t.escape, color: OK, fontWeight: "600" },
  { tag: [t.integer, t.float, t.number, t.bool, t.atom], color: "var(--lse-number)" },
  { tag: [t.typeName, t.className, t.namespace], color: "var(--lse-type)" },
  { tag: [t.function(t.definition(t.variableName)), t.function(t.variableName), t.function(t.propertyName)], color: "var(--lse-fn)" },
  { tag: t.macroName, color: WARN },
  { tag: [t.special(t.variableName), t.labelName], color: "var(--lse-type)", fontStyle: "italic" },
  { tag: t.propertyName, color: FG },
  { tag: [t.lineComment, t.blockComment, t.comment], color: MUTED, fontStyle: "italic" },
  { tag: [t.meta, t.annotation], color: MUTED },
  { tag: t.invalid, color: BAD },
]);

// ---------------------------------------------------------------------------
// Diagnostics: {line, column, level, message} with 1-based line and column
// (optionally endLine/endColumn, 1-based, end exclusive) -> CodeMirror ranges.
// ---------------------------------------------------------------------------

const SEVERITY = {
  error: "error",
  err: "error",
  fatal: "error",
  warning: "warning",
  warn: "warning",
  info: "info",
  note: "info",
  help: "hint",
  hint: "hint",
};

function toInt(x) {
  const n = Math.floor(Number(x));
  return Number.isFinite(n) ? n : 0;
}

function clampLine(doc, n) {
  return doc.line(Math.min(Math.max(toInt(n) || 1, 1), doc.lines));
}

function posAt(doc, line, column) {
  const l = clampLine(doc, line);
  const col = Math.max(toInt(column), 1);
  return Math.min(l.from + col - 1, l.to);
}

const WORD = /[\p{L}\p{N}_]/u;

function toCmDiagnostic(doc, d) {
  const l = clampLine(doc, d.line);
  let from, to;
  if (d.endLine != null || d.endColumn != null) {
    from = posAt(doc, d.line, d.column || 1);
    to = posAt(doc, d.endLine != null ? d.endLine : d.line, d.endColumn || 1);
    if (to < from) to = from;
  } else if (toInt(d.column) >= 1) {
    // A single position: underline the word (or the one character) there.
    from = posAt(doc, d.line, d.column);
    to = from;
    const text = l.text;
    while (to < l.to && WORD.test(text[to - l.from])) to++;
    if (to === from && from < l.to) to = from + 1;
  } else {
    // No column: underline the line, without its leading indentation.
    const indent = /^\s*/.exec(l.text)[0].length;
    from = l.from + indent;
    to = l.to;
  }
  const severity = SEVERITY[String(d.level || "error").toLowerCase()] || "error";
  return { from, to, severity, message: String(d.message == null ? "" : d.message), source: d.source };
}

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

function create(parent, options) {
  if (!parent || typeof parent.appendChild !== "function") {
    throw new TypeError("LockstepEditor.create: parent must be a DOM element");
  }
  const opts = options || {};
  const onChange = typeof opts.onChange === "function" ? opts.onChange : null;
  const readOnly = new Compartment();

  const extensions = [
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    drawSelection(),
    indentOnInput(),
    indentUnit.of("    "),
    EditorState.tabSize.of(4),
    syntaxHighlighting(lockstepHighlight),
    bracketMatching(),
    closeBrackets(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    lintGutter(),
    rust(),
    // Tab indents. Accessible escape (CodeMirror tab-focus mode): press
    // Escape, then Tab / Shift-Tab within 2 s to move focus out of the editor;
    // Ctrl-M (Shift-Alt-M on macOS) toggles Tab-moves-focus permanently.
    keymap.of([
      ...closeBracketsKeymap,
      ...defaultKeymap,
      ...searchKeymap,
      ...historyKeymap,
      ...lintKeymap,
      indentWithTab,
    ]),
    lockstepTheme,
    readOnly.of(opts.readOnly ? EditorState.readOnly.of(true) : []),
    EditorView.contentAttributes.of({
      // Already reachable by Tab (contenteditable); the explicit tabindex lets
      // checkers such as axe see that the scroller has focusable content.
      tabindex: "0",
      "aria-label": String(opts.ariaLabel || "Code editor"),
      ...(opts.ariaDescribedBy ? { "aria-describedby": String(opts.ariaDescribedBy) } : {}),
      "aria-multiline": "true",
      spellcheck: "false",
      autocorrect: "off",
      autocapitalize: "off",
      translate: "no",
    }),
  ];
  if (onChange) {
    extensions.push(
      EditorView.updateListener.of((update) => {
        if (update.docChanged) onChange(update.state.doc.toString());
      }),
    );
  }

  const view = new EditorView({
    parent,
    state: EditorState.create({ doc: String(opts.doc == null ? "" : opts.doc), extensions }),
  });

  const api = {
    getValue() {
      return view.state.doc.toString();
    },
    setValue(text) {
      const next = String(text == null ? "" : text);
      // One transaction: one onChange call, one undo step; old diagnostics
      // no longer apply to the new text, so they are dropped.
      view.dispatch(
        { changes: { from: 0, to: view.state.doc.length, insert: next }, selection: { anchor: 0 } },
        cmSetDiagnostics(view.state, []),
      );
    },
    focus() {
      view.focus();
    },
    setDiagnostics(list) {
      const doc = view.state.doc;
      const diags = (Array.isArray(list) ? list : [])
        .filter((d) => d && typeof d === "object")
        .map((d) => toCmDiagnostic(doc, d))
        .sort((a, b) => a.from - b.from || a.to - b.to);
      view.dispatch(cmSetDiagnostics(view.state, diags));
    },
    clearDiagnostics() {
      view.dispatch(cmSetDiagnostics(view.state, []));
    },
    revealLine(line) {
      const l = clampLine(view.state.doc, line);
      view.dispatch({
        selection: { anchor: l.from },
        effects: EditorView.scrollIntoView(l.from, { y: "center" }),
      });
    },
    setReadOnly(on) {
      view.dispatch({ effects: readOnly.reconfigure(on ? EditorState.readOnly.of(true) : []) });
    },
    destroy() {
      view.destroy();
    },
    view,
  };
  return api;
}

window.LockstepEditor = Object.freeze({ create, version: "1" });
