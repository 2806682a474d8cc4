// Simulation: the finished `equitoken simulate` runs, and the latest run's report.

import { call } from "../api.js";
import { empty, h, replace, table } from "../dom.js";
import { fromUnits } from "../decimal.js";
import { grouped, time } from "../format.js";
import { OPERATOR } from "./roles.js";

/** Integer units of `scale` decimals as dollars to the cent, truncated: 17041000366, 8 -> "$170.41". */
function dollars(units, scale) {
  if (units === null || units === undefined) return "—";
  const cents = BigInt(units) / 10n ** BigInt(scale - 2);
  return `$${grouped(fromUnits(cents, 2, 2))}`;
}

function bps(figures) {
  return `${figures.mean_bps.toFixed(1)} / ${figures.p95_bps.toFixed(1)} / ${figures.max_bps.toFixed(1)}`;
}

function runsTable(runs) {
  return table(
    "Finished runs, newest first",
    ["Run", "Week", "Days", "Agents", "Seed", "Actions", "Refused", "Finished"],
    runs.map((r) =>
      h(
        "tr",
        { "data-run": String(r.id) },
        h("th", { scope: "row" }, `#${r.id}`),
        h("td", {}, r.week),
        h("td", { class: "num" }, String(r.days)),
        h("td", { class: "num" }, grouped(String(r.agents))),
        h("td", { class: "num" }, String(r.seed)),
        h("td", { class: "num", "data-field": "actions" }, grouped(String(r.actions))),
        h("td", { class: "num", "data-field": "refused" }, grouped(String(r.refused))),
        h("td", {}, time(r.finished_at)),
      ),
    ),
    { class: "data", id: "simulation-runs" },
  );
}

function reportView(run) {
  const report = run.report;
  const prices = table(
    "Prices (open / high / low / close)",
    ["Instrument", "Series", "Open", "High", "Low", "Close"],
    Object.entries(report.prices).flatMap(([ticker, series]) =>
      Object.entries(series).map(([name, ohlc]) =>
        h(
          "tr",
          { "data-ticker": ticker, "data-series": name },
          h("th", { scope: "row" }, ticker),
          h("td", {}, name),
          ...["open", "high", "low", "close"].map((k) => h("td", { class: "num", "data-field": k }, ohlc ? dollars(ohlc[k], 8) : "—")),
        ),
      ),
    ),
    { class: "data", id: "simulation-prices" },
  );
  const markets = table(
    "Volumes, the book's spread and the peg to the underlying (bps: mean / p95 / max)",
    ["Instrument", "AMM volume", "Book volume", "Book trades", "Perp notional", "Borrowed", "Book spread", "AMM peg", "Book peg"],
    Object.entries(report.volumes).map(([ticker, v]) =>
      h(
        "tr",
        { "data-ticker": ticker },
        h("th", { scope: "row" }, ticker),
        h("td", { class: "num", "data-field": "amm-volume" }, dollars(v.amm_usdc, 6)),
        h("td", { class: "num", "data-field": "book-volume" }, dollars(v.book_usdc, 6)),
        h("td", { class: "num", "data-field": "book-trades" }, grouped(String(v.book_trades))),
        h("td", { class: "num" }, dollars(v.perp_notional_usdc, 6)),
        h("td", { class: "num" }, dollars(v.borrowed_usdc, 6)),
        h("td", { class: "num" }, bps(report.spreads[ticker])),
        h("td", { class: "num", "data-field": "amm-peg" }, bps(report.peg[ticker].amm)),
        h("td", { class: "num" }, bps(report.peg[ticker].book)),
      ),
    ),
    { class: "data", id: "simulation-markets" },
  );
  const actions = table(
    "Actions by agent kind (a refusal is the venue saying no)",
    ["Agent kind", "Action", "Done", "Refused"],
    Object.entries(report.actions).flatMap(([kind, byAction]) =>
      Object.entries(byAction).map(([action, counts]) =>
        h(
          "tr",
          { "data-kind": kind, "data-action": action },
          h("th", { scope: "row" }, kind.replaceAll("_", " ")),
          h("td", {}, action),
          h("td", { class: "num", "data-field": "done" }, grouped(String(counts.done))),
          h("td", { class: "num", "data-field": "refused" }, grouped(String(counts.refused))),
        ),
      ),
    ),
    { class: "data", id: "simulation-actions" },
  );
  const l = report.liquidations;
  const facts = h(
    "dl",
    { class: "facts", id: "simulation-summary" },
    h("dt", {}, "Week"),
    h("dd", {}, `${report.week.start.slice(0, 10)}, ${report.week.steps} steps, ${report.week.minute_bars ? "1-minute" : "daily"} bars`),
    h("dt", {}, "Agents"),
    h("dd", {}, Object.entries(report.agents).map(([k, n]) => `${n} ${k.replaceAll("_", " ")}`).join(", ")),
    h("dt", {}, "Liquidations"),
    h("dd", { "data-field": "liquidations" }, `lending ${l.lending}, perpetuals ${l.perps}`),
    h("dt", {}, "Actions"),
    h("dd", { "data-field": "totals" }, `${grouped(String(report.totals.done))} done, ${grouped(String(report.totals.refused))} refused`),
  );
  return h(
    "article",
    { class: "card", "aria-labelledby": "simulation-latest", "data-run": String(run.id) },
    h("h2", { id: "simulation-latest" }, `Run #${run.id}: ${run.agents} agents, seed ${run.seed}`),
    facts,
    prices,
    markets,
    actions,
  );
}

export const simulationPage = {
  id: "simulation",
  title: "Simulation",
  nav: "Simulation",
  roles: OPERATOR,
  refreshMs: 30000,
  mount() {
    const body = h("div", {});
    const node = h(
      "section",
      { "aria-labelledby": "simulation-title" },
      h("h1", { id: "simulation-title" }, "Simulation"),
      h(
        "p",
        { class: "lede" },
        "Market weeks replayed by `equitoken simulate`: seeded agents trading on the AMM, the order book, lending, perpetuals, CFDs and through the issuer, on an in-process chain.",
      ),
      body,
    );
    async function update() {
      const runs = await call("/simulations");
      if (!runs.length) {
        return replace(body, empty("No simulation has run yet: run `equitoken simulate`."));
      }
      const latest = await call(`/simulations/${runs[0].id}`);
      replace(body, reportView(latest), runsTable(runs));
    }
    return { node, update };
  },
};
