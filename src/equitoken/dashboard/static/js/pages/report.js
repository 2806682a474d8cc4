// Operator: the signed reserves report of one instrument, to read and to download.

import { call } from "../api.js";
import { h, replace } from "../dom.js";
import { time } from "../format.js";
import { OPERATOR } from "./roles.js";

export const reportPage = {
  id: "report",
  title: "Reserves report",
  roles: OPERATOR,
  mount({ params }) {
    const ticker = params.ticker;
    const body = h("div", {}, h("p", {}, "Loading the report…"));
    const node = h(
      "section",
      { "aria-labelledby": "report-title" },
      h("p", {}, h("a", { href: "#/reserves" }, "← Reserves")),
      h("h1", { id: "report-title" }, `Reserves report: ${ticker}`),
      body,
    );
    async function update() {
      const report = await call(`/reserves/${encodeURIComponent(ticker)}/report`);
      const text = JSON.stringify(report, null, 2);
      const download = h(
        "a",
        {
          class: "button",
          href: URL.createObjectURL(new Blob([text], { type: "application/json" })),
          download: `reserves-report-${ticker}.json`,
        },
        "Download the signed report (JSON)",
      );
      replace(
        body,
        h(
          "p",
          { class: "lede" },
          "The issuer signs this report; anyone can check the signature against the issuer's published key.",
        ),
        facts(report),
        download,
        h("h2", {}, "Full report"),
        h("pre", { class: "json", tabindex: "0", "aria-label": "Report JSON" }, text),
      );
    }
    return { node, update };
  },
};

/** The report's top-level scalar fields as a definition list; nested parts stay in the JSON below. */
function facts(report) {
  const entries = Object.entries(report).filter(([, value]) => value === null || typeof value !== "object");
  return h(
    "dl",
    { class: "facts" },
    entries.flatMap(([name, value]) => [
      h("dt", {}, name.replaceAll("_", " ")),
      h("dd", { class: /signature|hash|root|address|signer/.test(name) ? "mono" : null }, looksLikeTime(name, value) ? time(value) : String(value)),
    ]),
  );
}

function looksLikeTime(name, value) {
  return typeof value === "string" && /(_at|time|date)$/.test(name) && /^\d{4}-\d\d-\d\d/.test(value);
}
