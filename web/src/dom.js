// DOM building that never parses markup: every piece of text becomes a text node,
// so nothing a spec holds can turn into HTML.

/** `el("td", {class: "num"}, "456")`: an element with attributes and text or child nodes. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  return fill(node, ...children);
}

/** Remove every child of `node`, then append `children`. */
export function fill(node, ...children) {
  node.replaceChildren();
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (selector) => document.querySelector(selector);

/** `24x24` from `[24, 24]`, as `check` prints shapes. */
export const shape = (dims) => (dims && dims.length ? dims.join("x") : "-");

/** `62,006`: thousands grouped, as `check` prints counts. */
export const count = (n) => Number(n).toLocaleString("en-US");

/** `658.24K`, as model tables print multiply-adds. */
export function human(n) {
  for (const [unit, size] of [["G", 1e9], ["M", 1e6], ["K", 1e3]]) {
    if (Math.abs(n) >= size) return `${(n / size).toFixed(2)}${unit}`;
  }
  return String(Math.trunc(n));
}

/** `1 parameter`, `2 parameters`, `1,024 multiply-adds`: a count and its noun, in
 * the singular for exactly one (`many`: the plural when it is not `one` + "s"). */
export function plural(n, one, many = `${one}s`) {
  return `${count(n)} ${Number(n) === 1 ? one : many}`;
}
