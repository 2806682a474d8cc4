// Mint and redeem requests: pending ones first, then the history; an investor sees only their own.

import { call } from "../api.js";
import { empty, h, replace, table } from "../dom.js";
import { address, isFinal, shares, stateBadge, time } from "../format.js";
import { EVERYONE } from "./roles.js";

const STATES = ["accepted", "paid", "burned", "ordered", "settling", "completed", "cancelled", "expired", "failed", "held"];

export const requestsPage = {
  id: "requests",
  title: "Requests",
  nav: "Requests",
  roles: EVERYONE,
  refreshMs: 3000,
  mount({ user, query, navigate }) {
    const operator = user.role === "operator";
    const filters = filterForm(query, navigate);
    const body = h("div", {});
    const node = h(
      "section",
      { "aria-labelledby": "requests-title" },
      h("h1", { id: "requests-title" }, operator ? "Requests" : "My requests"),
      user.role !== "investor"
        ? h("p", {}, h("a", { class: "button", href: "#/requests/new" }, "New mint or redeem request"))
        : null,
      filters,
      body,
    );
    async function update() {
      const page = await call("/requests", {
        query: { state: query.state, ticker: query.ticker, limit: 50, cursor: query.cursor },
      });
      const pending = page.items.filter((r) => !isFinal(r.state));
      const done = page.items.filter((r) => isFinal(r.state));
      const newestFirst = (a, b) => new Date(b.created_at) - new Date(a.created_at);
      replace(
        body,
        h("h2", {}, `Pending (${pending.length})`),
        pending.length ? requestTable("Pending requests", pending.sort(newestFirst), operator, "pending") : empty("Nothing pending."),
        h("h2", {}, `History (${done.length})`),
        done.length ? requestTable("Finished requests", done.sort(newestFirst), operator, "history") : empty("No finished requests."),
        pager(query, page.next_cursor, navigate),
      );
    }
    return { node, update };
  },
};

function filterForm(query, navigate) {
  const state = h(
    "select",
    { id: "filter-state", name: "state" },
    h("option", { value: "" }, "any state"),
    STATES.map((s) => h("option", { value: s, selected: query.state === s }, s)),
  );
  const ticker = h("input", { id: "filter-ticker", name: "ticker", value: query.ticker ?? "", size: 8, autocomplete: "off" });
  const form = h(
    "form",
    { class: "toolbar", role: "search", "aria-label": "Filter requests" },
    h("label", { for: "filter-state" }, "State"),
    state,
    h("label", { for: "filter-ticker" }, "Ticker"),
    ticker,
    h("button", { type: "submit", class: "secondary" }, "Filter"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = {};
    if (state.value) next.state = state.value;
    if (ticker.value.trim()) next.ticker = ticker.value.trim().toUpperCase();
    navigate("/requests", next);
  });
  return form;
}

function requestTable(caption, requests, operator, id) {
  const columns = ["Request", "Kind", "Ticker", "Quantity (shares)", "Filled (shares)", "State", "Created", "Wallet"];
  if (operator) columns.splice(1, 0, "Investor");
  return table(
    caption,
    columns,
    requests.map((request) =>
      h(
        "tr",
        { "data-request": request.id, "data-state": request.state },
        h("th", { scope: "row" }, h("a", { href: `#/requests/${encodeURIComponent(request.id)}` }, request.id)),
        operator ? h("td", {}, request.investor_id) : null,
        h("td", {}, request.kind),
        h("td", {}, request.ticker),
        h("td", { class: "num" }, shares(request.quantity)),
        h("td", { class: "num" }, shares(request.filled_quantity ?? "0")),
        h("td", {}, stateBadge(request.state)),
        h("td", {}, time(request.created_at)),
        h("td", {}, address(request.wallet)),
      ),
    ),
    { class: "data requests", id: `requests-${id}` },
  );
}

function pager(query, nextCursor, navigate) {
  if (!nextCursor && !query.cursor) return null;
  const { cursor, ...rest } = query;
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages of requests" },
    cursor ? h("button", { type: "button", class: "secondary", onclick: () => navigate("/requests", rest) }, "First page") : null,
    nextCursor
      ? h("button", { type: "button", class: "secondary", onclick: () => navigate("/requests", { ...rest, cursor: nextCursor }) }, "Next page")
      : null,
  );
}
