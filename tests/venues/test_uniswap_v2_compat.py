"""Our stock token in the real Uniswap v2 (the published npm packages) on a real anvil node.

The pair, factory and router are Uniswap's own compiled contracts. Every balance, reserve and LP
share figure is checked exactly against Uniswap v2's integer maths recomputed here, and the token's
compliance holds inside the pool: a swap paying a sanctioned or frozen wallet reverts because our
token refuses the transfer, and a paused token stops the pair. If npm cannot fetch the packages the
fixtures raise, so these tests fail with npm's reason instead of being skipped.

The node's blocks are stamped with a manual clock, never the wall clock: time moves only where a test
moves it. A transaction's gas limit is estimated in the pending block, and Uniswap's pair costs about
44,000 gas more in a later second than its last update (it writes its two price accumulators then),
more than the 20% margin on a ~110,000-gas swap. On a wall-clock node a second that ended between
the estimate and the block made the pair run out of gas, and the router revert with no reason.
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.uniswap_v2 import (
    MINIMUM_LIQUIDITY,
    PAIR_INIT_CODE_HASH,
    UniswapV2,
    UniswapV2Error,
    deploy_uniswap_v2,
    install_packages,
    load_artifacts,
    pair_address,
)

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.abi import decode_revert_reason
from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuanceDeployment, IssuerRoles, deploy_issuance
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.onchain import deploy_test_usdc
from equitoken.market.clock import ManualClock
from equitoken.model.address import checksum

SHARE = 10**8  # AAPLx has 8 decimals
USDC = 10**6
DEADLINE = 2**40
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
POOL_SHARES = 1_000 * SHARE
POOL_USDC = 200_000 * USDC
START = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)
"""The chain's time until a test moves its clock."""


# --------------------------------------------------------------------- Uniswap v2 maths (the model)


def amount_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """UniswapV2Library.getAmountOut: 0.3% of the input stays in the pool."""
    with_fee = amount_in * 997
    return with_fee * reserve_out // (reserve_in * 1000 + with_fee)


def amount_in(amount_out: int, reserve_in: int, reserve_out: int) -> int:
    """UniswapV2Library.getAmountIn: the least input that buys ``amount_out``, rounded up."""
    return reserve_in * amount_out * 1000 // ((reserve_out - amount_out) * 997) + 1


def quote(amount_a: int, reserve_a: int, reserve_b: int) -> int:
    """UniswapV2Library.quote: the amount of B worth ``amount_a`` at the pool's ratio."""
    return amount_a * reserve_b // reserve_a


def optimal_deposit(desired_a: int, desired_b: int, reserve_a: int, reserve_b: int) -> tuple[int, int]:
    """Router02._addLiquidity: the amounts it takes for a deposit at the pool's ratio."""
    if reserve_a == reserve_b == 0:
        return desired_a, desired_b
    b_for_a = quote(desired_a, reserve_a, reserve_b)
    if b_for_a <= desired_b:
        return desired_a, b_for_a
    return quote(desired_b, reserve_b, reserve_a), desired_b


def shares_minted(amount_a: int, amount_b: int, reserve_a: int, reserve_b: int, supply: int) -> int:
    """UniswapV2Pair.mint: sqrt(a·b) less the locked minimum at first, else the smaller pro-rata share."""
    if supply == 0:
        return math.isqrt(amount_a * amount_b) - MINIMUM_LIQUIDITY
    return min(amount_a * supply // reserve_a, amount_b * supply // reserve_b)


# ------------------------------------------------------------------------------------------ fixtures


@dataclass(frozen=True)
class Market:
    """Our AAPLx and test USDC with a real Uniswap v2 beside them."""

    chain: JsonRpcChain
    clock: ManualClock
    roles: IssuerRoles
    deployment: IssuanceDeployment
    token: Contract
    usdc: Contract
    uniswap: UniswapV2
    provider: str
    trader: str
    other: str

    def pair(self) -> Contract:
        return self.uniswap.pair(self.token.address, self.usdc.address)

    def reserves(self) -> tuple[int, int]:
        """Return the pair's (stock, usdc) reserves."""
        pair = self.pair()
        reserve0, reserve1, _ = pair.getReserves()
        return (reserve0, reserve1) if pair.token0() == self.token.address else (reserve1, reserve0)

    def balances(self, holder: str) -> tuple[int, int]:
        return self.token.balanceOf(holder), self.usdc.balanceOf(holder)


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    """The module's time: the node's chains pin every block, and so every gas estimate, to it."""
    return ManualClock(START)


@pytest.fixture(scope="module")
def node(clock: ManualClock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnvilNode]:
    log_file = tmp_path_factory.mktemp("anvil") / "anvil.log"
    with AnvilNode(accounts=13, clock=clock, log_file=log_file) as started:
        yield started


@pytest.fixture(scope="module")
def module_market(node: AnvilNode, clock: ManualClock) -> Iterator[Market]:
    with node.chain() as chain:
        roles = IssuerRoles.from_accounts(node.accounts)
        provider, trader, other = node.accounts[10:13]
        aapl = [i for i in load_catalogue() if i.ticker == "AAPL"]
        deployment = deploy_issuance(chain, roles, aapl)
        token = chain.at(deployment.instrument("AAPL").token, compile_contract("token/StockToken.vy"))
        assert token.compliance_profile() == 0  # open
        usdc = deploy_test_usdc(chain, roles.admin)
        uniswap = deploy_uniswap_v2(chain, roles.admin)

        # Secure mint: the custodian's attested reserves come first, then the tokens.
        reserve_feed = chain.at(
            deployment.instrument("AAPL").reserve_feed, compile_contract("oracle/ReserveFeed.vy")
        )
        chain.mine()
        reserve_feed.update(10_000 * SHARE, chain.timestamp(), sender=roles.attester)
        for holder in (provider, trader, other):
            token.mint(holder, 2_000 * SHARE, sender=roles.minter)
            usdc.mint(holder, 1_000_000 * USDC, sender=roles.admin)
            for asset in (token, usdc):
                asset.approve(uniswap.router.address, 2**256 - 1, sender=holder)
        uniswap.factory.createPair(token.address, usdc.address, sender=roles.admin)
        yield Market(chain, clock, roles, deployment, token, usdc, uniswap, provider, trader, other)


@pytest.fixture
def market(module_market: Market) -> Iterator[Market]:
    """The module's market, with each test's transactions undone afterwards."""
    taken = module_market.chain.snapshot()
    yield module_market
    module_market.chain.revert_to(taken)


def add_liquidity(market: Market, shares: int, usdc: int, provider: str) -> Any:
    return market.uniswap.router.addLiquidity(
        market.token.address, market.usdc.address, shares, usdc, 0, 0, provider, DEADLINE, sender=provider
    )


def seeded(market: Market) -> Market:
    add_liquidity(market, POOL_SHARES, POOL_USDC, market.provider)
    return market


def revert_reasons(market: Market, sender: str, to: str, data: bytes) -> dict[str, str]:
    """Run a call under anvil's call tracer and return the revert reason of every failed frame, by address."""
    trace = market.chain.request(
        "debug_traceCall",
        {"from": sender, "to": to, "data": "0x" + data.hex()},
        "latest",
        {"tracer": "callTracer"},
    )
    reasons: dict[str, str] = {}
    frames = [trace]
    while frames:
        frame = frames.pop()
        frames.extend(frame.get("calls", []))
        if "error" in frame:
            output = bytes.fromhex(str(frame.get("output", "0x")).removeprefix("0x"))
            reason = frame.get("revertReason") or decode_revert_reason(output) or frame["error"]
            reasons[checksum(frame["to"])] = str(reason)
    return reasons


# ----------------------------------------------------------------------------------------------- tests


@pytest.mark.anvil
def test_router02_finds_the_pair_the_npm_factory_creates(market: Market) -> None:
    factory, token, usdc = market.uniswap.factory, market.token.address, market.usdc.address

    pair = market.pair()

    assert (
        pair.address == pair_address(factory.address, token, usdc) == market.uniswap.pair_address(usdc, token)
    )
    assert market.uniswap.artifacts.pair.bytecode in market.uniswap.artifacts.factory.bytecode
    assert PAIR_INIT_CODE_HASH in market.uniswap.artifacts.router.bytecode
    assert pair.factory() == factory.address
    assert (pair.token0(), pair.token1()) == tuple(sorted((token, usdc), key=lambda a: int(a, 16)))
    assert market.uniswap.router.factory() == factory.address


@pytest.mark.anvil
def test_liquidity_and_swaps_follow_uniswap_v2_maths_exactly(market: Market) -> None:
    pair, router = market.pair(), market.uniswap.router
    token, usdc = market.token.address, market.usdc.address
    provider, other, trader = market.provider, market.other, market.trader

    # The first deposit sets the price (200 USDC a share) and locks MINIMUM_LIQUIDITY for good.
    provider_before = market.balances(provider)
    add_liquidity(market, POOL_SHARES, POOL_USDC, provider)
    first_shares = shares_minted(POOL_SHARES, POOL_USDC, 0, 0, 0)
    assert pair.balanceOf(provider) == first_shares
    assert pair.balanceOf(ZERO_ADDRESS) == MINIMUM_LIQUIDITY
    assert pair.totalSupply() == first_shares + MINIMUM_LIQUIDITY
    assert market.reserves() == (POOL_SHARES, POOL_USDC)
    assert market.balances(provider) == (provider_before[0] - POOL_SHARES, provider_before[1] - POOL_USDC)

    # A later deposit off the ratio: the router takes only what matches the pool's price.
    desired = (10 * SHARE, 5_000 * USDC)
    taken = optimal_deposit(*desired, POOL_SHARES, POOL_USDC)
    assert taken == (10 * SHARE, 2_000 * USDC)
    minted = shares_minted(*taken, POOL_SHARES, POOL_USDC, pair.totalSupply())
    other_before = market.balances(other)
    add_liquidity(market, *desired, other)
    assert pair.balanceOf(other) == minted
    assert market.balances(other) == (other_before[0] - taken[0], other_before[1] - taken[1])
    reserves = (POOL_SHARES + taken[0], POOL_USDC + taken[1])
    assert market.reserves() == reserves

    # Sell exactly 5 AAPLx for USDC.
    sold = 5 * SHARE
    paid = amount_out(sold, reserves[0], reserves[1])
    assert router.getAmountsOut(sold, [token, usdc]) == [sold, paid]
    with pytest.raises(RevertError, match="UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"):
        router.swapExactTokensForTokens(sold, paid + 1, [token, usdc], trader, DEADLINE, sender=trader)
    trader_before = market.balances(trader)
    router.swapExactTokensForTokens(sold, paid, [token, usdc], trader, DEADLINE, sender=trader)
    assert market.balances(trader) == (trader_before[0] - sold, trader_before[1] + paid)
    k_before = reserves[0] * reserves[1]
    reserves = (reserves[0] + sold, reserves[1] - paid)
    assert market.reserves() == reserves
    assert reserves[0] * reserves[1] > k_before

    # Buy exactly 3 AAPLx with USDC.
    bought = 3 * SHARE
    cost = amount_in(bought, reserves[1], reserves[0])
    assert router.getAmountsIn(bought, [usdc, token]) == [cost, bought]
    with pytest.raises(RevertError, match="UniswapV2Router: EXCESSIVE_INPUT_AMOUNT"):
        router.swapTokensForExactTokens(bought, cost - 1, [usdc, token], trader, DEADLINE, sender=trader)
    trader_before = market.balances(trader)
    router.swapTokensForExactTokens(bought, cost, [usdc, token], trader, DEADLINE, sender=trader)
    assert market.balances(trader) == (trader_before[0] + bought, trader_before[1] - cost)
    k_before = reserves[0] * reserves[1]
    reserves = (reserves[0] - bought, reserves[1] + cost)
    assert market.reserves() == reserves
    assert reserves[0] * reserves[1] > k_before
    assert market.balances(pair.address) == reserves

    # The first provider withdraws everything: a pro-rata share of reserves grown by the fees.
    liquidity, supply = pair.balanceOf(provider), pair.totalSupply()
    returned = (liquidity * reserves[0] // supply, liquidity * reserves[1] // supply)
    # The fees left in the pool grow sqrt(k) per LP share above what the first deposit set.
    first_supply = first_shares + MINIMUM_LIQUIDITY
    assert reserves[0] * reserves[1] * first_supply**2 > POOL_SHARES * POOL_USDC * supply**2
    pair.approve(router.address, liquidity, sender=provider)
    provider_before = market.balances(provider)
    router.removeLiquidity(token, usdc, liquidity, *returned, provider, DEADLINE, sender=provider)
    assert market.balances(provider) == (provider_before[0] + returned[0], provider_before[1] + returned[1])
    assert pair.balanceOf(provider) == 0
    assert pair.totalSupply() == supply - liquidity
    reserves = (reserves[0] - returned[0], reserves[1] - returned[1])
    assert market.reserves() == reserves == market.balances(pair.address)


RESTRICTIONS = [
    pytest.param(
        "sanctioned", "buys", "receiver is sanctioned", "UniswapV2: TRANSFER_FAILED", id="sanctioned-buyer"
    ),
    pytest.param("frozen", "buys", "receiver is frozen", "UniswapV2: TRANSFER_FAILED", id="frozen-buyer"),
    pytest.param(
        "sanctioned",
        "sells",
        "sender is sanctioned",
        "TransferHelper: TRANSFER_FROM_FAILED",
        id="sanctioned-seller",
    ),
    pytest.param(
        "frozen", "sells", "sender is frozen", "TransferHelper: TRANSFER_FROM_FAILED", id="frozen-seller"
    ),
]


@pytest.mark.anvil
@pytest.mark.parametrize(("restriction", "side", "token_reason", "uniswap_reason"), RESTRICTIONS)
def test_compliance_holds_inside_the_pair(
    market: Market, restriction: str, side: str, token_reason: str, uniswap_reason: str
) -> None:
    seeded(market)
    router, token, usdc = market.uniswap.router, market.token.address, market.usdc.address
    wallet = market.other
    if restriction == "sanctioned":
        sanctions = market.chain.at(
            market.deployment.sanctions_list, compile_contract("compliance/SanctionsList.vy")
        )
        sanctions.addToSanctionsList([wallet], sender=market.roles.admin)
    else:
        market.token.set_address_frozen(wallet, True, sender=market.roles.compliance_agent)
    # A buyer has the pair pay it AAPLx; a seller has the router pull its AAPLx into the pair.
    path, sender = ([usdc, token], market.trader) if side == "buys" else ([token, usdc], wallet)
    amount = 1_000 * USDC if side == "buys" else SHARE
    args = (amount, 0, path, wallet, DEADLINE)
    before = market.reserves(), market.balances(wallet)

    with pytest.raises(RevertError, match=uniswap_reason):
        router.swapExactTokensForTokens(*args, sender=sender)

    # Uniswap replaces the reason with its own; the trace shows our token refused the transfer.
    reasons = revert_reasons(market, sender, router.address, router.swapExactTokensForTokens.encode(*args))
    assert reasons[token] == token_reason
    assert (market.reserves(), market.balances(wallet)) == before
    # The same swap for an unrestricted wallet goes through.
    unrestricted = (amount, 0, path, market.trader, DEADLINE)
    assert router.swapExactTokensForTokens(*unrestricted, sender=market.trader).succeeded


@pytest.mark.anvil
def test_the_pairs_first_swap_in_a_later_second_pays_for_its_price_accumulators(market: Market) -> None:
    # The edge behind a swap that once reverted with no reason: in a later second than its last
    # update the pair writes both price accumulators, fresh storage slots, so the swap costs more
    # than in the same second. Its gas is estimated at the time of the block it lands in, because
    # the node's blocks follow the test's clock rather than the wall clock.
    seeded(market)
    pair, router = market.pair(), market.uniswap.router
    buy = (1_000 * USDC, 0, [market.usdc.address, market.token.address], market.trader, DEADLINE)
    *_, deposited_at = pair.getReserves()

    same_second = router.swapExactTokensForTokens(*buy, sender=market.trader)
    assert market.chain.timestamp(same_second.block_number) == deposited_at
    assert (pair.price0CumulativeLast(), pair.price1CumulativeLast()) == (0, 0)

    market.clock.advance(timedelta(seconds=1))
    next_second = router.swapExactTokensForTokens(*buy, sender=market.trader)
    assert market.chain.timestamp(next_second.block_number) == deposited_at + 1
    assert pair.price0CumulativeLast() > 0
    assert pair.price1CumulativeLast() > 0
    assert next_second.gas_used > same_second.gas_used + 40_000


@pytest.mark.anvil
def test_pausing_the_token_stops_the_pair(market: Market) -> None:
    seeded(market)
    pair, router = market.pair(), market.uniswap.router
    token, usdc, trader, provider = market.token.address, market.usdc.address, market.trader, market.provider
    liquidity = pair.balanceOf(provider)
    pair.approve(router.address, liquidity, sender=provider)
    before = market.reserves()
    market.token.pause(sender=market.roles.pauser)

    buy = (1_000 * USDC, 0, [usdc, token], trader, DEADLINE)
    with pytest.raises(RevertError, match="UniswapV2: TRANSFER_FAILED"):
        router.swapExactTokensForTokens(*buy, sender=trader)
    assert (
        revert_reasons(market, trader, router.address, router.swapExactTokensForTokens.encode(*buy))[token]
        == "token is paused"
    )
    with pytest.raises(RevertError, match="TransferHelper: TRANSFER_FROM_FAILED"):
        router.swapExactTokensForTokens(SHARE, 0, [token, usdc], trader, DEADLINE, sender=trader)
    with pytest.raises(RevertError, match="TransferHelper: TRANSFER_FROM_FAILED"):
        add_liquidity(market, SHARE, 200 * USDC, provider)
    with pytest.raises(RevertError, match="UniswapV2: TRANSFER_FAILED"):
        router.removeLiquidity(token, usdc, liquidity, 0, 0, provider, DEADLINE, sender=provider)
    assert market.reserves() == before
    assert pair.balanceOf(provider) == liquidity

    market.token.unpause(sender=market.roles.pauser)
    assert router.swapExactTokensForTokens(*buy, sender=trader).succeeded


# ------------------------------------------------------------------------------------- the npm install


def test_an_installed_cache_is_reused_without_npm(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    load_artifacts()  # installs into the default cache if it is not there yet
    monkeypatch.setenv("PATH", str(tmp_path))

    modules = install_packages()

    assert (modules / "@uniswap" / "v2-core" / "build" / "UniswapV2Pair.json").is_file()


def test_install_names_npm_when_it_is_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-npm-here"))

    with pytest.raises(UniswapV2Error, match="npm is not on PATH"):
        install_packages(tmp_path / "cache")

    assert not (tmp_path / "cache" / "installed.json").exists()


def test_install_reports_npms_failure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A registry nobody listens on and an empty npm cache: npm itself fails, as it would offline.
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    monkeypatch.setenv("npm_config_fetch_retries", "0")

    with pytest.raises(
        UniswapV2Error, match=r"npm install of @uniswap/v2-core@1\.0\.1 .* failed \(exit"
    ) as failure:
        install_packages(tmp_path / "cache")

    assert "ECONNREFUSED" in str(failure.value)  # npm's own reason comes through
    assert not (tmp_path / "cache" / "installed.json").exists()


def test_pair_address_refuses_one_token_twice() -> None:
    token = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    with pytest.raises(UniswapV2Error, match="two different tokens"):
        pair_address(token, token, token.lower())
