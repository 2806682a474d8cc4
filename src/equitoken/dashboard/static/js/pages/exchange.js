// The exchange: one instrument's book, its recent trades and the oracle's market status; for a member,
// its balances, open orders (with cancel buttons) and an order form; where the platform runs the ledger
// desk, ledger stock (AAPL.L) bought from $1 or sold through the issuer's broker. Kept live by the
// WebSocket stream (levels, trades and own order events), with a slower REST refresh as a safety net.

import { ApiError, call, hasRoute, newIdempotencyKey } from "../api.js";
import { empty, h, replace, table } from "../dom.js";
import { price, shares, time, usd } from "../format.js";
import { problemBox } from "../problem.js";
import { apiKey } from "../session.js";
import { EVERYONE } from "./roles.js";

const DEPTH = 10;
const STATUS_TONES = { open: ["● open", "good"], closed: ["◐ closed", "warn"], halted: ["■ halted", "bad"] };

function statusBadge(status) {
  const [label, tone] = STATUS_TONES[status] ?? [status ?? "unknown", "neutral"];
  return h("span", { class: `badge tone-${tone}`, "data-status": status }, label);
}

function streamUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/api/v1/exchange/stream?key=${encodeURIComponent(apiKey() ?? "")}`;
}

export const exchangePage = {
  id: "exchange",
  title: "Exchange",
  nav: "Exchange",
  roles: EVERYONE,
  requires: "/exchange/markets",
  refreshMs: 10000,
  mount({ user, query, navigate }) {
    const member = user.role !== "operator";
    const picker = h("select", { id: "exchange-ticker", name: "ticker" });
    const status = h("span", { id: "exchange-status" });
    const live = h("span", { id: "exchange-live", class: "badge tone-neutral" }, "connecting…");
    const summary = h("p", { id: "exchange-summary", class: "quote" });
    const bids = h("div", { id: "exchange-bids" });
    const asks = h("div", { id: "exchange-asks" });
    const trades = h("div", { id: "exchange-trades" });
    const balances = h("div", { id: "exchange-balances" });
    const orders = h("div", { id: "exchange-orders" });
    const formStatus = h("div", { id: "order-status", class: "form-status", "aria-live": "polite" });
    const form = member ? orderForm() : null;
    const ledgerStatus = h("div", { id: "ledger-status", class: "form-status", "aria-live": "polite" });
    const ledgerOrders = h("div", { id: "ledger-orders" });
    // Its own wrapper: the grid of `.cards` would override `hidden`.
    const ledger = member ? h("div", { id: "ledger", hidden: true }, h("div", { class: "cards" }, ledgerForm(), ledgerOrders)) : null;
    let ledgerRuns = false;
    let ticker = query.ticker ?? null;
    let rules = null;
    let socket = null;
    let book = { bids: [], asks: [] };
    let recent = [];

    const node = h(
      "section",
      { "aria-labelledby": "exchange-title" },
      h("h1", { id: "exchange-title" }, "Exchange"),
      h(
        "div",
        { class: "toolbar" },
        h("label", { for: "exchange-ticker" }, "Instrument"),
        picker,
        h("span", {}, "Market "),
        status,
        h("span", {}, "Stream "),
        live,
      ),
      summary,
      h("div", { class: "cards" }, h("div", {}, bids), h("div", {}, asks)),
      member ? h("div", { class: "cards" }, form, h("div", {}, balances, orders)) : null,
      ledger,
      trades,
    );

    picker.addEventListener("change", () => navigate("/exchange", { ticker: picker.value }));

    function renderBook() {
      const row = (level) =>
        h("tr", {}, h("td", { class: "num" }, price(level.price)), h("td", { class: "num" }, shares(level.quantity)), h("td", { class: "num" }, level.orders));
      const side = (caption, levels) =>
        levels.length ? table(caption, ["Price", "Quantity (shares)", "Orders"], levels.map(row), { class: "data" }) : h("div", {}, h("h2", {}, caption), empty("No orders on this side."));
      replace(bids, side("Bids (buy orders), best first", book.bids));
      replace(asks, side("Asks (sell orders), best first", book.asks));
      const bid = book.bids[0]?.price;
      const ask = book.asks[0]?.price;
      replace(status, statusBadge(book.status));
      replace(
        summary,
        `Best bid ${bid ? price(bid) : "—"} · best ask ${ask ? price(ask) : "—"} · spread `,
        h("span", { id: "exchange-spread" }, bid && ask ? price(spread(bid, ask)) : "—"),
        rules ? ` · tick $${rules.tick}, lot ${rules.lot} shares, fees ${rules.maker_fee_bps}/${rules.taker_fee_bps} bps (maker/taker), minimum ${usd(rules.min_notional)}` : "",
      );
    }

    function renderTrades() {
      replace(
        trades,
        recent.length
          ? table(
              "Recent trades, newest first",
              ["Time", "Price", "Quantity (shares)", "Taker", "Market status"],
              recent.map((t) =>
                h("tr", { "data-trade": t.trade_id }, h("td", {}, time(t.at)), h("td", { class: "num" }, price(t.price)), h("td", { class: "num" }, shares(t.quantity)), h("td", {}, t.taker_side), h("td", {}, statusBadge(t.status))),
              ),
              { class: "data" },
            )
          : h("div", {}, h("h2", {}, "Recent trades"), empty("No trades yet.")),
      );
    }

    async function refreshAccount() {
      if (!member) return;
      const [mine, held] = await Promise.all([call("/exchange/orders", { query: { ticker } }), call("/exchange/balances")]);
      replace(
        balances,
        table(
          "Your balances",
          ["Asset", "Available", "Locked in orders"],
          held.map((b) => h("tr", { "data-asset": b.asset }, h("th", { scope: "row" }, b.asset), h("td", { class: "num" }, amount(b.asset, b.available)), h("td", { class: "num" }, amount(b.asset, b.locked)))),
          { class: "data" },
        ),
      );
      replace(
        orders,
        mine.length
          ? table(
              "Your open orders",
              ["Order", "Side", "Price", "Open quantity (shares)", ""],
              mine.map((o) =>
                h(
                  "tr",
                  { "data-order": o.order_id },
                  h("td", {}, o.order_id),
                  h("td", {}, o.side),
                  h("td", { class: "num" }, price(o.price)),
                  h("td", { class: "num" }, shares(o.quantity)),
                  h("td", {}, h("button", { type: "button", class: "secondary", "aria-label": `Cancel order ${o.order_id}`, onclick: () => cancel(o) }, "Cancel")),
                ),
              ),
              { class: "data" },
            )
          : h("div", {}, h("h2", {}, "Your open orders"), empty("You have no open orders.")),
      );
    }

    async function refreshLedger() {
      if (!ledgerRuns) return;
      const mine = (await call("/exchange/ledger/orders")).reverse();
      replace(
        ledgerOrders,
        mine.length
          ? table(
              "Your ledger orders, newest first",
              ["Order", "Stock", "Side", "State", "Shares", "Dollars"],
              mine.map((o) =>
                h(
                  "tr",
                  { "data-ledger-order": o.id },
                  h("td", { class: "mono" }, o.id.slice(0, 8)),
                  h("td", {}, `${o.ticker}.L`),
                  h("td", {}, o.side),
                  h("td", { title: o.reason ?? "" }, o.state === "failed" ? `failed: ${o.reason}` : o.state),
                  h("td", { class: "num" }, shares(o.filled_shares)),
                  h("td", { class: "num" }, usd(o.filled_usd)),
                ),
              ),
              { class: "data" },
            )
          : h("div", {}, h("h2", {}, "Your ledger orders"), empty("You have no ledger orders.")),
      );
    }

    function ledgerForm() {
      const side = h("select", { id: "ledger-side", name: "side" }, h("option", { value: "buy" }, "Buy for dollars"), h("option", { value: "sell" }, "Sell shares"));
      const amountInput = h("input", { id: "ledger-amount", name: "amount", inputmode: "decimal", autocomplete: "off", required: true });
      const stock = h("strong", { id: "ledger-stock" });
      const submit = h("button", { type: "submit" }, "Send ledger order");
      let pending = null;
      const element = h(
        "form",
        { class: "card", "aria-labelledby": "ledger-form-title", novalidate: true },
        h("h2", { id: "ledger-form-title" }, "Ledger stock"),
        h("p", {}, "Fractions of ", stock, " from $1, held only in your exchange account: the issuer's broker buys or sells the shares, which custody holds, once the session trades. They cannot be withdrawn."),
        h("label", { for: "ledger-side" }, "Buy or sell"),
        side,
        h("label", { for: "ledger-amount" }, "Dollars to spend, or shares to sell"),
        amountInput,
        submit,
        ledgerStatus,
      );
      element.addEventListener("submit", async (event) => {
        event.preventDefault();
        const body = { ticker: stockOf(ticker), side: side.value, [side.value === "buy" ? "usd" : "shares"]: amountInput.value.trim() };
        if (!pending || JSON.stringify(pending.body) !== JSON.stringify(body)) pending = { body, key: newIdempotencyKey() };
        submit.disabled = true;
        try {
          const order = await call("/exchange/ledger/orders", { method: "POST", body, idempotencyKey: pending.key });
          pending = null;
          replace(ledgerStatus, h("p", { role: "status" }, `Ledger order ${order.id.slice(0, 8)} ${order.state}.`));
        } catch (error) {
          if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429) pending = null;
          replace(ledgerStatus, problemBox(error));
        } finally {
          submit.disabled = false;
        }
        await Promise.all([refreshAccount(), refreshLedger()]);
      });
      return element;
    }

    async function cancel(order) {
      try {
        await call(`/exchange/orders/${encodeURIComponent(order.ticker)}/${order.order_id}`, { method: "DELETE" });
        replace(formStatus, h("p", { role: "status" }, `Order ${order.order_id} cancelled.`));
      } catch (error) {
        replace(formStatus, problemBox(error));
      }
      await refreshAccount();
    }

    function orderForm() {
      const field = (id, label, control) => [h("label", { for: id }, label), control];
      const side = h("select", { id: "order-side", name: "side" }, h("option", { value: "buy" }, "Buy"), h("option", { value: "sell" }, "Sell"));
      const type = h("select", { id: "order-type", name: "type" }, h("option", { value: "limit" }, "Limit"), h("option", { value: "market" }, "Market (IOC)"));
      const priceInput = h("input", { id: "order-price", name: "price", inputmode: "decimal", autocomplete: "off" });
      const quantity = h("input", { id: "order-quantity", name: "quantity", inputmode: "decimal", autocomplete: "off", required: true });
      const submit = h("button", { type: "submit" }, "Place order");
      type.addEventListener("change", () => {
        priceInput.disabled = type.value === "market";
      });
      let pending = null;
      const element = h(
        "form",
        { class: "card", "aria-labelledby": "order-form-title", novalidate: true },
        h("h2", { id: "order-form-title" }, "Place an order"),
        field("order-side", "Side", side),
        field("order-type", "Order type", type),
        field("order-price", "Price (dollars)", priceInput),
        field("order-quantity", "Quantity (shares)", quantity),
        submit,
        formStatus,
      );
      element.addEventListener("submit", async (event) => {
        event.preventDefault();
        const body = { ticker, side: side.value, type: type.value, quantity: quantity.value.trim() };
        if (type.value === "limit") body.price = priceInput.value.trim();
        if (!pending || JSON.stringify(pending.body) !== JSON.stringify(body)) pending = { body, key: newIdempotencyKey() };
        submit.disabled = true;
        try {
          const outcome = await call("/exchange/orders", { method: "POST", body, idempotencyKey: pending.key });
          pending = null;
          const filled = outcome.fills.length ? `, ${outcome.fills.length} fill(s)` : "";
          replace(formStatus, h("p", { role: "status" }, `Order ${outcome.order_id} ${outcome.state}${filled}.`));
        } catch (error) {
          if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429) pending = null;
          replace(formStatus, problemBox(error));
        } finally {
          submit.disabled = false;
        }
        await refreshAccount();
      });
      return element;
    }

    function connect() {
      if (socket || !ticker) return;
      socket = new WebSocket(streamUrl());
      socket.addEventListener("open", () => {
        const channels = [`levels:${ticker}`, `trades:${ticker}`];
        if (member) channels.push("orders");
        socket.send(JSON.stringify({ op: "subscribe", channels }));
      });
      socket.addEventListener("message", (event) => {
        if (!node.isConnected) return socket.close();
        const message = JSON.parse(event.data);
        replace(live, "● live");
        live.className = "badge tone-good";
        if (message.channel?.startsWith("levels:")) {
          book = message.data;
          renderBook();
        } else if (message.channel?.startsWith("trades:")) {
          recent = message.type === "snapshot" ? message.data.trades : [message.data, ...recent].slice(0, 50);
          renderTrades();
        } else if (message.channel === "orders" && message.type === "update") {
          refreshAccount().catch((error) => replace(formStatus, problemBox(error)));
        } else if (message.type === "error") {
          replace(formStatus, problemBox({ title: "Stream refused", detail: message.data.detail, code: message.data.code }));
        }
      });
      socket.addEventListener("close", (event) => {
        socket = null;
        replace(live, `✗ disconnected${event.reason ? `: ${event.reason}` : ""}`);
        live.className = "badge tone-bad";
      });
    }

    async function update() {
      if (!(await hasRoute("/exchange/markets"))) {
        replace(node, h("h1", {}, "Exchange"), problemBox({ title: "Not running", detail: "This platform does not run the exchange." }));
        return;
      }
      const markets = await call("/exchange/markets");
      if (!markets.length) return;
      ticker ??= markets[0].ticker;
      rules = markets.find((m) => m.ticker === ticker) ?? null;
      if (!rules) throw new ApiError({ status: 404, title: "Unknown instrument", detail: `The exchange does not trade ${ticker}.` });
      replace(picker, markets.map((m) => h("option", { value: m.ticker, selected: m.ticker === ticker }, m.ticker)));
      if (!socket) {
        const [levels, latest] = await Promise.all([
          call(`/exchange/markets/${encodeURIComponent(ticker)}/book`, { query: { depth: DEPTH } }),
          call(`/exchange/markets/${encodeURIComponent(ticker)}/trades`),
        ]);
        book = levels;
        recent = latest;
        connect();
      } else {
        book = { ...book, status: rules.status };
      }
      renderBook();
      renderTrades();
      if (ledger) {
        ledgerRuns = await hasRoute("/exchange/ledger/orders");
        ledger.hidden = !ledgerRuns;
        replace(ledger.querySelector("#ledger-stock"), `${stockOf(ticker)}.L`);
      }
      await Promise.all([refreshAccount(), refreshLedger()]);
    }
    return { node, update };
  },
};

/** The difference of two decimal price strings, exactly (in 10^-8 dollars). */
function spread(bid, ask) {
  const units = (text) => {
    const [whole, fraction = ""] = text.split(".");
    return BigInt(whole + fraction.padEnd(8, "0").slice(0, 8));
  };
  const difference = (units(ask) - units(bid)).toString().padStart(9, "0");
  return `${difference.slice(0, -8)}.${difference.slice(-8)}`;
}

/** The stock a book trades: AAPL for both the AAPL token's book and the AAPL.L ledger book. */
function stockOf(ticker) {
  return ticker.endsWith(".L") ? ticker.slice(0, -2) : ticker;
}

function amount(asset, text) {
  return asset === "USDC" ? usd(text) : `${shares(text)} shares`;
}
