// The diagram's SVG put into the page as DOM, not as an image (the browser then
// paints only the part in view, which for ResNet-50's tall drawing is most of
// the time saved), and rebuilt element by element from an allow-list: only the
// shapes, text and attributes Graphviz draws with get in, never a script, an
// event handler, a link or a foreign object.

const NS = "http://www.w3.org/2000/svg";
const ELEMENTS = new Set(["svg", "g", "title", "text", "path", "polygon", "polyline",
  "ellipse", "circle", "rect", "line"]);
const ATTRIBUTES = new Set(["class", "cx", "cy", "d", "fill", "font-family", "font-size",
  "font-style", "font-weight", "height", "id", "points", "r", "rx", "ry", "stroke",
  "stroke-dasharray", "stroke-width", "text-anchor", "transform", "viewBox", "width", "x",
  "x1", "x2", "y", "y1", "y2"]);

/** A clean copy of Graphviz's SVG text as an element of this page, or null. */
export function safeSvg(text) {
  const parsed = new DOMParser().parseFromString(text, "image/svg+xml");
  const root = parsed.documentElement;
  if (root.localName !== "svg" || root.namespaceURI !== NS ||
      parsed.getElementsByTagName("parsererror").length) return null;
  return copy(root);
}

function copy(source) {
  const clean = document.createElementNS(NS, source.localName);
  for (const attribute of source.attributes) {
    if (ATTRIBUTES.has(attribute.name) && !/^\s*(javascript|data):/i.test(attribute.value)) {
      clean.setAttribute(attribute.name, attribute.value);
    }
  }
  for (const child of source.childNodes) {
    if (child.nodeType === Node.TEXT_NODE) clean.append(child.data);
    else if (child.nodeType === Node.ELEMENT_NODE && child.namespaceURI === NS &&
      ELEMENTS.has(child.localName)) clean.append(copy(child));
  }
  return clean;
}
