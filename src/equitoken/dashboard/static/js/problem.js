// Show a refused call the way the API explained it.

import { h } from "./dom.js";

/** An alert box for an ApiError (or any error): title, detail, error code and HTTP status. */
export function problemBox(error) {
  const title = error.title || "Something went wrong";
  const facts = [];
  if (error.code) facts.push(`code ${error.code}`);
  if (error.status) facts.push(`HTTP ${error.status}`);
  if (error.retryAfter) facts.push(`try again in ${error.retryAfter} s`);
  return h(
    "div",
    { class: "problem", role: "alert" },
    h("strong", { class: "problem-title" }, title),
    error.detail && error.detail !== title ? h("p", { class: "problem-detail" }, error.detail) : null,
    facts.length ? h("p", { class: "problem-facts" }, facts.join(" · ")) : null,
  );
}
