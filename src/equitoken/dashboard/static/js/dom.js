// Build elements without innerHTML, so text from the API can never become markup.

/**
 * Create an element: attributes (`class`, `onclick`, any other attribute) and children (nodes or text).
 * Null, undefined and false attributes or children are left out.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

/** Append children (nested arrays allowed), turning anything that is not a node into text. */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
  return parent;
}

/** Replace every child of `parent`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/** A table with a caption, a header row and body rows; `columns` are header labels. */
export function table(caption, columns, rows, attributes = {}) {
  return h(
    "table",
    attributes,
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows),
  );
}

/** A paragraph saying a list is empty. */
export function empty(text) {
  return h("p", { class: "empty" }, text);
}
