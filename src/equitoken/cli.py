"""The `equitoken` command line."""

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from equitoken.chain.anvil import AnvilError
from equitoken.chain.deployment import IssuanceDeployment
from equitoken.issuer.catalogue import load_catalogue
from equitoken.local import DEFAULT_DATA_DIR, DEFAULT_RPC_PORT, LocalPlatform

app = typer.Typer(
    help="Equitoken: tokenized US equities backed 1:1 by shares in custody.", no_args_is_help=True
)
# Addresses are never cut: wide enough for the table even when not on a terminal.
console = Console(width=None if Console().is_terminal else 200)


@app.command()
def up(
    data_dir: Annotated[
        Path, typer.Option(help="Where node state and deployment records live.")
    ] = DEFAULT_DATA_DIR,
    rpc_port: Annotated[
        int, typer.Option(help="The local node's JSON-RPC port on 127.0.0.1.")
    ] = DEFAULT_RPC_PORT,
    detach: Annotated[
        bool, typer.Option("--exit", help="Stop once everything is deployed and shown.")
    ] = False,
) -> None:
    """Start the platform locally: a node with persisted state and the issuance contracts deployed once."""
    platform = LocalPlatform(data_dir=data_dir, rpc_port=rpc_port)
    try:
        with console.status("starting") as status:

            def progress(message: str) -> None:
                status.update(message)
                console.log(message)

            deployment = platform.start(progress)
    except AnvilError as error:
        platform.stop()
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from error
    console.print(_instrument_table(deployment))
    console.print(f"JSON-RPC endpoint: [bold]{platform.node.url}[/bold] (chain id {deployment.chain_id})")
    console.print(
        f"identity registry {deployment.identity_registry}, sanctions list {deployment.sanctions_list}"
    )
    if detach:
        platform.stop()
        return
    stopped = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    console.print("running; press Ctrl-C to stop")
    stopped.wait()
    console.print("stopping: the node writes its state")
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


def _instrument_table(deployment: IssuanceDeployment) -> Table:
    table = Table("token", "ticker", "profile", title=f"Deployed instruments on chain {deployment.chain_id}")
    for column in ("token address", "reserve feed", "price feed"):
        table.add_column(column, no_wrap=True, min_width=42)
    for deployed in deployment.instruments:
        table.add_row(
            deployed.token_symbol,
            deployed.ticker,
            deployed.profile,
            deployed.token,
            deployed.reserve_feed,
            deployed.price_feed,
        )
    return table


if __name__ == "__main__":
    app()
