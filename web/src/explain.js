// A layer's arithmetic, as `cnndsl.backends.query` writes it, with its own numbers; for a
// convolution or pooling layer, the window sliding over its input beside it.

import { el, fill, plural, shape } from "./dom.js";
import { WindowAnimation } from "./window-anim.js";

const TOPICS = {
  features: "Features",
  output: "Output size",
  params: "Parameters",
  macs: "Multiply-adds",
  rf: "Receptive field",
  jump: "Jump (input distance between neighbouring outputs)",
};

let animation = null;

/** Show `layer` (an answer of /api/explain) in `root`; `onPick(name)` for its other uses. */
export function renderExplanation(root, layer, onPick) {
  if (animation) animation.stop();
  animation = null;
  if (!layer) {
    fill(root, el("p", { class: "hint" }, "Click a layer in the editor or a row of the table " +
      "to see its arithmetic."));
    return;
  }
  const height = layer.window && layer.window.input.length === 1 ? 80 : 230;   // 1-D: a row
  const canvas = layer.window ? el("canvas", { class: "window", width: 560, height }) : null;
  fill(root,
    el("h2", {}, el("code", {}, layer.text), " ", el("span", { class: "name" }, layer.name)),
    el("div", { class: "io" }, `${shape(layer.input)} → ${shape(layer.output)}`,
      `   ·   ${plural(layer.params, "parameter")}   ·   ${plural(layer.macs, "multiply-add")}`),
    uses(layer, onPick),
    canvas ? el("div", { class: "animation" }, canvas, controls()) : null,
    el("div", { class: "steps" }, groups(layer.steps)));
  if (canvas) {
    animation = new WindowAnimation(canvas, layer.window);
    animation.start();
  }
}

function uses(layer, onPick) {
  if (!layer.uses || layer.uses.length < 2) return null;
  return el("div", { class: "uses" }, `used ${layer.uses.length} times: `,
    layer.uses.map((name) => el("button", {
      class: name === layer.name ? "use current" : "use", type: "button",
      onclick: () => onPick(name),
    }, name)));
}

function groups(steps) {
  const out = [];
  for (const [topic, title] of Object.entries(TOPICS)) {
    const mine = steps.filter((s) => s.topic === topic);
    if (!mine.length) continue;
    out.push(el("section", { class: `topic ${topic}` }, el("h3", {}, title),
      mine.map((s) => el("div", { class: "step" },
        s.label ? el("span", { class: "label" }, `${s.label}: `) : null,
        el("code", { class: "formula" }, s.text),
        s.note ? el("div", { class: "note" }, s.note) : null))));
  }
  return out;
}

function controls() {
  const button = el("button", { type: "button", class: "play" }, "pause");
  button.addEventListener("click", () => {
    if (!animation) return;
    button.textContent = animation.toggle() ? "pause" : "play";
  });
  return el("div", { class: "controls" }, button,
    el("button", { type: "button", onclick: () => animation && animation.step(1) }, "step"),
    el("span", { class: "caption" }));
}
