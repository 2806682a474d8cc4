// Operator: per instrument and chain, tokens outstanding x multiplier against shares in custody.

import { call, hasRoute, listAll } from "../api.js";
import { empty, h, replace, table } from "../dom.js";
import { grouped, shares } from "../format.js";
import { OPERATOR } from "./roles.js";

export const reservesPage = {
  id: "reserves",
  title: "Reserves",
  nav: "Reserves",
  roles: OPERATOR,
  refreshMs: 3000,
  mount() {
    const summary = h("div", { class: "summary" });
    const body = h("div", {});
    const bridge = h("div", { id: "bridge-supply" });
    const node = h(
      "section",
      { "aria-labelledby": "reserves-title" },
      h("h1", { id: "reserves-title" }, "Reserves"),
      h(
        "p",
        { class: "lede" },
        "Shares held in custody against the shares the tokens stand for (supply × multiplier) on every chain. ",
        "A gap shown in red means custody does not cover the tokens outstanding. ",
        h("a", { href: "#/reserves/history" }, "Reserves and supply over time"),
        ".",
      ),
      summary,
      body,
      bridge,
    );
    async function update() {
      const [reserves, reports, bridged] = await Promise.all([
        listAll("/reserves"),
        hasRoute("/reserves/{ticker}/report"),
        hasRoute("/bridge/supply/{ticker}"),
      ]);
      const short = reserves.filter((r) => !r.backed);
      replace(
        summary,
        short.length
          ? h(
              "p",
              { class: "status-line tone-bad", role: "alert" },
              `Under-backed: ${short.map((r) => r.ticker).join(", ")}`,
            )
          : h("p", { class: "status-line tone-good" }, `All ${reserves.length} instruments fully backed`),
      );
      replace(body, reserves.length ? reservesTable(reserves, reports) : empty("No instruments are deployed."));
      // With the bridge on: each bridged token's supply per chain and what is in flight to each.
      const supplies = bridged
        ? (await Promise.all(reserves.map((r) => call(`/bridge/supply/${encodeURIComponent(r.ticker)}`).catch(() => null)))).filter(Boolean)
        : [];
      replace(bridge, supplies.length ? bridgeTable(supplies) : null);
    }
    return { node, update };
  },
};

function reservesTable(reserves, reports) {
  const rows = reserves.flatMap((reserve) => [
    h(
      "tr",
      { class: `instrument ${reserve.backed ? "" : "short"}`, "data-ticker": reserve.ticker },
      h("th", { scope: "row" }, reserve.ticker),
      h("td", {}, "all chains"),
      h("td", { class: "num" }, ""),
      h("td", { class: "num" }, ""),
      h("td", { class: "num", "data-field": "outstanding" }, shares(reserve.outstanding_shares)),
      h("td", { class: "num", "data-field": "custody" }, shares(reserve.custody_shares)),
      h(
        "td",
        { class: `num gap ${reserve.backed ? "" : "gap-short"}`, "data-field": "gap" },
        shares(reserve.gap_shares),
      ),
      h("td", {}, backedBadge(reserve.backed)),
      h(
        "td",
        {},
        reports ? h("a", { href: `#/reserves/${encodeURIComponent(reserve.ticker)}/report` }, "Signed report") : "not published",
      ),
    ),
    ...reserve.chains.map((chain) =>
      h(
        "tr",
        { class: "chain", "data-ticker": reserve.ticker, "data-chain": chain.chain_id },
        h("th", { scope: "row", class: "sub" }, reserve.ticker),
        h("td", {}, `${chain.family} (chain ${chain.chain_id})`),
        h("td", { class: "num" }, grouped(String(chain.supply_raw))),
        h("td", { class: "num" }, `× ${chain.multiplier}`),
        h("td", { class: "num" }, shares(chain.outstanding_shares)),
        h("td", {}, ""),
        h("td", {}, ""),
        h("td", {}, ""),
        h("td", {}, ""),
      ),
    ),
  ]);
  return table(
    "Custody against tokens outstanding (shares)",
    [
      "Instrument",
      "Chain",
      "Token supply (raw units)",
      "Multiplier",
      "Outstanding",
      "Custody",
      "Gap (custody − outstanding)",
      "Status",
      "Report",
    ],
    rows,
    { class: "data reserves" },
  );
}

function backedBadge(backed) {
  return backed
    ? h("span", { class: "badge tone-good" }, "✓ backed")
    : h("span", { class: "badge tone-bad" }, "✗ under-backed");
}


function bridgeTable(supplies) {
  const rows = supplies.flatMap((supply) =>
    supply.chains.map((chain) =>
      h(
        "tr",
        { class: "bridge-chain", "data-ticker": supply.ticker, "data-chain": chain.chain_id },
        h("th", { scope: "row" }, supply.ticker),
        h("td", {}, `${chain.name} (chain ${chain.chain_id})`),
        h("td", { class: "num", "data-field": "supply" }, shares(chain.supply)),
        h("td", { class: "num", "data-field": "in-flight" }, shares(chain.in_flight)),
      ),
    ),
  );
  return table(
    "Bridge: tokens on each chain and in flight to it",
    ["Instrument", "Chain", "Supply (tokens)", "In flight to it (tokens)"],
    rows,
    { class: "data bridge-supply" },
  );
}
