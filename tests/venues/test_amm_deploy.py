"""`deploy_amm` on a real anvil node: blueprint, factory, router and pools through signed JSON-RPC
transactions, then a real round of the stock's price feed, a deposit and swaps."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuanceDeployment, IssuerRoles, deploy_issuance
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.onchain import deploy_test_usdc
from equitoken.model.quantities import Price
from equitoken.oracle.observation import FeedId, MarketStatus, Observation
from equitoken.venues.amm import AmmDeployment, AmmError, deploy_amm

pytestmark = pytest.mark.anvil

ACCOUNTS = 13
USDC = 10**6
SHARE = 10**9  # the catalogue's stock tokens carry 9 decimals
POOL_OPERATOR = 900


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JsonRpcChain]:
    log = Path(tmp_path_factory.mktemp("anvil")) / "anvil.log"
    with AnvilNode(accounts=ACCOUNTS, log_file=log) as node, node.chain() as chain:
        chain.signers = SignerRegistry.anvil(ACCOUNTS)
        yield chain


@pytest.fixture(scope="module")
def roles(chain: JsonRpcChain) -> IssuerRoles:
    return IssuerRoles.from_accounts(chain.accounts)


@pytest.fixture(scope="module")
def trader(chain: JsonRpcChain) -> str:
    return chain.accounts[10]


@pytest.fixture(scope="module")
def deployment(chain: JsonRpcChain, roles: IssuerRoles) -> IssuanceDeployment:
    instruments = [i for i in load_catalogue() if i.ticker in ("AAPL", "MSTR", "HOOD")]
    return deploy_issuance(chain, roles, instruments)


@pytest.fixture(scope="module")
def usdc(chain: JsonRpcChain, roles: IssuerRoles, trader: str) -> Contract:
    usdc = deploy_test_usdc(chain, roles.admin)
    usdc.mint(trader, 1_000_000 * USDC, sender=roles.admin)
    return usdc


@pytest.fixture(scope="module")
def amm(
    chain: JsonRpcChain, roles: IssuerRoles, usdc: Contract, deployment: IssuanceDeployment
) -> AmmDeployment:
    registry = chain.at(deployment.identity_registry, compile_contract("compliance/IdentityRegistry.vy"))
    registry.set_investor(POOL_OPERATOR, 840, 2**40, True, sender=roles.registrar)
    return deploy_amm(
        chain,
        roles.admin,
        usdc.address,
        deployment,
        ["AAPL", "MSTR"],
        registrar=roles.registrar,
        pool_investor=POOL_OPERATOR,
    )


def publish_price(chain: EvmChain, roles: IssuerRoles, deployment: IssuanceDeployment, ticker: str) -> None:
    """Sign and transmit one OPEN round of $200 as the issuance's single reporter."""
    feed = chain.at(deployment.instrument(ticker).price_feed, compile_contract("oracle/PriceFeed.vy"))
    now = chain.timestamp()
    observation = Observation(
        FeedId(chain.chain_id, feed.address), 1, Price(200 * 10**8), MarketStatus.OPEN, now
    )
    signed = observation.sign(chain.signers.get(roles.price_updater))
    feed.transmit(1, [signed.as_call_argument()], sender=roles.admin)


def mint_stock(
    chain: EvmChain, roles: IssuerRoles, deployment: IssuanceDeployment, to: str, amount: int
) -> Contract:
    deployed = deployment.instrument("AAPL")
    token = chain.at(deployed.token, compile_contract("token/StockToken.vy"))
    reserve = chain.at(deployed.reserve_feed, compile_contract("oracle/ReserveFeed.vy"))
    reserve.update(int(token.totalSupply()) + amount, chain.timestamp(), sender=roles.attester)
    token.mint(to, amount, sender=roles.minter)
    return token


def test_deploys_a_pool_per_ticker_behind_the_factory(
    chain: JsonRpcChain, amm: AmmDeployment, deployment: IssuanceDeployment, usdc: Contract
) -> None:
    factory = amm.factory_contract(chain)

    assert factory.pool_count() == 2
    for ticker in ("AAPL", "MSTR"):
        instrument = deployment.instrument(ticker)
        pool = amm.pool(chain, ticker)
        assert factory.pool_of(instrument.token) == pool.address
        assert pool.stock() == instrument.token
        assert pool.usdc() == usdc.address
        assert pool.price_feed() == instrument.price_feed
        assert pool.function("name")() == f"{instrument.token_symbol}-USDC LP"
    assert amm.router_contract(chain).factory() == amm.factory
    assert chain.code(amm.pool_blueprint)[:3] == b"\xfe\x71\x00"


def test_registers_the_permissioned_pool_as_the_operators_wallet(
    chain: JsonRpcChain, amm: AmmDeployment, deployment: IssuanceDeployment
) -> None:
    registry = chain.at(deployment.identity_registry, compile_contract("compliance/IdentityRegistry.vy"))

    assert registry.investor_of(amm.pool_address("MSTR")) == POOL_OPERATOR
    assert registry.investor_of(amm.pool_address("AAPL")) == 0


def test_a_deposit_and_a_swap_through_signed_transactions(
    chain: JsonRpcChain,
    amm: AmmDeployment,
    roles: IssuerRoles,
    deployment: IssuanceDeployment,
    usdc: Contract,
    trader: str,
) -> None:
    publish_price(chain, roles, deployment, "AAPL")
    token = mint_stock(chain, roles, deployment, trader, 1_000 * SHARE)
    pool = amm.pool(chain, "AAPL")
    token.approve(pool.address, 2**256 - 1, sender=trader)
    usdc.approve(pool.address, 2**256 - 1, sender=trader)
    deadline = chain.timestamp() + 600
    pool.add_liquidity(500 * SHARE, 100_000 * USDC, 0, 0, trader, deadline, sender=trader)
    quoted = pool.get_amount_out(1_000 * USDC, False)

    receipt = pool.swap.transact(1_000 * USDC, quoted, False, trader, deadline, sender=trader)

    assert tuple(pool.reserves()) == (500 * SHARE - quoted, 101_000 * USDC)
    assert token.balanceOf(trader) == 500 * SHARE + quoted
    assert pool.fee_bps() == 30
    # Recorded in docs/contracts/amm.md; bench/amm.py compares it with Uniswap v2's router swap.
    assert 40_000 < receipt.gas_used < 150_000


def test_refuses_bad_tickers_before_sending_anything(
    chain: JsonRpcChain, roles: IssuerRoles, usdc: Contract, deployment: IssuanceDeployment
) -> None:
    before = chain.nonce(roles.admin, "latest")

    with pytest.raises(AmmError, match="HOOD is a restricted token"):
        deploy_amm(chain, roles.admin, usdc.address, deployment, ["AAPL", "HOOD"])
    with pytest.raises(AmmError, match="TSLA is not deployed"):
        deploy_amm(chain, roles.admin, usdc.address, deployment, ["TSLA"])
    with pytest.raises(AmmError, match="tickers repeat"):
        deploy_amm(chain, roles.admin, usdc.address, deployment, ["AAPL", "AAPL"])
    with pytest.raises(AmmError, match="needs both"):
        deploy_amm(chain, roles.admin, usdc.address, deployment, ["AAPL"], registrar=roles.registrar)
    assert chain.nonce(roles.admin, "latest") == before


def test_the_factory_refuses_a_second_pool(
    chain: JsonRpcChain, amm: AmmDeployment, roles: IssuerRoles, deployment: IssuanceDeployment
) -> None:
    instrument = deployment.instrument("AAPL")

    with pytest.raises(RevertError, match="factory: pool exists"):
        amm.factory_contract(chain).create_pool(instrument.token, instrument.price_feed, sender=roles.admin)
