"""`deploy_lending` on the in-process chain: the market contract, the rate model, an oracle adapter per
stock over its existing price feed, and one market per default ticker with Kamino's parameters."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak
from tests.support.lending import VENUE_OPERATOR, LendingWorld, build_world

from equitoken.chain.evm.compiler import compile_contract
from equitoken.venues.lending.deployment import ZERO_ADDRESS, LendingDeployment, deploy_lending
from equitoken.venues.lending.errors import LendingError, UnknownMarketError
from equitoken.venues.lending.parameters import (
    DEFAULT_MARKET_PARAMETERS,
    WAD,
    MarketParameters,
    OracleSettings,
)

DEFAULTS = ("SPY", "QQQ", "GOOGL", "TSLA", "NVDA", "AAPL", "MSTR")
KAMINO = {"SPY": 75, "QQQ": 72, "GOOGL": 70, "TSLA": 65, "NVDA": 65, "AAPL": 50, "MSTR": 40}
KAMINO_LTV = {"SPY": 73, "QQQ": 70, "GOOGL": 60, "TSLA": 55, "NVDA": 55, "AAPL": 40, "MSTR": 30}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> LendingWorld:
    return build_world(tmp_path_factory.mktemp("lending-deploy"), [*DEFAULTS, "MSFT"], also_issue=["HOOD"])


@pytest.fixture
def fresh(world: LendingWorld) -> Iterator[LendingWorld]:
    yield from world.rewound()


def test_the_defaults_are_kaminos_xstocks_parameters() -> None:
    assert set(DEFAULT_MARKET_PARAMETERS) == set(DEFAULTS)
    for ticker, parameters in DEFAULT_MARKET_PARAMETERS.items():
        assert parameters.lltv_bps == KAMINO[ticker] * 100
        assert parameters.max_ltv_bps == KAMINO_LTV[ticker] * 100
        assert parameters.lltv == KAMINO[ticker] * WAD // 100


def test_creates_a_market_per_default_ticker_with_its_lltv(world: LendingWorld) -> None:
    lending, chain = world.lending, world.chain
    market = lending.contract(chain)

    assert list(lending.markets) == list(DEFAULTS)  # MSFT has no default parameters: skipped
    assert market.owner() == world.roles.admin
    assert market.is_irm_enabled(lending.irm)
    assert chain.code(lending.irm)
    for ticker in DEFAULTS:
        deployed = lending.market(ticker)
        instrument = world.issuance.instrument(ticker)
        expected = (
            world.usdc.address,
            instrument.token,
            deployed.oracle,
            lending.irm,
            KAMINO[ticker] * WAD // 100,
        )
        assert tuple(market.id_to_market_params(deployed.id_bytes)) == expected
        words = encode(["address", "address", "address", "address", "uint256"], list(expected))
        assert deployed.id_bytes == keccak(words)
        assert market.is_lltv_enabled(deployed.lltv)
        assert int(market.market(deployed.id_bytes)[4]) > 0  # created: its last update is set
        assert deployed.parameters == DEFAULT_MARKET_PARAMETERS[ticker]


def test_each_adapter_reads_its_tokens_feed_with_the_default_settings(world: LendingWorld) -> None:
    for ticker in DEFAULTS:
        oracle = world.lending.oracle(world.chain, ticker)
        instrument = world.issuance.instrument(ticker)

        assert oracle.price_feed() == instrument.price_feed
        assert oracle.token() == instrument.token
        assert oracle.closed_ltv_cut() == WAD // 10
        assert oracle.grace_period() == 300
        assert tuple(oracle.guard_limits()) == (7_200, 1, 2**104 - 1)
        # 1e36 loan units per collateral unit: 10**(36 + 6 - 8 - 8).
        assert oracle.price_scale() == 10**26
        assert oracle.owner() == world.roles.admin


def test_registers_the_market_contract_for_the_permissioned_token(world: LendingWorld) -> None:
    registry = world.chain.at(
        world.issuance.identity_registry, compile_contract("compliance/IdentityRegistry.vy")
    )
    mstr = world.token("MSTR")

    assert world.lending.market("MSTR").profile == "permissioned"
    assert registry.investor_of(world.lending.lending_market) == VENUE_OPERATOR
    assert mstr.can_transfer(world.borrower, world.lending.lending_market, 0)[0] == 0
    assert mstr.can_transfer(world.borrower, world.outsider, 0)[0] != 0


def test_explicit_parameters_add_a_ticker_and_interest_free_markets_have_no_rate_model(
    fresh: LendingWorld,
) -> None:
    world = fresh
    msft = MarketParameters.percent(50, 60)
    settings = OracleSettings(closed_ltv_cut=WAD // 20, grace_period=600)

    lending = deploy_lending(
        world.chain,
        world.roles.admin,
        world.usdc.address,
        world.issuance,
        ["MSFT", "AAPL"],
        parameters={"MSFT": msft},
        oracle=settings,
        interest=False,
    )

    assert list(lending.markets) == ["MSFT", "AAPL"]
    assert lending.irm == ZERO_ADDRESS
    assert lending.irm_contract(world.chain) is None
    assert lending.market("MSFT").lltv == 6 * WAD // 10
    assert tuple(lending.contract(world.chain).id_to_market_params(lending.market("MSFT").id_bytes))[3:] == (
        ZERO_ADDRESS,
        6 * WAD // 10,
    )
    oracle = lending.oracle(world.chain, "MSFT")
    assert (oracle.closed_ltv_cut(), oracle.grace_period()) == (WAD // 20, 600)


def test_the_record_survives_json(world: LendingWorld) -> None:
    assert LendingDeployment.from_json(world.lending.to_json()) == world.lending


def test_an_unknown_market_is_named(world: LendingWorld) -> None:
    with pytest.raises(UnknownMarketError, match="no lending market for 'MSFT'"):
        world.lending.market("MSFT")


def test_refuses_bad_deployments_before_sending_anything(fresh: LendingWorld, tmp_path: Path) -> None:
    world = fresh
    chain, roles, usdc, issuance = world.chain, world.roles, world.usdc.address, world.issuance
    before = chain.nonce(roles.admin, "latest")

    with pytest.raises(LendingError, match="HOOD is a restricted token"):
        deploy_lending(chain, roles.admin, usdc, issuance, ["AAPL", "HOOD"])
    with pytest.raises(LendingError, match="COIN is not deployed"):
        deploy_lending(chain, roles.admin, usdc, issuance, ["COIN"])
    with pytest.raises(LendingError, match="tickers repeat"):
        deploy_lending(chain, roles.admin, usdc, issuance, ["AAPL", "AAPL"])
    with pytest.raises(LendingError, match="MSTR is permissioned: pass registrar and market_investor"):
        deploy_lending(chain, roles.admin, usdc, issuance, ["AAPL", "MSTR"])
    with pytest.raises(LendingError, match="needs both"):
        deploy_lending(chain, roles.admin, usdc, issuance, ["AAPL"], registrar=roles.registrar)
    with pytest.raises(LendingError, match="parameters given for SPY"):
        deploy_lending(
            chain, roles.admin, usdc, issuance, ["AAPL"], parameters={"SPY": MarketParameters(10, 20)}
        )
    with pytest.raises(LendingError, match="has 8 decimals"):
        deploy_lending(chain, roles.admin, issuance.instrument("AAPL").token, issuance, ["AAPL"])
    assert chain.nonce(roles.admin, "latest") == before


def test_parameters_refuse_a_limit_above_the_threshold() -> None:
    with pytest.raises(ValueError, match="must not exceed the liquidation threshold"):
        MarketParameters(6_000, 5_000)
    with pytest.raises(ValueError, match="lltv_bps must be an integer from 1 to 9999"):
        MarketParameters(1_000, 10_000)
    with pytest.raises(ValueError, match="grace_period must be 0 to 86400"):
        OracleSettings(grace_period=86_401)
