"""The `equitoken` command line: run the platform locally, and operate its issuer."""

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from equitoken.api import API_PREFIX
from equitoken.brokers.errors import BrokerError
from equitoken.chain.errors import ChainError, RevertError
from equitoken.chain.evm.anvil import AnvilError
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.jsonrpc import RpcUnavailableError
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.errors import IssuerError
from equitoken.issuer.investors import parse_address
from equitoken.issuer.reconcile import Reconciliation
from equitoken.issuer.service import RequestView
from equitoken.platform.local import (
    DATABASE_URL_ENV,
    DEFAULT_DATA_DIR,
    DEFAULT_INSTRUMENTS,
    DEFAULT_RPC_PORT,
    DEFAULT_RPC_URL,
    LocalDeployment,
    LocalIssuer,
    PlatformUnavailableError,
)
from equitoken.market.alpaca import MissingCredentialsError
from equitoken.model.quantities import Price, Usd
from equitoken.oracle.halts import Halt, HaltBook, HaltError
from equitoken.oracle.keys import ReporterKeyError
from equitoken.oracle.observation import MarketStatus
from equitoken.oracle.policy import FeedRound
from equitoken.oracle.reporter_client import ReporterUnavailableError
from equitoken.platform.runner import ApiServerError, process_pass
from equitoken.platform.settings import DEFAULT_API_PORT, SettingsError, UpSettings
from equitoken.platform.up import RunningPlatform
from equitoken.proofs.command import verify_proof

app = typer.Typer(
    help="Equitoken: tokenized US equities backed 1:1 by shares in custody.", no_args_is_help=True
)
investor_app = typer.Typer(help="Onboard and list investors.", no_args_is_help=True)
request_app = typer.Typer(help="Show and cancel mint and redeem requests.", no_args_is_help=True)
dev_app = typer.Typer(
    help="Helpers for the local platform only (dev wallets, test USDC).", no_args_is_help=True
)
app.add_typer(investor_app, name="investor")
app.add_typer(request_app, name="request")
oracle_app = typer.Typer(
    help="The oracle network: trading halts, and the price feeds' latest rounds.", no_args_is_help=True
)
app.add_typer(dev_app, name="dev")
app.add_typer(oracle_app, name="oracle")
app.command("verify-proof")(verify_proof)

# Addresses are never cut: wide enough for the tables even when not on a terminal.
console = Console(width=None if Console().is_terminal else 200)

DataDir = Annotated[
    Path, typer.Option("--data-dir", help="Where node state, deployment records and databases live.")
]
RpcUrl = Annotated[str, typer.Option("--rpc-url", help="The JSON-RPC URL of the node `equitoken up` runs.")]
InvestorId = Annotated[str, typer.Option("--investor", help="The investor id (`equitoken investor list`).")]
Wallet = Annotated[str, typer.Option("--wallet", help="The investor's bound wallet, 0x...")]
Ticker = Annotated[str, typer.Option("--ticker", help="The instrument's ticker, e.g. AAPL.")]
Quantity = Annotated[str, typer.Option("--quantity", help="Shares, e.g. 2 or 0.5.")]
Key = Annotated[
    str, typer.Option("--key", help="Idempotency key: the same key and request return the same request.")
]


def _instrument_count(value: str) -> int | None:
    if value.strip().lower() == "all":
        return None
    try:
        count = int(value)
    except ValueError:
        raise typer.BadParameter(f"expected a number of instruments or 'all', not {value!r}") from None
    if count < 1:
        raise typer.BadParameter(f"deploy at least one instrument, not {count}")
    return count


@app.command()
def up(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    rpc_port: Annotated[
        int, typer.Option(help="The local node's JSON-RPC port on 127.0.0.1.")
    ] = DEFAULT_RPC_PORT,
    port: Annotated[int, typer.Option(help="The API and dashboard's port on 127.0.0.1.")] = DEFAULT_API_PORT,
    instruments: Annotated[
        str,
        typer.Option(
            help="How many catalogue rows to deploy, first ones first, or 'all' (118, about 100 s). "
            "A later run with more deploys only the missing ones."
        ),
    ] = str(DEFAULT_INSTRUMENTS),
    speed: Annotated[
        int,
        typer.Option(
            help="Market seconds per wall second: 600 plays a week of sessions in 17 minutes. "
            "The node's block time moves with it."
        ),
    ] = 1,
    rpc_url: Annotated[
        str | None,
        typer.Option(
            "--rpc-url",
            help="Use this node (with the anvil dev accounts funded) instead of starting anvil.",
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help=f"SQLAlchemy URL of the issuer's database (default ${DATABASE_URL_ENV}, else SQLite "
            "in the data directory).",
        ),
    ] = None,
    postgres: Annotated[
        str | None,
        typer.Option(help="'embedded': run a PostgreSQL server of our own in <data dir>/postgres."),
    ] = None,
    broker: Annotated[
        str,
        typer.Option(
            help="'paper' (replayed prices) or 'alpaca' (keys in $APCA_API_KEY_ID and "
            "$APCA_API_SECRET_KEY; paper trading unless $EQUITOKEN_ALPACA_LIVE=1)."
        ),
    ] = "paper",
    detach: Annotated[
        bool, typer.Option("--exit", help="Stop once everything is deployed and shown.")
    ] = False,
) -> None:
    """Start the whole platform locally: a node with persisted state, the contracts deployed once, the
    issuer's workflow, the oracle network's reporters and rounds, the API and the dashboard, until Ctrl-C."""
    try:
        settings = UpSettings.checked(
            data_dir=data_dir,
            rpc_port=rpc_port,
            rpc_url=rpc_url,
            api_port=port,
            database_url=database_url,
            postgres=postgres,
            broker=broker,
            speed=speed,
            instruments=_instrument_count(instruments),
        )
    except SettingsError as error:
        _fail(error.code, error.message)
    stopped = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    platform = RunningPlatform(settings, lambda message: console.log(message, highlight=False))
    try:
        try:
            with console.status("starting") as status:

                def progress(message: str) -> None:
                    status.update(message)
                    console.log(message)

                platform.start(progress, serve=not detach)
        except (
            AnvilError,
            ChainError,
            IssuerError,
            PlatformUnavailableError,
            ApiServerError,
            BrokerError,
            MissingCredentialsError,
            ReporterUnavailableError,
            ReporterKeyError,
        ) as error:
            console.print(f"[red]error:[/red] {error}")
            raise typer.Exit(1) from error
        assert platform.deployment is not None
        _print_deployment(platform.deployment, platform.rpc_url)
        if detach:
            return
        _print_running(platform)
        platform.run(stopped)
    finally:
        console.print(
            "stopping: the API, the workflow, the oracle's reporters, then the node, which writes its state"
        )
        platform.stop()


@app.command()
def instruments() -> None:
    """List the instrument catalogue."""
    table = Table("ticker", "name", "ISIN", "exchange", "kind", "token", "decimals", "profile")
    for instrument in load_catalogue():
        table.add_row(
            instrument.ticker,
            instrument.name,
            str(instrument.isin),
            instrument.exchange,
            instrument.kind,
            instrument.token_symbol,
            str(instrument.token_decimals),
            instrument.profile.name.lower(),
        )
    console.print(table)


# -- operating the issuer --------------------------------------------------------------------


@investor_app.command("onboard")
def investor_onboard(
    name: Annotated[str, typer.Option(help="The investor's legal name.")],
    jurisdiction: Annotated[str, typer.Option(help="ISO 3166 alpha-2 country code, e.g. GB.")],
    category: Annotated[str, typer.Option(help="authorised_participant, professional or retail.")],
    wallet: Annotated[str, typer.Option(help="The wallet to bind, 0x...")],
    kyc_expires: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"], help="When the KYC check expires (UTC); default a year from market time."
        ),
    ] = None,
    accredited: Annotated[bool, typer.Option(help="Whether the investor is accredited.")] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    rpc_url: RpcUrl = DEFAULT_RPC_URL,
) -> None:
    """Onboard an investor (approved KYC), bind a wallet, register both on-chain; print the investor id."""
    with _local_issuer(data_dir, rpc_url) as local:
        # The on-chain registry checks the expiry against block time, which follows market time.
        expires = (
            kyc_expires.replace(tzinfo=UTC)
            if kyc_expires is not None
            else local.clock.now() + timedelta(days=365)
        )
        address = parse_address(wallet)
        owner = next((i for i in local.issuer.investors.all() if address in i.wallets), None)
        if owner is not None:
            raise _RefusedError("compliance", f"wallet {address} already belongs to investor {owner.id}")
        investor = local.issuer.investors.onboard(
            name, jurisdiction, category, kyc_expires_at=expires, accredited=accredited
        )
        local.issuer.investors.bind_wallet(investor.id, address)
    console.print(investor.id, highlight=False)


@investor_app.command("list")
def investor_list(data_dir: DataDir = DEFAULT_DATA_DIR, rpc_url: RpcUrl = DEFAULT_RPC_URL) -> None:
    """List the onboarded investors with their wallets."""
    with _local_issuer(data_dir, rpc_url) as local:
        investors = local.issuer.investors.all()
    table = Table("id", "name", "jurisdiction", "category", "accredited", "KYC", "KYC expires", "frozen")
    table.add_column("wallets", no_wrap=True)
    for investor in investors:
        table.add_row(
            investor.id,
            investor.name,
            investor.jurisdiction,
            investor.category,
            "yes" if investor.accredited else "no",
            investor.kyc_status,
            f"{investor.kyc_expires_at:%Y-%m-%d}",
            "FROZEN" if investor.frozen else "no",
            "\n".join(investor.wallets),
        )
    console.print(table)


@app.command()
def mint(
    investor: InvestorId,
    wallet: Wallet,
    ticker: Ticker,
    quantity: Quantity,
    key: Key,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    rpc_url: RpcUrl = DEFAULT_RPC_URL,
) -> None:
    """Request tokens for `quantity` shares, paid in USDC from the wallet (approve the treasury first)."""
    with _local_issuer(data_dir, rpc_url) as local:
        view = local.issuer.request_mint(investor, wallet, ticker, quantity, key)
    _print_accepted(view)


@app.command()
def redeem(
    investor: InvestorId,
    wallet: Wallet,
    ticker: Ticker,
    quantity: Quantity,
    key: Key,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    rpc_url: RpcUrl = DEFAULT_RPC_URL,
) -> None:
    """Return tokens for `quantity` shares (approve the burner first); the proceeds are paid in USDC."""
    with _local_issuer(data_dir, rpc_url) as local:
        view = local.issuer.request_redeem(investor, wallet, ticker, quantity, key)
    _print_accepted(view)


@request_app.command("show")
def request_show(
    request_id: Annotated[str, typer.Argument(help="The request id, req-...")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    rpc_url: RpcUrl = DEFAULT_RPC_URL,
) -> None:
    """Show a request: its state, amounts and history."""
    with _local_issuer(data_dir, rpc_url) as local:
        view = local.issuer.request(request_id)
    _print_request(view)


@request_app.command("list")
def request_list(
    open_only: Annotated[bool, typer.Option("--open", help="Only requests not final yet.")] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    rpc_url: RpcUrl = DEFAULT_RPC_URL,
) -> None:
    """List requests, oldest first."""
    with _local_issuer(data_dir, rpc_url) as local:
        views = local.issuer.requests(open_only=open_only)
    table = Table("id", "kind", "investor", "ticker", "quantity", "state", "filled", "settled USDC")
    for view in views:
        table.add_row(
            view.id,
            view.kind,
            view.investor_id,
            view.ticker,
            str(view.quantity),
            view.state,
            str(view.filled_quantity),
            str(view.settled),
        )
    console.print(table)


@request_app.command("cancel")
def request_cancel(
    request_id: Annotated[str, typer.Argument(help="The request id, req-...")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    rpc_url: RpcUrl = DEFAULT_RPC_URL,
) -> None:
    """Ask for a request to be cancelled; what has filled already stays filled."""
    with _local_issuer(data_dir, rpc_url) as local:
        view = local.issuer.cancel(request_id)
    if view.state.is_final:
        console.print(f"{view.id} is already {view.state}: nothing to cancel")
    else:
        console.print(
            f"{view.id}: {view.state}, cancellation requested (the next workflow pass carries it out)"
        )


@app.command()
def process(data_dir: DataDir = DEFAULT_DATA_DIR, rpc_url: RpcUrl = DEFAULT_RPC_URL) -> None:
    """Advance every open request as far as it can go now (one pass of what `up` does every second)."""
    with _local_issuer(data_dir, rpc_url) as local:
        steps, changes = process_pass(local.issuer)
        still_open = len(local.issuer.requests(open_only=True))
        now = local.clock.now()
    for change in changes:
        console.print(change, highlight=False)
    console.print(
        f"{steps} steps taken; {still_open} requests open (market time {now:%Y-%m-%d %H:%M:%S} UTC)"
    )


@app.command()
def reconcile(data_dir: DataDir = DEFAULT_DATA_DIR, rpc_url: RpcUrl = DEFAULT_RPC_URL) -> None:
    """Compare shares in custody with tokens outstanding per instrument; exit 1 when anything is off."""
    with _local_issuer(data_dir, rpc_url) as local:
        result = local.issuer.reconcile()
    console.print(_reconciliation_table(result))
    unbalanced = {account: units for account, units in result.trial_balance.items() if units}
    if unbalanced:
        console.print(f"[red]the custody ledger does not balance:[/red] {unbalanced}")
    if not result.ok:
        console.print("[red]NOT OK[/red]")
        raise typer.Exit(1)
    console.print("[green]OK[/green]: every instrument is fully backed")


@dev_app.command("fund")
def dev_fund(
    wallet: Annotated[str, typer.Option(help="The dev wallet, 0x...")],
    usdc: Annotated[str, typer.Option(help="Test USDC to mint to the wallet, in dollars.")] = "100000",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    rpc_url: RpcUrl = DEFAULT_RPC_URL,
) -> None:
    """Mint test USDC to a dev wallet. For a wallet of anvil's public test mnemonic (accounts 10-19 are
    meant for this), whose key is therefore known here, also give it gas and approve, from the
    wallet, the issuer treasury to take USDC (mints) and the burner to take every token (redeems).
    Local chains only: never use the anvil mnemonic's wallets anywhere else."""
    with _local_issuer(data_dir, rpc_url) as local:
        address = parse_address(wallet)
        amount = _usd(usdc)
        funding = local.fund_dev_wallet(address, amount.units)
        balance = int(local.onchain.usdc.balanceOf(address))
    console.print(f"minted {amount} USDC to {funding.wallet}; balance {Usd(balance)} USDC")
    if funding.approved:
        console.print(f"approved for the issuer: {', '.join(funding.approved)}")
    else:
        console.print("not a wallet of the anvil mnemonic: approve the treasury and the burner yourself")


# -- the oracle ------------------------------------------------------------------------------------

OracleTicker = Annotated[str, typer.Argument(help="The instrument's ticker, e.g. AAPL.")]


@oracle_app.command("halt")
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
    with _local_issuer(data_dir, rpc_url) as local:
        end = _market_time(until) if until is not None else None
        book = HaltBook(local.database, local.onchain.tickers)
        halt = _halt_call(lambda: book.declare(ticker.strip().upper(), local.clock.now(), end, reason))
    ends = f"until {halt.end:%Y-%m-%d %H:%M:%S} UTC" if halt.end else "until `equitoken oracle resume`"
    console.print(
        f"{halt.ticker} halted from {halt.start:%Y-%m-%d %H:%M:%S} UTC (market time) {ends}: {halt.reason}",
        highlight=False,
    )


@oracle_app.command("resume")
def oracle_resume(
    ticker: OracleTicker, data_dir: DataDir = DEFAULT_DATA_DIR, rpc_url: RpcUrl = DEFAULT_RPC_URL
) -> None:
    """End the halt in force of an instrument now (market time)."""
    with _local_issuer(data_dir, rpc_url) as local:
        book = HaltBook(local.database, local.onchain.tickers)
        halt = _halt_call(lambda: book.lift(ticker.strip().upper(), local.clock.now()))
    assert halt.end is not None
    console.print(
        f"{halt.ticker} resumed at {halt.end:%Y-%m-%d %H:%M:%S} UTC (market time), halted since "
        f"{halt.start:%Y-%m-%d %H:%M:%S} UTC ({halt.reason})",
        highlight=False,
    )


@oracle_app.command("status")
def oracle_status(data_dir: DataDir = DEFAULT_DATA_DIR, rpc_url: RpcUrl = DEFAULT_RPC_URL) -> None:
    """Show each instrument's price feed as the chain has it: the latest round, its answer (the token's
    price), the market status, when it was observed and accepted, and its age in chain time."""
    with _local_issuer(data_dir, rpc_url) as local:
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
        raise _RefusedError(
            "invalid_halt", f"--until {text!r} is not an ISO 8601 time, e.g. 2025-12-01T20:00:00Z"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _halt_call(call: Callable[[], Halt]) -> Halt:
    try:
        return call()
    except HaltError as error:
        raise _RefusedError(error.code, str(error)) from None


# -- helpers -----------------------------------------------------------------------------------


class _RefusedError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _fail(code: str, message: str) -> NoReturn:
    typer.echo(f"error[{code}]: {message}", err=True)
    raise typer.Exit(2)


@contextmanager
def _local_issuer(data_dir: Path, rpc_url: str) -> Iterator[LocalIssuer]:
    try:
        with LocalIssuer(data_dir, rpc_url) as local:
            yield local
    except (IssuerError, PlatformUnavailableError, _RefusedError) as error:
        _fail(error.code, error.message)
    except RpcUnavailableError as error:
        _fail(error.code, f"{error}; start the platform with `equitoken up`")
    except ChainError as error:
        _fail(error.code, str(error))


def _usd(text: str) -> Usd:
    try:
        amount = Usd.parse(text)
    except ValueError as error:
        raise _RefusedError("invalid_request", str(error)) from None
    if amount.units < 0:
        raise _RefusedError("invalid_request", f"amount must not be negative, got {amount}")
    return amount


def _print_accepted(view: RequestView) -> None:
    console.print(f"request {view.id}", highlight=False)
    console.print(f"state: {view.state}")
    console.print(f"{view.kind} {view.quantity} {view.ticker} for {view.investor_id} to {view.wallet}")
    if view.events:
        console.print(f"quote: {view.events[0].reason}", highlight=False)
    console.print(f"escrow: {view.escrow} USDC")


def _print_request(view: RequestView) -> None:
    summary = Table(show_header=False, title=f"request {view.id}")
    summary.add_column("field")
    summary.add_column("value", no_wrap=True)
    rows = [
        ("kind", str(view.kind)),
        ("state", str(view.state)),
        ("investor", view.investor_id),
        ("wallet", view.wallet),
        ("instrument", view.ticker),
        ("quantity", f"{view.quantity} shares"),
        ("filled", f"{view.filled_quantity} shares for {view.filled_notional} USD"),
        ("escrow", f"{view.escrow} USDC"),
        ("fee", f"{view.fee} USDC"),
        ("settled", f"{view.settled} USDC"),
        ("tokens settled", str(view.tokens_settled)),
        ("idempotency key", view.idempotency_key),
        ("created", f"{view.created_at:%Y-%m-%d %H:%M:%S}"),
        ("expires", f"{view.expires_at:%Y-%m-%d %H:%M:%S}"),
    ]
    if view.reason:
        rows.append(("reason", view.reason))
    for field, value in rows:
        summary.add_row(field, value)
    console.print(summary)
    history = Table("at (market time, UTC)", "from", "to", "reason", title="history")
    for event in view.events:
        history.add_row(f"{event.at:%Y-%m-%d %H:%M:%S}", event.from_state or "", event.to_state, event.reason)
    console.print(history)


def _reconciliation_table(result: Reconciliation) -> Table:
    chain_ids = sorted({chain_id for holding in result.holdings for chain_id in holding.outstanding})
    table = Table("instrument", "custody", title="Reconciliation (shares)")
    for chain_id in chain_ids:
        table.add_column(f"outstanding chain {chain_id}", justify="right")
    table.add_column("surplus", justify="right")
    table.add_column("status")
    for holding in result.holdings:
        status = "[green]OK[/green]" if holding.backed else "[red]UNDER-BACKED[/red]"
        outstanding = [str(holding.outstanding.get(chain_id, "-")) for chain_id in chain_ids]
        table.add_row(holding.ticker, str(holding.custody), *outstanding, str(holding.surplus), status)
    return table


def _print_deployment(deployment: LocalDeployment, url: str) -> None:
    issuance = deployment.issuance
    table = Table("token", "ticker", "profile", title=f"Deployed instruments on chain {issuance.chain_id}")
    for column in ("token address", "reserve feed", "price feed"):
        table.add_column(column, no_wrap=True, min_width=42)
    for deployed in issuance.instruments:
        table.add_row(
            deployed.token_symbol,
            deployed.ticker,
            deployed.profile,
            deployed.token,
            deployed.reserve_feed,
            deployed.price_feed,
        )
    console.print(table)
    console.print(f"JSON-RPC endpoint: [bold]{url}[/bold] (chain id {issuance.chain_id})")
    console.print(f"identity registry {issuance.identity_registry}, sanctions list {issuance.sanctions_list}")
    console.print(f"test USDC {deployment.usdc}; dev wallets: `equitoken dev fund --help`")


def _print_running(platform: RunningPlatform) -> None:
    api = platform.api
    assert api is not None
    console.print(f"Dashboard:   [bold]{api.url}/[/bold]")
    console.print(f"API docs:    [bold]{api.url}{API_PREFIX}/docs[/bold] (header X-API-Key: <key>)")
    console.print(f"JSON-RPC:    [bold]{platform.rpc_url}[/bold]")
    keys = Table(
        "role",
        "who",
        "API key",
        "can",
        title=f"Demo API keys (also in {platform.settings.data_dir}/api-keys.json)",
    )
    for key in platform.keys:
        keys.add_row(key.role, key.name, key.key, key.can)
    console.print(keys)
    console.print("running: processing requests every second; press Ctrl-C to stop")


if __name__ == "__main__":
    app()
