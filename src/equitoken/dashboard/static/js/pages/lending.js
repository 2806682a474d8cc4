// The lending venue: every market (supply, borrows, utilisation, rates, LTVs and the oracle adapter's
// state); for investors, their own positions with the health factor, and a form to supply, borrow,
// repay and withdraw. Each submission keeps its Idempotency-Key until the API answers, so retrying
// the same submission never sends a second transaction.

import { ApiError, call, newIdempotencyKey } from "../api.js";
import { empty, h, replace, table } from "../dom.js";
import { fromUnits, toUnits } from "../decimal.js";
import { address, grouped, percent, price, usd } from "../format.js";
import { problemBox } from "../problem.js";
import { EVERYONE, INVESTORS } from "./roles.js";

const STATES = {
  open: "good",
  grace: "warn",
  closed: "warn",
  halted: "bad",
  reserve_paused: "bad",
  no_price: "bad",
};

// What each action moves, how the form names it, and whether an empty amount means "all of it".
const ACTIONS = {
  supply: { label: "Supply USDC (lend)", unit: "usdc", all: false, done: "Supplied" },
  withdraw: { label: "Withdraw supplied USDC", unit: "usdc", all: true, done: "Withdrew" },
  "supply-collateral": { label: "Deposit collateral", unit: "tokens", all: false, done: "Deposited" },
  "withdraw-collateral": { label: "Withdraw collateral", unit: "tokens", all: true, done: "Withdrew" },
  borrow: { label: "Borrow USDC", unit: "usdc", all: false, done: "Borrowed" },
  repay: { label: "Repay USDC", unit: "usdc", all: true, done: "Repaid" },
};

function stateBadge(market) {
  return h("span", { class: `badge tone-${STATES[market.state] ?? "neutral"}`, "data-state": market.state }, market.state_label);
}

/** The health factor, two decimals, coloured: below 1 liquidatable, below 1.1 close to it. */
export function healthBadge(factor) {
  if (factor === null) return h("span", { class: "badge tone-neutral", "data-health": "none" }, "no debt");
  const hundredths = toUnits(factor, 8) / 10n ** 6n;
  const tone = hundredths < 100n ? "bad" : hundredths < 110n ? "warn" : "good";
  return h("span", { class: `badge tone-${tone}`, "data-health": factor }, fromUnits(hundredths, 2, 2));
}

function tokens(text) {
  return grouped(text);
}

export const lendingPage = {
  id: "lending",
  title: "Lending markets",
  nav: "Lending",
  roles: EVERYONE,
  requires: "/lending/markets",
  refreshMs: 10000,
  mount() {
    const body = h("div", { id: "lending-markets" });
    const node = h(
      "section",
      { "aria-labelledby": "lending-title" },
      h("h1", { id: "lending-title" }, "Lending markets"),
      h(
        "p",
        { class: "lede" },
        "Each market lends USDC against one stock token. A borrow may take a position to the market's max LTV; beyond the LLTV anyone may liquidate it. " +
          "While the stock's market is closed, borrows stop at the LLTV less the closed-market cut (Monday can gap); halted or unpriced markets lend nothing, and after a reopening liquidations wait out a grace period.",
      ),
      body,
    );
    async function update() {
      const markets = await call("/lending/markets");
      replace(
        body,
        markets.length
          ? table(
              "Markets",
              ["Market", "State", "Price per token", "Supplied", "Borrowed", "Utilisation", "Borrow APR", "Supply APY", "Max LTV", "LLTV", "Borrow LTV now"],
              markets.map((m) =>
                h(
                  "tr",
                  { "data-ticker": m.ticker },
                  h("th", { scope: "row" }, m.ticker),
                  h("td", { "data-field": "state" }, stateBadge(m)),
                  h("td", { class: "num", "data-field": "price" }, m.price === null ? "no price" : price(m.price)),
                  h("td", { class: "num", "data-field": "supplied" }, usd(m.supplied)),
                  h("td", { class: "num", "data-field": "borrowed" }, usd(m.borrowed)),
                  h("td", { class: "num", "data-field": "utilisation" }, percent(m.utilisation)),
                  h("td", { class: "num", "data-field": "borrow-apr" }, percent(m.borrow_apr)),
                  h("td", { class: "num", "data-field": "supply-apy" }, percent(m.supply_apy)),
                  h("td", { class: "num", "data-field": "max-ltv" }, percent(m.max_ltv, 0)),
                  h("td", { class: "num", "data-field": "lltv" }, percent(m.lltv, 0)),
                  h("td", { class: "num", "data-field": "borrow-ltv" }, m.borrow_ltv === null ? "no borrows" : percent(m.borrow_ltv, 0)),
                ),
              ),
              { class: "data" },
            )
          : empty("No lending market is deployed."),
      );
    }
    return { node, update };
  },
};

export const lendingPositionsPage = {
  id: "lending-positions",
  title: "Borrow and lend",
  nav: "Borrow & lend",
  roles: INVESTORS,
  requires: "/lending/positions",
  refreshMs: 10000,
  mount({ user }) {
    const positions = h("div", { id: "lending-positions" });
    const action = h(
      "select",
      { id: "lending-action", name: "action" },
      Object.entries(ACTIONS).map(([value, { label }]) => h("option", { value }, label)),
    );
    const market = h("select", { id: "lending-market", name: "ticker" });
    const amount = h("input", { id: "lending-amount", name: "amount", inputmode: "decimal", autocomplete: "off", "aria-describedby": "lending-amount-help" });
    const help = h("p", { id: "lending-amount-help", class: "help" });
    const submit = h("button", { type: "submit" }, "Send");
    const status = h("div", { class: "form-status", "aria-live": "polite" });
    const form = h(
      "form",
      { class: "card spaced", "aria-labelledby": "lending-form-title", novalidate: true },
      h("h2", { id: "lending-form-title" }, "Supply, borrow, repay or withdraw"),
      h("label", { for: "lending-action" }, "Action"),
      action,
      h("label", { for: "lending-market" }, "Market"),
      market,
      h("label", { for: "lending-amount" }, "Amount"),
      amount,
      help,
      submit,
      status,
    );
    const node = h(
      "section",
      { "aria-labelledby": "lending-positions-title" },
      h("h1", { id: "lending-positions-title" }, "Borrow and lend"),
      h(
        "p",
        { class: "lede" },
        `${user.name ?? user.investor_id}: your positions in the lending markets, from your registered wallets. Keep the health factor above 1: below it the position may be liquidated.`,
      ),
      positions,
      form,
    );

    function showHelp() {
      const chosen = ACTIONS[action.value];
      const unit = chosen.unit === "usdc" ? "Dollars of USDC, for example 250 or 99.5." : "Tokens of the market's stock, for example 1 or 0.25.";
      replace(help, unit, chosen.all ? " Leave empty for all of it." : "");
    }
    action.addEventListener("change", showHelp);
    showHelp();

    let pending = null;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const path = action.value;
      const body = { ticker: market.value };
      if (amount.value.trim()) body.amount = amount.value.trim();
      if (!pending || pending.path !== path || JSON.stringify(pending.body) !== JSON.stringify(body)) pending = { path, body, key: newIdempotencyKey() };
      submit.disabled = true;
      replace(status, h("p", {}, "Sending…"));
      try {
        const receipt = await call(`/lending/${path}`, { method: "POST", body, idempotencyKey: pending.key });
        pending = null;
        const moved = ACTIONS[path].unit === "usdc" ? usd(receipt.amount) : `${tokens(receipt.amount)} ${receipt.ticker} tokens`;
        replace(
          status,
          h("p", { role: "status" }, `${ACTIONS[path].done} ${moved} in the ${receipt.ticker} market. Health factor now `, healthBadge(receipt.position.health_factor), "."),
        );
        amount.value = "";
      } catch (error) {
        if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429) pending = null;
        replace(status, problemBox(error));
      } finally {
        submit.disabled = false;
      }
      await showPositions();
    });

    async function showPositions() {
      const mine = await call("/lending/positions");
      replace(
        positions,
        mine.length
          ? table(
              "Your positions",
              ["Market", "Wallet", "Supplied", "Collateral (tokens)", "Collateral value", "Debt", "LTV", "Health factor", "Liquidation price", "Borrow limit"],
              mine.map((p) =>
                h(
                  "tr",
                  { "data-ticker": p.ticker, "data-wallet": p.wallet },
                  h("th", { scope: "row" }, p.ticker),
                  h("td", {}, address(p.wallet)),
                  h("td", { class: "num", "data-field": "supplied" }, usd(p.supplied)),
                  h("td", { class: "num", "data-field": "collateral" }, tokens(p.collateral)),
                  h("td", { class: "num", "data-field": "collateral-value" }, p.collateral_value === null ? "no price" : usd(p.collateral_value)),
                  h("td", { class: "num", "data-field": "debt" }, usd(p.debt)),
                  h("td", { class: "num", "data-field": "ltv" }, percent(p.ltv)),
                  h("td", { class: "num", "data-field": "health" }, healthBadge(p.health_factor)),
                  h("td", { class: "num", "data-field": "liquidation-price" }, p.liquidation_price === null ? "—" : price(p.liquidation_price)),
                  h("td", { class: "num", "data-field": "borrow-limit" }, p.borrow_limit === null ? "—" : usd(p.borrow_limit)),
                ),
              ),
              { class: "data" },
            )
          : h("div", {}, h("h2", {}, "Your positions"), empty("You have no lending positions yet.")),
      );
    }

    async function update() {
      const markets = await call("/lending/markets");
      const chosen = market.value;
      replace(
        market,
        markets.map((m) => h("option", { value: m.ticker, selected: m.ticker === chosen }, `${m.ticker} · max LTV ${percent(m.max_ltv, 0)}, LLTV ${percent(m.lltv, 0)} · ${m.state_label}`)),
      );
      await showPositions();
    }
    return { node, update };
  },
};
