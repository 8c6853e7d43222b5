// The checker's diagnostics as CodeMirror squiggles, with the whole diagnostic in
// the hover tooltip as `cnndsl check` prints it (the caret's label, the other
// spans' labels, notes, help) and each exact fix as a button; and the same list
// under the editor, each line a jump to its place.

import { setDiagnostics } from "@codemirror/lint";
import { el, fill } from "./dom.js";
import { offsets, rangeOf } from "./positions.js";

let shown = false;

/** Replace the editor's squiggles with a check's diagnostics; `onFix(d, fix)`
 * applies one of a diagnostic's exact fixes. */
export function showDiagnostics(view, diagnostics, onFix) {
  if (!diagnostics.length && !shown) return;   // nothing to clear: no editor update
  shown = diagnostics.length > 0;
  const doc = view.state.doc;
  const at = offsets(doc);
  const marks = diagnostics.map((d) => {
    const span = d.line ? d : { line: 1, column: 1, end_line: 1, end_column: 1 };
    const { from, to } = rangeOf(doc, span, at);
    return {
      from,
      to,
      severity: d.severity === "error" ? "error" : d.severity === "warning" ? "warning" : "info",
      source: d.code,
      message: d.message,
      markClass: `cnn-${d.code}`,
      renderMessage: () => message(d, onFix),
    };
  });
  view.dispatch(setDiagnostics(view.state, marks));
}

/** `error[E0301]: kernel does not fit its input`, the caret's label, the other
 * spans' labels, then its notes, help and fixes. */
export function message(d, onFix) {
  const where = (span) => (span && span.line ? `${span.line}:${span.column}` : "");
  return el(
    "div",
    { class: "diagnostic" },
    el("div", { class: "diagnostic-head" },
      el("span", { class: `severity ${d.severity}` }, `${d.severity}[${d.code}]`), ": ", d.message),
    d.label ? el("div", { class: "label primary" }, `${where(d)} ^ `, d.label) : null,
    (d.secondary || []).map((s) => el("div", { class: "label secondary" },
      `${where(s.span)} - `, s.label)),
    (d.notes || []).map((note) => el("div", { class: "note" }, el("b", {}, "note"), ": ", note)),
    d.help ? el("div", { class: "help" }, el("b", {}, "help"), ": ", d.help) : null,
    fixButtons(d, onFix),
  );
}

/** One button per exact fix (`Fix: write \`k3\``), then one per suggestion, a guess
 * that `check --fix` never applies but a click may (`Did you mean \`sigmoid\`?`). */
export function fixButtons(d, onFix) {
  const fixes = d.fixes || [];
  const guesses = d.suggestions || [];
  if (!onFix || !(fixes.length + guesses.length)) return null;
  const button = (fix, cls, text) => el("button", {
    type: "button", class: cls, onclick: () => onFix(d, fix),
  }, text);
  return el("div", { class: "fixes" },
    fixes.map((fix) => button(fix, "fix",
      fix.replacement ? `Fix: write \`${fix.replacement}\`` : "Fix: delete it")),
    guesses.map((fix) => button(fix, "fix suggestion", `Did you mean \`${fix.replacement}\`?`)));
}

/** The problems list: every diagnostic, its code a link to its explanation
 * (`onExplain(code)`), its line a jump (`onJump(d)`), its fixes buttons. */
export function renderProblems(root, diagnostics, { onJump, onExplain, onFix }) {
  if (!diagnostics.length) {
    fill(root, el("p", { class: "hint" }, "No problems."));
    return;
  }
  fill(root, el("ul", {}, diagnostics.map((d) => el("li", { class: `problem ${d.severity}` },
    el("a", { href: `#explain-${d.code}`, class: "code", title: "what this code means",
      onclick: (event) => { event.preventDefault(); onExplain(d.code); } }, d.code), " ",
    el("button", { type: "button", class: "jump", onclick: () => onJump(d) },
      d.line ? `line ${d.line}` : "file"), " ",
    el("span", { class: "message" }, d.message),
    fixButtons(d, onFix)))));
}

/** `2 errors, 1 warning` (empty when there are none). */
export function tally(diagnostics) {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.filter((d) => d.severity === "warning").length;
  const part = (n, word) => (n ? `${n} ${word}${n > 1 ? "s" : ""}` : null);
  return [part(errors, "error"), part(warnings, "warning")].filter(Boolean).join(", ");
}
