// Corporate actions: splits and dividends, their dates, ratio or amount, and how far they have gone.

import { hasRoute, listAll } from "../api.js";
import { empty, h, replace, table } from "../dom.js";
import { time } from "../format.js";
import { EVERYONE } from "./roles.js";

export const corporateActionsPage = {
  id: "corporate-actions",
  title: "Corporate actions",
  nav: "Corporate actions",
  roles: EVERYONE,
  requires: "/corporate-actions",
  refreshMs: 10000,
  mount() {
    const body = h("div", {});
    const node = h(
      "section",
      { "aria-labelledby": "actions-title" },
      h("h1", { id: "actions-title" }, "Corporate actions"),
      h(
        "p",
        { class: "lede" },
        "A split changes every token's multiplier at its effective time; a dividend is paid out or reinvested by raising the multiplier, by the instrument's policy.",
      ),
      body,
    );
    async function update() {
      if (!(await hasRoute("/corporate-actions"))) {
        return replace(body, empty("This platform does not run corporate actions."));
      }
      const actions = await listAll("/corporate-actions");
      replace(
        body,
        actions.length
          ? table(
              "Corporate actions, by instrument",
              ["Instrument", "Kind", "Ex-date", "Record date", "Ratio or amount", "Policy", "State", "Effective"],
              actions.map((a) =>
                h(
                  "tr",
                  { "data-action": a.id },
                  h("th", { scope: "row" }, a.ticker),
                  h("td", {}, a.kind),
                  h("td", {}, a.ex_date ?? "—"),
                  h("td", {}, a.record_date ?? "—"),
                  h("td", { class: "num" }, a.ratio ?? (a.amount !== undefined && a.amount !== null ? `$${a.amount} per share` : "—")),
                  h("td", {}, a.policy ?? "—"),
                  h("td", {}, h("span", { class: `badge state-${a.state}` }, a.state)),
                  h("td", {}, a.effective_at ? time(a.effective_at) : "—"),
                ),
              ),
              { class: "data" },
            )
          : empty("No corporate actions announced."),
      );
    }
    return { node, update };
  },
};
