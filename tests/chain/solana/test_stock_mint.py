"""A stock mint on LiteSVM's real SPL Token-2022 program: every extension as configured, and every
authority refused to every other signer."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from equitoken.chain.errors import RevertError
from equitoken.chain.solana.litesvm import LiteSvmChain
from equitoken.chain.solana.stock_mint import (
    STOCK_DECIMALS,
    MintAuthorities,
    StockMintTerms,
    create_stock_mint,
)
from equitoken.chain.solana.token2022 import (
    AccountState,
    amount_to_ui_amount,
    associated_token_address,
    burn_checked,
    create_associated_token_account,
    freeze_account,
    mint_to_checked,
    pause,
    resume,
    thaw_account,
    transfer_checked,
    update_multiplier,
    update_token_metadata_field,
)
from equitoken.market.clock import ManualClock

START = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)
ONE = 10**STOCK_DECIMALS
AAPLX = StockMintTerms(
    name="Apple xStock",
    symbol="AAPLx",
    uri="https://equitoken.example/AAPLx.json",
    isin="US0378331005",
    terms_uri="https://equitoken.example/terms/AAPLx",
    frozen_by_default=True,
)


@dataclass
class Mint:
    chain: LiteSvmChain
    clock: ManualClock
    payer: Keypair
    authorities: MintAuthorities
    address: Pubkey

    def holder(self, thawed: bool = True) -> tuple[Keypair, Pubkey]:
        """Return a new wallet and its token account, thawed as the registry does for a verified wallet."""
        wallet = Keypair()
        self.chain.airdrop(wallet.pubkey())
        account = associated_token_address(wallet.pubkey(), self.address)
        self.chain.send(
            [create_associated_token_account(self.payer.pubkey(), wallet.pubkey(), self.address)], self.payer
        )
        if thawed:
            self.send(
                thaw_account(account, self.address, self.authorities.freezer.pubkey()),
                self.authorities.freezer,
            )
        return wallet, account

    def send(self, instruction: Instruction, *signers: Keypair) -> None:
        self.chain.send([instruction], self.payer, *signers)

    def mint_to(self, account: Pubkey, amount: int) -> None:
        minter = self.authorities.minter
        self.send(mint_to_checked(self.address, account, minter.pubkey(), amount, STOCK_DECIMALS), minter)

    def balance(self, account: Pubkey) -> int:
        state = self.chain.token_account(account)
        assert state is not None
        return state.amount

    def ui_amount(self, amount: int) -> str:
        """Ask the program what a wallet shows for `amount` now (AmountToUiAmount's return data)."""
        shown = self.chain.preview([amount_to_ui_amount(self.address, amount)], self.payer)
        return shown.return_data.decode()


@pytest.fixture
def mint() -> Mint:
    clock = ManualClock(START)
    chain = LiteSvmChain(clock)
    payer = Keypair()
    chain.airdrop(payer.pubkey(), 100 * 10**9)
    authorities = MintAuthorities.generate()
    address = create_stock_mint(chain, payer, Keypair(), authorities, AAPLX)
    return Mint(chain, clock, payer, authorities, address)


def test_the_mint_carries_every_extension_as_configured(mint: Mint) -> None:
    state = mint.chain.mint(mint.address)
    a = mint.authorities

    assert (state.decimals, state.supply) == (8, 0)
    assert (state.mint_authority, state.freeze_authority) == (a.minter.pubkey(), a.freezer.pubkey())
    assert state.permanent_delegate == a.delegate.pubkey()
    assert state.default_account_state is AccountState.FROZEN
    assert not state.paused
    scaled = state.scaled_ui_amount
    assert scaled is not None
    assert (scaled.authority, scaled.at(mint.chain.timestamp())) == (a.multiplier.pubkey(), 1.0)
    assert state.metadata == {
        "name": "Apple xStock",
        "symbol": "AAPLx",
        "uri": "https://equitoken.example/AAPLx.json",
        "isin": "US0378331005",
        "terms_uri": "https://equitoken.example/terms/AAPLx",
    }


def test_a_new_account_is_frozen_until_the_freeze_authority_thaws_it(mint: Mint) -> None:
    owner, verified = mint.holder()
    mint.mint_to(verified, 5 * ONE)
    _, unverified = mint.holder(thawed=False)

    state = mint.chain.token_account(unverified)
    assert state is not None
    assert state.state is AccountState.FROZEN
    with pytest.raises(RevertError, match="account is frozen"):
        mint.mint_to(unverified, ONE)
    with pytest.raises(RevertError, match="account is frozen"):
        mint.send(transfer_checked(verified, mint.address, unverified, owner.pubkey(), ONE, 8), owner)
    assert (mint.balance(verified), mint.balance(unverified)) == (5 * ONE, 0)

    mint.send(
        thaw_account(unverified, mint.address, mint.authorities.freezer.pubkey()), mint.authorities.freezer
    )
    mint.send(transfer_checked(verified, mint.address, unverified, owner.pubkey(), ONE, 8), owner)
    assert (mint.balance(verified), mint.balance(unverified)) == (4 * ONE, ONE)


def test_a_frozen_account_can_neither_send_nor_receive(mint: Mint) -> None:
    alice, a = mint.holder()
    bob, b = mint.holder()
    mint.mint_to(a, 3 * ONE)
    mint.mint_to(b, 3 * ONE)
    mint.send(freeze_account(b, mint.address, mint.authorities.freezer.pubkey()), mint.authorities.freezer)

    with pytest.raises(RevertError, match="account is frozen"):
        mint.send(transfer_checked(a, mint.address, b, alice.pubkey(), ONE, 8), alice)
    with pytest.raises(RevertError, match="account is frozen"):
        mint.send(transfer_checked(b, mint.address, a, bob.pubkey(), ONE, 8), bob)
    assert (mint.balance(a), mint.balance(b)) == (3 * ONE, 3 * ONE)


def test_pause_stops_transfers_mints_and_burns_until_resumed(mint: Mint) -> None:
    alice, a = mint.holder()
    bob, b = mint.holder()
    mint.mint_to(a, 3 * ONE)
    pauser = mint.authorities.pauser
    mint.send(pause(mint.address, pauser.pubkey()), pauser)
    assert mint.chain.mint(mint.address).paused

    with pytest.raises(RevertError, match="the mint is paused"):
        mint.send(transfer_checked(a, mint.address, b, alice.pubkey(), ONE, 8), alice)
    with pytest.raises(RevertError, match="the mint is paused"):
        mint.mint_to(a, ONE)
    with pytest.raises(RevertError, match="the mint is paused"):
        mint.send(burn_checked(a, mint.address, alice.pubkey(), ONE, 8), alice)
    assert mint.chain.mint(mint.address).supply == 3 * ONE

    mint.send(resume(mint.address, pauser.pubkey()), pauser)
    mint.send(transfer_checked(a, mint.address, b, alice.pubkey(), ONE, 8), alice)
    mint.send(burn_checked(b, mint.address, bob.pubkey(), ONE, 8), bob)
    assert (mint.balance(a), mint.balance(b), mint.chain.mint(mint.address).supply) == (2 * ONE, 0, 2 * ONE)


def test_the_permanent_delegate_moves_and_burns_without_the_holder(mint: Mint) -> None:
    _, a = mint.holder()
    _, recovery = mint.holder()
    mint.mint_to(a, 3 * ONE)
    delegate = mint.authorities.delegate

    mint.send(transfer_checked(a, mint.address, recovery, delegate.pubkey(), 2 * ONE, 8), delegate)
    mint.send(burn_checked(a, mint.address, delegate.pubkey(), ONE, 8), delegate)

    assert (mint.balance(a), mint.balance(recovery)) == (0, 2 * ONE)
    assert mint.chain.mint(mint.address).supply == 2 * ONE


def test_a_multiplier_change_takes_effect_at_its_timestamp_and_not_before(mint: Mint) -> None:
    authority = mint.authorities.multiplier
    effective = int((START + timedelta(hours=1)).timestamp())
    mint.send(update_multiplier(mint.address, authority.pubkey(), 4.0, effective), authority)

    mint.clock.set(START + timedelta(minutes=59, seconds=59))
    assert mint.ui_amount(ONE) == "1"
    mint.clock.set(START + timedelta(hours=1))
    assert mint.ui_amount(ONE) == "4"
    scaled = mint.chain.mint(mint.address).scaled_ui_amount
    assert scaled is not None
    assert (scaled.at(effective - 1), scaled.at(effective)) == (1.0, 4.0)


# Each privileged instruction, built for a given signer and a holder's token account.
PRIVILEGED: dict[str, Callable[[Pubkey, Pubkey, Pubkey], Instruction]] = {
    "minter": lambda m, signer, account: mint_to_checked(m, account, signer, ONE, 8),
    "freezer": lambda m, signer, account: freeze_account(account, m, signer),
    "pauser": lambda m, signer, account: pause(m, signer),
    "multiplier": lambda m, signer, account: update_multiplier(m, signer, 2.0, 0),
    "metadata": lambda m, signer, account: update_token_metadata_field(m, signer, "isin", "XX0000000000"),
    "delegate": lambda m, signer, account: burn_checked(account, m, signer, 1, 8),
}


@pytest.mark.parametrize("role", sorted(PRIVILEGED))
def test_each_privileged_instruction_is_refused_to_every_other_signer(mint: Mint, role: str) -> None:
    _, account = mint.holder()
    mint.mint_to(account, ONE)
    before = (mint.chain.account_data(mint.address), mint.chain.account_data(account))
    others = [key for name, key in vars(mint.authorities).items() if name != role] + [Keypair()]

    # The token program names its refusal; the metadata interface answers with a code of its own.
    refusal = "custom program error" if role == "metadata" else "owner does not match"
    for signer in others:
        with pytest.raises(RevertError, match=refusal):
            mint.send(PRIVILEGED[role](mint.address, signer.pubkey(), account), signer)

    assert (mint.chain.account_data(mint.address), mint.chain.account_data(account)) == before
    holder = getattr(mint.authorities, role)
    mint.send(PRIVILEGED[role](mint.address, holder.pubkey(), account), holder)
