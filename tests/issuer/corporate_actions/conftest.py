"""Fixtures for corporate actions: the real issuer (chain x database) at a chosen market time, with its
corporate-actions service (`ActionsPlatform`: ``tests.support.corporate_actions``)."""

from datetime import datetime
from pathlib import Path

import pytest
from tests.support.corporate_actions import ActionsPlatform, Build
from tests.support.platform import build_platform

from equitoken.chain.evm.chain import EvmChain
from equitoken.issuer.corporate_actions import CorporateActions, CorporateActionsConfig
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.store.database import Database


@pytest.fixture
def build(
    evm_chain: EvmChain,
    database: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> Build:
    def make(start: datetime, config: CorporateActionsConfig | None = None) -> ActionsPlatform:
        platform = build_platform(evm_chain, database, prices, calendar, tmp_path, start=start)
        actions = CorporateActions(platform.issuer, platform.broker, prices, calendar, config)
        return ActionsPlatform(platform, actions, calendar, prices)

    return make
