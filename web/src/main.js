// The playground: an editor whose text is checked as it is typed (debounced), the
// table, squiggles and diagram it gives, a layer's arithmetic on click, the spec
// in the address, downloads, and saving back to the file the server opened (only
// text that came from that file, unless the user confirms replacing it by name).

import { defaultKeymap, history as undoHistory, historyKeymap, indentWithTab } from "@codemirror/commands";
import { bracketMatching } from "@codemirror/language";
import { lintGutter } from "@codemirror/lint";
import { EditorState, StateEffect, StateField } from "@codemirror/state";
import {
  Decoration, EditorView, drawSelection, highlightActiveLine, keymap, lineNumbers,
} from "@codemirror/view";

import { ApiError, post, session } from "./api.js";
import { cnn } from "./cnn-language.js";
import { renderProblems, showDiagnostics, tally } from "./diagnostics.js";
import { $, el, fill, human, plural } from "./dom.js";
import { download } from "./downloads.js";
import { renderExplanation } from "./explain.js";
import { inlayHints, setHints, showHints } from "./hints.js";
import { describe, origin, originField, setOrigin } from "./origin.js";
import { lineColumn, rangeOf } from "./positions.js";
import { decode, encode } from "./share.js";
import { safeSvg } from "./svg.js";
import { markRow, renderTable } from "./table.js";

// Keystrokes closer together than this are one burst, checked once at its end;
// short enough that the table keeps up (ResNet-50 checks in ~20 ms on the server).
const DEBOUNCE_MS = 30;

const LENET = `# LeNet-5, as drawn in the classic lecture: 3x32x32 in, 10 classes out
model LeNet
input 3x32x32

conv 6 k5 s1 p0 -> relu -> maxpool 2
-> conv 16 k5 -> relu -> maxpool 2
-> fc 120 -> relu -> fc 84 -> relu -> fc 10
`;

// The name a spec is checked under (it names the model and the downloads): a plain
// `name.cnn`, as the server accepts it; a link cannot smuggle in a path.
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\.cnn$/;

/** Everything the page knows; `window.cnndsl` for the tests and the curious. */
const app = {
  view: null, file: "playground.cnn", opened: null, openedName: null, digest: null, saved: null,
  report: null, checked: null, linked: null, svg: null, picked: null,
  seq: 0, controller: null, timer: null, editAt: 0, timings: [], zoom: 1, dragged: false,
  foldDiagram: false,
  hintsFor: (text, hints) => setHints.of({ text, hints }),   // a check's hints, as an effect
};
window.cnndsl = app;

// ---- the picked layer, underlined in the editor ---------------------------------

const pickEffect = StateEffect.define();
const pickField = StateField.define({
  create: () => Decoration.none,
  update(marks, tr) {
    marks = marks.map(tr.changes);
    for (const effect of tr.effects) {
      if (effect.is(pickEffect)) {
        marks = effect.value ? Decoration.set([Decoration.mark({ class: "cm-picked" })
          .range(effect.value.from, effect.value.to)]) : Decoration.none;
      }
    }
    return marks;
  },
  provide: (field) => EditorView.decorations.from(field),
});

// ---- checking as the user types ---------------------------------------------------

function edited(update) {
  const now = update.state.field(originField);
  if (now !== update.startState.field(originField)) {
    app.file = now.name;
    markDirty();
  }
  if (update.docChanged) {
    // Debounced on the leading edge: a keystroke after a pause is checked at once;
    // within a burst (a paste, a held key, fast typing) only the last one is.
    const now = performance.now();
    const paused = now - app.editAt > DEBOUNCE_MS;
    app.editAt = now;
    clearTimeout(app.timer);
    app.timer = setTimeout(check, paused ? 0 : DEBOUNCE_MS);
    markDirty();
  }
  const pointer = update.transactions.some((tr) => tr.isUserEvent("select.pointer"));
  if (pointer && !update.docChanged) explainAtCursor();
}

const nextPaint = () => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));

async function check() {
  const seq = ++app.seq;
  if (app.controller) app.controller.abort();
  const controller = (app.controller = new AbortController());
  const text = app.view.state.doc.toString();
  if (!text.trim()) {
    showEmpty(text);
    return;
  }
  const editAt = app.editAt;
  const asked = performance.now();
  // Both at once: the server checks the text once for the two (and draws only
  // when the diagram's layout changed); the table shows as soon as it is back.
  const checking = post("check", { text, file: app.file }, controller.signal);
  const drawing = post("diagram", { text, file: app.file,
    ...(app.foldDiagram ? { collapse: true } : {}) }, controller.signal);
  drawing.catch(() => {});   // read (or dropped) by drawDiagram
  let data;
  try {
    data = await checking;
  } catch (error) {
    if (error.name !== "AbortError") say(`cannot check: ${error.message}`, "bad");
    return;
  }
  if (seq !== app.seq) return;
  const answered = performance.now();
  app.checked = text;
  showCheck(data);
  const shown = performance.now();
  await nextPaint();
  const timing = { seq, table: performance.now() - editAt, wait: asked - editAt,
    server: answered - asked, render: shown - answered, diagram: null };
  app.timings.push(timing);
  if (app.timings.length > 100) app.timings.shift();   // the last hundred are enough
  address(text, seq);
  if (app.picked) explain({ name: app.picked }, false);
  drawDiagram(drawing, seq, editAt, timing);
}

// The page's address holds the editor's text, so a link (or a reload) reproduces
// it; but not while the editor holds the opened file as saved: then a reload
// reads the file again, and shows what another editor wrote into it.
async function address(text, seq) {
  const unchanged = holdsFile() && text === app.saved;
  const hash = unchanged ? "" : await encode(text, app.file);
  if (seq !== app.seq) return;   // a newer edit owns the address (encodes may finish out of order)
  history.replaceState(null, "", `${location.pathname}${location.search}${hash}`);
  app.linked = text;             // the text the address now reproduces
}

// An empty editor shows an empty state, not the last spec's table and diagram.
function showEmpty(text) {
  app.report = null;
  app.svg = null;
  app.picked = null;
  showDiagnostics(app.view, []);
  app.view.dispatch({ effects: setHints.of({ text, hints: [] }) });
  fill($("#problems"));
  fill($("#table"), el("p", { class: "hint empty" }, "The editor is empty: type a spec " +
    "(`input 1x28x28`, then layers), or pick one from the Examples menu."));
  fill($("#diagram"));
  fill($("#diagram-note"));
  renderExplanation($("#explain"), null);
  $("#table-pane").classList.remove("stale");
  $("#diagram-pane").classList.remove("stale");
  say("empty spec");
  app.checked = text;
  address(text, app.seq);
  document.body.dataset.checked = String(app.seq);
  document.body.dataset.drawn = String(app.seq);
}

function showCheck(data) {
  app.report = data.report;
  app.explanations = data.explanations || {};
  const diagnostics = data.report.diagnostics;
  showDiagnostics(app.view, diagnostics, applyFix);
  app.view.dispatch({ effects: setHints.of({ text: app.checked, hints: data.hints || [] }) });
  renderProblems($("#problems"), diagnostics, { onJump: jumpTo, onExplain: explainCode,
    onFix: applyFix });
  const tableRoot = $("#table");
  if (data.table) {
    renderTable(tableRoot, data.table, (name) => explain({ name }, true));
    if (app.picked) markRow(tableRoot, app.picked);
    const t = data.table.totals;
    const found = tally(diagnostics);
    if (data.table.partial) say(`${t.model}: checked up to the first error (${found})`, "bad");
    else {
      say(`${t.model}: ${plural(t.params, "parameter")}, ${human(t.macs)} multiply-adds` +
        (found ? ` (${found})` : ""), found ? "warn" : "good");
    }
  } else {
    say(tally(diagnostics) || "not checked", "bad");
  }
  $("#table-pane").classList.toggle("stale", !data.table);
  document.body.dataset.checked = String(app.seq);
}

async function drawDiagram(drawing, seq, editAt, timing) {
  let data;
  try {
    data = await drawing;
  } catch (error) {
    if (error.name !== "AbortError") say(`cannot draw: ${error.message}`, "bad");
    return;
  }
  if (seq !== app.seq) return;
  timing.drawn = performance.now() - editAt;
  const pane = $("#diagram-pane");
  pane.classList.toggle("stale", !data.svg);
  if (!data.svg) {
    fill($("#diagram-note"), data.problem);
    return;
  }
  const picture = safeSvg(data.svg);
  if (!picture) {
    fill($("#diagram-note"), "the diagram could not be read");
    return;
  }
  app.svg = data.svg;
  picture.removeAttribute("width");    // scaled to the pane by CSS, its viewBox kept
  picture.removeAttribute("height");
  picture.style.width = `${100 * app.zoom}%`;
  fill($("#diagram"), picture);
  markNode(app.picked, false);
  fill($("#diagram-note"));
  await nextPaint();
  timing.diagram = performance.now() - editAt;
  document.body.dataset.drawn = String(seq);
}

// ---- problems: jump, explain, fix ------------------------------------------------------

function jumpTo(d) {
  const span = d.line ? d : { line: 1, column: 1 };
  const { from, to } = rangeOf(app.view.state.doc, span);
  app.view.dispatch({ selection: { anchor: from, head: to },
    effects: EditorView.scrollIntoView(from, { y: "center" }) });
  app.view.focus();
}

function explainCode(code) {
  const text = app.explanations[code] || `no explanation for ${code}`;
  const [title, ...body] = text.split("\n");
  app.picked = null;
  fill($("#explain"), el("h2", {}, title),
    el("pre", { class: "explanation" }, body.join("\n").trim()));
}

// One click applies a fix or a suggestion (`check --format json`'s `fixes` and
// `suggestions`) to the text it was computed for; if the text changed since, it is
// not applied.
function applyFix(d, fix) {
  if (app.view.state.doc.toString() !== app.checked) return;
  const { from, to } = rangeOf(app.view.state.doc, fix.span);
  app.view.dispatch({ changes: { from, to, insert: fix.replacement }, userEvent: "input.fix" });
  app.view.focus();
}

// ---- the diagram: linked to the table and the editor; zoom and pan ------------------------

// Graphviz names a node by its layer's dotted name with `.` as `__`, a block's
// cluster `cluster_<name>` (cnndsl.backends.diagram).
const nodeName = (title) => title.replace(/^cluster_/, "").replace(/__/g, ".");

function markNode(name, reveal) {
  const root = $("#diagram");
  for (const g of root.querySelectorAll("g.picked")) g.classList.remove("picked");
  if (!name) return;
  const g = [...root.querySelectorAll("g.node, g.cluster")].find((node) =>
    nodeName(node.querySelector("title")?.textContent || "") === name);
  if (!g) return;
  g.classList.add("picked");
  if (reveal) g.scrollIntoView({ block: "nearest", inline: "nearest" });
}

function diagramClicked(event) {
  const g = event.target.closest("g.node, g.cluster");
  const title = g && g.querySelector("title");
  if (title && !app.dragged) explain({ name: nodeName(title.textContent) }, true);
}

function zoom(factor) {
  app.zoom = factor === null ? 1 : Math.min(8, Math.max(0.25, app.zoom * factor));
  const picture = $("#diagram svg");
  if (picture) picture.style.width = `${100 * app.zoom}%`;
}

// Drag to pan (when zoomed in, the pane scrolls both ways); Ctrl + wheel zooms.
function panning(pane) {
  let from = null;
  pane.addEventListener("mousedown", (event) => {
    if (event.button !== 0 || event.target.closest("button")) return;
    from = { x: event.clientX, y: event.clientY, left: pane.scrollLeft, top: pane.scrollTop };
    app.dragged = false;
  });
  window.addEventListener("mousemove", (event) => {
    if (!from) return;
    const dx = event.clientX - from.x, dy = event.clientY - from.y;
    if (Math.abs(dx) + Math.abs(dy) > 4) app.dragged = true;
    pane.scrollLeft = from.left - dx;
    pane.scrollTop = from.top - dy;
  });
  window.addEventListener("mouseup", () => { from = null; });
  pane.addEventListener("wheel", (event) => {
    if (!event.ctrlKey) return;
    event.preventDefault();
    zoom(event.deltaY < 0 ? 1.25 : 0.8);
  }, { passive: false });
}

// ---- a layer's arithmetic -----------------------------------------------------------

function explainAtCursor() {
  const head = app.view.state.selection.main.head;
  explain(lineColumn(app.view.state.doc, head), false);
}

async function explain(where, reveal) {
  const text = app.view.state.doc.toString();
  let data;
  try {
    data = await post("explain", { text, file: app.file, ...where });
  } catch (error) {
    say(`cannot explain: ${error.message}`, "bad");
    return;
  }
  if (text !== app.view.state.doc.toString()) return;   // typed on meanwhile
  const layer = data.layer;
  if (!layer && where.line) return;   // a click between layers keeps what is shown
  app.picked = layer ? layer.name : null;
  renderExplanation($("#explain"), layer, (name) => explain({ name }, true));
  markRow($("#table"), app.picked);
  markNode(app.picked, true);
  const range = layer ? rangeOf(app.view.state.doc, layer.span) : null;
  app.view.dispatch({
    effects: [pickEffect.of(range), ...(range && reveal ? [EditorView.scrollIntoView(range.from,
      { y: "center" })] : [])],
  });
}

// ---- files: examples, saving, downloads -------------------------------------------------

function replaceText(text, from) {
  app.view.dispatch({ changes: { from: 0, to: app.view.state.doc.length, insert: text },
    effects: setOrigin.of(from) });
}

const holdsFile = () => app.opened !== null &&
  app.view.state.field(originField).kind === "file";

async function loadExample(name) {
  try {
    const data = await post("example", { name });
    // undoable: Ctrl-Z brings the previous text back, and with it what Save does
    replaceText(data.text, { kind: "example", name: data.name });
    say(`loaded ${data.name}; Ctrl-Z goes back`, "good");
  } catch (error) {
    say(`cannot load ${name}: ${error.message}`, "bad");
  }
}

// Save (the button, Ctrl-S): text that came from the opened file is written back
// to it; any other text (an example, a link) is not, unless the user confirms by
// a button that names both the text and the file it would replace.
function saveClicked() {
  if (!app.opened) return;
  if (holdsFile()) {
    save(app.view.state.doc.toString());
    return;
  }
  const from = app.view.state.field(originField);
  fill($("#save-note"),
    el("span", { class: "warn" }, `the editor holds ${describe(from)}, not ${app.openedName}; `),
    el("button", { type: "button", id: "download-spec", onclick: downloadSpec },
      `Download ${from.name}`), " ",
    el("button", { type: "button", id: "replace-file",
      onclick: () => save(app.view.state.doc.toString(), false, true) },
    `Replace ${app.openedName} with ${describe(from)}`));
}

async function save(text, force = false, adopt = false) {
  const note = $("#save-note");
  try {
    const data = await post("save", { text, digest: app.digest, force });
    app.digest = data.digest;
    app.saved = text;
    if (adopt) {   // the file now holds this text: it is the file's again
      app.view.dispatch({ effects: setOrigin.of({ kind: "file", name: app.openedName }) });
    }
    markDirty();
    fill(note, el("span", { class: "good" }, `saved ${data.file}`));
  } catch (error) {
    if (error instanceof ApiError && error.status === 409 && !force) {
      fill(note, el("span", { class: "bad" }, error.message, " "),
        el("button", { type: "button", id: "reload", onclick: reloadFile },
          `Reload ${app.openedName}`), " ",
        el("button", { type: "button", id: "overwrite", onclick: () => save(text, true, adopt) },
          "Overwrite"));
      return;
    }
    fill(note, el("span", { class: "bad" }, `not saved: ${error.message}`));
  }
}

// The file as it is on disk now, in place of the editor's text (undoable).
async function reloadFile() {
  try {
    const info = await session();
    app.digest = info.digest;
    app.saved = info.text;
    replaceText(info.text, { kind: "file", name: info.basename });
    markDirty();
    fill($("#save-note"), el("span", { class: "good" }, `reloaded ${app.openedName}; Ctrl-Z goes back`));
  } catch (error) {
    fill($("#save-note"), el("span", { class: "bad" }, `cannot reload: ${error.message}`));
  }
}

function downloadSpec() {
  download(app.file, app.view.state.doc.toString(), "text/plain");
}

function markDirty() {
  if (!app.opened) return;
  const mine = holdsFile();
  const dirty = mine && app.view.state.doc.toString() !== app.saved;
  $("#save").classList.toggle("dirty", dirty);
  $("#save").textContent = mine ? `Save ${app.openedName}${dirty ? " •" : ""}` : "Save as…";
  $("#save").title = mine ? `write the editor's text to ${app.opened} (Ctrl-S)` :
    `the editor does not hold ${app.opened}: download it, or replace the file (asks first)`;
}

const stem = () => app.file.replace(/\.cnn$/, "");

async function downloadCode() {
  const text = app.view.state.doc.toString();
  try {
    const data = await post("compile", { text, file: app.file });
    if (data.code === null) say(`cannot compile: ${data.problem}`, "bad");
    else download(data.filename, data.code, "text/x-python");
  } catch (error) {
    say(`cannot compile: ${error.message}`, "bad");
  }
}

function downloadSvg() {
  if (app.svg) download(`${stem()}.svg`, app.svg, "image/svg+xml");
  else say("no diagram yet: the spec has errors", "bad");
}

function downloadJson() {
  if (!app.report) return;
  const text = `${JSON.stringify({ files: [app.report] }, null, 2)}\n`;
  download(`${stem()}.json`, text, "application/json");
}

function say(text, mood = "") {
  fill($("#status"), el("span", { class: mood, title: text }, text));
}

// ---- start -------------------------------------------------------------------------------

function editor(text, from) {
  const view = new EditorView({
    parent: $("#editor"),
    state: EditorState.create({
      doc: text,
      extensions: [
        lineNumbers(), undoHistory(), drawSelection(), highlightActiveLine(), bracketMatching(),
        cnn(), lintGutter(), inlayHints(), pickField, origin(from), EditorView.lineWrapping,
        keymap.of([{ key: "Mod-s", preventDefault: true, run: () => (saveClicked(), true) },
          ...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.updateListener.of(edited),
      ],
    }),
  });
  return view;
}

function menus(info) {
  const select = $("#examples");
  for (const name of info.examples) select.append(el("option", { value: name }, name));
  select.disabled = info.examples.length === 0;
  select.addEventListener("change", () => {
    if (select.value) loadExample(select.value);
    select.value = "";
  });
  if (info.file) {
    app.opened = info.file;
    app.openedName = info.basename;
    app.digest = info.digest;
    app.saved = info.text;
    $("#save").hidden = false;
    $("#save").addEventListener("click", saveClicked);
    markDirty();
  }
  $("#shapes-inline").addEventListener("change", (event) => {
    app.view.dispatch({ effects: showHints.of(event.target.checked) });
  });
  $("#help").addEventListener("click", () => $("#cheatsheet").showModal());
  $("#cheatsheet-close").addEventListener("click", () => $("#cheatsheet").close());
  $("#diagram").addEventListener("click", diagramClicked);
  $("#fold-diagram").addEventListener("click", () => {
    app.foldDiagram = !app.foldDiagram;
    $("#fold-diagram").setAttribute("aria-pressed", String(app.foldDiagram));
    $("#fold-diagram").textContent = app.foldDiagram ? "Unfold blocks" : "Fold blocks";
    check();
  });
  $("#zoom-in").addEventListener("click", () => zoom(1.25));
  $("#zoom-out").addEventListener("click", () => zoom(0.8));
  $("#zoom-fit").addEventListener("click", () => zoom(null));
  panning($("#diagram-pane"));
  $("#get-py").addEventListener("click", downloadCode);
  $("#get-svg").addEventListener("click", downloadSvg);
  $("#get-json").addEventListener("click", downloadJson);
}

// The editor starts from the link's text if the address holds one (then it is the
// file's only if it is the file's text, byte for byte), else from the opened file.
function firstText(info, shared) {
  const named = [shared && shared.file, info.basename].find((f) => f && FILE_NAME.test(f)) ||
    "playground.cnn";
  if (shared && !(info.file && shared.text === info.text)) {
    return [shared.text, { kind: "link", name: named }];
  }
  if (info.file) return [info.text, { kind: "file", name: info.basename }];
  return [LENET, { kind: "none", name: named }];
}

async function start() {
  const info = await session();
  const shared = await decode(location.hash);
  const [text, from] = firstText(info, shared);
  app.file = from.name;
  app.editAt = performance.now();
  app.view = editor(text, from);
  menus(info);
  renderExplanation($("#explain"), null);
  await check();
  app.view.focus();
}

start().catch((error) => say(`the playground could not start: ${error.message}`, "bad"));
