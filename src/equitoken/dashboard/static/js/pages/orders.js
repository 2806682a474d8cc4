// The issuer's order processor (the Dinari dShares model, and the way a broker app's customers buy
// tracker tokens such as Robinhood's EU stock tokens): an investor places a market or limit order
// from its wallet whose key the platform holds (the platform quotes the fee, approves the escrow and
// places the order on-chain), follows it to filled, and may ask to cancel it while it is open. A
// submission keeps its Idempotency-Key until the API answers, so the same form sent twice places once.
// When the API serves attestation mints (the Ondo Global Markets model), a second form mints or redeems
// at once with a quote the issuer signs, during the exchange's sessions.

import { ApiError, call, hasRoute, newIdempotencyKey } from "../api.js";
import { empty, h, replace, table } from "../dom.js";
import { grouped, usd } from "../format.js";
import { problemBox } from "../problem.js";
import { EVERYONE } from "./roles.js";

const TONES = { open: "neutral", ordered: "neutral", closing: "neutral", filled: "good", cancelled: "warn", held: "bad" };
const OPEN = new Set(["open", "ordered"]);

function stateBadge(state) {
  return h("span", { class: `badge tone-${TONES[state] ?? "neutral"}`, "data-state": state }, state);
}

function field(id, label, control, help) {
  control.id = id;
  return h("div", { class: "field", "data-for": id }, h("label", { for: id }, label), control, help ? h("p", { class: "help" }, help) : null);
}

function select(name, options) {
  return h("select", { name }, options.map(([value, label]) => h("option", { value }, label)));
}

export const ordersPage = {
  id: "orders",
  title: "Orders",
  nav: "Orders",
  roles: EVERYONE,
  requires: "/processor/orders",
  refreshMs: 3000,
  mount({ user }) {
    const investor = user.role !== "operator";
    const ticker = h("select", { name: "ticker" });
    const side = select("side", [["buy", "Buy"], ["sell", "Sell"]]);
    const type = select("order_type", [["market", "Market"], ["limit", "Limit"]]);
    const tif = select("time_in_force", [["day", "Day"], ["gtc", "Good till cancelled"], ["ioc", "Immediate or cancel"]]);
    const quantity = h("input", { name: "quantity", inputmode: "decimal", autocomplete: "off", placeholder: "1.5" });
    const spend = h("input", { name: "spend", inputmode: "decimal", autocomplete: "off", placeholder: "250" });
    const limit = h("input", { name: "limit_price", inputmode: "decimal", autocomplete: "off", placeholder: "200.00" });
    const submit = h("button", { type: "submit" }, "Place order");
    const status = h("div", { class: "form-status", "aria-live": "polite" });
    const fees = h("p", { class: "help", id: "orders-fees" });
    const quantityField = field("orders-quantity", "Quantity (shares)", quantity);
    const spendField = field("orders-spend", "Spend (USD)", spend, "A market buy spends at most this; what is not spent comes back.");
    const limitField = field("orders-limit", "Limit price (USD per share)", limit);
    const form = h(
      "form",
      { class: "card spaced", "aria-labelledby": "orders-form-title", novalidate: true },
      h("h2", { id: "orders-form-title" }, "Place an order"),
      field("orders-ticker", "Stock", ticker),
      field("orders-side", "Side", side),
      field("orders-type", "Order type", type),
      field("orders-tif", "Time in force", tif),
      quantityField,
      spendField,
      limitField,
      fees,
      submit,
      status,
    );
    function shape() {
      const marketBuy = side.value === "buy" && type.value === "market";
      quantityField.hidden = marketBuy;
      spendField.hidden = !marketBuy;
      limitField.hidden = type.value !== "limit";
    }
    side.addEventListener("change", shape);
    type.addEventListener("change", shape);
    shape();

    const instantTicker = h("select", { name: "ticker" });
    const instantSide = select("side", [["buy", "Mint (buy)"], ["sell", "Redeem (sell)"]]);
    const instantQuantity = h("input", { name: "quantity", inputmode: "decimal", autocomplete: "off", placeholder: "1" });
    const instantSubmit = h("button", { type: "submit" }, "Mint or redeem now");
    const instantStatus = h("div", { class: "form-status", "aria-live": "polite", id: "instant-status" });
    const hours = h("p", { class: "help", id: "instant-hours" });
    const instant = h(
      "form",
      { class: "card spaced", "aria-labelledby": "instant-title", novalidate: true, hidden: true },
      h("h2", { id: "instant-title" }, "Mint or redeem at once"),
      h("p", { class: "help" }, "With a quote the issuer signs: the tokens (or the USDC) arrive in the same transaction; the issuer buys or sells the shares afterwards."),
      hours,
      field("instant-ticker", "Token", instantTicker),
      field("instant-side", "Mint or redeem", instantSide),
      field("instant-quantity", "Shares", instantQuantity),
      instantSubmit,
      instantStatus,
    );
    let instantPending = null;
    instant.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { ticker: instantTicker.value, side: instantSide.value, quantity: instantQuantity.value.trim() };
      if (!instantPending || JSON.stringify(instantPending.body) !== JSON.stringify(body)) instantPending = { body, key: newIdempotencyKey() };
      instantSubmit.disabled = true;
      replace(instantStatus, h("p", {}, "Quoting and sending…"));
      try {
        const done = await call("/attestation/trades", { method: "POST", body, idempotencyKey: instantPending.key });
        instantPending = null;
        const verb = done.side === "buy" ? "Minted" : "Redeemed";
        replace(instantStatus, h("p", { role: "status" }, `${verb} ${grouped(body.quantity)} ${done.ticker} for ${usd(done.usd)}.`));
      } catch (error) {
        if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429) instantPending = null;
        replace(instantStatus, problemBox(error));
      } finally {
        instantSubmit.disabled = false;
      }
    });

    const orders = h("div", { id: "processor-orders" });
    const node = h(
      "section",
      { "aria-labelledby": "orders-title" },
      h("h1", { id: "orders-title" }, "Orders"),
      h(
        "p",
        { class: "lede" },
        "Buy or sell stock tokens from the issuer: your USDC (or, to sell, your tokens) waits in the order processor's escrow while the issuer buys or sells the shares at its broker; " +
          "each fill mints or burns the tokens and pays at once. Orders fill while the market is open; what is not filled is refunded.",
      ),
      investor ? form : null,
      investor ? instant : null,
      orders,
    );

    let pending = null;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const marketBuy = side.value === "buy" && type.value === "market";
      const body = { ticker: ticker.value, side: side.value, order_type: type.value, time_in_force: tif.value };
      if (marketBuy) body.spend = spend.value.trim();
      else body.quantity = quantity.value.trim();
      if (type.value === "limit") body.limit_price = limit.value.trim();
      if (!pending || JSON.stringify(pending.body) !== JSON.stringify(body)) pending = { body, key: newIdempotencyKey() };
      submit.disabled = true;
      replace(status, h("p", {}, "Placing…"));
      try {
        const placed = await call("/processor/orders", { method: "POST", body, idempotencyKey: pending.key });
        pending = null;
        replace(status, h("p", { role: "status" }, `Order ${placed.order_id} placed (fee ${usd(placed.fee_usd)}); it fills while the market is open.`));
      } catch (error) {
        if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429) pending = null;
        replace(status, problemBox(error));
      } finally {
        submit.disabled = false;
      }
      await showOrders();
    });

    async function cancel(order, button) {
      button.disabled = true;
      try {
        await call(`/processor/orders/${order.order_id}/cancel`, { method: "POST", idempotencyKey: newIdempotencyKey() });
        replace(status, h("p", { role: "status" }, `Cancel of order ${order.order_id} asked; what is not filled will be refunded.`));
      } catch (error) {
        replace(status, problemBox(error));
      }
      await showOrders();
    }

    async function showOrders() {
      const list = await call("/processor/orders");
      const caption = investor ? "Your orders" : "Orders";
      replace(
        orders,
        list.length
          ? table(
              caption,
              ["Order", "Stock", "Side", "Type", "Filled (tokens)", "Paid or received (USD)", "State", ""],
              list.map((o) => {
                const button = investor && OPEN.has(o.state) ? h("button", { type: "button", class: "secondary" }, "Cancel") : null;
                if (button) button.addEventListener("click", () => cancel(o, button));
                return h(
                  "tr",
                  { "data-order-id": String(o.order_id) },
                  h("th", { scope: "row" }, String(o.order_id)),
                  h("td", {}, o.ticker),
                  h("td", {}, o.sell ? "sell" : "buy"),
                  h("td", {}, `${o.order_type} · ${o.time_in_force}`),
                  h("td", { class: "num", "data-field": "filled" }, grouped(o.filled_tokens)),
                  h("td", { class: "num" }, usd(o.filled_usd)),
                  h("td", { "data-field": "state" }, stateBadge(o.state), o.reason && !OPEN.has(o.state) ? h("p", { class: "help" }, o.reason) : null),
                  h("td", {}, button),
                );
              }),
              { class: "data orders" },
            )
          : h("div", {}, h("h2", {}, caption), empty("No orders yet.")),
      );
    }

    async function update() {
      if (!ticker.options.length) {
        const processor = await call("/processor");
        replace(ticker, processor.tickers.map((t) => h("option", { value: t }, t)));
        fees.textContent = `Fee: ${usd(processor.fee_flat)} plus ${processor.fee_bps} bps of the order's value, quoted before it is placed.`;
        instant.hidden = !(investor && (await hasRoute("/attestation/trades")));
      }
      if (!instant.hidden) {
        const attestation = await call("/attestation");
        if (!instantTicker.options.length) replace(instantTicker, attestation.minters.map((m) => h("option", { value: m.ticker }, m.ticker)));
        hours.textContent = attestation.open_now
          ? "Open now: quotes are signed during the exchange's regular session."
          : `Closed now (weekends, holidays and after early closes); opens ${new Date(attestation.next_open).toLocaleString()}.`;
      }
      await showOrders();
    }
    return { node, update };
  },
};
