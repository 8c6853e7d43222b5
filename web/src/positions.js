// The server counts 1-based lines and columns in characters (code points), as
// `check --format json` does; CodeMirror counts UTF-16 units from the start.

/** A function from a 1-based line and code-point column to an editor offset
 * (clamped to the line). Each line is read once however many spans it holds, and
 * a line without surrogate pairs needs no table: a long line with thousands of
 * squiggles costs one pass, not one per squiggle. */
export function offsets(doc) {
  const lines = new Map();
  return (line, column) => {
    const number = Math.min(Math.max(line, 1), doc.lines);
    let entry = lines.get(number);
    if (!entry) {
      const at = doc.line(number);
      entry = { from: at.from, length: at.length, units: null };
      if (/[\uD800-\uDFFF]/.test(at.text)) {
        entry.units = [];                // code point i starts at UTF-16 unit units[i]
        let unit = 0;
        for (const char of at.text) { entry.units.push(unit); unit += char.length; }
        entry.units.push(unit);
      }
      lines.set(number, entry);
    }
    const k = Math.max(column, 1) - 1;
    return entry.from + (entry.units ? entry.units[Math.min(k, entry.units.length - 1)]
      : Math.min(k, entry.length));
  };
}

/** The 1-based line and code-point column of an editor offset. */
export function lineColumn(doc, offset) {
  const at = doc.lineAt(offset);
  return { line: at.number, column: Array.from(at.text.slice(0, offset - at.from)).length + 1 };
}

/** Editor offsets `[from, to)` of a span whose end column is inclusive (`at`: an
 * `offsets(doc)` to share between many spans). */
export function rangeOf(doc, span, at = offsets(doc)) {
  const from = at(span.line, span.column);
  const to = at(span.end_line ?? span.line, (span.end_column ?? span.column) + 1);
  return { from, to: Math.max(to, Math.min(from + 1, doc.length)) };
}
