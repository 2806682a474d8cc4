// Exact decimal arithmetic on the API's amount strings ("187.25"): BigInt in smallest units.
// Money never goes through a float.

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/** Parse a decimal string into an integer of 10^-scale units; throw if it has more decimals. */
export function toUnits(text, scale) {
  const match = DECIMAL.exec(String(text).trim());
  if (!match) throw new RangeError(`${text} is not a decimal number`);
  const [, sign, whole, fraction = ""] = match;
  if (fraction.replace(/0+$/, "").length > scale) throw new RangeError(`${text} has more than ${scale} decimals`);
  const units = BigInt(whole + fraction.padEnd(scale, "0").slice(0, scale));
  return sign ? -units : units;
}

/** Format an integer of 10^-scale units as a decimal string with at least `minDecimals` decimals. */
export function fromUnits(units, scale, minDecimals = 0) {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  let fraction = digits.slice(digits.length - scale).replace(/0+$/, "");
  fraction = fraction.padEnd(minDecimals, "0");
  return `${negative ? "-" : ""}${whole}${fraction ? "." + fraction : ""}`;
}

/** Add decimal strings exactly. */
export function sum(texts, scale) {
  return fromUnits(
    texts.reduce((total, text) => total + toUnits(text, scale), 0n),
    scale,
  );
}

/** The sign of a decimal string: -1, 0 or 1. */
export function sign(text) {
  const units = toUnits(text, 18);
  return units < 0n ? -1 : units > 0n ? 1 : 0;
}
