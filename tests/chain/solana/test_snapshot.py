"""The local Solana's state survives its process: every confirmed change is on disk when `send` returns."""

import json
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from equitoken.chain.solana.litesvm import LiteSvmChain
from equitoken.chain.solana.snapshot import SvmSnapshot
from equitoken.chain.solana.token2022 import associated_token_address, transfer_checked
from equitoken.market.clock import ManualClock

START = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)

# Creates AAPLx, mints 5 tokens to a verified holder, says what it made, then waits to be killed.
_WORKER = """
import json, sys, time
from datetime import UTC, datetime
from pathlib import Path
from solders.keypair import Keypair
from equitoken.chain.solana.litesvm import LiteSvmChain
from equitoken.chain.solana.snapshot import SvmSnapshot
from equitoken.chain.solana.stock_mint import MintAuthorities, StockMintTerms, create_stock_mint
from equitoken.chain.solana.token2022 import (
    associated_token_address, create_associated_token_account, mint_to_checked, thaw_account,
)
from equitoken.market.clock import ManualClock

chain = LiteSvmChain(ManualClock(datetime(2025, 12, 1, 15, tzinfo=UTC)), SvmSnapshot(Path(sys.argv[1])))
payer, holder, authorities = Keypair(), Keypair(), MintAuthorities.generate()
chain.airdrop(payer.pubkey(), 10**11)
terms = StockMintTerms("Apple xStock", "AAPLx", "https://x/a.json", "US0378331005", "https://x/terms", True)
mint = create_stock_mint(chain, payer, Keypair(), authorities, terms)
account = associated_token_address(holder.pubkey(), mint)
chain.send([create_associated_token_account(payer.pubkey(), holder.pubkey(), mint)], payer)
chain.send([thaw_account(account, mint, authorities.freezer.pubkey())], payer, authorities.freezer)
minter = authorities.minter
minted = chain.send([mint_to_checked(mint, account, minter.pubkey(), 5 * 10**8, 8)], payer, minter)
made = {"mint": str(mint), "holder": bytes(holder).hex(), "payer": bytes(payer).hex()}
print(json.dumps(made | {"signature": minted.signature}), flush=True)
time.sleep(600)
"""


def test_a_killed_chain_restarts_with_every_confirmed_balance(tmp_path: Path) -> None:
    path = tmp_path / "solana.sqlite"
    worker = subprocess.Popen([sys.executable, "-c", _WORKER, str(path)], stdout=subprocess.PIPE, text=True)
    assert worker.stdout is not None
    made = json.loads(worker.stdout.readline())
    worker.send_signal(signal.SIGKILL)
    worker.wait()

    chain = LiteSvmChain(ManualClock(START), SvmSnapshot(path))
    mint = Pubkey.from_string(made["mint"])
    holder = Keypair.from_bytes(bytes.fromhex(made["holder"]))
    payer = Keypair.from_bytes(bytes.fromhex(made["payer"]))
    account = associated_token_address(holder.pubkey(), mint)

    state = chain.mint(mint)
    assert state.supply == 5 * 10**8
    assert state.metadata["isin"] == "US0378331005"
    holding = chain.token_account(account)
    assert holding is not None
    assert holding.amount == 5 * 10**8

    minted = chain.landed(made["signature"])
    assert minted is not None
    assert minted.unix_timestamp == int(START.timestamp())

    # The restored accounts are live: the holder can still move its tokens to itself, in a later slot.
    moved = chain.send([transfer_checked(account, mint, account, holder.pubkey(), 10**8, 8)], payer, holder)
    after = chain.landed(moved.signature)
    assert after is not None
    assert after.slot > minted.slot
    assert chain.landed(str(Keypair().sign_message(b"never sent"))) is None


def test_a_chain_without_a_snapshot_starts_empty_and_a_new_file_starts_empty(tmp_path: Path) -> None:
    payer = Keypair()
    LiteSvmChain(ManualClock(START), SvmSnapshot(tmp_path / "a.sqlite")).airdrop(payer.pubkey(), 10**9)

    assert LiteSvmChain(ManualClock(START)).lamports(payer.pubkey()) == 0
    assert LiteSvmChain(ManualClock(START), SvmSnapshot(tmp_path / "b.sqlite")).lamports(payer.pubkey()) == 0
    assert (
        LiteSvmChain(ManualClock(START), SvmSnapshot(tmp_path / "a.sqlite")).lamports(payer.pubkey()) == 10**9
    )
