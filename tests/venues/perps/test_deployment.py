"""`deploy_perps` on the in-process chain: one vault, a market per ticker over its existing price feed,
registered in the vault, with the ticker's parameters; the record round-trips through JSON."""

from pathlib import Path

import pytest
from tests.support.perps import VAULT_SEED, PerpsWorld, build_world
from tests.support.venue_world import USDC

from equitoken.venues.perps.deployment import PerpsDeployment, deploy_perps
from equitoken.venues.perps.errors import PerpError, UnknownMarketError
from equitoken.venues.perps.parameters import DEFAULT_PARAMETERS, ClosedPolicy, PerpParameters

CUSTOM = PerpParameters(closed_policy=ClosedPolicy.DISCOVERY, min_margin=50 * USDC)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> PerpsWorld:
    return build_world(
        tmp_path_factory.mktemp("perps-deploy"), ["AAPL", "SPY", "HOOD"], parameters={"HOOD": CUSTOM}
    )


def test_deploys_a_vault_and_a_market_per_ticker_over_its_feed(world: PerpsWorld) -> None:
    perps, chain = world.perps, world.chain
    vault = perps.vault_contract(chain)

    assert list(perps.markets) == ["AAPL", "SPY", "HOOD"]
    assert (vault.function("name")(), vault.symbol(), vault.asset()) == (
        "Equitoken Perp LP",
        "eqPLP",
        world.usdc.address,
    )
    assert vault.owner() == world.roles.admin
    for ticker, deployed in perps.markets.items():
        instrument = world.issuance.instrument(ticker)
        market = perps.contract(chain, ticker)
        assert vault.is_market(deployed.address)
        assert market.price_feed() == instrument.price_feed == deployed.price_feed
        assert market.token() == instrument.token
        assert market.vault() == perps.vault
        assert market.owner() == world.roles.admin
        assert world.reader.parameters(ticker) == deployed.parameters
    assert perps.market("AAPL").parameters == DEFAULT_PARAMETERS["AAPL"]
    assert perps.market("HOOD").parameters == CUSTOM
    assert perps.ticker_of(perps.market("SPY").address.lower()) == "SPY"
    assert world.reader.vault().assets.units == VAULT_SEED + 1_000_000 * USDC


def test_the_record_round_trips(world: PerpsWorld) -> None:
    restored = PerpsDeployment.from_json(world.perps.to_json())

    assert restored == world.perps
    with pytest.raises(UnknownMarketError, match="no perpetual market for 'TSLA'"):
        restored.market("TSLA")


def test_refuses_bad_input_before_sending(world: PerpsWorld, tmp_path: Path) -> None:
    chain, admin, usdc = world.chain, world.roles.admin, world.usdc.address
    nonce = chain.nonce(admin, "latest")

    with pytest.raises(PerpError, match="TSLA is not deployed"):
        deploy_perps(chain, admin, usdc, world.issuance, ["TSLA"])
    with pytest.raises(PerpError, match="tickers repeat"):
        deploy_perps(chain, admin, usdc, world.issuance, ["AAPL", "AAPL"])
    with pytest.raises(PerpError, match="parameters given for SPY"):
        deploy_perps(chain, admin, usdc, world.issuance, ["AAPL"], parameters={"SPY": CUSTOM})
    with pytest.raises(PerpError, match="less than the vault seed"):
        deploy_perps(chain, admin, usdc, world.issuance, ["AAPL"], vault_seed=10**15)
    assert chain.nonce(admin, "latest") == nonce
