"""`equitoken compare`: every model side by side over a replayed period, measured by running the venues.

It builds the whole platform in one process (an in-process chain following a manual market clock,
the issuer on the paper broker, every venue and keeper), replays the period hour by hour and writes
`compare.json` and `compare.html` into `--out`. Bad arguments are refused before anything runs, so
nothing is written. See docs/compare.md for what each figure means.
"""

import json
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from equitoken.comparison.period import DEFAULT_END, DEFAULT_START, PeriodError
from equitoken.comparison.probes import select_probes
from equitoken.comparison.report import build_report, write_report
from equitoken.comparison.runner import (
    DEFAULT_ETH_PRICE,
    DEFAULT_GAS_PRICE_WEI,
    DEFAULT_TICKERS,
    Parameters,
    run_comparison,
)
from equitoken.model.quantities import Price

_GWEI = 10**9


def compare(
    start: Annotated[
        str, typer.Option("--start", help="First New York date of the period.")
    ] = DEFAULT_START.isoformat(),
    end: Annotated[
        str, typer.Option("--end", help="Last New York date of the period.")
    ] = DEFAULT_END.isoformat(),
    out: Annotated[
        Path, typer.Option("--out", help="Directory to write compare.json and compare.html in.")
    ] = Path("."),
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON report instead of the summary.")
    ] = False,
    ticker: Annotated[
        list[str] | None,
        typer.Option("--ticker", help="An instrument to cover (repeat it); default NFLX and MSFT."),
    ] = None,
    gas_price_gwei: Annotated[
        str, typer.Option("--gas-price-gwei", help="Gas price the report charges, in gwei.")
    ] = str(Decimal(DEFAULT_GAS_PRICE_WEI) / _GWEI),
    eth_price: Annotated[str, typer.Option("--eth-price", help="ETH price in dollars for gas.")] = str(
        DEFAULT_ETH_PRICE
    ),
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model", help="Run only this model (repeat it), e.g. cfd or open_token_amm; all by default."
        ),
    ] = None,
) -> None:
    """Compare every model over a replayed period: round-trip cost, tracking error, events, settling."""
    parameters = _parameters(start, end, ticker, gas_price_gwei, eth_price)
    try:
        probes = select_probes(model or [])
    except PeriodError as error:
        _fail(error.message, error.code)
    console = Console(stderr=True)
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("starting", total=1)

            def report(what: str, done: int, total: int) -> None:
                progress.update(task, description=what, completed=done, total=max(total, 1))

            run = run_comparison(parameters, probes=probes, progress=report)
    except PeriodError as error:
        _fail(error.message)
    data = build_report(run)
    json_path, html_path = write_report(data, out)
    if as_json:
        typer.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    _summary(data)
    typer.echo(f"wrote {json_path} and {html_path}")


def _parameters(start: str, end: str, tickers: list[str] | None, gwei: str, eth: str) -> Parameters:
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        _fail(f"dates are YYYY-MM-DD: got --start {start!r} --end {end!r}")
    try:
        wei = Decimal(gwei) * _GWEI
        eth_price = Price.parse(eth)
    except (InvalidOperation, ValueError) as error:
        _fail(f"--gas-price-gwei and --eth-price must be decimal numbers: {error}")
    if wei < 0 or wei != wei.to_integral_value():
        _fail(f"--gas-price-gwei must be a non-negative number of gwei to 9 decimals, not {gwei}")
    try:
        return Parameters(
            first,
            last,
            tuple(t.upper() for t in tickers) if tickers else DEFAULT_TICKERS,
            int(wei),
            eth_price,
        )
    except PeriodError as error:
        _fail(error.message)


def _summary(data: dict[str, object]) -> None:
    table = Table(title=f"equitoken compare {data['parameters']['start']} to {data['parameters']['end']}")  # type: ignore[index]
    for column in (
        "model",
        "ticker",
        "$1k cost (bps)",
        "$100k cost (bps)",
        "tracking mean / p95 / max (bps)",
    ):
        table.add_column(column)
    for model in data["models"]:  # type: ignore[attr-defined]
        if model["status"] != "run":
            table.add_row(model["title"], "", model["status"], "", "")
            continue
        for ticker, t in model["tracking"].items():
            costs = {
                r["usd"]: r.get("cost_bps") or "refused"
                for r in model["round_trips"]
                if r["ticker"] == ticker
            }
            table.add_row(
                model["title"],
                ticker,
                costs.get(1_000, ""),
                costs.get(100_000, ""),
                f"{t['mean_bps']} / {t['p95_bps']} / {t['max_bps']}",
            )
    Console().print(table)


def _fail(message: str, code: str = PeriodError.code) -> NoReturn:
    typer.echo(f"error[{code}]: {message}", err=True)
    raise typer.Exit(2)
