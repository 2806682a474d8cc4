"""What the commands share: their options, the console, and how they open the local issuer and fail:
every platform error ends the command with `error[<code>]: <message>` and exit status 2."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from equitoken.chain.evm.jsonrpc import RpcUnavailableError
from equitoken.model.errors import EquitokenError
from equitoken.model.quantities import Usd
from equitoken.platform.local import (
    LocalIssuer,
)

# Addresses are never cut: wide enough for the tables even when not on a terminal.
console = Console(width=None if Console().is_terminal else 200)

DataDir = Annotated[
    Path, typer.Option("--data-dir", help="Where node state, deployment records and databases live.")
]
RpcUrl = Annotated[str, typer.Option("--rpc-url", help="The JSON-RPC URL of the node `equitoken up` runs.")]
InvestorId = Annotated[str, typer.Option("--investor", help="The investor id (`equitoken investor list`).")]
Wallet = Annotated[str, typer.Option("--wallet", help="The investor's bound wallet: 0x..., or a Solana one.")]
Ticker = Annotated[str, typer.Option("--ticker", help="The instrument's ticker, e.g. AAPL.")]
Quantity = Annotated[str, typer.Option("--quantity", help="Shares, e.g. 2 or 0.5.")]
Chain = Annotated[
    int | None,
    typer.Option(
        "--chain", help="The chain the tokens are on: Solana's is 7565166; the EVM chain if left out."
    ),
]
PaymentWallet = Annotated[
    str | None,
    typer.Option("--payment-wallet", help="For a request on Solana: the EVM wallet that pays and is paid."),
]
SolanaRpcUrl = Annotated[
    str, typer.Option("--solana-rpc-url", help="The JSON-RPC URL of the Solana `equitoken up` serves.")
]
Key = Annotated[
    str, typer.Option("--key", help="Idempotency key: the same key and request return the same request.")
]


class RefusedError(EquitokenError):
    """A command refused before it changed anything; `code` names the problem."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def fail(code: str, message: str) -> NoReturn:
    """Print `error[<code>]: <message>` and exit with status 2."""
    typer.echo(f"error[{code}]: {message}", err=True)
    raise typer.Exit(2)


@contextmanager
def local_issuer(data_dir: Path, rpc_url: str, solana_rpc_url: str | None = None) -> Iterator[LocalIssuer]:
    """Open the issuer of the platform `up` runs (on its Solana too, through `solana_rpc_url` if
    given); fail with the reason if it cannot be opened."""
    try:
        with LocalIssuer(data_dir, rpc_url, solana_rpc_url=solana_rpc_url) as local:
            yield local
    except RpcUnavailableError as error:
        fail(error.code, f"{error}; start the platform with `equitoken up`")
    except EquitokenError as error:
        fail(error.code, error.message)


def parse_usd(text: str) -> Usd:
    """Parse a non-negative USD amount given on the command line."""
    try:
        amount = Usd.parse(text)
    except ValueError as error:
        raise RefusedError("invalid_request", str(error)) from None
    if amount.units < 0:
        raise RefusedError("invalid_request", f"amount must not be negative, got {amount}")
    return amount
