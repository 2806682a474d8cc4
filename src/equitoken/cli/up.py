"""`equitoken up`: the whole platform on this machine, until Ctrl-C."""

import faulthandler
import os
import signal
import sys
import threading
from types import FrameType
from typing import Annotated

import typer
from rich.table import Table

from equitoken.api import API_PREFIX
from equitoken.cli.options import (
    DataDir,
    console,
    fail,
)
from equitoken.model.errors import EquitokenError
from equitoken.platform.local import (
    DATABASE_URL_ENV,
    DEFAULT_BASE_RPC_PORT,
    DEFAULT_DATA_DIR,
    DEFAULT_INSTRUMENTS,
    DEFAULT_RPC_PORT,
    DEFAULT_SOLANA_RPC_PORT,
    LocalDeployment,
)
from equitoken.platform.settings import DEFAULT_API_PORT, SettingsError, UpSettings
from equitoken.platform.up import RunningPlatform


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


def up(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    rpc_port: Annotated[
        int, typer.Option(help="The local node's JSON-RPC port on 127.0.0.1.")
    ] = DEFAULT_RPC_PORT,
    port: Annotated[int, typer.Option(help="The API and dashboard's port on 127.0.0.1.")] = DEFAULT_API_PORT,
    solana_rpc_port: Annotated[
        int, typer.Option(help="The local Solana's JSON-RPC port on 127.0.0.1 (LiteSVM, served by up).")
    ] = DEFAULT_SOLANA_RPC_PORT,
    base_rpc_port: Annotated[
        int, typer.Option(help='The second EVM chain\'s ("base", chain 8453) JSON-RPC port on 127.0.0.1.')
    ] = DEFAULT_BASE_RPC_PORT,
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
            solana_rpc_port=solana_rpc_port,
            base_rpc_port=base_rpc_port,
        )
    except SettingsError as error:
        fail(error.code, error.message)
    stopped = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if not stopped.is_set():
            stopped.set()
            # Raw writes: the handler may interrupt the console while it holds its lock.
            os.write(sys.stderr.fileno(), _STOPPING)
            return
        # The pass under way has not ended: show where each thread waits, then stop at once. Every
        # step that moves value is durable, so the next `up` finishes what this one leaves.
        faulthandler.dump_traceback(all_threads=True)
        raise KeyboardInterrupt

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
        except EquitokenError as error:
            console.print(f"[red]error:[/red] {error}")
            raise typer.Exit(1) from error
        assert platform.deployment is not None
        _print_deployment(platform.deployment, platform.rpc_url)
        if detach:
            return
        _print_running(platform)
        platform.run(stopped)
    finally:
        # Stopping ends the node, which writes its state then: a further Ctrl-C must not cut it short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        console.print(
            "stopping: the API, the workflow, the oracle's reporters, then the node, which writes its state"
        )
        platform.stop()


_STOPPING = b"stopping after the pass under way; Ctrl-C again stops at once\n"


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
