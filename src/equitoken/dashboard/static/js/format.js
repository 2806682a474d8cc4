// How amounts, times, addresses and states read on the page.

import { h } from "./dom.js";
import { fromUnits, toUnits } from "./decimal.js";

const SHARE_DECIMALS = 9;
const USD_DECIMALS = 6;
const PRICE_DECIMALS = 8;

/** Group the whole part of a decimal string in thousands: "1234567.5" -> "1,234,567.5". */
export function grouped(text) {
  const [whole, fraction] = String(text).split(".");
  const digits = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return fraction === undefined ? digits : `${digits}.${fraction}`;
}

/** Shares as the API sends them, grouped, without trailing zeros. */
export function shares(text) {
  return grouped(fromUnits(toUnits(text, SHARE_DECIMALS), SHARE_DECIMALS));
}

/** Dollars with a sign and two decimals at least: "$1,234.50". */
export function usd(text) {
  const value = fromUnits(toUnits(text, USD_DECIMALS), USD_DECIMALS, 2);
  return value.startsWith("-") ? `-$${grouped(value.slice(1))}` : `$${grouped(value)}`;
}

/** A share price (up to 8 decimals) in dollars: "$187.25". */
export function price(text) {
  return `$${grouped(fromUnits(toUnits(text, PRICE_DECIMALS), PRICE_DECIMALS, 2))}`;
}

/** An ISO 8601 time as "2025-12-01 15:00:00 UTC", in a <time> element. */
export function time(iso) {
  if (!iso) return "—";
  const parsed = new Date(iso);
  if (Number.isNaN(parsed.getTime())) return String(iso);
  const text = parsed.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  return h("time", { datetime: parsed.toISOString() }, text);
}

/** A 0x address shortened for tables, the full address in a tooltip and for screen readers. */
export function address(text) {
  if (!text || text.length < 14) return text ?? "—";
  return h("span", { class: "address", title: text, "aria-label": text }, `${text.slice(0, 6)}…${text.slice(-4)}`);
}

const FINAL_STATES = new Set(["completed", "cancelled", "expired", "failed", "held"]);

/** Whether a request state is final (nothing more will happen to it by itself). */
export function isFinal(state) {
  return FINAL_STATES.has(state);
}

/** A request state as a coloured badge; the text carries the meaning, the colour only helps. */
export function stateBadge(state) {
  return h("span", { class: `badge state-${state}`, "data-state": state }, state);
}

const PHASES = {
  regular: ["open · regular session", "good"],
  pre_market: ["closed · pre-market", "neutral"],
  post_market: ["closed · after hours", "neutral"],
  closed: ["closed", "neutral"],
  holiday: ["closed · holiday", "warn"],
};

/** A market phase (`regular`, `pre_market`, `post_market`, `closed`, or `holiday`) as a badge. */
export function phaseBadge(phase) {
  const [label, tone] = PHASES[phase] ?? [phase ?? "unknown", "neutral"];
  return h("span", { class: `badge tone-${tone}`, "data-phase": phase }, label);
}

const FRACTION_DECIMALS = 8;

/** A decimal fraction as the API sends it ("0.3599") as a percentage, rounded down: "35.99%". */
export function percent(text, decimals = 2) {
  if (text === null || text === undefined) return "—";
  const units = toUnits(text, FRACTION_DECIMALS); // 10^-8 of one: 10^-6 of a percent
  const shown = units / 10n ** BigInt(FRACTION_DECIMALS - 2 - decimals);
  return `${fromUnits(shown, decimals, decimals)}%`;
}
