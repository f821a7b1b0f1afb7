// Building DOM nodes from data. Text is only ever set through textContent (never innerHTML),
// so nothing the API returns can inject markup.

/**
 * el("p", {class: "x", "aria-label": "y"}, "text", childNode, ...)
 * Attributes starting with "on" are event listeners; a value of null/false omits the attribute.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

/** A <dl> from [term, description] pairs (descriptions may be nodes). */
export function definitions(pairs, attrs = {}) {
  return el(
    "dl",
    attrs,
    pairs.filter(([, d]) => d !== null && d !== undefined && d !== "").map(([t, d]) => [
      el("dt", {}, t),
      el("dd", {}, d),
    ]),
  );
}

export function fmtTime(iso) {
  if (!iso) return "—";
  return iso.replace("T", " ").replace(/\.\d+Z$/, "Z").replace("Z", " UTC");
}

export function fmtPoint(p) {
  if (!p) return "—";
  return `${p[1].toFixed(5)}° N, ${p[0].toFixed(5)}° E`;
}

// A probability as a percentage that never rounds to certainty it does not state: 0.998
// is "99.8 %", not "100 %", and 0.00004 is "0.01 %", not "0 %".
export function pct(x) {
  if (x > 0 && x < 0.01) return `${(Math.ceil(10000 * x) / 100).toFixed(2)} %`;
  if (x > 0.99 && x < 1) return `${(Math.floor(1000 * x) / 10).toFixed(1)} %`;
  return `${(100 * x).toFixed(0)} %`;
}
