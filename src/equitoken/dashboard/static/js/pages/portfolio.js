// Investors: what they hold, in shares (tokens × multiplier) and dollars, per instrument and chain.

import { listAll } from "../api.js";
import { empty, h, replace, table } from "../dom.js";
import { sum } from "../decimal.js";
import { address, grouped, shares, usd } from "../format.js";
import { INVESTORS } from "./roles.js";

export const portfolioPage = {
  id: "portfolio",
  title: "Portfolio",
  nav: "Portfolio",
  roles: INVESTORS,
  refreshMs: 5000,
  mount({ user }) {
    const total = h("p", { class: "total" });
    const body = h("div", {});
    const node = h(
      "section",
      { "aria-labelledby": "portfolio-title" },
      h("h1", { id: "portfolio-title" }, "Portfolio"),
      h("p", { class: "lede" }, `${user.name ?? user.investor_id}: tokens held in your wallets, shown as the shares they stand for.`),
      total,
      body,
    );
    async function update() {
      const holdings = await listAll("/holdings");
      const priced = holdings.filter((x) => x.value_usd !== null);
      replace(
        total,
        "Total value ",
        h("strong", { id: "portfolio-total" }, usd(sum(priced.map((x) => x.value_usd), 6))),
        priced.length < holdings.length ? " (some holdings have no price yet)" : null,
      );
      replace(
        body,
        holdings.length
          ? table(
              "Holdings",
              ["Instrument", "Chain", "Wallet", "Tokens (raw units)", "Multiplier", "Shares", "Value"],
              holdings.map((x) =>
                h(
                  "tr",
                  { "data-ticker": x.ticker, "data-chain": x.chain_id },
                  h("th", { scope: "row" }, x.ticker),
                  h("td", {}, String(x.chain_id)),
                  h("td", {}, address(x.wallet)),
                  h("td", { class: "num" }, grouped(String(x.raw))),
                  h("td", { class: "num" }, String(x.multiplier)),
                  h("td", { class: "num", "data-field": "shares" }, shares(x.ui_shares)),
                  h("td", { class: "num", "data-field": "value" }, x.value_usd === null ? "no price" : usd(x.value_usd)),
                ),
              ),
              { class: "data" },
            )
          : empty("You hold no tokens yet."),
      );
    }
    return { node, update };
  },
};
