// `check`'s table: Layer (as written), Name, Output, Params, MACs, RF, with the
// input first and the totals below. A row is clicked to explain its layer. A
// block use is folded into its one row (its totals); clicking it opens it.

import { count, el, fill, human, shape } from "./dom.js";

const COLUMNS = ["Layer (as written)", "Name", "Output", "Params", "MACs", "RF"];

/** Render a check's table into `root`; `onPick(name)` when a row is clicked. An
 * edit usually changes a few numbers: the same rows are patched cell by cell, so
 * the browser lays out and paints only what changed. */
export function renderTable(root, table, onPick) {
  const { totals, rows } = table;
  const lines = [inputCells(totals), ...rows.map(cellsOf)];
  const old = root.querySelector("table.summary");
  const names = rows.map((r) => `${r.name} ${r.kind} ${r.depth}`).join("\n");
  if (old && old.dataset.names === names) patch(old, lines);
  else build(root, table, lines, names, onPick);
  applyFolds(root);
  root.querySelector("table.summary").classList.toggle("partial", Boolean(table.partial));
  fill(root.querySelector(".totals"),
    table.partial ? el("div", { class: "partial-note" }, "Checked up to the first error: " +
      "these rows hold; the layers after it are not checked yet.") : null,
    el("div", {}, `${table.partial ? "Params so far" : "Total params"}: ${count(totals.params)}`),
    el("div", {}, `Multiply-adds: ${human(totals.macs)} (${count(totals.macs)})`),
    el("div", {}, `Input: ${shape(totals.input)}   Output: ${shape(totals.output)}`));
}

function build(root, table, lines, names, onPick) {
  const [input, ...rest] = lines;
  const body = el("tbody", {}, rowOf(input, { kind: "input" }),
    table.rows.map((row, i) => rowOf(rest[i], row, onPick)));
  const head = el("thead", {}, el("tr", {}, COLUMNS.map((c) => el("th", {}, c))));
  fill(root, el("table", { class: "summary", "data-names": names }, head, body),
    el("div", { class: "totals" }));
}

function patch(table, lines) {
  const trs = table.tBodies[0].rows;
  lines.forEach((cells, i) => {
    cells.forEach((text, j) => {
      const td = trs[i].cells[j];
      if (td.textContent !== text) td.textContent = text;
    });
  });
}

function inputCells(totals) {
  const ones = totals.input.length > 1 ? totals.input.slice(1).map(() => 1) : null;
  return [`input ${shape(totals.input)}`, "", shape(totals.input), "-", "-",
    ones ? shape(ones) : "-"];
}

/** The six cells of a row, as `check` prints them. */
function cellsOf(row) {
  const merge = row.kind === "merge";
  const text = merge ? `└ ${row.text.startsWith("residual") ? "residual" : row.op}` : row.text;
  const dash = (n) => (n || !merge ? count(n) : "-");
  return [text, row.name, shape(row.output), dash(row.params), dash(row.macs),
    row.rf ? shape(row.rf) : "-"];
}

function rowOf(cells, row, onPick) {
  const classes = ["written", "name", "", "num", "num", "num"];
  const tds = cells.map((text, j) => el("td", { class: classes[j] || null }, text));
  if (row.kind === "input") return el("tr", { class: "input" }, tds);
  tds[0].style.paddingLeft = `${0.4 + 1.2 * row.depth}em`;   // the nesting, as `check` indents
  tds[0].title = cells[0];   // the whole text, where the column cuts it short
  const pick = () => {
    if (row.kind === "block") toggle(row.name, tds[0].closest(".panel") || document);
    onPick(row.name);
  };
  return el("tr", {
    class: `row ${row.kind}`, "data-name": row.name, tabindex: "0",
    onclick: pick, onkeydown: (event) => event.key === "Enter" && pick(),
  }, tds);
}

// ---- folding block uses ----------------------------------------------------------------

/** The block uses shown open (by name); every other block use is folded. */
const opened = new Set();

/** The names of the block uses a row sits inside: `b1.b2.conv1` -> `b1`, `b1.b2`. */
function enclosing(name) {
  const parts = name.split(".");
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join("."));
}

function toggle(name, root) {
  if (opened.has(name)) opened.delete(name);
  else opened.add(name);
  applyFolds(root);
}

/** Hide the rows inside folded block uses; mark each block row open or folded. */
function applyFolds(root) {
  const blocks = new Set([...root.querySelectorAll("tr.row.block")].map((r) => r.dataset.name));
  for (const tr of root.querySelectorAll("tr.row")) {
    const hidden = enclosing(tr.dataset.name).some((b) => blocks.has(b) && !opened.has(b));
    if (tr.hidden !== hidden) tr.hidden = hidden;
    if (tr.classList.contains("block")) tr.classList.toggle("open", opened.has(tr.dataset.name));
  }
}

/** Mark the row of `name` as the one explained (opening the blocks it is in), and
 * bring it into view. */
export function markRow(root, name) {
  for (const tr of root.querySelectorAll("tr.picked")) tr.classList.remove("picked");
  const tr = [...root.querySelectorAll("tr.row")].find((r) => r.dataset.name === name);
  if (!tr) return;
  if (tr.hidden) {
    for (const block of enclosing(name)) opened.add(block);
    applyFolds(root);
  }
  tr.classList.add("picked");
  tr.scrollIntoView({ block: "nearest" });
}
