"""Operate the issuer: the catalogue, investors, mint and redeem requests, the workflow, reconciliation."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from equitoken.cli.options import (
    Chain,
    DataDir,
    InvestorId,
    Key,
    PaymentWallet,
    Quantity,
    RefusedError,
    RpcUrl,
    SolanaRpcUrl,
    Ticker,
    Wallet,
    console,
    local_issuer,
)
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.onchain import parse_address
from equitoken.issuer.reconcile import Reconciliation
from equitoken.issuer.service import RequestView
from equitoken.issuer.workflow.states import HeldResolution
from equitoken.platform.local import (
    DEFAULT_DATA_DIR,
    DEFAULT_RPC_URL,
    DEFAULT_SOLANA_RPC_URL,
)
from equitoken.platform.runner import process_pass

investor_app = typer.Typer(help="Onboard and list investors.", no_args_is_help=True)
request_app = typer.Typer(help="Show and cancel mint and redeem requests.", no_args_is_help=True)


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
    with local_issuer(data_dir, rpc_url) as local:
        # The on-chain registry checks the expiry against block time, which follows market time.
        expires = (
            kyc_expires.replace(tzinfo=UTC)
            if kyc_expires is not None
            else local.clock.now() + timedelta(days=365)
        )
        address = parse_address(wallet)
        owner = next((i for i in local.issuer.investors.all() if address in i.wallets), None)
        if owner is not None:
            raise RefusedError("compliance", f"wallet {address} already belongs to investor {owner.id}")
        investor = local.issuer.investors.onboard(
            name, jurisdiction, category, kyc_expires_at=expires, accredited=accredited
        )
        local.issuer.investors.bind_wallet(investor.id, address)
    console.print(investor.id, highlight=False)


def investor_list(data_dir: DataDir = DEFAULT_DATA_DIR, rpc_url: RpcUrl = DEFAULT_RPC_URL) -> None:
    """List the onboarded investors with their wallets."""
    with local_issuer(data_dir, rpc_url) as local:
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


def mint(
    investor: InvestorId,
    wallet: Wallet,
    ticker: Ticker,
    quantity: Quantity,
    key: Key,
    chain: Chain = None,
    payment_wallet: PaymentWallet = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    rpc_url: RpcUrl = DEFAULT_RPC_URL,
    solana_rpc_url: SolanaRpcUrl = DEFAULT_SOLANA_RPC_URL,
) -> None:
    """Request tokens for `quantity` shares, paid in USDC from the wallet (approve the treasury first);
    on Solana (`--chain 7565166`) to a Solana wallet, paid from `--payment-wallet`."""
    with local_issuer(data_dir, rpc_url, solana_rpc_url if chain is not None else None) as local:
        view = local.issuer.request_mint(
            investor, wallet, ticker, quantity, key, chain_id=chain, payment_wallet=payment_wallet
        )
    _print_accepted(view)


def redeem(
    investor: InvestorId,
    wallet: Wallet,
    ticker: Ticker,
    quantity: Quantity,
    key: Key,
    limit_price: Annotated[
        str | None,
        typer.Option("--limit-price", help="Sell no lower than this, in USD per share (whole cents)."),
    ] = None,
    chain: Chain = None,
    payment_wallet: PaymentWallet = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    rpc_url: RpcUrl = DEFAULT_RPC_URL,
    solana_rpc_url: SolanaRpcUrl = DEFAULT_SOLANA_RPC_URL,
) -> None:
    """Return tokens for `quantity` shares (approve the burner first); the proceeds are paid in USDC.

    With --limit-price the shares sell no lower; what has not sold at expiry comes back as tokens.
    On Solana (`--chain 7565166`) the tokens are burned from a Solana wallet and `--payment-wallet`
    is paid.
    """
    with local_issuer(data_dir, rpc_url, solana_rpc_url if chain is not None else None) as local:
        view = local.issuer.request_redeem(
            investor,
            wallet,
            ticker,
            quantity,
            key,
            limit_price,
            chain_id=chain,
            payment_wallet=payment_wallet,
        )
    _print_accepted(view)


def request_show(
    request_id: Annotated[str, typer.Argument(help="The request id, req-...")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    rpc_url: RpcUrl = DEFAULT_RPC_URL,
) -> None:
    """Show a request: its state, amounts and history."""
    with local_issuer(data_dir, rpc_url) as local:
        view = local.issuer.request(request_id)
    _print_request(view)


def request_list(
    open_only: Annotated[bool, typer.Option("--open", help="Only requests not final yet.")] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    rpc_url: RpcUrl = DEFAULT_RPC_URL,
) -> None:
    """List requests, oldest first."""
    with local_issuer(data_dir, rpc_url) as local:
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


def request_cancel(
    request_id: Annotated[str, typer.Argument(help="The request id, req-...")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    rpc_url: RpcUrl = DEFAULT_RPC_URL,
) -> None:
    """Ask for a request to be cancelled; what has filled already stays filled."""
    with local_issuer(data_dir, rpc_url) as local:
        view = local.issuer.cancel(request_id)
    if view.state.is_final:
        console.print(f"{view.id} is already {view.state}: nothing to cancel")
    else:
        console.print(
            f"{view.id}: {view.state}, cancellation requested (the next workflow pass carries it out)"
        )


def request_resolve(
    request_id: Annotated[str, typer.Argument(help="The held request's id, req-...")],
    action: Annotated[
        HeldResolution,
        typer.Argument(help="retry: run the step it was held at again; refund: a held mint's money back."),
    ],
    note: Annotated[str, typer.Option("--note", help="Who decided and why, for the request's history.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    rpc_url: RpcUrl = DEFAULT_RPC_URL,
) -> None:
    """Resolve a held request once: retry it once its cause is gone, or refund a held mint."""
    with local_issuer(data_dir, rpc_url) as local:
        view = local.issuer.resolve_held(request_id, action, note)
    console.print(f"{view.id}: {view.state} (the next workflow pass carries it on)")


def process(data_dir: DataDir = DEFAULT_DATA_DIR, rpc_url: RpcUrl = DEFAULT_RPC_URL) -> None:
    """Advance every open request as far as it can go now (one pass of what `up` does every second)."""
    with local_issuer(data_dir, rpc_url) as local:
        steps, changes = process_pass(local.issuer)
        still_open = len(local.issuer.requests(open_only=True))
        now = local.clock.now()
    for change in changes:
        console.print(change, highlight=False)
    console.print(
        f"{steps} steps taken; {still_open} requests open (market time {now:%Y-%m-%d %H:%M:%S} UTC)"
    )


def reconcile(data_dir: DataDir = DEFAULT_DATA_DIR, rpc_url: RpcUrl = DEFAULT_RPC_URL) -> None:
    """Compare shares in custody with tokens outstanding per instrument; exit 1 when anything is off."""
    with local_issuer(data_dir, rpc_url) as local:
        result = local.issuer.reconcile()
    console.print(_reconciliation_table(result))
    unbalanced = {account: units for account, units in result.trial_balance.items() if units}
    if unbalanced:
        console.print(f"[red]the custody ledger does not balance:[/red] {unbalanced}")
    if not result.ok:
        console.print("[red]NOT OK[/red]")
        raise typer.Exit(1)
    console.print("[green]OK[/green]: every instrument is fully backed")


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
    # The exchange's ledger balances get a column only when there are any: the table reads as before.
    ledger = any(holding.ledger.units for holding in result.holdings)
    if ledger:
        table.add_column("exchange ledger", justify="right")
    table.add_column("surplus", justify="right")
    table.add_column("status")
    for holding in result.holdings:
        status = "[green]OK[/green]" if holding.backed else "[red]UNDER-BACKED[/red]"
        outstanding = [str(holding.outstanding.get(chain_id, "-")) for chain_id in chain_ids]
        ledger_cell = [str(holding.ledger)] if ledger else []
        table.add_row(
            holding.ticker, str(holding.custody), *outstanding, *ledger_cell, str(holding.surplus), status
        )
    return table
