"""The comparison's report: one JSON document (`compare.json`, schema `equitoken.compare/1`) and an HTML
page drawn from it (`compare.html`: tables and inline SVG charts, no script, no external resource).

Every figure in the JSON comes from a `Run`: amounts are decimal strings of dollars (USDC precision),
prices decimal strings of dollars per share, basis points decimal strings with one decimal, times ISO
8601 in UTC. The same run gives the same bytes.
"""

import html
import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from equitoken.comparison.metrics import TENTHS, deviation_tenth_bps, round_trip_cost, tracking_error
from equitoken.comparison.ownership import OWNERSHIP
from equitoken.comparison.runner import SIZES, ModelRun, Run
from equitoken.model.quantities import Price, Usd

SCHEMA = "equitoken.compare/1"
JSON_FILE = "compare.json"
HTML_FILE = "compare.html"


def _usd(units: int) -> str:
    return str(Usd(units))


def _price(price: Price | None) -> str | None:
    return None if price is None else str(price)


def _bps(tenths: int) -> str:
    return str(Decimal(tenths) / TENTHS)


def _change_tenths(after: int, before: int) -> int | None:
    if before == 0:
        return None
    scaled = (after - before) * 10_000 * TENTHS
    sign = -1 if scaled < 0 else 1
    return sign * ((2 * abs(scaled) + abs(before)) // (2 * abs(before)))


def build_report(run: Run) -> dict[str, Any]:
    """Return the report of `run` as JSON-ready data."""
    p, period = run.parameters, run.world.period
    return {
        "schema": SCHEMA,
        "parameters": {
            "start": p.start.isoformat(),
            "end": p.end.isoformat(),
            "tickers": list(p.tickers),
            "gas_price_wei": p.gas_price_wei,
            "eth_price_usd": str(p.eth_price),
            "round_trip_sizes_usd": list(SIZES),
            "round_trip_at": run.round_trip_at.isoformat(),
            "orders_at": {label: at.isoformat() for label, at in run.order_times.items()},
            "sampling": "every hour of the period, weekends and holidays included",
            "setup_session": period.setup_session.date.isoformat(),
        },
        "period": {
            "sessions": len(period.sessions),
            "holidays": [d.isoformat() for d in period.holidays],
            "half_days": [d.isoformat() for d in period.half_days],
            "weekends": [
                {
                    "friday": w.friday.date.isoformat(),
                    "monday": w.monday.date.isoformat(),
                    "closed_days": [d.isoformat() for d in w.closed_days],
                }
                for w in period.weekends
                if w.friday.date >= period.start
            ],
            "splits": [
                {
                    "ticker": s.ticker,
                    "first_day": s.first_day.isoformat(),
                    "ratio": f"{s.new}:{s.old}",
                    "token_multiplier_before": _multiplier(run, f"split {s.ticker} before", s.ticker),
                    "token_multiplier_after": _multiplier(run, f"split {s.ticker} after", s.ticker),
                }
                for s in period.splits
            ],
            "dividends": [
                {"ticker": d.ticker, "ex_date": d.ex_date.isoformat(), "amount_per_share": str(d.amount)}
                for d in period.dividends
            ],
        },
        "models": [_model(run, m) for m in run.models],
    }


def _multiplier(run: Run, checkpoint: str, ticker: str) -> str | None:
    value = run.multipliers.get(checkpoint, {}).get(ticker)
    return None if value is None else str(Decimal(value) / 10**18)


def _model(run: Run, m: ModelRun) -> dict[str, Any]:
    owns = OWNERSHIP.get(m.model)
    entry: dict[str, Any] = {
        "model": m.model,
        "title": m.title,
        "status": m.status,
        "reason": m.reason,
        "owns": None
        if owns is None
        else {"claim": owns.claim, "counterparty": owns.counterparty, "rights": owns.rights},
    }
    if m.status != "run":
        return entry
    p = run.parameters
    trips = []
    for ticker, trip in m.round_trips:
        row: dict[str, Any] = {"ticker": ticker, "usd": trip.usd, "refused": trip.refused, "note": trip.note}
        if trip.refused is None and trip.paid > 0:
            cost = round_trip_cost(trip.paid, trip.received, trip.gas, p.gas_price_wei, p.eth_price)
            row |= {
                "paid": _usd(trip.paid),
                "received": _usd(trip.received),
                "exposure": _usd(trip.exposure),
                "trading_cost": _usd(cost.trading),
                "gas": trip.gas,
                "gas_cost": _usd(cost.gas_usd),
                "total_cost": _usd(cost.total),
                "cost_bps": _bps(cost.tenth_bps),
            }
        trips.append(row)
    tracking: dict[str, Any] = {}
    series: dict[str, Any] = {}
    for ticker in p.tickers:
        samples = [s for s in m.samples if s.ticker == ticker]
        t = tracking_error([(s.model, s.underlying) for s in samples])
        tracking[ticker] = {
            "samples": t.samples,
            "unpriced": t.unpriced,
            "mean_bps": _bps(t.mean),
            "p95_bps": _bps(t.p95),
            "max_bps": _bps(t.max),
        }
        calendar = run.world.calendar
        series[ticker] = [
            [s.at.isoformat(), _price(s.model), _price(s.underlying), calendar.is_open(s.at)] for s in samples
        ]
    entry |= {
        "round_trips": trips,
        "tracking": tracking,
        "weekend": _weekends(run, m),
        "split": _events(run, m, "split", [(s.ticker, f"{s.new}:{s.old}") for s in run.world.period.splits]),
        "dividend": _events(
            run, m, "dividend", [(d.ticker, f"${d.amount} a share") for d in run.world.period.dividends]
        ),
        "settle": [
            {
                "order": label,
                "ticker": ticker,
                "usd": 1_000,
                "placed_at": placed.isoformat(),
                "delivered_at": None if d is None or d.at is None else d.at.isoformat(),
                "seconds": None if d is None or d.at is None else int((d.at - placed).total_seconds()),
                "refused": None if d is None else d.refused,
                "note": "still not delivered at the period's end" if d is None else d.note,
            }
            for label, ticker, placed, d in m.orders
        ],
        "errors": m.errors,
        "series": series,
    }
    return entry


def _weekends(run: Run, m: ModelRun) -> list[dict[str, Any]]:
    rows = []
    for w in run.world.period.weekends:
        label = w.friday.date.isoformat()
        names = [f"weekend {label} {part}" for part in ("friday", "saturday", "monday")]
        if not all(n in m.marks for n in names):
            continue
        for ticker in run.parameters.tickers:
            under = [run.underlying[n][ticker] for n in names]
            model = [m.marks[n].get(ticker) for n in names]
            held = [m.holdings[n][ticker] for n in names]
            rows.append(
                {
                    "weekend": label,
                    "ticker": ticker,
                    "underlying": {
                        "friday_close": str(under[0]),
                        "saturday": str(under[1]),
                        "monday_open": str(under[2]),
                    },
                    "underlying_gap_bps": _bps(_change_tenths(under[2].units, under[0].units) or 0),
                    "model": {
                        "friday_close": _price(model[0]),
                        "saturday": _price(model[1]),
                        "monday_open": _price(model[2]),
                    },
                    "model_gap_bps": None
                    if model[0] is None or model[2] is None
                    else _bps(_change_tenths(model[2].units, model[0].units) or 0),
                    "saturday_vs_underlying_bps": None
                    if model[1] is None
                    else _bps(deviation_tenth_bps(model[1], under[1])),
                    "holder_value": {"friday_close": _usd(held[0].value), "monday_open": _usd(held[2].value)},
                    "holder_monday": held[2].detail,
                }
            )
    return rows


def _events(run: Run, m: ModelRun, kind: str, events: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    rows = []
    for ticker, what in events:
        before, after = f"{kind} {ticker} before", f"{kind} {ticker} after"
        if before not in m.holdings or after not in m.holdings:
            continue
        b, a = m.holdings[before][ticker], m.holdings[after][ticker]
        ub, ua = run.underlying[before][ticker], run.underlying[after][ticker]
        rows.append(
            {
                "ticker": ticker,
                "event": what,
                "holder_before": b.detail,
                "holder_after": a.detail,
                "value_before": _usd(b.value),
                "value_after": _usd(a.value),
                "cash_received": _usd(a.cash - b.cash),
                "value_and_cash_change_bps": None
                if b.value == 0
                else _bps(_change_tenths(a.value + a.cash - b.cash, b.value) or 0),
                "underlying_before": str(ub),
                "underlying_after": str(ua),
                "model_before": _price(m.marks[before].get(ticker)),
                "model_after": _price(m.marks[after].get(ticker)),
            }
        )
    return rows


def to_json(report: dict[str, Any]) -> str:
    """Return the report as canonical JSON text (sorted keys, two-space indent, trailing newline)."""
    return json.dumps(report, indent=2, sort_keys=True) + "\n"


# HTML --------------------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:0.9em}
th,td{border:1px solid #ccc;padding:0.3em 0.6em;text-align:right;vertical-align:top}
th:first-child,td:first-child,td:last-child{text-align:left}
caption{text-align:left;font-weight:bold;margin-bottom:0.3em}
.notrun{color:#a00}
svg{background:#fafafa;border:1px solid #ddd;margin:0.3em 0}
"""


def _cents(dollars: str) -> str:
    return f"{Decimal(dollars):,.2f}"


def _e(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _table(caption: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f"<table><caption>{_e(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _chart(title: str, points: list[list[Any]], width: int = 560, height: int = 140) -> str:
    # The signed deviation of the model's price from the underlying's, in bps, one point per hour;
    # the hours the regular session is closed (nights, weekends, the holiday) shaded.
    values = [
        None if model is None else float((Decimal(model) - Decimal(under)) / Decimal(under) * 10_000)
        for _, model, under, _open in points
    ]
    known = [v for v in values if v is not None]
    top = max([abs(v) for v in known] + [1.0])
    n = max(len(values) - 1, 1)
    segments: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            if segments[-1]:
                segments.append([])
            continue
        x = 40 + (width - 50) * i / n
        y = height / 2 - (height / 2 - 10) * v / top
        segments[-1].append(f"{x:.1f},{y:.1f}")
    lines = "".join(
        f'<polyline fill="none" stroke="#1565c0" stroke-width="1" points="{" ".join(s)}"/>'
        for s in segments
        if s
    )
    step = (width - 50) / n
    closed: list[list[int]] = []  # runs of closed hours, first and last index
    for i, point in enumerate(points):
        if point[3]:
            continue
        if closed and closed[-1][1] == i - 1:
            closed[-1][1] = i
        else:
            closed.append([i, i])
    shade = "".join(
        f'<rect x="{40 + step * (first - 0.5):.1f}" y="0" width="{step * (last - first + 1):.1f}" '
        f'height="{height}" fill="#eceff1"/>'
        for first, last in closed
    )
    mid = height / 2
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">'
        f"<title>{_e(title)}</title>{shade}"
        f'<line x1="40" y1="{mid}" x2="{width - 10}" y2="{mid}" stroke="#999" stroke-width="0.5"/>'
        f'<text x="2" y="14" font-size="10">+{top:.0f}</text>'
        f'<text x="2" y="{mid + 3}" font-size="10">0</text>'
        f'<text x="2" y="{height - 4}" font-size="10">-{top:.0f}</text>'
        f'<text x="{width - 10}" y="14" font-size="10" text-anchor="end">{_e(title)}</text>'
        f"{lines}</svg>"
    )


def to_html(report: dict[str, Any]) -> str:
    """Return the report as one self-contained, well-formed HTML page."""
    p, period, models = report["parameters"], report["period"], report["models"]
    parts = [
        "<!DOCTYPE html>",
        '<html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><meta charset="utf-8"/>',
        f"<title>equitoken compare {_e(p['start'])} to {_e(p['end'])}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Every model side by side, {_e(p['start'])} to {_e(p['end'])}</h1>",
        "<p>Every figure below was measured by running the platform's venues and contracts in one "
        "in-process chain over replayed real prices (see docs/compare.md); nothing is a constant but "
        "the 'what a holder owns' text.</p>",
        _table(
            "Parameters",
            ["parameter", "value"],
            [
                ["instruments", ", ".join(p["tickers"])],
                ["gas price (wei)", p["gas_price_wei"]],
                ["ETH price ($)", p["eth_price_usd"]],
                ["round trips at", p["round_trip_at"]],
                ["orders at", "; ".join(f"{k}: {v}" for k, v in p["orders_at"].items())],
                ["sessions", period["sessions"]],
                ["holidays", ", ".join(period["holidays"]) or "none"],
                ["half days", ", ".join(period["half_days"]) or "none"],
                [
                    "splits",
                    "; ".join(
                        f"{s['ticker']} {s['ratio']} from {s['first_day']}, token multiplier "
                        f"{s['token_multiplier_before']} -> {s['token_multiplier_after']}"
                        for s in period["splits"]
                    )
                    or "none",
                ],
                [
                    "dividends",
                    "; ".join(
                        f"{d['ticker']} ${d['amount_per_share']} ex {d['ex_date']}"
                        for d in period["dividends"]
                    )
                    or "none",
                ],
            ],
        ),
    ]
    cost_rows = []
    for m in models:
        if m["status"] != "run":
            cost_rows.append([m["title"], "", "", m["status"], "", "", "", "", m["reason"]])
            continue
        for r in m["round_trips"]:
            if r.get("refused") is not None or "total_cost" not in r:
                cost_rows.append(
                    [
                        m["title"],
                        r["ticker"],
                        f"${r['usd']:,}",
                        "refused",
                        "",
                        "",
                        "",
                        "",
                        r.get("refused") or "",
                    ]
                )
            else:
                cost_rows.append(
                    [
                        m["title"],
                        r["ticker"],
                        f"${r['usd']:,}",
                        _cents(r["paid"]),
                        _cents(r["exposure"]),
                        _cents(r["total_cost"]),
                        r["cost_bps"],
                        r["gas"],
                        r["note"],
                    ]
                )
    parts.append(
        _table(
            "Round trip: buy and unwind at once (all-in cost = paid - received + gas)",
            [
                "model",
                "ticker",
                "asked",
                "paid ($)",
                "exposure bought ($)",
                "cost ($)",
                "cost (bps)",
                "gas",
                "note",
            ],
            cost_rows,
        )
    )
    track_rows = []
    for m in models:
        if m["status"] != "run":
            track_rows.append([m["title"], "", m["status"], "", "", "", ""])
            continue
        for ticker, t in m["tracking"].items():
            track_rows.append(
                [m["title"], ticker, t["samples"], t["unpriced"], t["mean_bps"], t["p95_bps"], t["max_bps"]]
            )
    parts.append(
        _table(
            "Tracking error against the underlying, hourly (bps)",
            ["model", "ticker", "samples", "unpriced", "mean", "p95", "max"],
            track_rows,
        )
    )
    settle_rows = [
        [
            m["title"],
            s["order"],
            s["ticker"],
            s["placed_at"],
            s["delivered_at"] or "",
            "" if s["seconds"] is None else s["seconds"],
            s["refused"] or s["note"],
        ]
        for m in models
        if m["status"] == "run"
        for s in m["settle"]
    ]
    parts.append(
        _table(
            "Time to settle: a $1,000 buy, order to delivery in platform time",
            ["model", "order", "ticker", "placed", "delivered", "seconds", "note"],
            settle_rows,
        )
    )
    event_rows = [
        [
            m["title"],
            kind,
            e["ticker"],
            e["event"],
            e["value_before"],
            e["value_after"],
            e["cash_received"],
            e["value_and_cash_change_bps"],
            f"{e['underlying_before']} -> {e['underlying_after']}",
            f"{e['holder_before']} -> {e['holder_after']}",
        ]
        for m in models
        if m["status"] == "run"
        for kind in ("split", "dividend")
        for e in m[kind]
    ]
    parts.append(
        _table(
            "Split and dividend: the holder's position just before and after (value in $, change incl. cash)",
            [
                "model",
                "event",
                "ticker",
                "what",
                "value before",
                "value after",
                "cash received",
                "change (bps)",
                "underlying",
                "holder",
            ],
            event_rows,
        )
    )
    weekend_rows = [
        [
            m["title"],
            w["weekend"],
            w["ticker"],
            w["underlying"]["friday_close"],
            w["underlying"]["monday_open"],
            w["underlying_gap_bps"],
            w["model"]["friday_close"],
            w["model"]["saturday"],
            w["model"]["monday_open"],
            w["model_gap_bps"],
        ]
        for m in models
        if m["status"] == "run"
        for w in m["weekend"]
    ]
    parts.append(
        _table(
            "Weekend: Friday's close, Saturday noon and Monday's open (price per share)",
            [
                "model",
                "weekend of",
                "ticker",
                "underlying Fri",
                "underlying Mon",
                "gap (bps)",
                "model Fri",
                "model Sat",
                "model Mon",
                "model gap (bps)",
            ],
            weekend_rows,
        )
    )
    parts.append("<h2>Each model</h2>")
    for m in models:
        parts.append(f"<h3>{_e(m['title'])}</h3>")
        if m["owns"] is not None:
            o = m["owns"]
            parts.append(
                f"<p><b>Owns:</b> {_e(o['claim'])}<br/><b>Counterparty:</b> {_e(o['counterparty'])}<br/>"
                f"<b>Rights:</b> {_e(o['rights'])}</p>"
            )
        if m["status"] != "run":
            parts.append(f'<p class="notrun">{_e(m["status"])}: {_e(m["reason"])}</p>')
            continue
        for ticker, points in m["series"].items():
            parts.append(_chart(f"{ticker}: model vs underlying (bps), market closed shaded", points))
        if m["errors"]:
            parts.append(
                "<p>Refusals and errors seen:</p><ul>"
                + "".join(f"<li>{_e(x)}</li>" for x in m["errors"])
                + "</ul>"
            )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(report: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    """Write `compare.json` and `compare.html` into `directory`; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path, html_path = directory / JSON_FILE, directory / HTML_FILE
    json_path.write_text(to_json(report), encoding="utf-8")
    html_path.write_text(to_html(report), encoding="utf-8")
    return json_path, html_path
