"""Rate limits on the pools: a burst above the outbound bucket reverts with the exact wait, above the
capacity is refused; an inbound limit makes the relayer wait until the bucket refills; nothing is lost."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from tests.support.bridge import (
    BASE,
    ETHEREUM,
    ONE,
    BridgeWorld,
    bridge_world,
    evm_word,
    fresh_wallet,
    mint_through_workflow,
)

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.contract import Contract
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares

pytestmark = pytest.mark.anvil

RATE = ONE // 100  # one share per 100 s


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[BridgeWorld]:
    with bridge_world(tmp_path_factory.mktemp("rate-limits"), prices, calendar) as built:
        p = built.platform
        mint_through_workflow(p, built.issuer, "AAPL", ETHEREUM, p.wallet, "10")
        yield built


def _conserved(world: BridgeWorld) -> None:
    custody = world.issuer.reconcile()
    holding = next(h for h in custody.holdings if h.ticker == "AAPL")
    total = sum(world.supply("AAPL").values()) + world.in_flight("AAPL")
    assert Shares(total * Shares.token_step(8)) == holding.custody


def _limit(
    pool: Contract, admin: str, remote: int, *, outbound: tuple[int, int], inbound: tuple[int, int]
) -> None:
    pool.set_rate_limits.transact(remote, True, *outbound, True, *inbound, sender=admin)


def _wait_for(bucket: tuple[int, ...], amount: int, at: int) -> int:
    """The pool's wait for `amount` at time `at`: ceil((amount - available) / rate)."""
    tokens, last_updated, capacity, rate = (int(v) for v in bucket[:4])
    available = min(capacity, tokens + (at - last_updated) * rate)
    return -(-(amount - available) // rate)


def test_a_burst_above_the_outbound_bucket_waits_exactly(world: BridgeWorld) -> None:
    pool, admin = world.pool(ETHEREUM, "AAPL"), world.platform.onchain.roles.admin
    default = tuple(int(v) for v in pool.outbound_bucket(BASE))
    receiver = fresh_wallet("rate_limits-5")
    _limit(pool, admin, BASE, outbound=(3 * ONE, RATE), inbound=(default[2], default[3]))
    supply = sum(world.supply("AAPL").values())
    sent = [world.send(ETHEREUM, "AAPL", BASE, evm_word(receiver), ONE) for _ in range(3)]
    world.platform.clock.advance(timedelta(seconds=10))
    at = int(world.platform.clock.now().timestamp())
    expected = _wait_for(tuple(pool.outbound_bucket(BASE)), ONE, at)
    assert 0 < expected < 100
    with pytest.raises(RevertError, match=f"bridge: rate limited, wait {expected} s$"):
        world.send(ETHEREUM, "AAPL", BASE, evm_word(receiver), ONE)
    with pytest.raises(RevertError, match="bridge: amount above capacity"):
        world.send(ETHEREUM, "AAPL", BASE, evm_word(receiver), 4 * ONE)
    world.platform.clock.advance(timedelta(seconds=expected))
    sent.append(world.send(ETHEREUM, "AAPL", BASE, evm_word(receiver), ONE))
    world.relay()
    assert [world.transfer(m).state for m in sent] == ["minted"] * 4
    # One pass found all four burns: they are minted in the order they burned, not of their ids.
    receipts = [world.base.chain.receipt(str(world.transfer(m).dest_tx)) for m in sent]
    mined = [r.block_number for r in receipts if r is not None]
    assert len(mined) == 4
    assert mined == sorted(set(mined))
    assert int(world.token(BASE, "AAPL").balanceOf(receiver)) == 4 * ONE
    assert sum(world.supply("AAPL").values()) == supply
    _conserved(world)
    _limit(pool, admin, BASE, outbound=(default[2], default[3]), inbound=(default[2], default[3]))


def test_an_inbound_limit_makes_the_relayer_wait_until_it_refills(world: BridgeWorld) -> None:
    pool, admin = world.pool(BASE, "AAPL"), world.base.roles.admin
    default = tuple(int(v) for v in pool.inbound_bucket(ETHEREUM))
    receiver = fresh_wallet("rate_limits-6")
    _limit(pool, admin, ETHEREUM, outbound=(default[2], default[3]), inbound=(2 * ONE, RATE))
    # The burst above emptied ethereum's outbound bucket: lift it, so only base's inbound one binds.
    source, source_admin = world.pool(ETHEREUM, "AAPL"), world.platform.onchain.roles.admin
    source_inbound = tuple(int(v) for v in source.inbound_bucket(BASE))
    source.set_rate_limits.transact(
        BASE, False, 0, 0, True, source_inbound[2], source_inbound[3], sender=source_admin
    )
    first = world.send(ETHEREUM, "AAPL", BASE, evm_word(receiver), 3 * ONE // 2)
    second = world.send(ETHEREUM, "AAPL", BASE, evm_word(receiver), 3 * ONE // 2)
    # The first burned is delivered first; four passes (60 s of clock) are too few for the bucket to
    # refill the 1 share the second still lacks.
    world.relay(rounds=4)
    assert world.transfer(first).state == "minted", world.transfer(first).reason
    row = world.transfer(second)
    assert row.state == "attested"
    assert "bridge: rate limited, wait" in (row.reason or ""), row.reason
    assert int(world.token(BASE, "AAPL").balanceOf(receiver)) == 3 * ONE // 2
    _conserved(world)
    world.platform.clock.advance(timedelta(seconds=100))
    world.relay()
    assert world.transfer(second).state == "minted", world.transfer(second).reason
    assert int(world.token(BASE, "AAPL").balanceOf(receiver)) == 3 * ONE
    assert world.in_flight("AAPL") == 0
    _conserved(world)
    _limit(pool, admin, ETHEREUM, outbound=(default[2], default[3]), inbound=(default[2], default[3]))
