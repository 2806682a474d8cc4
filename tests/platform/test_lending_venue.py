"""The lending venue `up` runs, on the in-process chain beside a real issuer: its markets deployed once and
recorded, the markets of instruments added later created in the same market contract (a permissioned
token's with the contract registered as the venue operator's wallet), and the demo lending desk's
USDC supplied to each market exactly once, across restarts and a crash between two markets."""

from pathlib import Path

import pytest
from tests.support.lending_platform import attest, publish
from tests.support.platform import GENESIS, Platform, build_platform

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Usd
from equitoken.platform.lending import (
    LENDER_USDC_PER_MARKET,
    LENDING_SEED_FILE,
    LIQUIDATOR_USDC,
    SEED_KEY,
    LendingSeed,
    LendingSeedRecord,
    lender_wallet,
    lending_records,
    open_lending,
)
from equitoken.platform.local import ACCOUNTS
from equitoken.platform.pool_seed import MARKET_MAKER, VENUE_OPERATOR
from equitoken.store.database import Database, sqlite_url
from equitoken.venues.lending.actions import LendingClient
from equitoken.venues.lending.deployment import LendingDeployment


@pytest.fixture
def platform(tmp_path: Path, prices: ReplayPriceSource, calendar: MarketCalendar) -> Platform:
    # As many accounts as the local node: the lending desk is account 19.
    database = Database(sqlite_url(tmp_path / "issuer.sqlite"))
    database.migrate()
    chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=GENESIS)
    return build_platform(chain, database, prices, calendar, tmp_path)


def _client(platform: Platform, lending: LendingDeployment) -> LendingClient:
    issuer = platform.issuer
    return LendingClient(platform.chain, lending, issuer.db, platform.clock, outbox=platform.onchain.outbox)


def test_the_venue_is_deployed_once_and_gains_the_markets_of_new_instruments(
    platform: Platform, tmp_path: Path
) -> None:
    progress: list[str] = []
    first = open_lending(platform.issuer, tmp_path, progress.append, ["AAPL"])
    assert list(first.markets) == ["AAPL"]
    assert progress == ["deploying the lending venue with a market for each of AAPL"]
    assert lending_records(tmp_path / "deployments").load(platform.chain.chain_id) == first

    progress.clear()
    grown = open_lending(platform.issuer, tmp_path, progress.append)  # the default: MSTR too, HOOD never

    assert list(grown.markets) == ["AAPL", "MSTR"]
    assert progress == ["adding the lending markets of MSTR"]
    assert (grown.lending_market, grown.markets["AAPL"]) == (first.lending_market, first.markets["AAPL"])
    assert grown.markets["MSTR"].lltv == 4 * 10**17
    contract = grown.contract(platform.chain)
    params = grown.markets["MSTR"].params
    assert "0x" + bytes(contract.market_id(params)).hex() == grown.markets["MSTR"].id
    operator = next(i for i in platform.issuer.investors.all() if i.name == VENUE_OPERATOR)
    registry = platform.chain.at(
        platform.onchain.deployment.identity_registry, compile_contract("compliance/IdentityRegistry.vy")
    )
    assert int(registry.investor_of(grown.lending_market)) == operator.onchain_id

    block = platform.chain.block_number()
    progress.clear()
    assert open_lending(platform.issuer, tmp_path, progress.append) == grown
    assert (progress, platform.chain.block_number()) == ([], block)


def test_the_lending_desk_supplies_each_market_once_across_a_crash_and_restarts(
    platform: Platform, tmp_path: Path, prices: ReplayPriceSource
) -> None:
    lending = open_lending(platform.issuer, tmp_path, lambda _: None)
    for ticker in lending.markets:
        publish(platform, prices, ticker)
        attest(platform, ticker)
    client = _client(platform, lending)
    desk = lender_wallet()
    # A run that crashed once AAPL's supply was sent, before recording it.
    platform.usdc.mint(desk, LENDER_USDC_PER_MARKET, sender=platform.onchain.roles.admin)
    client.supply(desk, "AAPL", Usd(LENDER_USDC_PER_MARKET), key=SEED_KEY)

    seed = LendingSeed(platform.issuer, client, tmp_path)
    assert seed.supply() == ["AAPL", "MSTR"]
    assert seed.done
    assert LendingSeed(platform.issuer, client, tmp_path).supply() == []  # a restart

    for ticker in lending.markets:
        assert client.reader.position(ticker, desk).supplied == Usd(LENDER_USDC_PER_MARKET)
    assert int(platform.usdc.balanceOf(desk)) >= LIQUIDATOR_USDC  # kept back for liquidations
    maker = next(i for i in platform.issuer.investors.all() if i.name == MARKET_MAKER)
    assert desk in maker.wallets
    assert LendingSeedRecord.load(tmp_path / LENDING_SEED_FILE) == LendingSeedRecord(
        maker.id, ["AAPL", "MSTR"]
    )
