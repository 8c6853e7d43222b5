// The language server's inlay hints in the playground's editor: `→ 16x12x12` after
// each layer, block use or merge of the body, `· 4.64K params` added after a block
// use. The server computes them (`/api/check`'s `hints`, the same function as the
// language server's `inlayHints`); this only places them, dim, as widgets. A check
// of an older text is dropped; while typing, the last hints move with the text
// until the next check replaces them. Text only through `textContent`.

import { StateEffect, StateField } from "@codemirror/state";
import { Decoration, EditorView, WidgetType } from "@codemirror/view";
import { offsets } from "./positions.js";

class HintWidget extends WidgetType {
  constructor(label) {
    super();
    this.label = label;
  }

  eq(other) {
    return other.label === this.label;
  }

  toDOM() {
    const span = document.createElement("span");
    span.className = "cm-inlay-hint";
    span.textContent = this.label;
    return span;
  }

  // a click on a hint is the editor's (the cursor goes beside it), never the browser's
  ignoreEvent() {
    return false;
  }
}

/** `setHints.of({ text, hints })`: a check's hints, for the text it checked. */
export const setHints = StateEffect.define();
/** `showHints.of(bool)`: the "Shapes inline" toggle. */
export const showHints = StateEffect.define();

function decorate(doc, hints) {
  const at = offsets(doc);
  const widgets = hints.map((h) => Decoration.widget({
    widget: new HintWidget(String(h.label)), side: 1,
  }).range(at(h.line, h.column)));
  return Decoration.set(widgets, true);
}

export const hintField = StateField.define({
  create: () => ({ on: true, deco: Decoration.none }),
  update(value, tr) {
    let { on, deco } = value;
    if (tr.docChanged) deco = deco.map(tr.changes);
    for (const effect of tr.effects) {
      if (effect.is(showHints)) on = Boolean(effect.value);
      else if (effect.is(setHints)) {
        const { text, hints } = effect.value;
        // a check of another text than the editor's: its places are not this text's
        if (text !== tr.state.doc.toString()) continue;
        deco = decorate(tr.state.doc, hints || []);
      }
    }
    return on === value.on && deco === value.deco ? value : { on, deco };
  },
  provide: (field) => EditorView.decorations.from(field, (v) => (v.on ? v.deco : Decoration.none)),
});

/** The extension: the hints' field. */
export function inlayHints() {
  return hintField;
}
