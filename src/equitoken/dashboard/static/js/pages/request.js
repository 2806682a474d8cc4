// One request: its amounts, its state, every state change, and a cancel button while it is open.

import { call, newIdempotencyKey } from "../api.js";
import { h, replace, table } from "../dom.js";
import { address, isFinal, shares, stateBadge, time, usd } from "../format.js";
import { problemBox } from "../problem.js";
import { EVERYONE } from "./roles.js";

// Idempotency-Key of a cancel that has not been answered yet, per request: a retry reuses it.
const pendingCancels = new Map();

export const requestPage = {
  id: "request",
  title: "Request",
  roles: EVERYONE,
  refreshMs: 2000,
  mount({ params, user }) {
    const id = params.id;
    const summary = h("div", {});
    const actions = h("div", { class: "actions" });
    const history = h("div", {});
    const node = h(
      "section",
      { "aria-labelledby": "request-title" },
      h("p", {}, h("a", { href: "#/requests" }, user.role === "operator" ? "← Requests" : "← My requests")),
      h("h1", { id: "request-title" }, `Request ${id}`),
      summary,
      actions,
      history,
    );
    let shownState = null;
    async function update() {
      const request = await call(`/requests/${encodeURIComponent(id)}`);
      replace(summary, facts(request));
      if (request.state !== shownState) {
        // Rebuilt only when the state changes, so a refresh never swallows a click or an error.
        replace(actions, isFinal(request.state) ? null : cancelButton(id, update));
        shownState = request.state;
      }
      replace(
        history,
        h("h2", {}, "History"),
        table(
          "State changes",
          ["Time", "From", "To", "Reason"],
          (request.events ?? []).map((event) =>
            h(
              "tr",
              {},
              h("td", {}, time(event.at)),
              h("td", {}, event.from_state ? stateBadge(event.from_state) : "—"),
              h("td", {}, stateBadge(event.to_state)),
              h("td", {}, event.reason ?? ""),
            ),
          ),
          { class: "data events" },
        ),
      );
    }
    return { node, update };
  },
};

function facts(request) {
  const rows = [
    ["State", h("span", { id: "request-state" }, stateBadge(request.state))],
    ["Kind", request.kind],
    ["Instrument", request.ticker],
    ["Quantity", `${shares(request.quantity)} shares`],
    ["Filled", `${shares(request.filled_quantity)} shares`],
    ["Filled notional", usd(request.filled_notional_usd)],
    [request.kind === "mint" ? "Escrow (paid in)" : "Escrow", usd(request.escrow_usd)],
    ["Fee", usd(request.fee_usd)],
    ["Settled", usd(request.settled_usd)],
    ["Tokens settled (raw units)", String(request.tokens_settled)],
    ["Investor", request.investor_id],
    ["Chain", String(request.chain_id)],
    ["Wallet", address(request.wallet)],
    ...(request.payment_wallet !== request.wallet ? [["Pays and is paid", address(request.payment_wallet)]] : []),
    ["Created", time(request.created_at)],
    ["Expires", time(request.expires_at)],
    ["Reason", request.reason],
  ].filter(([, value]) => value !== null && value !== undefined);
  return h(
    "dl",
    { class: "facts" },
    rows.flatMap(([name, value]) => [h("dt", {}, name), h("dd", {}, value)]),
  );
}

function cancelButton(id, update) {
  const status = h("div", { class: "form-status" });
  const button = h("button", { type: "button", class: "danger" }, "Cancel this request");
  button.addEventListener("click", async () => {
    if (!pendingCancels.has(id)) pendingCancels.set(id, newIdempotencyKey());
    button.disabled = true;
    replace(status, h("p", {}, "Asking for cancellation…"));
    try {
      await call(`/requests/${encodeURIComponent(id)}/cancel`, { method: "POST", idempotencyKey: pendingCancels.get(id) });
      pendingCancels.delete(id);
      replace(status, h("p", { role: "status" }, "Cancellation requested; what has filled already stays filled."));
      await update();
    } catch (error) {
      replace(status, problemBox(error));
      button.disabled = false;
    }
  });
  return [button, status];
}
