"""`equitoken dev`: helpers for the local platform only."""

from typing import Annotated

import typer

from equitoken.cli.options import DataDir, RpcUrl, console, local_issuer, parse_usd
from equitoken.issuer.onchain import parse_address
from equitoken.model.quantities import Usd
from equitoken.platform.local import (
    DEFAULT_DATA_DIR,
    DEFAULT_RPC_URL,
)

dev_app = typer.Typer(
    help="Helpers for the local platform only (dev wallets, test USDC).", no_args_is_help=True
)


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
    with local_issuer(data_dir, rpc_url) as local:
        address = parse_address(wallet)
        amount = parse_usd(usdc)
        funding = local.fund_dev_wallet(address, amount.units)
        balance = int(local.onchain.usdc.balanceOf(address))
    console.print(f"minted {amount} USDC to {funding.wallet}; balance {Usd(balance)} USDC")
    if funding.approved:
        console.print(f"approved for the issuer: {', '.join(funding.approved)}")
    else:
        console.print("not a wallet of the anvil mnemonic: approve the treasury and the burner yourself")
