// Operator: a chart of custody and tokens outstanding over time, per instrument.

import { listAll } from "../api.js";
import { empty, h, replace, table } from "../dom.js";
import { legend, stepChart } from "../chart.js";
import { shares, time } from "../format.js";
import { OPERATOR } from "./roles.js";

const SERIES = [
  { key: "custody_shares", name: "Custody", className: "custody" },
  { key: "outstanding_shares", name: "Outstanding (supply × multiplier)", className: "outstanding" },
];

export const historyPage = {
  id: "history",
  title: "Reserves over time",
  nav: "Over time",
  roles: OPERATOR,
  refreshMs: 5000,
  mount({ query, navigate }) {
    const select = h("select", { id: "history-ticker", name: "ticker" });
    select.addEventListener("change", () => navigate("/reserves/history", { ticker: select.value }));
    const body = h("div", {});
    const node = h(
      "section",
      { "aria-labelledby": "history-title" },
      h("h1", { id: "history-title" }, "Reserves and supply over time"),
      h("div", { class: "toolbar" }, h("label", { for: "history-ticker" }, "Instrument"), select),
      body,
    );
    let tickers = null;
    async function update() {
      if (!tickers) {
        tickers = (await listAll("/reserves")).map((r) => r.ticker);
        replace(select, tickers.map((t) => h("option", { value: t, selected: t === query.ticker }, t)));
      }
      const ticker = query.ticker && tickers.includes(query.ticker) ? query.ticker : tickers[0];
      if (!ticker) return replace(body, empty("No instruments are deployed."));
      const points = await listAll("/reserves/history", { query: { ticker } });
      points.sort((a, b) => new Date(a.at) - new Date(b.at));
      const tableOpen = body.querySelector("details")?.open ?? false;
      if (!points.length) return replace(body, empty(`No reserve history for ${ticker} yet.`));
      const series = SERIES.map((line) => ({
        ...line,
        points: points
          .filter((p) => p[line.key] !== null)
          .map((p) => ({ at: new Date(p.at), value: Number(p[line.key]) })),
      })).filter((line) => line.points.length);
      const missing = SERIES.filter((line) => !series.some((shown) => shown.key === line.key));
      const last = points.at(-1);
      replace(
        body,
        h(
          "figure",
          {},
          stepChart({
            title: `${ticker}: custody and tokens outstanding`,
            description: `${points.length} points; latest at ${last.at}: custody ${last.custody_shares} shares, outstanding ${last.outstanding_shares ?? "unknown"} shares.`,
            series,
            unit: "shares",
          }),
          h(
            "figcaption",
            {},
            legend(series),
            missing.length ? h("p", { class: "help" }, `Not recorded over time yet: ${missing.map((l) => l.name).join(", ")}.`) : null,
          ),
        ),
        h(
          "details",
          { open: tableOpen },
          h("summary", {}, "The data as a table"),
          table(
            `${ticker}: reserve history`,
            ["Time", "Custody (shares)", "Outstanding (shares)"],
            points.map((p) =>
              h(
                "tr",
                {},
                h("td", {}, time(p.at)),
                h("td", { class: "num" }, shares(p.custody_shares)),
                h("td", { class: "num" }, p.outstanding_shares === null ? "—" : shares(p.outstanding_shares)),
              ),
            ),
            { class: "data" },
          ),
        ),
      );
    }
    return { node, update };
  },
};
