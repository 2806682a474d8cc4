"""Compute units of our stock mint on Solana, against a plain Token-2022 mint and a classic SPL Token mint.

All three run in one LiteSVM with the SPL programs it ships (Token-2022, Token, Associated Token
Account); every figure is the compute units of a real transaction holding the one instruction:

- ``transfer_cu``: `TransferChecked` of 1 token between two holders who both hold some already;
- ``mint_cu``: `MintToChecked` of 1 token to a holder's existing account;
- ``burn_cu``: `BurnChecked` of 1 token by its holder.

Ours is the xStocks configuration (`chain/solana/stock_mint.py`: metadata pointer and metadata,
permanent delegate, default-frozen accounts thawed for verified holders, scaled UI amount,
pausable); the plain Token-2022 mint has no extension; the classic mint runs on the Token program
as LiteSVM ships it (a build that takes about a hundred units a transfer). Each figure is the
second of two identical operations (warm accounts); compute units are the same on every run. Run::

    python bench/solana.py          # a table
    python bench/solana.py --json   # {"transfer_cu": {"ours", "plain_token2022", "spl_token"}, ...}
"""

import argparse
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, create_account

from equitoken.chain.solana.litesvm import LiteSvmChain
from equitoken.chain.solana.stock_mint import (
    STOCK_DECIMALS,
    MintAuthorities,
    StockMintTerms,
    create_stock_mint,
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
from equitoken.market.clock import ManualClock

ONE = 10**STOCK_DECIMALS
MINTS = ("ours", "plain_token2022", "spl_token")
OPERATIONS = ("transfer_cu", "mint_cu", "burn_cu")


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


def render(figures: dict[str, dict[str, int]]) -> str:
    lines = [f"{'operation':<14}{'ours':>10}{'plain 2022':>12}{'SPL Token':>11}   ours / plain 2022"]
    for operation in OPERATIONS:
        row = figures[operation]
        ours, plain, classic = (row[kind] for kind in MINTS)
        lines.append(f"{operation:<14}{ours:>10,}{plain:>12,}{classic:>11,}   {ours / plain:.2f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    figures = measure()
    print(json.dumps(figures) if args.json else render(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
