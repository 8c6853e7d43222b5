// The server counts 1-based lines and columns in characters (code points), as
// `check --format json` does; CodeMirror counts UTF-16 units from the start.

/** The editor offset of a 1-based line and code-point column (clamped to the line). */
export function offsetOf(doc, line, column) {
  const at = doc.line(Math.min(Math.max(line, 1), doc.lines));
  const chars = Array.from(at.text).slice(0, Math.max(column, 1) - 1);
  return at.from + chars.join("").length;
}

/** The 1-based line and code-point column of an editor offset. */
export function lineColumn(doc, offset) {
  const at = doc.lineAt(offset);
  return { line: at.number, column: Array.from(at.text.slice(0, offset - at.from)).length + 1 };
}

/** Editor offsets `[from, to)` of a span whose end column is inclusive. */
export function rangeOf(doc, span) {
  const from = offsetOf(doc, span.line, span.column);
  const to = offsetOf(doc, span.end_line ?? span.line, (span.end_column ?? span.column) + 1);
  return { from, to: Math.max(to, Math.min(from + 1, doc.length)) };
}
