// The bridge between the issuer's chains: an investor sends tokens from one of its custodied wallets to
// a wallet on another chain (burned here, minted there once a quorum of attesters has signed) and
// follows its transfers: burned, attested, then minted, or held at the destination until the
// compliance agent releases or returns them. A submission keeps its Idempotency-Key until the API
// answers, so sending the same form twice never burns twice.

import { ApiError, call, newIdempotencyKey } from "../api.js";
import { empty, h, replace, table } from "../dom.js";
import { address, grouped, time } from "../format.js";
import { problemBox } from "../problem.js";
import { EVERYONE } from "./roles.js";

const TONES = { burned: "neutral", attested: "neutral", minted: "good", held: "warn", released: "good", returned: "warn" };

// The steps a transfer has passed, from its state.
const STEPS = {
  burned: ["burned"],
  attested: ["burned", "attested"],
  minted: ["burned", "attested", "minted"],
  held: ["burned", "attested", "held"],
  released: ["burned", "attested", "held", "released"],
  returned: ["burned", "attested", "held", "returned"],
};

function stateBadge(state) {
  return h("span", { class: `badge tone-${TONES[state] ?? "neutral"}`, "data-state": state }, state);
}

function progress(state) {
  const steps = STEPS[state] ?? [state];
  return h(
    "ol",
    { class: "steps", "aria-label": `Progress: ${steps.join(", then ")}` },
    steps.map((step, i) => h("li", { "data-step": step }, i < steps.length - 1 ? `${step} →` : step)),
  );
}

function family(wallet) {
  return wallet.startsWith("0x") ? "EVM" : "Solana";
}

function field(id, label, control, help) {
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control, help ? h("p", { class: "help" }, help) : null);
}

function fillSelect(control, options) {
  const chosen = control.value;
  replace(
    control,
    options.map(([value, label]) => h("option", { value, selected: value === chosen }, label)),
  );
}

export const bridgePage = {
  id: "bridge",
  title: "Bridge",
  nav: "Bridge",
  roles: EVERYONE,
  requires: "/bridge/chains",
  refreshMs: 3000,
  mount({ user }) {
    const investor = user.role !== "operator";
    const ticker = h("select", { name: "ticker" });
    const source = h("select", { name: "source_chain" });
    const dest = h("select", { name: "dest_chain" });
    const receiver = h("input", { name: "receiver", autocomplete: "off", spellcheck: "false" });
    const amount = h("input", { name: "amount", inputmode: "decimal", autocomplete: "off", placeholder: "1.5" });
    const submit = h("button", { type: "submit" }, "Send");
    const status = h("div", { class: "form-status", "aria-live": "polite" });
    const form = h(
      "form",
      { class: "card spaced", "aria-labelledby": "bridge-form-title", novalidate: true },
      h("h2", { id: "bridge-form-title" }, "Send to another chain"),
      field("bridge-ticker", "Token", ticker),
      field("bridge-source", "From chain", source, "Sent from your wallet on this chain whose key the platform holds."),
      field("bridge-dest", "To chain", dest),
      field("bridge-receiver", "Receiver", receiver, "A wallet on the destination chain; yours there by default."),
      field("bridge-amount", "Amount (tokens)", amount),
      submit,
      status,
    );
    const transfers = h("div", { id: "bridge-transfers" });
    const node = h(
      "section",
      { "aria-labelledby": "bridge-title" },
      h("h1", { id: "bridge-title" }, "Bridge"),
      h(
        "p",
        { class: "lede" },
        "Move stock tokens between chains: they are burned on the source chain and minted on the destination once a quorum of attesters has signed the burn. " +
          "A receiver the token refuses at the destination is held there until the compliance agent releases the tokens to another wallet or returns them to the sender.",
      ),
      investor ? form : null,
      transfers,
    );

    let chains = [];
    let wallets = [];
    let prefilled = "";
    function prefill() {
      const chain = chains.find((c) => String(c.chain_id) === dest.value);
      if (!chain || (receiver.value.trim() !== "" && receiver.value !== prefilled)) return;
      prefilled = wallets.find((w) => family(w) === chain.family) ?? "";
      receiver.value = prefilled;
    }
    dest.addEventListener("change", prefill);

    let pending = null;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {
        ticker: ticker.value,
        source_chain: Number(source.value),
        dest_chain: Number(dest.value),
        receiver: receiver.value.trim(),
        amount: amount.value.trim(),
      };
      if (!pending || JSON.stringify(pending.body) !== JSON.stringify(body)) pending = { body, key: newIdempotencyKey() };
      submit.disabled = true;
      replace(status, h("p", {}, "Sending…"));
      try {
        const receipt = await call("/bridge/transfers", { method: "POST", body, idempotencyKey: pending.key });
        pending = null;
        replace(
          status,
          h("p", { role: "status" }, `Burned ${grouped(receipt.amount)} ${receipt.ticker} on ${chainName(receipt.source_chain)}; minting on ${chainName(receipt.dest_chain)} once attested.`),
        );
        amount.value = "";
      } catch (error) {
        if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429) pending = null;
        replace(status, problemBox(error));
      } finally {
        submit.disabled = false;
      }
      await showTransfers();
    });

    function chainName(id) {
      return chains.find((c) => c.chain_id === id)?.name ?? `chain ${id}`;
    }

    async function showTransfers() {
      const list = await call("/bridge/transfers");
      replace(
        transfers,
        list.length
          ? table(
              investor ? "Your transfers" : "Transfers",
              ["Token", "From", "To", "Amount (tokens)", "Receiver", "State", "Progress", "Updated"],
              list.map((t) =>
                h(
                  "tr",
                  { "data-transfer-id": t.id, "data-source-tx": t.source_tx },
                  h("th", { scope: "row" }, t.ticker),
                  h("td", {}, chainName(t.source_chain)),
                  h("td", {}, chainName(t.dest_chain)),
                  h("td", { class: "num", "data-field": "amount" }, grouped(t.amount)),
                  h("td", {}, address(t.receiver)),
                  h("td", { "data-field": "state" }, stateBadge(t.state), t.reason && t.state === "held" ? h("p", { class: "help" }, t.reason) : null),
                  h("td", { "data-field": "progress" }, progress(t.state)),
                  h("td", {}, time(t.updated_at)),
                ),
              ),
              { class: "data bridge" },
            )
          : h("div", {}, h("h2", {}, investor ? "Your transfers" : "Transfers"), empty("No bridge transfers yet.")),
      );
    }

    async function update() {
      if (!chains.length) {
        chains = await call("/bridge/chains");
        if (investor) wallets = (await call(`/investors/${encodeURIComponent(user.investor_id)}`)).wallets;
        const options = chains.map((c) => [String(c.chain_id), `${c.name} (${c.family})`]);
        fillSelect(source, options);
        fillSelect(dest, options);
        if (chains.length > 1) dest.value = String(chains[1].chain_id);
        const tickers = [...new Set(chains.flatMap((c) => c.tickers))].sort();
        fillSelect(ticker, tickers.map((t) => [t, t]));
        prefill();
      }
      await showTransfers();
    }
    return { node, update };
  },
};
