// A small SVG line chart (no library): step lines over time, with axes, a legend and a text summary.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 760;
const HEIGHT = 300;
const MARGIN = { top: 16, right: 16, bottom: 36, left: 72 };

function s(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.append(...children);
  return element;
}

/**
 * Draw series of `{ at: Date, value: number }` points as step lines.
 * `series` is `[{ name, className, points }]`; `title` and `description` label the chart for
 * screen readers. Plotting needs only screen coordinates, so numbers (not exact decimals) are fine here.
 */
export function stepChart({ title, description, series, unit }) {
  const points = series.flatMap((line) => line.points);
  const svg = s("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: "img",
    "aria-labelledby": "chart-title chart-desc",
    class: "chart",
  });
  svg.append(s("title", { id: "chart-title" }, title), s("desc", { id: "chart-desc" }, description));
  if (!points.length) return svg;

  const times = points.map((p) => p.at.getTime());
  let [t0, t1] = [Math.min(...times), Math.max(...times)];
  if (t0 === t1) [t0, t1] = [t0 - 60_000, t1 + 60_000];
  const top = niceCeiling(Math.max(...points.map((p) => p.value), 0));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (t) => MARGIN.left + ((t - t0) / (t1 - t0)) * plotWidth;
  const y = (v) => MARGIN.top + plotHeight - (top ? (v / top) * plotHeight : 0);

  const grid = s("g", { class: "grid" });
  for (let i = 0; i <= 4; i++) {
    const value = (top * i) / 4;
    grid.append(
      s("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(value), y2: y(value) }),
      s("text", { x: MARGIN.left - 8, y: y(value) + 4, "text-anchor": "end" }, formatTick(value)),
    );
  }
  const label = timeLabel(t1 - t0);
  for (const [t, anchor] of [[t0, "start"], [(t0 + t1) / 2, "middle"], [t1, "end"]]) {
    grid.append(s("text", { x: x(t), y: HEIGHT - 12, "text-anchor": anchor }, label(new Date(t))));
  }
  grid.append(
    s("text", { x: 12, y: MARGIN.top + plotHeight / 2, transform: `rotate(-90 12 ${MARGIN.top + plotHeight / 2})`, "text-anchor": "middle" }, unit),
  );
  svg.append(grid);

  for (const line of series) {
    if (!line.points.length) continue;
    const sorted = [...line.points].sort((a, b) => a.at - b.at);
    let path = `M ${x(sorted[0].at.getTime())} ${y(sorted[0].value)}`;
    for (const point of sorted.slice(1)) {
      path += ` H ${x(point.at.getTime())} V ${y(point.value)}`;
    }
    path += ` H ${x(t1)}`;
    svg.append(s("path", { d: path, class: `series ${line.className}` }));
  }
  return svg;
}

/** A legend for the chart's series (colour swatch plus name). */
export function legend(series) {
  const list = document.createElement("ul");
  list.className = "legend";
  for (const line of series) {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = `swatch ${line.className}`;
    swatch.setAttribute("aria-hidden", "true");
    item.append(swatch, line.name);
    list.append(item);
  }
  return list;
}

/** How to label a time axis spanning `span` milliseconds: seconds for a short span, dates for a long one. */
function timeLabel(span) {
  const DAY = 86_400_000;
  if (span < DAY) return (t) => t.toISOString().slice(11, 19) + " UTC";
  return (t) => t.toISOString().slice(0, 16).replace("T", " ");
}

function niceCeiling(value) {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * magnitude >= value) return step * magnitude;
  }
  return 10 * magnitude;
}

function formatTick(value) {
  return Number.isInteger(value) ? value.toLocaleString("en-US") : value.toLocaleString("en-US", { maximumFractionDigits: 3 });
}
