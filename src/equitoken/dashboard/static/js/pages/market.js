// Market and broker status: the session phase, holidays, the next open and close.

import { call } from "../api.js";
import { h, replace } from "../dom.js";
import { phaseBadge, time } from "../format.js";
import { EVERYONE } from "./roles.js";

export const marketPage = {
  id: "market",
  title: "Market",
  nav: "Market",
  roles: EVERYONE,
  refreshMs: 5000,
  mount() {
    const market = h("div", {});
    const broker = h("div", {});
    const node = h(
      "section",
      { "aria-labelledby": "market-title" },
      h("h1", { id: "market-title" }, "Market and broker"),
      h("div", { class: "cards" }, market, broker),
    );
    async function update() {
      const [m, b] = await Promise.all([call("/market"), call("/broker")]);
      replace(
        market,
        h(
          "article",
          { class: "card", "aria-labelledby": "market-card" },
          h("h2", { id: "market-card" }, `Market (${m.calendar})`),
          h(
            "dl",
            { class: "facts" },
            h("dt", {}, "Phase"),
            h("dd", { id: "market-phase" }, phaseBadge(m.is_holiday ? "holiday" : m.phase)),
            h("dt", {}, "Market time"),
            h("dd", {}, time(m.now)),
            h("dt", {}, "Holiday today"),
            h("dd", {}, m.is_holiday ? "yes" : "no"),
            h("dt", {}, "Next open"),
            h("dd", {}, new Date(m.next_open) <= new Date(m.now) ? "now (the session is open)" : time(m.next_open)),
            h("dt", {}, "Next close"),
            h("dd", {}, time(m.next_close)),
          ),
        ),
      );
      replace(
        broker,
        h(
          "article",
          { class: "card", "aria-labelledby": "broker-card" },
          h("h2", { id: "broker-card" }, "Broker"),
          h(
            "dl",
            { class: "facts" },
            h("dt", {}, "Name"),
            h("dd", {}, b.name),
            h("dt", {}, "Connection"),
            h(
              "dd",
              { id: "broker-connection" },
              h("span", { class: `badge tone-${b.connected ? "good" : "bad"}` }, b.connected ? "✓ connected" : "✗ disconnected"),
            ),
            h("dt", {}, "Market phase it sees"),
            h("dd", {}, phaseBadge(b.market_phase)),
          ),
        ),
      );
    }
    return { node, update };
  },
};
