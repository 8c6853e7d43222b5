// Where the editor's text came from: the opened file, an example, a link (the
// page's address), or nowhere. Saving follows it: only text that came from the
// opened file (and its edits) is saved into that file without asking. Kept in
// the editor's state and its undo history, so Ctrl-Z after loading an example
// gives back the file's text *and* its right to be saved; Ctrl-Shift-Z takes both
// away again.

import { invertedEffects } from "@codemirror/commands";
import { StateEffect, StateField } from "@codemirror/state";

/** `{kind: "file" | "example" | "link" | "none", name}`: `name` is the file name the
 * text is checked under (the model's name, the downloads' names). */
export const setOrigin = StateEffect.define();

export const originField = StateField.define({
  create: () => ({ kind: "none", name: "playground.cnn" }),
  update(value, tr) {
    for (const effect of tr.effects) if (effect.is(setOrigin)) value = effect.value;
    return value;
  },
});

// Undoing a change that set the origin sets it back; redoing sets it again.
const undoable = invertedEffects.of((tr) => {
  const before = tr.startState.field(originField);
  return tr.effects.some((e) => e.is(setOrigin)) ? [setOrigin.of(before)] : [];
});

/** The extensions, the editor starting from text that came `from` there. */
export const origin = (from) => [originField.init(() => from), undoable];

/** How the Save button and the confirmation name the editor's text. */
export function describe(value) {
  if (value.kind === "example") return `the example ${value.name}`;
  if (value.kind === "link") return "the text from the page's address";
  return "new text";
}
