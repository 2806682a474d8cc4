"""Compute units of our stock mint on Solana, against a plain Token-2022 mint and a classic SPL Token mint.

All three run in one LiteSVM with the SPL programs it ships (Token-2022, Token, Associated Token
Account); every figure is the compute units of a real transaction holding the one instruction:

- ``transfer_cu``: `TransferChecked` of 1 token between two holders who both hold some already;
- ``mint_cu``: `MintToChecked` of 1 token to a holder's existing account;
- ``burn_cu``: `BurnChecked` of 1 token by its holder.

And ``mints_per_s``: mint requests an issuer settles per second of its own work (the steps of
`Issuer.process`: payment on the EVM chain, broker order and fills, custody, the Solana mint, the
refund) for a participant minting AAPLx on Solana, on an in-process EVM chain, LiteSVM and SQLite;
``evm_mints_per_s`` is the same run with the tokens on the EVM chain, the reference.

Ours is the xStocks configuration (`chain/solana/stock_mint.py`: metadata pointer and metadata,
permanent delegate, default-frozen accounts thawed for verified holders, scaled UI amount,
pausable); the plain Token-2022 mint has no extension; the classic mint runs on the Token program
as LiteSVM ships it (a build that takes about a hundred units a transfer). Each figure is the
second of two identical operations (warm accounts); compute units are the same on every run. Run::

    python bench/solana.py          # a table
    python bench/solana.py --json   # {"transfer_cu": {"ours", "plain_token2022", "spl_token"}, ...,
                                    #  "mints_per_s": x, "evm_mints_per_s": y}
"""

import argparse
import json
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, create_account

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.deployment import IssuerRoles
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.chain.solana.litesvm import LiteSvmChain
from equitoken.chain.solana.stock_mint import (
    STOCK_DECIMALS,
    MintAuthorities,
    StockMintTerms,
    create_stock_mint,
    derive_keypair,
)
from equitoken.chain.solana.token2022 import (
    MINT_BASE_SIZE,
    TOKEN_2022_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    associated_token_address,
    burn_checked,
    create_associated_token_account,
    initialize_mint2,
    mint_to_checked,
    thaw_account,
    transfer_checked,
)
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.workflow.states import RequestState
from equitoken.market.clock import ManualClock
from equitoken.platform.assemble import PaperBrokerSettings, assemble_issuer, deploy_issuer_contracts
from equitoken.platform.local import ACCOUNTS
from equitoken.platform.solana import local_solana
from equitoken.store.database import Database, sqlite_url

ONE = 10**STOCK_DECIMALS
MINTS = ("ours", "plain_token2022", "spl_token")
OPERATIONS = ("transfer_cu", "mint_cu", "burn_cu")
MINT_REQUESTS = 20
# Monday 2025-12-01, 10:00 New York (replayed prices), on an EVM chain started years before.
IN_SESSION = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)
GENESIS = int(datetime(2019, 1, 1, tzinfo=UTC).timestamp())


@dataclass
class _Mint:
    address: Pubkey
    program: Pubkey
    minter: Keypair
    freezer: Keypair | None


def _plain_mint(chain: LiteSvmChain, payer: Keypair, program: Pubkey) -> _Mint:
    mint, minter = Keypair(), Keypair()
    space = MINT_BASE_SIZE
    create = create_account(
        CreateAccountParams(
            from_pubkey=payer.pubkey(),
            to_pubkey=mint.pubkey(),
            lamports=chain.rent_exempt(space),
            space=space,
            owner=program,
        )
    )
    initialise = initialize_mint2(mint.pubkey(), STOCK_DECIMALS, minter.pubkey(), None, program)
    chain.send([create, initialise], payer, mint)
    return _Mint(mint.pubkey(), program, minter, None)


def _our_mint(chain: LiteSvmChain, payer: Keypair) -> _Mint:
    authorities = MintAuthorities.generate()
    terms = StockMintTerms(
        "Apple xStock",
        "AAPLx",
        "https://equitoken.example/AAPLx.json",
        "US0378331005",
        "https://equitoken.example/terms",
        True,
    )
    address = create_stock_mint(chain, payer, Keypair(), authorities, terms)
    return _Mint(address, TOKEN_2022_PROGRAM_ID, authorities.minter, authorities.freezer)


def _holder(chain: LiteSvmChain, payer: Keypair, mint: _Mint) -> tuple[Keypair, Pubkey]:
    wallet = Keypair()
    account = associated_token_address(wallet.pubkey(), mint.address, mint.program)
    chain.send(
        [create_associated_token_account(payer.pubkey(), wallet.pubkey(), mint.address, mint.program)], payer
    )
    if mint.freezer is not None:  # ours: the registry thaws a verified wallet's account
        chain.send([thaw_account(account, mint.address, mint.freezer.pubkey())], payer, mint.freezer)
    return wallet, account


def _units(chain: LiteSvmChain, payer: Keypair, instruction: Instruction, *signers: Keypair) -> int:
    chain.send([instruction], payer, *signers)  # the first warms the accounts
    return chain.send([instruction], payer, *signers).compute_units


def measure_mint(chain: LiteSvmChain, payer: Keypair, mint: _Mint) -> dict[str, int]:
    """Return the compute units of a transfer, a mint and a burn of one token of `mint`."""
    alice, a = _holder(chain, payer, mint)
    _, b = _holder(chain, payer, mint)
    mint_one = mint_to_checked(mint.address, a, mint.minter.pubkey(), ONE, STOCK_DECIMALS, mint.program)
    chain.send(
        [mint_to_checked(mint.address, a, mint.minter.pubkey(), 10 * ONE, STOCK_DECIMALS, mint.program)],
        payer,
        mint.minter,
    )
    chain.send(
        [mint_to_checked(mint.address, b, mint.minter.pubkey(), ONE, STOCK_DECIMALS, mint.program)],
        payer,
        mint.minter,
    )
    transfer = transfer_checked(a, mint.address, b, alice.pubkey(), ONE, STOCK_DECIMALS, mint.program)
    burn = burn_checked(a, mint.address, alice.pubkey(), ONE, STOCK_DECIMALS, mint.program)
    return {
        "transfer_cu": _units(chain, payer, transfer, alice),
        "mint_cu": _units(chain, payer, mint_one, mint.minter),
        "burn_cu": _units(chain, payer, burn, alice),
    }


def measure() -> dict[str, dict[str, int]]:
    """Return {operation: {mint kind: compute units}} from one LiteSVM."""
    chain = LiteSvmChain(ManualClock(datetime(2025, 12, 1, 15, 0, tzinfo=UTC)))
    payer = Keypair()
    chain.airdrop(payer.pubkey(), 1_000 * 10**9)
    mints = {
        "ours": _our_mint(chain, payer),
        "plain_token2022": _plain_mint(chain, payer, TOKEN_2022_PROGRAM_ID),
        "spl_token": _plain_mint(chain, payer, TOKEN_PROGRAM_ID),
    }
    by_mint = {kind: measure_mint(chain, payer, mint) for kind, mint in mints.items()}
    return {operation: {kind: by_mint[kind][operation] for kind in MINTS} for operation in OPERATIONS}


def settlement_rates(requests: int = MINT_REQUESTS) -> dict[str, float]:
    """Return mint requests settled per second of `Issuer.process`, on Solana and on EVM."""
    return {
        "mints_per_s": round(_settle(requests, on_solana=True), 1),
        "evm_mints_per_s": round(_settle(requests, on_solana=False), 1),
    }


def _settle(requests: int, *, on_solana: bool) -> float:
    clock = ManualClock(IN_SESSION)
    chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=GENESIS)
    chain.clock = clock
    instruments = [i for i in load_catalogue() if i.ticker == "AAPL"]
    contracts = deploy_issuer_contracts(chain, instruments)
    roles = IssuerRoles.from_accounts(chain.accounts)
    payer_wallet = chain.accounts[10]
    contracts.usdc.mint(payer_wallet, 10**15, sender=roles.admin)
    contracts.usdc.approve(roles.operator, 10**15, sender=payer_wallet)
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        database = Database(sqlite_url(workdir / "equitoken.sqlite"))
        database.migrate()
        solana = local_solana(clock, instruments) if on_solana else None
        issuer = assemble_issuer(
            chain,
            contracts.deployment,
            contracts.usdc.address,
            database,
            clock,
            broker=PaperBrokerSettings(sqlite_url(workdir / "paper-broker.sqlite"), 5, 1),
            solana=solana,
        ).issuer
        participant = issuer.investors.onboard(
            "Bench Markets Ltd",
            "GB",
            "authorised_participant",
            kyc_expires_at=IN_SESSION + timedelta(days=365),
        )
        issuer.investors.bind_wallet(participant.id, payer_wallet)
        wallet = payer_wallet
        where: dict[str, Any] = {}
        if solana is not None:
            wallet = str(derive_keypair(b"bench", "participant").pubkey())
            issuer.investors.bind_wallet(participant.id, wallet)
            where = {"chain_id": solana.chain_id, "payment_wallet": payer_wallet}
        for n in range(requests):
            issuer.request_mint(participant.id, wallet, "AAPL", "1", f"bench-{n}", **where)
        spent = 0.0
        while issuer.requests(open_only=True):
            started = time.perf_counter()
            issuer.process()
            spent += time.perf_counter() - started
            clock.advance(timedelta(minutes=1))
        completed = [r for r in issuer.requests() if r.state is RequestState.COMPLETED]
        database.close()
    if len(completed) != requests:
        raise RuntimeError(f"only {len(completed)} of {requests} mint requests completed")
    return requests / spent


def render(figures: dict[str, Any]) -> str:
    lines = [f"{'operation':<14}{'ours':>10}{'plain 2022':>12}{'SPL Token':>11}   ours / plain 2022"]
    for operation in OPERATIONS:
        row = figures[operation]
        ours, plain, classic = (row[kind] for kind in MINTS)
        lines.append(f"{operation:<14}{ours:>10,}{plain:>12,}{classic:>11,}   {ours / plain:.2f}x")
    solana, evm = figures["mints_per_s"], figures["evm_mints_per_s"]
    lines.append("")
    lines.append(f"{'mint requests settled per second':<34}{'Solana':>10}{'EVM':>10}   Solana / EVM")
    label = f"({MINT_REQUESTS} requests of 1 AAPL)"
    lines.append(f"{label:<34}{solana:>10.1f}{evm:>10.1f}   {solana / evm:.2f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    figures: dict[str, Any] = {**measure(), **settlement_rates()}
    print(json.dumps(figures) if args.json else render(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
