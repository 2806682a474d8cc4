"""`equitoken oracle`: trading halts, and the price feeds' latest rounds."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.compiler import compile_contract
from equitoken.cli.options import DataDir, RefusedError, RpcUrl, console, local_issuer
from equitoken.model.quantities import Price
from equitoken.oracle.halts import Halt, HaltBook, HaltError
from equitoken.oracle.observation import MarketStatus
from equitoken.oracle.policy import FeedRound
from equitoken.platform.local import (
    DEFAULT_DATA_DIR,
    DEFAULT_RPC_URL,
    LocalIssuer,
)

oracle_app = typer.Typer(
    help="The oracle network: trading halts, and the price feeds' latest rounds.", no_args_is_help=True
)

OracleTicker = Annotated[str, typer.Argument(help="The instrument's ticker, e.g. AAPL.")]


def oracle_halt(
    ticker: OracleTicker,
    reason: Annotated[str, typer.Option(help="Why trading is halted (1 to 200 characters).")] = (
        "halted by the operator"
    ),
    until: Annotated[
        str | None,
        typer.Option(
            help="When the halt ends, ISO 8601 (UTC unless it has an offset), e.g. 2025-12-01T20:00Z; "
            "default: until `equitoken oracle resume`."
        ),
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    rpc_url: RpcUrl = DEFAULT_RPC_URL,
) -> None:
    """Halt trading in an instrument from now (market time): while the session is open, the reporters
    say HALTED at the last price before the halt, and the next round carries it on-chain."""
    with local_issuer(data_dir, rpc_url) as local:
        end = _market_time(until) if until is not None else None
        book = HaltBook(local.database, local.onchain.tickers)
        halt = _halt_call(lambda: book.declare(ticker.strip().upper(), local.clock.now(), end, reason))
    ends = f"until {halt.end:%Y-%m-%d %H:%M:%S} UTC" if halt.end else "until `equitoken oracle resume`"
    console.print(
        f"{halt.ticker} halted from {halt.start:%Y-%m-%d %H:%M:%S} UTC (market time) {ends}: {halt.reason}",
        highlight=False,
    )


def oracle_resume(
    ticker: OracleTicker, data_dir: DataDir = DEFAULT_DATA_DIR, rpc_url: RpcUrl = DEFAULT_RPC_URL
) -> None:
    """End the halt in force of an instrument now (market time)."""
    with local_issuer(data_dir, rpc_url) as local:
        book = HaltBook(local.database, local.onchain.tickers)
        halt = _halt_call(lambda: book.lift(ticker.strip().upper(), local.clock.now()))
    assert halt.end is not None
    console.print(
        f"{halt.ticker} resumed at {halt.end:%Y-%m-%d %H:%M:%S} UTC (market time), halted since "
        f"{halt.start:%Y-%m-%d %H:%M:%S} UTC ({halt.reason})",
        highlight=False,
    )


def oracle_status(data_dir: DataDir = DEFAULT_DATA_DIR, rpc_url: RpcUrl = DEFAULT_RPC_URL) -> None:
    """Show each instrument's price feed as the chain has it: the latest round, its answer (the token's
    price), the market status, when it was observed and accepted, and its age in chain time."""
    with local_issuer(data_dir, rpc_url) as local:
        chain_now = local.chain.timestamp()
        market_now = local.clock.now()
        rounds = [
            (deployed.ticker, _feed_round(local, deployed.price_feed))
            for deployed in local.deployment.issuance.instruments
        ]
    table = Table(
        "ticker",
        "round",
        "answer (USD)",
        "status",
        "observed (UTC)",
        "updated (UTC)",
        "age",
        "quorum",
        title=f"Price feeds at {market_now:%Y-%m-%d %H:%M:%S} UTC (market time)",
    )
    for ticker, feed_round in rounds:
        if feed_round.latest is None:
            table.add_row(ticker, "-", "-", "no round yet", "-", "-", "-", feed_round.quorum)
            continue
        latest = feed_round.latest
        table.add_row(
            ticker,
            str(latest.round_id),
            str(Price(latest.answer)),
            latest.status.name,
            f"{datetime.fromtimestamp(latest.started_at, UTC):%Y-%m-%d %H:%M:%S}",
            f"{datetime.fromtimestamp(latest.updated_at, UTC):%Y-%m-%d %H:%M:%S}",
            _age(chain_now - latest.updated_at),
            feed_round.quorum,
        )
    console.print(table)


@dataclass(frozen=True)
class _FeedRound:
    latest: FeedRound | None
    quorum: str


def _feed_round(local: LocalIssuer, address: str) -> _FeedRound:
    feed = local.chain.at(address, compile_contract("oracle/PriceFeed.vy"))
    quorum = f"{int(feed.quorum())} of {len(feed.reporters())}"
    try:
        round_id, answer, started_at, updated_at, _, status = feed.latestRoundStatus()
    except RevertError:  # the feed has no round yet
        return _FeedRound(None, quorum)
    latest = FeedRound(int(round_id), int(answer), int(started_at), int(updated_at), MarketStatus(status))
    return _FeedRound(latest, quorum)


def _age(seconds: int) -> str:
    if seconds < 0:
        return "0s"
    hours, rest = divmod(seconds, 3_600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def _market_time(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise RefusedError(
            "invalid_halt", f"--until {text!r} is not an ISO 8601 time, e.g. 2025-12-01T20:00:00Z"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _halt_call(call: Callable[[], Halt]) -> Halt:
    try:
        return call()
    except HaltError as error:
        raise RefusedError(error.code, str(error)) from None
