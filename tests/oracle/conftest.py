"""Fixtures for the oracle: the NYSE calendar and replayed prices (databases: `tests/conftest.py`)."""

import pytest

from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource


@pytest.fixture(scope="session")
def calendar() -> MarketCalendar:
    return MarketCalendar("XNYS")


@pytest.fixture(scope="session")
def prices(calendar: MarketCalendar) -> ReplayPriceSource:
    return ReplayPriceSource.default(calendar)
