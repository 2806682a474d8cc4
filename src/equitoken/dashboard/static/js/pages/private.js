// Private companies: shares of companies that are not listed, held only by accredited investors and
// valued by the issuer (a 409A appraisal, a priced round) rather than by a market. An investor sees
// each company's last valuation, its shares, what is still locked up, and asks to transfer unlocked
// shares from its wallet whose key the platform holds. The operator is the transfer agent: it sees
// every pending request with what approving it would meet now, approves or rejects it, records
// valuations and issues round allocations. Every form keeps its Idempotency-Key until the API answers.

import { ApiError, call, newIdempotencyKey } from "../api.js";
import { fromUnits, toUnits } from "../decimal.js";
import { empty, h, replace, table } from "../dom.js";
import { address, price, shares, time, usd } from "../format.js";
import { problemBox } from "../problem.js";
import { EVERYONE } from "./roles.js";

const METHODS = [["409a", "409A appraisal"], ["priced_round", "Priced round"], ["tender_offer", "Tender offer"], ["board", "Board"]];

function field(id, label, control, help) {
  control.id = id;
  return h("div", { class: "field", "data-for": id }, h("label", { for: id }, label), control, help ? h("p", { class: "help" }, help) : null);
}

function input(name, placeholder) {
  return h("input", { name, autocomplete: "off", placeholder });
}

/** `shares` (10^-9) times a per-share `price` (10^-8) in dollars, rounded down to 10^-6. */
function valueOf(sharesText, priceText) {
  const units = (toUnits(sharesText, 9) * toUnits(priceText, 8)) / 10n ** 11n;
  return usd(fromUnits(units, 6));
}

/** A form posting `body()` to `path()`, once per Idempotency-Key while its body stays the same. */
function postingForm(title, id, fields, button, { path, body, done, status, after }) {
  const submit = h("button", { type: "submit" }, button);
  const element = h("form", { class: "card spaced", "aria-labelledby": id, novalidate: true }, h("h2", { id }, title), fields, submit);
  let pending = null;
  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    const request = { path: path(), body: body() };
    if (!pending || JSON.stringify(pending.request) !== JSON.stringify(request)) pending = { request, key: newIdempotencyKey() };
    submit.disabled = true;
    try {
      const answer = await call(request.path, { method: "POST", body: request.body, idempotencyKey: pending.key });
      pending = null;
      replace(status, h("p", { role: "status" }, done(answer)));
    } catch (error) {
      if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429) pending = null;
      replace(status, problemBox(error));
    } finally {
      submit.disabled = false;
    }
    await after();
  });
  return element;
}

export const privatePage = {
  id: "private",
  title: "Private companies",
  nav: "Private",
  roles: EVERYONE,
  requires: "/private",
  refreshMs: 5000,
  mount,
};

function mount({ user }) {
  const operator = user.role === "operator";
  const status = h("div", { class: "form-status", id: "private-status", "aria-live": "polite" });
  const companies = h("div", { id: "private-companies" });
  const holdings = h("div", { id: "private-holdings" });
  const requests = h("div", { id: "private-requests" });
  const pickers = [];
  let listed = [];

  function companyPicker() {
    const picker = h("select", { name: "ticker" });
    pickers.push(picker);
    return picker;
  }

  const transferTicker = companyPicker();
  const transferShares = input("shares", "10");
  const receiver = input("receiver", "0x…");
  const transfer = operator
    ? null
    : postingForm(
        "Ask to transfer shares",
        "private-transfer-title",
        [
          field("private-transfer-ticker", "Company", transferTicker),
          field("private-transfer-shares", "Shares to transfer", transferShares, "Unlocked shares only; they are reserved until the transfer agent decides."),
          field("private-transfer-receiver", "Receiver's wallet", receiver, "An accredited investor's verified wallet."),
        ],
        "Ask to transfer",
        {
          path: () => `/private/${encodeURIComponent(transferTicker.value)}/requests`,
          body: () => ({ receiver: receiver.value.trim(), shares: transferShares.value.trim() }),
          done: (answer) => `Transfer request ${answer.request_id} filed; the transfer agent decides.`,
          status,
          after: () => update(),
        },
      );

  const valuationTicker = companyPicker();
  const valuationPrice = input("price", "45.00");
  const asOf = input("as_of", "2025-12-01T15:00:00Z");
  const method = h("select", { name: "method" }, METHODS.map(([value, label]) => h("option", { value }, label)));
  const source = input("source", "Series B, lead investor");
  const valuation = operator
    ? postingForm(
        "Record a valuation",
        "private-valuation-title",
        [
          field("private-valuation-ticker", "Company", valuationTicker),
          field("private-valuation-price", "Price (USD per share)", valuationPrice),
          field("private-valuation-as-of", "As of (ISO 8601)", asOf, "Not after the chain's latest block, and newer than the last valuation."),
          field("private-valuation-method", "Method", method),
          field("private-valuation-source", "Source", source),
        ],
        "Record valuation",
        {
          path: () => `/private/${encodeURIComponent(valuationTicker.value)}/valuations`,
          body: () => ({ price: valuationPrice.value.trim(), as_of: asOf.value.trim(), method: method.value, source: source.value.trim() }),
          done: (answer) => `Valuation ${answer.state}.`,
          status,
          after: () => update(),
        },
      )
    : null;

  const issueTicker = companyPicker();
  const round = input("round_id", "1");
  const issueWallet = input("wallet", "0x…");
  const issueShares = input("shares", "100");
  const unlockAt = input("unlock_at", "2026-06-01T00:00:00Z");
  const issuance = operator
    ? postingForm(
        "Issue shares in a round",
        "private-issue-title",
        [
          field("private-issue-ticker", "Company", issueTicker),
          field("private-issue-round", "Round", round),
          field("private-issue-wallet", "Investor's wallet", issueWallet, "An accredited investor's verified wallet; one issuance per wallet per round."),
          field("private-issue-shares", "Shares to issue", issueShares),
          field("private-issue-unlock", "Locked up until (ISO 8601, optional)", unlockAt),
        ],
        "Issue shares",
        {
          path: () => `/private/${encodeURIComponent(issueTicker.value)}/issuances`,
          body: () => {
            const body = { round_id: Number(round.value.trim()), wallet: issueWallet.value.trim(), shares: issueShares.value.trim() };
            if (unlockAt.value.trim()) body.unlock_at = unlockAt.value.trim();
            return body;
          },
          done: (answer) => `Issuance ${answer.state}: ${shares(answer.shares ?? "0")} shares to ${answer.holder}.`,
          status,
          after: () => update(),
        },
      )
    : null;

  const node = h(
    "section",
    { "aria-labelledby": "private-title" },
    h("h1", { id: "private-title" }, "Private companies"),
    h("p", { class: "help" }, "Not listed, so no market price: each company is valued by the issuer, and every transfer waits for the transfer agent's approval. Only accredited investors may hold the shares."),
    companies,
    holdings,
    operator ? requests : null,
    status,
    h("div", { class: "cards" }, transfer, valuation, issuance),
  );

  async function decide(ticker, request, verb, body, button) {
    button.disabled = true;
    try {
      const action = await call(`/private/${encodeURIComponent(ticker)}/requests/${request.id}/${verb}`, { method: "POST", body, idempotencyKey: newIdempotencyKey() });
      replace(status, h("p", { role: "status" }, `Request ${request.id} ${verb === "approve" ? "approved" : "rejected"}: ${action.state}.`));
    } catch (error) {
      replace(status, problemBox(error));
    }
    await update();
  }

  function requestRow(ticker, request) {
    const reason = h("input", { name: "reason", autocomplete: "off", "aria-label": `Reason to reject request ${request.id}`, placeholder: "reason" });
    const approve = h("button", { type: "button", "aria-label": `Approve request ${request.id}` }, "Approve");
    const reject = h("button", { type: "button", class: "secondary", "aria-label": `Reject request ${request.id}` }, "Reject");
    approve.addEventListener("click", () => decide(ticker, request, "approve", undefined, approve));
    reject.addEventListener("click", () => decide(ticker, request, "reject", { reason: reason.value.trim() }, reject));
    return h(
      "tr",
      { "data-request": String(request.id) },
      h("th", { scope: "row" }, String(request.id)),
      h("td", {}, ticker),
      h("td", {}, address(request.sender)),
      h("td", {}, address(request.receiver)),
      h("td", { class: "num" }, shares(request.shares)),
      h("td", {}, time(request.requested_at)),
      h("td", { "data-field": "check" }, request.approvable ? h("span", { class: "badge tone-good" }, "approvable") : h("span", { class: "badge tone-bad" }, `refused now: ${request.check}`)),
      h("td", {}, approve, " ", reason, " ", reject),
    );
  }

  async function update() {
    listed = await call("/private");
    for (const picker of pickers) {
      if (!picker.options.length) replace(picker, listed.map((c) => h("option", { value: c.ticker }, `${c.name} (${c.ticker})`)));
    }
    replace(
      companies,
      listed.length
        ? table(
            "Companies",
            ["Company", "Ticker", "Last valuation (per share)", "Method", "As of", "Source"],
            listed.map((c) =>
              h(
                "tr",
                { "data-company": c.ticker },
                h("th", { scope: "row" }, c.name),
                h("td", {}, c.ticker),
                h("td", { class: "num", "data-field": "price" }, c.valuation ? price(c.valuation.price) : "not valued yet"),
                h("td", {}, c.valuation?.method ?? "—"),
                h("td", {}, c.valuation ? time(c.valuation.as_of) : "—"),
                h("td", {}, c.valuation?.source ?? "—"),
              ),
            ),
            { class: "data" },
          )
        : h("div", {}, h("h2", {}, "Companies"), empty("This platform has no private company.")),
    );
    const held = (await Promise.all(listed.map(async (c) => (await call(`/private/${encodeURIComponent(c.ticker)}/holdings`)).map((holding) => ({ company: c, holding }))))).flat();
    const caption = operator ? "Holdings" : "Your holdings";
    replace(
      holdings,
      held.length
        ? table(
            caption,
            ["Company", "Wallet", "Shares", "Locked up", "Value at the last valuation"],
            held.map(({ company, holding }) =>
              h(
                "tr",
                { "data-holding": `${company.ticker}:${holding.wallet}` },
                h("th", { scope: "row" }, company.ticker),
                h("td", {}, address(holding.wallet)),
                h("td", { class: "num", "data-field": "shares" }, shares(holding.shares)),
                h("td", { class: "num", "data-field": "locked" }, shares(holding.locked)),
                h("td", { class: "num", "data-field": "value" }, company.valuation ? valueOf(holding.shares, company.valuation.price) : "—"),
              ),
            ),
            { class: "data" },
          )
        : h("div", {}, h("h2", {}, caption), empty("No shares held.")),
    );
    if (!operator) return;
    const pending = (await Promise.all(listed.map(async (c) => (await call(`/private/${encodeURIComponent(c.ticker)}/requests`)).map((r) => requestRow(c.ticker, r))))).flat();
    replace(
      requests,
      pending.length
        ? table("Transfer requests waiting for the transfer agent, oldest first", ["Request", "Company", "From", "To", "Shares", "Asked at", "Approving now", ""], pending, { class: "data" })
        : h("div", {}, h("h2", {}, "Transfer requests"), empty("No transfer request is waiting.")),
    );
  }

  return { node, update };
}
