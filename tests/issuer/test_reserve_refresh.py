"""Reserves attested again between fills, so the feeds outlive no heartbeat (mints and lending read them)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from tests.support.platform import USDC, Platform

from equitoken.issuer.service import RESERVE_REFRESH_SECONDS
from equitoken.store.schema import AttestationRow

TOKEN_UNIT = 10**8


def _attestations(platform: Platform) -> int:
    with platform.issuer.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(AttestationRow)) or 0)


def test_a_feed_is_attested_again_once_half_its_heartbeat_has_passed(platform: Platform) -> None:
    platform.approve_mint(10**6 * USDC)
    platform.issuer.request_mint(platform.participant.id, platform.wallet, "AAPL", "3", "mint")
    platform.run()
    chain_id = platform.onchain.chain_id
    # The tickers never minted get their first round; AAPL's, from its fills, is fresh.
    others = [f"{t} on chain {chain_id}" for t in platform.onchain.tickers if t != "AAPL"]
    assert platform.issuer.refresh_reserves() == others
    feed = platform.onchain.reserve_feed("AAPL")
    _, reserve, observed, _, _ = feed.latestRoundData()
    before = _attestations(platform)

    platform.clock.advance(timedelta(seconds=RESERVE_REFRESH_SECONDS - 120))
    assert platform.issuer.refresh_reserves() == []

    platform.clock.advance(timedelta(seconds=240))
    every = [f"{t} on chain {chain_id}" for t in platform.onchain.tickers]
    assert platform.issuer.refresh_reserves() == every
    _, again, observed_again, _, _ = feed.latestRoundData()
    assert again == reserve == 3 * TOKEN_UNIT  # the same custody, observed later
    assert observed_again >= observed + RESERVE_REFRESH_SECONDS
    assert _attestations(platform) == before + len(every)
    # Once done, a second pass sends nothing.
    assert platform.issuer.refresh_reserves() == []
    assert platform.issuer.reconcile().ok


def test_a_feed_without_a_round_is_attested_with_what_custody_holds(platform: Platform) -> None:
    chain_id = platform.onchain.chain_id
    assert platform.issuer.refresh_reserves() == [
        f"{t} on chain {chain_id}" for t in platform.onchain.tickers
    ]
    assert all(platform.onchain.reserve_feed(t).latestRoundData()[1] == 0 for t in platform.onchain.tickers)


def test_the_window_must_be_positive(platform: Platform) -> None:
    with pytest.raises(ValueError, match="older_than must be a positive number of seconds, not 0"):
        platform.issuer.refresh_reserves(0)
