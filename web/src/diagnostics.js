// The checker's diagnostics as CodeMirror squiggles, with the message, notes and
// help in the hover tooltip, as `cnndsl check` prints them.

import { setDiagnostics } from "@codemirror/lint";
import { el } from "./dom.js";
import { offsets, rangeOf } from "./positions.js";

let shown = false;

/** Replace the editor's squiggles with a check's diagnostics. */
export function showDiagnostics(view, diagnostics) {
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
      renderMessage: () => message(d),
    };
  });
  view.dispatch(setDiagnostics(view.state, marks));
}

/** `error[E0301]: kernel does not fit its input`, then its notes and help. */
export function message(d) {
  return el(
    "div",
    { class: "diagnostic" },
    el("div", { class: "diagnostic-head" },
      el("span", { class: `severity ${d.severity}` }, `${d.severity}[${d.code}]`), ": ", d.message),
    (d.notes || []).map((note) => el("div", { class: "note" }, el("b", {}, "note"), ": ", note)),
    d.help ? el("div", { class: "help" }, el("b", {}, "help"), ": ", d.help) : null,
  );
}

/** `2 errors, 1 warning` (empty when there are none). */
export function tally(diagnostics) {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.filter((d) => d.severity === "warning").length;
  const part = (n, word) => (n ? `${n} ${word}${n > 1 ? "s" : ""}` : null);
  return [part(errors, "error"), part(warnings, "warning")].filter(Boolean).join(", ");
}
