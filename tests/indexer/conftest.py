"""Fixtures for the indexer: the issuer's real chains, databases and replayed prices. The helpers that
move tokens through the real issuer and compare what was indexed with what the chain says live in
``tests.support.indexer``."""

from pathlib import Path

import pytest
from tests.support.indexer import platform_on
from tests.support.platform import Platform

from equitoken.chain.evm.chain import EvmChain
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource


@pytest.fixture
def platform(
    evm_chain: EvmChain,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> Platform:
    """Return an issuance platform on the test's chain, with an issuer of its own."""
    return platform_on(evm_chain, prices, calendar, tmp_path / "issuer")
