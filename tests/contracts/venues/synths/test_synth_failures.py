"""The failures of real synthetic-asset protocols, replayed against a real StockToken, its real quorum
PriceFeed (five reporters, quorum three) and the vault:

- Synthetix sKRW, June 2019: one source reported KRW a thousand times too high and a bot minted a
  billion dollars of sETH against it. Here a minority of lying reporters (two of five, absurd prices)
  or of stale ones moves nothing: the median is honest and the vault mints at the honest price.
- Mirror LUNA/LUNC, May 2022: Mirror's oracle priced LUNA with the price of the renamed chain's
  old token. Here an observation signed for another asset's feed or another chain id is refused by
  the feed (the EIP-712 domain holds the chain id and the feed's address), and a vault pointed at a
  feed of another token is refused.
- Mirror's lock contract, 2021: a duplicate position id in one call released the funds twice. Here a
  duplicate id in `close_many` reverts the whole call and changes no accounting.
- Donations: USDC or synthetic sent to the vault change no accounting.
"""

from collections.abc import Callable
from typing import Any

import boa
from eth_account.signers.local import LocalAccount
from tests.support.contracts.oracle import feed_id, next_round, transmit
from tests.support.contracts.synths import (
    MAX_AGE,
    MAX_ANSWER,
    MIN_CR,
    PRICE,
    STATE_OPEN,
    SYNTH,
    USDC,
    Snapshot,
    now,
    refused,
)
from tests.support.contracts.venues import OPEN

from equitoken.model.quantities import Price
from equitoken.oracle.observation import FeedId, MarketStatus, Observation

COLLATERAL = 3_000 * USDC
DEBT = 10 * SYNTH


def test_skrw_a_minority_of_lying_reporters_moves_nothing(
    vault: Any, feed: Any, state: Snapshot, all_reporters: list[LocalAccount], writer: str
) -> None:
    boa.env.time_travel(seconds=10)
    # Two of five report a price a thousand times too high, then a thousandth of it.
    transmit(feed, all_reporters, [PRICE * 1_000, PRICE * 1_000, PRICE, PRICE, PRICE])
    assert feed.latestRoundData()[1] == PRICE
    assert vault.price() == (PRICE, STATE_OPEN)
    with refused(state, "synth: below minimum collateral ratio"):
        vault.open_position(COLLATERAL, DEBT + 1, sender=writer)
    id_ = vault.open_position(COLLATERAL, DEBT, sender=writer)

    boa.env.time_travel(seconds=10)
    transmit(feed, all_reporters, [1, PRICE, 1, PRICE, PRICE])
    assert vault.price() == (PRICE, STATE_OPEN)
    assert vault.collateral_ratio(id_) == MIN_CR
    assert not vault.is_liquidatable(id_)


def test_skrw_a_minority_of_stale_reporters_moves_nothing(
    vault: Any, feed: Any, all_reporters: list[LocalAccount], writer: str
) -> None:
    boa.env.time_travel(seconds=200)
    at = now()
    # Two reporters relay the price they saw 200 s ago, at half today's.
    transmit(
        feed,
        all_reporters,
        [PRICE // 2, PRICE, PRICE // 2, PRICE, PRICE],
        OPEN,
        [at - 200, at, at - 200, at, at],
    )

    assert feed.latestRoundData()[1:3] == (PRICE, at)
    assert vault.price() == (PRICE, STATE_OPEN)
    assert vault.max_mint(vault.open_position(COLLATERAL, 0, sender=writer)) == DEBT


def test_skrw_a_quorum_of_stale_reporters_is_refused_by_the_vault(
    vault: Any, feed: Any, state: Snapshot, all_reporters: list[LocalAccount], writer: str
) -> None:
    boa.env.time_travel(seconds=200)
    at = now()
    # A majority observed 61 s ago: the round is accepted, its time is stale for the vault's 60 s.
    transmit(feed, all_reporters[:3], PRICE * 2, OPEN, at - MAX_AGE - 1)
    with refused(state, "guard: stale price"):
        vault.open_position(COLLATERAL, DEBT, sender=writer)


def _signed_elsewhere(feed: Any, where: FeedId, reporters: list[LocalAccount], price: int) -> list[Any]:
    ordered = sorted(reporters, key=lambda account: int(account.address, 16))
    round_id = next_round(feed)
    return [
        Observation(where, round_id, Price(price), MarketStatus.OPEN, now()).sign(account).as_call_argument()
        for account in ordered
    ]


def test_luna_an_observation_for_another_feed_or_chain_is_refused(
    vault: Any,
    feed: Any,
    feed_of: Callable[[Any], Any],
    deploy_token: Callable[..., Any],
    all_reporters: list[LocalAccount],
    state: Snapshot,
) -> None:
    other_feed = feed_of(deploy_token(symbol_="LUNCx", ticker_="LUNC"))
    here = feed_id(feed)
    boa.env.time_travel(seconds=10)

    for where in (FeedId(here.chain_id, str(other_feed.address)), FeedId(here.chain_id + 1, here.address)):
        signed = _signed_elsewhere(feed, where, all_reporters, PRICE // 1_000)
        with refused(state, "aggregator: not a reporter"):
            feed.transmit(next_round(feed), signed)
    assert vault.price() == (PRICE, STATE_OPEN)
    # The same reporters, signing for this feed on this chain, are accepted.
    feed.transmit(next_round(feed), _signed_elsewhere(feed, here, all_reporters, PRICE))


def test_luna_a_vault_over_another_tokens_feed_is_refused(
    vault_deployer: Any,
    feed_of: Callable[[Any], Any],
    deploy_token: Callable[..., Any],
    synth: Any,
    usdc: Any,
    token: Any,
) -> None:
    other_feed = feed_of(deploy_token(symbol_="LUNCx", ticker_="LUNC"))
    with boa.reverts("synth: feed prices another asset"):
        vault_deployer.deploy(
            usdc.address, synth.address, other_feed.address, token.address, MAX_AGE, 1, MAX_ANSWER
        )


def test_mirror_lock_a_duplicate_id_in_close_many_changes_nothing(
    vault: Any, synth: Any, usdc: Any, state: Snapshot, writer: str
) -> None:
    first = vault.open_position(COLLATERAL, DEBT, sender=writer)
    second = vault.open_position(COLLATERAL, 0, sender=writer)
    for ids in ([first, first], [second, first, second], [first, second, first]):
        with refused(state, "synth: position closed"):
            vault.close_many(ids, sender=writer)
    assert (vault.total_collateral(), vault.total_debt()) == (2 * COLLATERAL, DEBT)
    assert usdc.balanceOf(vault.address) == 2 * COLLATERAL


def test_donations_change_no_accounting(
    vault: Any, synth: Any, usdc: Any, feed: Any, reporters: list[LocalAccount], writer: str, donor: str
) -> None:
    id_ = vault.open_position(COLLATERAL, DEBT, sender=writer)
    synth.transfer(donor, SYNTH, sender=writer)
    before = (
        vault.total_collateral(),
        vault.total_debt(),
        tuple(vault.position(id_)),
        vault.collateral_ratio(id_),
    )

    usdc.transfer(vault.address, 10_000 * USDC, sender=donor)
    synth.transfer(vault.address, SYNTH, sender=donor)

    assert (
        vault.total_collateral(),
        vault.total_debt(),
        tuple(vault.position(id_)),
        vault.collateral_ratio(id_),
    ) == before
    assert vault.max_mint(id_) == 0
    with boa.reverts("synth: below minimum collateral ratio"):
        vault.withdraw(id_, 1, sender=writer)
    # The donated synthetic pays no debt: the owner still owes all 10 and holds 9.
    with boa.reverts("erc20: burn amount exceeds balance"):
        vault.close_position(id_, sender=writer)
    usdc_before = usdc.balanceOf(writer)
    vault.burn(id_, DEBT - SYNTH, sender=writer)
    assert tuple(vault.position(id_)) == (writer, COLLATERAL, SYNTH)
    assert synth.totalSupply() == vault.total_debt() + vault.bad_debt() == SYNTH
    # The donated USDC never leaves with a position: the owner withdraws only its own collateral.
    vault.deposit(id_, 0 + USDC, sender=writer)
    with boa.reverts("synth: amount exceeds collateral"):
        vault.withdraw(id_, COLLATERAL + USDC + 1, sender=writer)
    assert usdc.balanceOf(writer) == usdc_before - USDC
    assert usdc.balanceOf(vault.address) == vault.total_collateral() + 10_000 * USDC
    assert synth.balanceOf(vault.address) == SYNTH
