// The derivatives venues: perpetual futures on stocks (against an LP vault), synthetic stocks minted
// against USDC, and CFDs with the venue. Each page lists the markets for everyone and, for investors,
// their own positions (entry, mark, PnL, liquidation price, funding paid) and orders, with a form to
// act. Each submission keeps its Idempotency-Key until the API answers, so retrying the same
// submission never acts twice; a refusal is shown with the problem's title and detail.

import { ApiError, call, newIdempotencyKey } from "../api.js";
import { empty, h, replace, table } from "../dom.js";
import { grouped, percent, price, usd } from "../format.js";
import { problemBox } from "../problem.js";
import { EVERYONE } from "./roles.js";

const TONES = { open: "good", discovery: "warn", closed: "warn", halted: "bad", no_price: "bad", suspended: "warn" };

function badge(state, label) {
  return h("span", { class: `badge tone-${TONES[state] ?? "neutral"}`, "data-state": state }, label ?? state.replace("_", " "));
}

function maybe(value, show) {
  return value === null || value === undefined ? "—" : show(value);
}

function signed(text) {
  return maybe(text, (value) => h("span", { class: value.startsWith("-") ? "loss" : "gain" }, usd(value)));
}

function isInvestor(user) {
  return user.role !== "operator";
}

/** A labelled input or select in a wrapper the form shows or hides per action. */
function field(id, label, control, help) {
  control.id = id;
  return h("div", { class: "field", "data-for": id }, h("label", { for: id }, label), control, help ? h("p", { class: "help" }, help) : null);
}

function input(name, help) {
  return h("input", { name, inputmode: "decimal", autocomplete: "off", placeholder: help ?? "" });
}

function select(name, options) {
  return h(
    "select",
    { name },
    options.map(([value, label]) => h("option", { value }, label)),
  );
}

/**
 * A form whose fields show per action; `send(action, values)` returns [path, body, describe(answer)].
 * Returns the form and a function that fills a select's options.
 */
function actionForm({ idPrefix, title, actions, fields, send, after }) {
  const action = select("action", Object.entries(actions).map(([value, a]) => [value, a.label]));
  const controls = {};
  const wrappers = [field(`${idPrefix}-action`, "Action", action)];
  for (const [name, { label, control, help }] of Object.entries(fields)) {
    controls[name] = control;
    wrappers.push(field(`${idPrefix}-${name}`, label, control, help));
  }
  const submit = h("button", { type: "submit" }, "Send");
  const status = h("div", { class: "form-status", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card spaced", "aria-labelledby": `${idPrefix}-form-title`, novalidate: true },
    h("h2", { id: `${idPrefix}-form-title` }, title),
    wrappers,
    submit,
    status,
  );
  function showFields() {
    const wanted = new Set(["action", ...actions[action.value].fields]);
    for (const wrapper of wrappers) {
      const name = wrapper.dataset.for.slice(idPrefix.length + 1);
      wrapper.hidden = !wanted.has(name);
    }
  }
  action.addEventListener("change", showFields);
  showFields();

  let pending = null;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = {};
    for (const name of actions[action.value].fields) {
      const value = controls[name].value.trim();
      if (value !== "") values[name] = value;
    }
    const [path, body, describe] = send(action.value, values);
    if (!pending || pending.path !== path || JSON.stringify(pending.body) !== JSON.stringify(body)) pending = { path, body, key: newIdempotencyKey() };
    submit.disabled = true;
    replace(status, h("p", {}, "Sending…"));
    try {
      const answer = await call(path, { method: "POST", body, idempotencyKey: pending.key });
      pending = null;
      replace(status, h("p", { role: "status" }, describe(answer)));
      for (const control of Object.values(controls)) if (control.tagName === "INPUT") control.value = "";
    } catch (error) {
      if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429) pending = null;
      replace(status, problemBox(error));
    } finally {
      submit.disabled = false;
    }
    await after();
  });
  return { form, action, controls };
}

function fillSelect(control, options) {
  const chosen = control.value;
  replace(
    control,
    options.map(([value, label]) => h("option", { value, selected: value === chosen }, label)),
  );
}

// -- perpetuals

const PERP_ACTIONS = {
  open: { label: "Open a position", fields: ["ticker", "side", "margin", "leverage", "take_profit", "stop_loss", "acceptable_price"] },
  close: { label: "Close a position", fields: ["ticker", "position_id", "size", "acceptable_price"] },
  "add-margin": { label: "Add margin", fields: ["ticker", "position_id", "amount"] },
  "set-triggers": { label: "Set take-profit / stop-loss", fields: ["ticker", "position_id", "take_profit", "stop_loss"] },
  "request-open": { label: "Queue an open for the reopening", fields: ["ticker", "side", "margin", "leverage", "take_profit", "stop_loss", "acceptable_price"] },
  "request-close": { label: "Queue a close for the reopening", fields: ["ticker", "position_id", "size", "acceptable_price"] },
  "cancel-order": { label: "Cancel a queued order", fields: ["ticker", "order_id"] },
};

function describePerp(path, receipt) {
  const p = receipt.position;
  switch (path) {
    case "open":
      return `Opened ${p.side} position ${receipt.position_id} in ${receipt.ticker}: ${grouped(p.size)} tokens at ${price(p.entry)}, margin ${usd(p.margin)}.`;
    case "close":
      return p ? `Closed part of position ${receipt.position_id} in ${receipt.ticker}; ${grouped(p.size)} tokens remain.` : `Closed position ${receipt.position_id} in ${receipt.ticker}.`;
    case "add-margin":
      return `Added margin to position ${receipt.position_id}: now ${usd(p.margin)}.`;
    case "set-triggers":
      return `Set the triggers of position ${receipt.position_id}.`;
    case "cancel-order":
      return `Cancelled order ${receipt.order_id} in ${receipt.ticker}.`;
    default:
      return `Queued order ${receipt.order_id} in ${receipt.ticker} for the reopening.`;
  }
}

export const perpsPage = {
  id: "perps",
  title: "Perpetuals",
  nav: "Perpetuals",
  roles: EVERYONE,
  requires: "/perps/markets",
  refreshMs: 10000,
  mount({ user }) {
    const markets = h("div", { id: "perp-markets" });
    const vault = h("div", { id: "perp-vault" });
    const positions = h("div", { id: "perp-positions" });
    const orders = h("div", { id: "perp-orders" });
    const ticker = select("ticker", []);
    const { form } = actionForm({
      idPrefix: "perp",
      title: "Trade perpetuals",
      actions: PERP_ACTIONS,
      fields: {
        ticker: { label: "Market", control: ticker },
        side: { label: "Side", control: select("side", [["long", "Long"], ["short", "Short"]]) },
        margin: { label: "Margin (USDC)", control: input("margin", "100"), help: "Dollars of USDC from your wallet; the open fee comes out of it." },
        leverage: { label: "Leverage", control: input("leverage", "5") },
        position_id: { label: "Position", control: input("position_id", "1") },
        size: { label: "Size (tokens)", control: input("size"), help: "Leave empty for the whole position." },
        amount: { label: "Amount (USDC)", control: input("amount") },
        take_profit: { label: "Take profit (price)", control: input("take_profit") },
        stop_loss: { label: "Stop loss (price)", control: input("stop_loss") },
        acceptable_price: { label: "Worst acceptable price", control: input("acceptable_price") },
        order_id: { label: "Order", control: input("order_id", "1") },
      },
      send(path, values) {
        const body = { ...values };
        for (const id of ["position_id", "order_id"]) if (id in body) body[id] = Number(body[id]);
        return [`/perps/${path}`, body, (receipt) => describePerp(path, receipt)];
      },
      after: () => showMine(),
    });
    const investor = isInvestor(user);
    const node = h(
      "section",
      { "aria-labelledby": "perps-title" },
      h("h1", { id: "perps-title" }, "Perpetuals"),
      h(
        "p",
        { class: "lede" },
        "Perpetual futures on stock tokens, long or short with leverage, against the LP vault. Funding moves with the skew (positive: longs pay shorts). " +
          "While a stock's market is closed, markets under the closed policy queue orders for the reopening; those under price discovery trade in a band around the close.",
      ),
      markets,
      vault,
      investor ? positions : null,
      investor ? orders : null,
      investor ? form : null,
    );

    async function showMine() {
      const [mine, queued] = await Promise.all([call("/perps/positions"), call("/perps/orders")]);
      replace(
        positions,
        mine.length
          ? table(
              "Your positions",
              ["ID", "Market", "Side", "Size (tokens)", "Entry", "Mark", "Margin", "Leverage", "PnL", "Funding paid", "Liquidation price", "TP / SL"],
              mine.map((p) =>
                h(
                  "tr",
                  { "data-position-id": String(p.position_id), "data-ticker": p.ticker },
                  h("th", { scope: "row" }, String(p.position_id)),
                  h("td", {}, p.ticker),
                  h("td", { "data-field": "side" }, p.side),
                  h("td", { class: "num", "data-field": "size" }, grouped(p.size)),
                  h("td", { class: "num", "data-field": "entry" }, price(p.entry)),
                  h("td", { class: "num", "data-field": "mark" }, maybe(p.mark, price)),
                  h("td", { class: "num", "data-field": "margin" }, usd(p.margin)),
                  h("td", { class: "num", "data-field": "leverage" }, maybe(p.leverage, (l) => `${grouped(l.replace(/(\.\d{2})\d*$/, "$1"))}x`)),
                  h("td", { class: "num", "data-field": "pnl" }, signed(p.pnl)),
                  h("td", { class: "num", "data-field": "funding" }, usd(p.funding_paid)),
                  h("td", { class: "num", "data-field": "liquidation-price" }, maybe(p.liquidation_price, price)),
                  h("td", { class: "num", "data-field": "triggers" }, `${maybe(p.take_profit, price)} / ${maybe(p.stop_loss, price)}`),
                ),
              ),
              { class: "data" },
            )
          : h("div", {}, h("h2", {}, "Your positions"), empty("You have no perpetual positions.")),
      );
      replace(
        orders,
        queued.length
          ? table(
              "Your queued orders",
              ["Order", "Market", "Kind", "Side", "Margin", "Leverage", "Position", "Size (tokens)"],
              queued.map((o) =>
                h(
                  "tr",
                  { "data-order-id": String(o.order_id) },
                  h("th", { scope: "row" }, String(o.order_id)),
                  h("td", {}, o.ticker),
                  h("td", {}, o.kind),
                  h("td", {}, o.side),
                  h("td", { class: "num" }, usd(o.margin)),
                  h("td", { class: "num" }, `${grouped(o.leverage)}x`),
                  h("td", { class: "num" }, o.position_id ? String(o.position_id) : "—"),
                  h("td", { class: "num" }, grouped(o.size)),
                ),
              ),
              { class: "data" },
            )
          : h("div", {}, h("h2", {}, "Your queued orders"), empty("No order waits for a reopening.")),
      );
    }

    async function update() {
      const [all, pool] = await Promise.all([call("/perps/markets"), call("/perps/vault")]);
      fillSelect(ticker, all.map((m) => [m.ticker, `${m.ticker} · ${m.state_label}`]));
      replace(
        markets,
        all.length
          ? table(
              "Markets",
              ["Market", "State", "Mark", "Funding / day", "Long (tokens)", "Short (tokens)", "Skew", "Max leverage", "Open / close fee"],
              all.map((m) =>
                h(
                  "tr",
                  { "data-ticker": m.ticker },
                  h("th", { scope: "row" }, m.ticker),
                  h("td", { "data-field": "state" }, badge(m.state, m.state_label)),
                  h("td", { class: "num", "data-field": "mark" }, maybe(m.mark, price)),
                  h("td", { class: "num", "data-field": "funding" }, percent(m.funding_rate, 4)),
                  h("td", { class: "num", "data-field": "long" }, grouped(m.long_size)),
                  h("td", { class: "num", "data-field": "short" }, grouped(m.short_size)),
                  h("td", { class: "num", "data-field": "skew" }, grouped(m.skew)),
                  h("td", { class: "num", "data-field": "max-leverage" }, `${m.parameters.max_leverage}x`),
                  h("td", { class: "num" }, `${m.parameters.open_fee_bps} / ${m.parameters.close_fee_bps} bps`),
                ),
              ),
              { class: "data" },
            )
          : empty("No perpetual market is deployed."),
      );
      replace(
        vault,
        h(
          "p",
          { class: "card" },
          "LP vault: ",
          h("span", { "data-field": "assets" }, usd(pool.assets)),
          " of USDC, ",
          h("span", { "data-field": "reserved" }, usd(pool.reserved)),
          " reserved for open positions' profits, ",
          h("span", { "data-field": "free" }, usd(pool.free)),
          " free.",
        ),
      );
      if (investor) await showMine();
    }
    return { node, update };
  },
};

// -- synthetic stocks

const SYNTH_ACTIONS = {
  open: { label: "Open a position (lock USDC, mint)", fields: ["ticker", "collateral", "amount"] },
  deposit: { label: "Deposit USDC", fields: ["ticker", "position_id", "usdc"] },
  withdraw: { label: "Withdraw USDC", fields: ["ticker", "position_id", "usdc"] },
  mint: { label: "Mint synthetics", fields: ["ticker", "position_id", "amount"] },
  burn: { label: "Burn synthetics (repay)", fields: ["ticker", "position_id", "amount"] },
  close: { label: "Close a position", fields: ["ticker", "position_id"] },
};

function describeSynth(action, receipt) {
  const symbol = `s${receipt.ticker}`;
  switch (action) {
    case "open":
      return `Opened position ${receipt.position_id}: locked ${usd(receipt.collateral)}, minted ${grouped(receipt.synth)} ${symbol}.`;
    case "deposit":
      return `Deposited ${usd(receipt.collateral)} in position ${receipt.position_id}.`;
    case "withdraw":
      return `Withdrew ${usd(receipt.collateral)} from position ${receipt.position_id}.`;
    case "mint":
      return `Minted ${grouped(receipt.synth)} ${symbol} against position ${receipt.position_id}.`;
    case "burn":
      return `Burned ${grouped(receipt.synth)} ${symbol} against position ${receipt.position_id}.`;
    default:
      return `Closed position ${receipt.position_id}: ${usd(receipt.collateral)} back.`;
  }
}

export const synthsPage = {
  id: "synths",
  title: "Synthetic stocks",
  nav: "Synthetics",
  roles: EVERYONE,
  requires: "/synths/vaults",
  refreshMs: 10000,
  mount({ user }) {
    const vaults = h("div", { id: "synth-vaults" });
    const positions = h("div", { id: "synth-positions" });
    const ticker = select("ticker", []);
    const { form } = actionForm({
      idPrefix: "synth",
      title: "Mint and burn synthetics",
      actions: SYNTH_ACTIONS,
      fields: {
        ticker: { label: "Synthetic", control: ticker },
        position_id: { label: "Position", control: input("position_id", "1") },
        collateral: { label: "Collateral (USDC)", control: input("collateral", "3000") },
        usdc: { label: "USDC", control: input("usdc"), help: "Dollars; to withdraw, leave empty for as much as it may." },
        amount: { label: "Synthetics", control: input("amount"), help: "Whole synthetics; to burn, leave empty for the whole debt." },
      },
      send(action, values) {
        const body = { ticker: values.ticker };
        if ("position_id" in values) body.position_id = Number(values.position_id);
        if ("collateral" in values) body.collateral = values.collateral;
        if ("usdc" in values) body.amount = values.usdc;
        if ("amount" in values) body.amount = values.amount;
        return [`/synths/${action}`, body, (receipt) => describeSynth(action, receipt)];
      },
      after: () => showMine(),
    });
    const investor = isInvestor(user);
    const node = h(
      "section",
      { "aria-labelledby": "synths-title" },
      h("h1", { id: "synths-title" }, "Synthetic stocks"),
      h(
        "p",
        { class: "lede" },
        "A synthetic tracks a stock token's price and is minted against USDC you lock in its vault, above the vault's minimum collateral ratio. " +
          "While the stock's market is closed or halted, or the price is stale, only deposits (and withdrawals without debt) go through; a position below the minimum ratio may be liquidated.",
      ),
      vaults,
      investor ? positions : null,
      investor ? form : null,
    );

    async function showMine() {
      const mine = await call("/synths/positions");
      replace(
        positions,
        mine.length
          ? table(
              "Your positions",
              ["ID", "Synthetic", "Collateral", "Debt (synthetics)", "Debt value", "Collateral ratio", "Liquidation price", "May mint"],
              mine.map((p) =>
                h(
                  "tr",
                  { "data-position-id": String(p.position_id), "data-ticker": p.ticker },
                  h("th", { scope: "row" }, String(p.position_id)),
                  h("td", {}, `s${p.ticker}`),
                  h("td", { class: "num", "data-field": "collateral" }, usd(p.collateral)),
                  h("td", { class: "num", "data-field": "debt" }, grouped(p.debt)),
                  h("td", { class: "num", "data-field": "debt-value" }, maybe(p.debt_value, usd)),
                  h("td", { class: "num", "data-field": "ratio" }, maybe(p.collateral_ratio, (r) => percent(r, 0))),
                  h("td", { class: "num", "data-field": "liquidation-price" }, maybe(p.liquidation_price, price)),
                  h("td", { class: "num", "data-field": "max-mint" }, grouped(p.max_mint)),
                ),
              ),
              { class: "data" },
            )
          : h("div", {}, h("h2", {}, "Your positions"), empty("You have no synthetic positions.")),
      );
    }

    async function update() {
      const all = await call("/synths/vaults");
      fillSelect(ticker, all.map((v) => [v.ticker, `${v.symbol} · ${v.state_label}`]));
      replace(
        vaults,
        all.length
          ? table(
              "Vaults",
              ["Synthetic", "State", "Price", "Min collateral ratio", "Liquidation penalty", "Collateral", "Debt (synthetics)", "Supply"],
              all.map((v) =>
                h(
                  "tr",
                  { "data-ticker": v.ticker },
                  h("th", { scope: "row" }, v.symbol),
                  h("td", { "data-field": "state" }, badge(v.state, v.state_label)),
                  h("td", { class: "num", "data-field": "price" }, maybe(v.price, price)),
                  h("td", { class: "num", "data-field": "min-ratio" }, percent(v.min_collateral_ratio, 0)),
                  h("td", { class: "num" }, percent(v.liquidation_penalty, 0)),
                  h("td", { class: "num", "data-field": "collateral" }, usd(v.total_collateral)),
                  h("td", { class: "num", "data-field": "debt" }, grouped(v.total_debt)),
                  h("td", { class: "num", "data-field": "supply" }, grouped(v.supply)),
                ),
              ),
              { class: "data" },
            )
          : empty("No synthetic is deployed."),
      );
      if (investor) await showMine();
    }
    return { node, update };
  },
};

// -- CFDs

const CFD_ACTIONS = {
  "to-cfd": { label: "Move USDC from the exchange to CFDs", fields: ["amount"] },
  "from-cfd": { label: "Move USDC from CFDs to the exchange", fields: ["amount"] },
  open: { label: "Open a CFD", fields: ["symbol", "side", "size", "leverage"] },
  close: { label: "Close a CFD", fields: ["position_id", "size"] },
};

function describeCfd(action, answer) {
  switch (action) {
    case "to-cfd":
      return `Moved ${usd(answer.amount)} to your CFD account (${answer.state}).`;
    case "from-cfd":
      return `Moved ${usd(answer.amount)} to your exchange account (${answer.state}).`;
    case "open":
      return `Opened CFD ${answer.position_id}: ${grouped(answer.size)} ${answer.symbol} at ${price(answer.price)}.`;
    default:
      return `Closed ${grouped(answer.size)} ${answer.symbol} of CFD ${answer.position_id} at ${price(answer.price)}: PnL ${usd(answer.pnl)}.`;
  }
}

export const cfdPage = {
  id: "cfd",
  title: "CFDs",
  nav: "CFDs",
  roles: EVERYONE,
  requires: "/cfd/instruments",
  refreshMs: 10000,
  mount({ user }) {
    const instruments = h("div", { id: "cfd-instruments" });
    const account = h("div", { id: "cfd-account" });
    const positions = h("div", { id: "cfd-positions" });
    const symbol = select("symbol", []);
    const { form } = actionForm({
      idPrefix: "cfd",
      title: "Fund and trade CFDs",
      actions: CFD_ACTIONS,
      fields: {
        symbol: { label: "Instrument", control: symbol },
        side: { label: "Side", control: select("side", [["long", "Long"], ["short", "Short"]]) },
        size: { label: "Size (shares)", control: input("size"), help: "Shares; to close, leave empty for the whole position." },
        leverage: { label: "Leverage (1:N)", control: input("leverage"), help: "Leave empty for the instrument's maximum." },
        position_id: { label: "Position", control: input("position_id", "1") },
        amount: { label: "Amount (USDC)", control: input("amount", "1000") },
      },
      send(action, values) {
        if (action === "to-cfd" || action === "from-cfd") {
          const direction = action === "to-cfd" ? "to_cfd" : "from_cfd";
          return ["/cfd/transfers", { direction, amount: values.amount }, (answer) => describeCfd(action, answer)];
        }
        const body = { ...values };
        for (const id of ["position_id", "leverage"]) if (id in body) body[id] = Number(body[id]);
        return [`/cfd/${action}`, body, (answer) => describeCfd(action, answer)];
      },
      after: () => showMine(),
    });
    const investor = isInvestor(user);
    const node = h(
      "section",
      { "aria-labelledby": "cfd-title" },
      h("h1", { id: "cfd-title" }, "CFDs"),
      h(
        "p",
        { class: "lede" },
        "Contracts for difference with the venue, margined in USDC from your CFD account (fund it from your exchange account). " +
          "Longs open at the ask and shorts at the bid; positions pay or earn financing each night; below a 50% margin level the largest loss is stopped out.",
      ),
      instruments,
      investor ? account : null,
      investor ? positions : null,
      investor ? form : null,
    );

    async function showMine() {
      const [mine, open] = await Promise.all([call("/cfd/account"), call("/cfd/positions")]);
      replace(
        account,
        h(
          "dl",
          { class: "card facts" },
          h("dt", {}, "CFD account"),
          h("dd", { "data-field": "account" }, String(mine.account)),
          h("dt", {}, "Balance"),
          h("dd", { "data-field": "balance" }, usd(mine.balance)),
          h("dt", {}, "Equity"),
          h("dd", { "data-field": "equity" }, usd(mine.equity)),
          h("dt", {}, "Used margin"),
          h("dd", { "data-field": "used-margin" }, usd(mine.used_margin)),
          h("dt", {}, "Free margin"),
          h("dd", { "data-field": "free-margin" }, usd(mine.free_margin)),
          h("dt", {}, "Margin level"),
          h("dd", { "data-field": "margin-level" }, mine.margin_level === null ? "—" : percent(mine.margin_level, 0)),
          h("dt", {}, "On the exchange"),
          h("dd", { "data-field": "exchange" }, usd(mine.exchange_available)),
        ),
      );
      replace(
        positions,
        open.length
          ? table(
              "Your CFD positions",
              ["ID", "Instrument", "Side", "Size (shares)", "Entry", "Mark", "PnL", "Leverage", "Margin"],
              open.map((p) =>
                h(
                  "tr",
                  { "data-position-id": String(p.position_id), "data-symbol": p.symbol },
                  h("th", { scope: "row" }, String(p.position_id)),
                  h("td", {}, p.symbol),
                  h("td", { "data-field": "side" }, p.side),
                  h("td", { class: "num", "data-field": "size" }, grouped(p.size)),
                  h("td", { class: "num", "data-field": "entry" }, price(p.entry)),
                  h("td", { class: "num", "data-field": "mark" }, maybe(p.mark, price)),
                  h("td", { class: "num", "data-field": "pnl" }, signed(p.pnl)),
                  h("td", { class: "num" }, `1:${p.leverage}`),
                  h("td", { class: "num", "data-field": "margin" }, maybe(p.margin, usd)),
                ),
              ),
              { class: "data" },
            )
          : h("div", {}, h("h2", {}, "Your CFD positions"), empty("You have no open CFD.")),
      );
    }

    async function update() {
      const all = await call("/cfd/instruments");
      fillSelect(symbol, all.map((i) => [i.symbol, `${i.symbol} · 1:${i.max_leverage} · ${i.state}`]));
      replace(
        instruments,
        table(
          "Instruments",
          ["Instrument", "Session", "Bid", "Ask", "Max leverage", "Spread", "Long financing / year", "Short financing / year"],
          all.map((i) =>
            h(
              "tr",
              { "data-symbol": i.symbol },
              h("th", { scope: "row" }, i.symbol),
              h("td", { "data-field": "state" }, badge(i.state)),
              h("td", { class: "num", "data-field": "bid" }, maybe(i.bid, price)),
              h("td", { class: "num", "data-field": "ask" }, maybe(i.ask, price)),
              h("td", { class: "num", "data-field": "leverage" }, `1:${i.max_leverage}`),
              h("td", { class: "num" }, `${i.spread_bps} bps`),
              h("td", { class: "num", "data-field": "long-rate" }, percent(i.long_financing_rate)),
              h("td", { class: "num", "data-field": "short-rate" }, percent(i.short_financing_rate)),
            ),
          ),
          { class: "data" },
        ),
      );
      if (investor) await showMine();
    }
    return { node, update };
  },
};
