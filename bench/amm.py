"""Gas of one swap: our AMM's single-hop ``StockPool.swap`` against the real Uniswap v2 Router02.

Both venues trade the same pair in the same run on one anvil node: our AAPLx (an ``open`` stock
token, secure-minted against attested reserves) against the test USDC. Each pool holds the same
reserves (1,000 AAPLx and 200,000 USDC), the market is OPEN (our pool charges its 30 bps open fee,
Uniswap its fixed 0.3%), and every figure is the ``gasUsed`` of a real signed transaction's
receipt. Run::

    python bench/amm.py          # a table
    python bench/amm.py --json   # {"swap_gas": g, "uniswap_v2_swap_gas": g}

- ``swap_gas``: ``StockPool.swap`` buying AAPLx with 1,000 USDC; the pool pulls the USDC with
  ``transferFrom`` and sends the AAPLx.
- ``uniswap_v2_swap_gas``: Router02 ``swapExactTokensForTokens`` of the same 1,000 USDC along
  ``[USDC, AAPLx]``, from the published npm build of Uniswap v2 (``tests/support/uniswap_v2.py``).

Warm state, as a trader who uses a venue meets it: each measured swap is the second of two identical
swaps, the trader already holds both tokens and has approved the venue for an unlimited amount (so
neither token writes an allowance), and each swap is mined 12 seconds after the one before (so
Uniswap's pair updates its price accumulators, as it does on a live chain). The two venues must pay
the same amount out for the same amount in, or the run stops: otherwise it would not be the same
trade. The table also shows the other direction (selling 5 AAPLx).
"""

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuanceDeployment, IssuerRoles, deploy_issuance
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.chain.evm.types import Receipt
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.onchain import deploy_test_usdc
from equitoken.model.quantities import Price
from equitoken.oracle.observation import FeedId, MarketStatus, Observation
from equitoken.venues.amm import deploy_amm

if __package__ in (None, ""):  # run as a script: make `tests.support` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.uniswap_v2 import deploy_uniswap_v2

TICKER = "AAPL"
SHARE = 10**8  # AAPLx has 8 decimals
USDC = 10**6
POOL_SHARES = 1_000 * SHARE
POOL_USDC = 200_000 * USDC
SHARE_PRICE = Price(200 * 10**8)
BUY_USDC = 1_000 * USDC
SELL_SHARES = 5 * SHARE
HEADLINE = "buy"
# Fixed far-future values keep calldata, and so gas, identical run to run.
DEADLINE = 2**40
BLOCK_SECONDS = 12
UNLIMITED = 2**256 - 1

Figures = dict[str, dict[str, int]]
"""Gas by venue ("ours", "uniswap_v2"), then by direction ("buy", "sell")."""


@dataclass(frozen=True)
class Venues:
    """The pair on both venues, funded and seeded, and the trader who swaps."""

    chain: JsonRpcChain
    token: Contract
    usdc: Contract
    pool: Contract
    router: Contract
    trader: str


def open_market(chain: JsonRpcChain, deployment: IssuanceDeployment, roles: IssuerRoles) -> None:
    """Have the price feed's reporter (the price updater) sign an OPEN round at the next block's time."""
    feed = chain.at(deployment.instrument(TICKER).price_feed, compile_contract("oracle/PriceFeed.vy"))
    observed_at = chain.timestamp() + BLOCK_SECONDS
    chain.set_next_block_timestamp(observed_at)
    observation = Observation(
        FeedId(chain.chain_id, feed.address), 1, SHARE_PRICE, MarketStatus.OPEN, observed_at
    )
    signed = observation.sign(chain.signers.get(roles.price_updater))
    feed.transmit(1, [signed.as_call_argument()], sender=roles.price_updater)


def set_up(chain: JsonRpcChain, accounts: list[str]) -> Venues:
    """Deploy the issuance, the test USDC, both venues; fund the provider and trader; seed both pools."""
    roles = IssuerRoles.from_accounts(accounts)
    provider, trader = accounts[10], accounts[11]
    instruments = [i for i in load_catalogue() if i.ticker == TICKER]
    deployment = deploy_issuance(chain, roles, instruments)
    token = chain.at(deployment.instrument(TICKER).token, compile_contract("token/StockToken.vy"))
    usdc = deploy_test_usdc(chain, roles.admin)
    open_market(chain, deployment, roles)

    reserve_feed = chain.at(
        deployment.instrument(TICKER).reserve_feed, compile_contract("oracle/ReserveFeed.vy")
    )
    reserve_feed.update(10_000 * SHARE, chain.timestamp(), sender=roles.attester)
    for holder in (provider, trader):
        token.mint(holder, 2 * POOL_SHARES, sender=roles.minter)
        usdc.mint(holder, 2 * POOL_USDC, sender=roles.admin)

    uniswap = deploy_uniswap_v2(chain, roles.admin)
    uniswap.factory.createPair(token.address, usdc.address, sender=roles.admin)
    amm = deploy_amm(chain, roles.admin, usdc.address, deployment, [TICKER])
    pool = amm.pool(chain, TICKER)
    for holder in (provider, trader):
        for asset in (token, usdc):
            asset.approve(uniswap.router.address, UNLIMITED, sender=holder)
            asset.approve(pool.address, UNLIMITED, sender=holder)
    uniswap.router.addLiquidity(
        token.address, usdc.address, POOL_SHARES, POOL_USDC, 0, 0, provider, DEADLINE, sender=provider
    )
    pool.add_liquidity(POOL_SHARES, POOL_USDC, 0, 0, provider, DEADLINE, sender=provider)
    return Venues(chain, token, usdc, pool, uniswap.router, trader)


def _warm_swap(venues: Venues, swap: Callable[[], Receipt], received: Contract) -> tuple[int, int]:
    # Two identical swaps, each in its own block 12 s after the last; the second one counts.
    gas = paid = 0
    for _ in range(2):
        before = received.balanceOf(venues.trader)
        venues.chain.set_next_block_timestamp(venues.chain.timestamp() + BLOCK_SECONDS)
        gas = swap().gas_used
        paid = received.balanceOf(venues.trader) - before
    return gas, paid


def measure_direction(venues: Venues, direction: str) -> tuple[dict[str, int], dict[str, int]]:
    """Return the warm swap's gas and output on each venue for `direction` ("buy" or "sell")."""
    pool, router, trader = venues.pool, venues.router, venues.trader
    token, usdc = venues.token.address, venues.usdc.address
    if direction == "buy":
        amount, stock_in, path, received = BUY_USDC, False, [usdc, token], venues.token
    else:
        amount, stock_in, path, received = SELL_SHARES, True, [token, usdc], venues.usdc
    gas: dict[str, int] = {}
    out: dict[str, int] = {}
    gas["ours"], out["ours"] = _warm_swap(
        venues, lambda: pool.swap(amount, 1, stock_in, trader, DEADLINE, sender=trader), received
    )
    gas["uniswap_v2"], out["uniswap_v2"] = _warm_swap(
        venues,
        lambda: router.swapExactTokensForTokens(amount, 1, path, trader, DEADLINE, sender=trader),
        received,
    )
    if out["ours"] != out["uniswap_v2"]:
        raise RuntimeError(
            f"{direction}: our pool paid {out['ours']} and Uniswap {out['uniswap_v2']} for the same "
            "input; the pools are not in the same state, so the gas would not compare the same trade"
        )
    return gas, out


def measure() -> tuple[Figures, dict[str, int]]:
    """Start a fresh anvil node and measure both venues in both directions; return gas and outputs."""
    figures: Figures = {"ours": {}, "uniswap_v2": {}}
    outputs: dict[str, int] = {}
    with AnvilNode(accounts=12) as node, node.chain() as chain:
        venues = set_up(chain, node.accounts)
        for direction in ("buy", "sell"):
            gas, out = measure_direction(venues, direction)
            for venue, used in gas.items():
                figures[venue][direction] = used
            outputs[direction] = out["ours"]
    return figures, outputs


def headline(figures: Figures) -> dict[str, int]:
    """Return the JSON figures: the warm buy on each venue."""
    return {"swap_gas": figures["ours"][HEADLINE], "uniswap_v2_swap_gas": figures["uniswap_v2"][HEADLINE]}


def render(figures: Figures, outputs: dict[str, int]) -> str:
    """Return a readable table of both directions, with whether ours meets the target (at most Uniswap's)."""
    trades = {
        "buy": f"1,000 USDC -> {outputs['buy'] / SHARE:,.8f} AAPLx",
        "sell": f"5 AAPLx -> {outputs['sell'] / USDC:,.6f} USDC",
    }
    lines = [f"{'direction':<10}{'trade':<38}{'StockPool.swap':>16}{'Uniswap v2':>14}{'ours/theirs':>13}"]
    for direction, trade in trades.items():
        ours, theirs = figures["ours"][direction], figures["uniswap_v2"][direction]
        lines.append(f"{direction:<10}{trade:<38}{ours:>16,}{theirs:>14,}{ours / theirs:>12.3f}x")
    ours, theirs = figures["ours"][HEADLINE], figures["uniswap_v2"][HEADLINE]
    verdict = "meets" if ours <= theirs else "misses"
    lines += [
        "",
        f"swap_gas (warm {HEADLINE}): ours {ours:,} vs Uniswap v2 Router02 {theirs:,} "
        f"({verdict} the target: ours <= Uniswap's)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object of the figures")
    args = parser.parse_args(argv)
    figures, outputs = measure()
    print(json.dumps(headline(figures)) if args.json else render(figures, outputs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
