// Participants: the mint and redeem request form. Each submission gets its own Idempotency-Key,
// kept until the API answers, so retrying the same submission can never create a second request.

import { ApiError, call, listAll, newIdempotencyKey } from "../api.js";
import { h, replace } from "../dom.js";
import { phaseBadge, price, time } from "../format.js";
import { problemBox } from "../problem.js";
import { PARTICIPANTS } from "./roles.js";

export const newRequestPage = {
  id: "new-request",
  title: "New request",
  nav: "Mint or redeem",
  roles: PARTICIPANTS,
  mount({ user, navigate }) {
    const operator = user.role === "operator";
    const ticker = h("select", { id: "request-ticker", name: "ticker", required: true });
    const quantity = h("input", {
      id: "request-quantity",
      name: "quantity",
      inputmode: "decimal",
      autocomplete: "off",
      required: true,
      "aria-describedby": "quantity-help",
    });
    const wallet = h("select", { id: "request-wallet", name: "wallet", required: true });
    const investor = operator ? h("input", { id: "request-investor", name: "investor_id", required: true, autocomplete: "off" }) : null;
    const walletText = h("input", { id: "request-wallet-text", name: "wallet", required: true, autocomplete: "off", size: 44 });
    const quote = h("p", { class: "quote", "aria-live": "polite" });
    const status = h("div", { class: "form-status" });
    const submit = h("button", { type: "submit" }, "Submit request");
    const kind = (value, label, checked) =>
      h("label", { class: "choice" }, h("input", { type: "radio", name: "kind", value, checked, required: true }), " ", label);

    const form = h(
      "form",
      { class: "card", "aria-labelledby": "new-request-title", novalidate: true },
      h("h1", { id: "new-request-title" }, "New mint or redeem request"),
      h(
        "p",
        { class: "lede" },
        "A mint pays USDC from the wallet and delivers tokens once the shares are bought; a redeem burns tokens and pays the proceeds in USDC.",
      ),
      h("fieldset", {}, h("legend", {}, "Kind"), kind("mint", "Mint (buy shares, receive tokens)", true), kind("redeem", "Redeem (return tokens, receive USDC)", false)),
      operator ? [h("label", { for: "request-investor" }, "Investor id"), investor] : null,
      h("label", { for: "request-ticker" }, "Instrument"),
      ticker,
      quote,
      h("label", { for: "request-quantity" }, "Quantity (shares)"),
      quantity,
      h("p", { id: "quantity-help", class: "help" }, "Whole or fractional shares, for example 2 or 0.5."),
      h("label", { for: operator ? "request-wallet-text" : "request-wallet" }, "Wallet"),
      operator ? walletText : wallet,
      submit,
      status,
    );

    // The submission waiting for an answer: its body and key. The same body reuses the key.
    let pending = null;

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {
        kind: form.elements.kind.value,
        ticker: ticker.value,
        quantity: quantity.value.trim(),
        wallet: operator ? walletText.value.trim() : wallet.value,
      };
      if (operator) body.investor_id = investor.value.trim();
      if (!pending || JSON.stringify(pending.body) !== JSON.stringify(body)) {
        pending = { body, key: newIdempotencyKey() };
      }
      submit.disabled = true;
      replace(status, h("p", {}, "Submitting…"));
      try {
        const request = await call("/requests", { method: "POST", body, idempotencyKey: pending.key });
        pending = null;
        navigate(`/requests/${encodeURIComponent(request.id)}`);
      } catch (error) {
        // A refusal (4xx other than a rate limit) will not change on retry: the next try gets a new key.
        if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429) pending = null;
        replace(status, problemBox(error));
      } finally {
        submit.disabled = false;
      }
    });

    ticker.addEventListener("change", () => showQuote(ticker.value, quote));

    async function update() {
      const instruments = await listAll("/instruments");
      replace(ticker, instruments.map((i) => h("option", { value: i.ticker }, `${i.ticker} · ${i.name}`)));
      if (!operator) {
        const me = await call(`/investors/${encodeURIComponent(user.investor_id)}`);
        const wallets = me.wallets ?? [];
        replace(wallet, wallets.map((w) => h("option", { value: w }, w)));
        if (!wallets.length) replace(status, problemBox({ title: "No wallet", detail: "Ask the operator to bind a wallet to your account first." }));
      }
      await showQuote(ticker.value, quote);
    }
    return { node: form, update };
  },
};

async function showQuote(ticker, target) {
  if (!ticker) return replace(target);
  try {
    const q = await call(`/instruments/${encodeURIComponent(ticker)}/quote`);
    replace(target, `Last price ${price(q.price)} per share at `, time(q.as_of), " · market ", phaseBadge(q.market_phase));
  } catch (error) {
    replace(target, `No quote for ${ticker}: ${error.message}`);
  }
}
