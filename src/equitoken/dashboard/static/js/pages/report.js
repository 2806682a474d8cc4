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
          "The issuer's attester signs the report's canonical JSON (EIP-191), so anyone can recover the signer from the downloaded file.",
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

/**
 * The report's figures as a definition list: the signed body (`report`) first, then who signed it.
 * Nested objects (outstanding per chain, the liabilities tree) are shown one field per line.
 */
function facts(document) {
  const body = document.report && typeof document.report === "object" ? document.report : document;
  const signature = body === document ? [] : [["signer", document.signer], ["signature", document.signature]];
  const entries = [...flatten(body), ...signature];
  return h(
    "dl",
    { class: "facts", id: "report-facts" },
    entries.flatMap(([name, value]) => [
      h("dt", {}, name.replaceAll("_", " ")),
      h(
        "dd",
        { class: /signature|signer|root|issuer|spv/.test(name) ? "mono" : null, "data-field": name },
        looksLikeTime(name, value) ? time(value) : String(value),
      ),
    ]),
  );
}

/** Flatten nested objects into [dotted name, scalar] pairs: liabilities.root, outstanding_shares.31337. */
function flatten(object, prefix = "") {
  return Object.entries(object).flatMap(([name, value]) =>
    value !== null && typeof value === "object" ? flatten(value, `${prefix}${name} › `) : [[prefix + name, value]],
  );
}

function looksLikeTime(name, value) {
  return typeof value === "string" && /(_at|as_of|time|date)$/.test(name) && /^\d{4}-\d\d-\d\d/.test(value);
}
