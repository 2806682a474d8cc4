"""The indexer follows a local Solana's stock mints: mints, transfers, burns, freezes and multiplier
updates become balances, supply, supply points and multiplier history, read like any chain's, and
it goes on where it stopped after the chain and the indexer restart."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from solders.keypair import Keypair
from sqlalchemy import select

from equitoken.chain.solana.chain import SOLANA_LOCAL
from equitoken.chain.solana.litesvm import LiteSvmChain
from equitoken.chain.solana.token2022 import (
    associated_token_address,
    burn_checked,
    freeze_account,
    mint_to_checked,
    thaw_account,
    transfer_checked,
    update_multiplier,
)
from equitoken.indexer import Indexer
from equitoken.indexer.solana import IndexedSolana
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.solana import SolanaIssuerChain
from equitoken.market.clock import ManualClock
from equitoken.model.multiplier import MULTIPLIER_ONE
from equitoken.platform.solana import local_solana
from equitoken.store.database import Database
from equitoken.store.schema import IndexEventRow

START = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)
ONE = 10**8


def _solana(clock: ManualClock, directory: Path) -> SolanaIssuerChain:
    return local_solana(clock, [i for i in load_catalogue() if i.ticker == "AAPL"], directory)


def _holder(solana: SolanaIssuerChain) -> tuple[Keypair, str]:
    """Return a new wallet whose AAPLx account the registry has created (AAPL is `open`: not frozen)."""
    wallet = Keypair()
    call = solana.registration_call("AAPL", str(wallet.pubkey()), verified=True)
    solana.chain.send(call.instructions, call.payer, *call.signers)
    return wallet, str(wallet.pubkey())


def test_the_indexer_follows_a_solana_mint(database: Database, tmp_path: Path) -> None:
    clock = ManualClock(START)
    solana = _solana(clock, tmp_path / "solana")
    mint, a = solana.deployment.mint("AAPL"), solana.authorities
    (alice, alice_wallet), (bob, bob_wallet) = _holder(solana), _holder(solana)
    alice_account = associated_token_address(alice.pubkey(), mint)
    bob_account = associated_token_address(bob.pubkey(), mint)
    chain = solana.chain
    assert isinstance(chain, LiteSvmChain)
    chain.send([mint_to_checked(mint, alice_account, a.minter.pubkey(), 10 * ONE, 8)], solana.payer, a.minter)
    chain.send(
        [transfer_checked(alice_account, mint, bob_account, alice.pubkey(), 4 * ONE, 8)], solana.payer, alice
    )
    clock.advance(timedelta(minutes=1))  # supply points are by time: the burn's is a minute later
    chain.send([burn_checked(bob_account, mint, bob.pubkey(), ONE, 8)], solana.payer, bob)
    effective = int((START + timedelta(hours=1)).timestamp())
    chain.send([update_multiplier(mint, a.multiplier.pubkey(), 4.0, effective)], solana.payer, a.multiplier)

    indexer = Indexer(database, [], solana=[IndexedSolana(chain, solana.deployment)])
    report = indexer.poll()

    assert report.events == 4  # the mint, the transfer, the burn and the multiplier
    holders = {(h.holder, h.raw) for h in indexer.holders("AAPL", SOLANA_LOCAL)}
    assert holders == {(alice_wallet, 6 * ONE), (bob_wallet, 3 * ONE)}
    assert [(s.chain_id, s.raw) for s in indexer.supply("AAPL")] == [(SOLANA_LOCAL, 9 * ONE)]
    assert [p.by_chain[SOLANA_LOCAL] for p in indexer.supply_history("AAPL")] == [10 * ONE, 9 * ONE]
    history = indexer.multiplier_history("AAPL", SOLANA_LOCAL)
    assert [(m.multiplier, m.effective_at) for m in history][-1] == (4 * MULTIPLIER_ONE, effective)
    assert [b.raw for b in indexer.balances_of([bob_wallet])] == [3 * ONE]
    assert indexer.poll().events == 0  # nothing new

    # A freeze is journaled; the chain and the indexer restart and go on from where they were.
    chain.send([freeze_account(bob_account, mint, a.freezer.pubkey())], solana.payer, a.freezer)
    chain.close()
    restarted = _solana(clock, tmp_path / "solana")
    restarted.chain.send(
        [
            thaw_account(bob_account, mint, a.freezer.pubkey()),
            mint_to_checked(mint, alice_account, a.minter.pubkey(), 2 * ONE, 8),
        ],
        restarted.payer,
        a.freezer,
        a.minter,
    )
    assert isinstance(restarted.chain, LiteSvmChain)
    again = Indexer(database, [], solana=[IndexedSolana(restarted.chain, restarted.deployment)])
    assert again.poll().events == 3
    assert {(h.holder, h.raw) for h in again.holders("AAPL", SOLANA_LOCAL)} == {
        (alice_wallet, 8 * ONE),
        (bob_wallet, 3 * ONE),
    }
    with database.transaction() as session:
        names = list(session.scalars(select(IndexEventRow.name).order_by(IndexEventRow.id)))
    assert names.count("AccountFrozen") == 1
    assert names.count("AccountThawed") == 1
