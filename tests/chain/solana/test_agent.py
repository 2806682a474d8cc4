"""A restricted mint's accounts stay frozen: holders cannot move tokens, the agents still mint, burn
and force transfers, each in one transaction that leaves the accounts frozen."""

from datetime import UTC, datetime

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from equitoken.chain.errors import RevertError
from equitoken.chain.solana.agent import burn_from_holder, forced_transfer, mint_to_holder
from equitoken.chain.solana.litesvm import LiteSvmChain
from equitoken.chain.solana.stock_mint import MintAuthorities, StockMintTerms, create_stock_mint
from equitoken.chain.solana.token2022 import (
    AccountState,
    associated_token_address,
    create_associated_token_account,
    transfer_checked,
)
from equitoken.market.clock import ManualClock

ONE = 10**8
RESTRICTED = StockMintTerms("Apple xStock", "AAPLx", "https://x/a.json", "US0378331005", "https://x/t", True)


class Restricted:
    def __init__(self) -> None:
        self.chain = LiteSvmChain(ManualClock(datetime(2025, 12, 1, 15, 0, tzinfo=UTC)))
        self.payer = Keypair()
        self.chain.airdrop(self.payer.pubkey(), 100 * 10**9)
        self.authorities = MintAuthorities.generate()
        self.mint = create_stock_mint(self.chain, self.payer, Keypair(), self.authorities, RESTRICTED)

    def holder(self) -> tuple[Keypair, Pubkey]:
        wallet = Keypair()
        self.chain.airdrop(wallet.pubkey())
        create = create_associated_token_account(self.payer.pubkey(), wallet.pubkey(), self.mint)
        self.chain.send([create], self.payer)
        return wallet, associated_token_address(wallet.pubkey(), self.mint)

    def agents(self) -> list[Keypair]:
        a = self.authorities
        return [a.freezer, a.minter, a.delegate]

    def state(self, account: Pubkey) -> tuple[int, AccountState]:
        held = self.chain.token_account(account)
        assert held is not None
        return held.amount, held.state


@pytest.fixture
def restricted() -> Restricted:
    return Restricted()


def test_the_agents_mint_burn_and_force_transfers_and_every_account_stays_frozen(
    restricted: Restricted,
) -> None:
    r = restricted
    _, alice = r.holder()
    _, bob = r.holder()

    r.chain.send(mint_to_holder(r.mint, r.authorities, alice, 5 * ONE, restricted=True), r.payer, *r.agents())
    r.chain.send(
        forced_transfer(r.mint, r.authorities, alice, bob, 2 * ONE, refreeze=[alice, bob]),
        r.payer,
        *r.agents(),
    )
    r.chain.send(burn_from_holder(r.mint, r.authorities, bob, ONE, restricted=True), r.payer, *r.agents())

    assert r.state(alice) == (3 * ONE, AccountState.FROZEN)
    assert r.state(bob) == (ONE, AccountState.FROZEN)
    assert r.chain.mint(r.mint).supply == 4 * ONE


def test_a_holder_cannot_move_tokens_to_another(restricted: Restricted) -> None:
    r = restricted
    alice_wallet, alice = r.holder()
    _, bob = r.holder()
    r.chain.send(mint_to_holder(r.mint, r.authorities, alice, 5 * ONE, restricted=True), r.payer, *r.agents())

    with pytest.raises(RevertError, match="account is frozen"):
        r.chain.send(
            [transfer_checked(alice, r.mint, bob, alice_wallet.pubkey(), ONE, 8)], r.payer, alice_wallet
        )

    assert (r.state(alice), r.state(bob)) == ((5 * ONE, AccountState.FROZEN), (0, AccountState.FROZEN))


def test_a_refused_step_leaves_nothing_thawed_and_nothing_moved(restricted: Restricted) -> None:
    r = restricted
    _, alice = r.holder()
    _, bob = r.holder()
    r.chain.send(mint_to_holder(r.mint, r.authorities, alice, ONE, restricted=True), r.payer, *r.agents())

    # More than alice holds: the transfer fails, and with it the thaws before it.
    moves = forced_transfer(r.mint, r.authorities, alice, bob, 2 * ONE, refreeze=[alice, bob])
    with pytest.raises(RevertError, match="insufficient funds"):
        r.chain.send(moves, r.payer, *r.agents())

    assert (r.state(alice), r.state(bob)) == ((ONE, AccountState.FROZEN), (0, AccountState.FROZEN))


def test_a_missing_signature_is_named_and_nothing_is_sent(restricted: Restricted) -> None:
    r = restricted
    _, alice = r.holder()
    minter = r.authorities.minter.pubkey()

    with pytest.raises(ValueError, match=f"needs the signature of {minter}"):
        r.chain.send(
            mint_to_holder(r.mint, r.authorities, alice, ONE, restricted=True), r.payer, r.authorities.freezer
        )

    assert r.state(alice) == (0, AccountState.FROZEN)
    assert r.chain.mint(r.mint).supply == 0
