// The `.cnn` language for CodeMirror: a stream tokenizer after LANGUAGE.md's
// lexical rules, and the colours of its tokens.

import { HighlightStyle, StreamLanguage, syntaxHighlighting } from "@codemirror/language";
import { tags } from "@lezer/highlight";

const KEYWORDS = new Set(
  ("model input output let block assert train as in concat add residual mul gate split").split(" "),
);

const LAYERS = new Set(
  ("conv convt convT deconv maxpool avgpool gap globalavgpool adaptiveavgpool adaptivemaxpool " +
    "flatten fc " +
    "linear dropout batchnorm bn relu relu6 sigmoid tanh gelu silu swish elu leakyrelu " +
    "softmax logsoftmax identity upsample pixelshuffle pixelunshuffle layernorm ln groupnorm " +
    "gn instancenorm hardswish hardsigmoid mish selu softplus prelu scale droppath shuffle " +
    "unflatten").split(" "),
);

const WORDS = new Set("nobias ceil same align nearest linear cubic affine".split(" "));

const FLAG = /^[kspdg][0-9]+(x[0-9]+)*$/;

/** One token of a `.cnn` line; returns its highlighting tag name. */
function token(stream) {
  if (stream.eatSpace()) return null;
  if (stream.match("#")) {
    stream.skipToEnd();
    return "comment";
  }
  if (stream.match("->")) return "operator";
  if (stream.match(/^@[A-Za-z_][A-Za-z0-9_]*/)) return "labelName";
  if (stream.match(/^[0-9]+(x[0-9]+)+/)) return "number";
  if (stream.match(/^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?[kMG]?/)) return "number";
  if (stream.match(/^[A-Za-z_][A-Za-z0-9_]*/)) return word(stream);
  if (stream.match("//") || stream.match(/^[-+*=<>!]+/)) return "operator";
  const char = stream.next();
  if ("(){}".includes(char)) return "bracket";
  return char === "," ? "punctuation" : "invalid";
}

function word(stream) {
  const text = stream.current();
  if (stream.peek() === "=" && !stream.string.startsWith("==", stream.pos)) return "propertyName";
  if (KEYWORDS.has(text)) return "keyword";
  if (LAYERS.has(text)) return "typeName";
  if (FLAG.test(text) || WORDS.has(text)) return "atom";
  return /^[A-Z]/.test(text) ? "className" : "variableName";
}

export const cnnLanguage = StreamLanguage.define({
  name: "cnn",
  token,
  languageData: { commentTokens: { line: "#" } },
});

const style = HighlightStyle.define([
  { tag: tags.comment, color: "#6a737d", fontStyle: "italic" },
  { tag: tags.keyword, color: "#8250df", fontWeight: "bold" },
  { tag: tags.typeName, color: "#0550ae", fontWeight: "bold" },
  { tag: tags.atom, color: "#953800" },
  { tag: tags.number, color: "#116329" },
  { tag: tags.className, color: "#a40e26" },
  { tag: tags.labelName, color: "#a40e26", fontStyle: "italic" },
  { tag: tags.propertyName, color: "#953800" },
  { tag: tags.operator, color: "#57606a" },
  { tag: tags.invalid, color: "#cf222e", textDecoration: "underline" },
]);

/** The `.cnn` mode: highlighting and comment toggling. */
export function cnn() {
  return [cnnLanguage, syntaxHighlighting(style)];
}
