"""The platform's on-chain upkeep on a real anvil: node time follows market time, replayed prices go
into the feeds within their bounds, and transactions a crashed node lost are sent again."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.ports import free_port

from equitoken.chain.accounts import SignerRegistry
from equitoken.issuer.investors import InvestorCategory
from equitoken.issuer.outbox import TxStatus
from equitoken.local import ACCOUNTS, LocalIssuer, LocalPlatform
from equitoken.local_clock import DEFAULT_REPLAY_START
from equitoken.market.clock import ManualClock
from equitoken.platform.node_time import advance_node_time
from equitoken.platform.price_feeds import MARKET_CLOSED, MARKET_OPEN, PriceFeedPusher, bounded_answer
from equitoken.platform.recovery import replay_lost_transactions
from equitoken.store.schema import ChainTransactionRow

pytestmark = pytest.mark.anvil


@dataclass
class Upkept:
    platform: LocalPlatform
    local: LocalIssuer
    clock: ManualClock

    def move(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        advance_node_time(self.local.chain, self.clock.now())


@pytest.fixture(scope="module")
def upkept(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upkept]:
    data_dir: Path = tmp_path_factory.mktemp("upkeep")
    platform = LocalPlatform(data_dir, free_port())
    platform.start(lambda _: None, instruments=2)
    clock = ManualClock(DEFAULT_REPLAY_START)
    local = LocalIssuer(data_dir, platform.url, clock=clock)
    yield Upkept(platform, local, clock)
    local.close()
    platform.stop()


def test_a_fresh_node_starts_at_market_time_and_is_only_ever_moved_forward(upkept: Upkept) -> None:
    chain = upkept.local.chain
    assert abs(chain.timestamp() - int(DEFAULT_REPLAY_START.timestamp())) < 120

    upkept.move(timedelta(hours=2))
    at = chain.timestamp()
    assert at == int(upkept.clock.now().timestamp())

    assert advance_node_time(chain, DEFAULT_REPLAY_START) == at  # an earlier time leaves it alone
    chain.mine()
    assert chain.timestamp() >= at


def test_feeds_get_replayed_prices_at_open_hourly_and_at_close(upkept: Upkept) -> None:
    local = upkept.local
    pusher = PriceFeedPusher(local.onchain, local.prices, local.calendar, local.clock)
    upkept.move(timedelta(minutes=1))

    assert pusher.push() == 2
    aapl = pusher.state("AAPL")
    assert aapl is not None
    assert aapl.status == MARKET_OPEN
    assert aapl.answer == local.prices.quote("AAPL", upkept.clock.now()).price.units
    assert pusher.push() == 0  # the feed takes one round an hour while the status is the same

    upkept.move(timedelta(minutes=61))
    assert pusher.push() == 2

    upkept.move(timedelta(hours=8))  # past the close
    assert pusher.push() == 2
    closed = pusher.state("MSFT")
    assert closed is not None
    assert closed.status == MARKET_CLOSED
    upkept.move(timedelta(hours=2))
    assert pusher.push() == 0  # a closed market's price does not move


def test_a_move_beyond_the_feed_bound_is_approached_in_steps() -> None:
    assert bounded_answer(100_00000000, 150_00000000) == 109_90000000
    assert bounded_answer(100_00000000, 50_00000000) == 90_10000000
    assert bounded_answer(100_00000000, 101_00000000) == 101_00000000


def test_transactions_a_crashed_node_lost_are_sent_again_in_order(upkept: Upkept) -> None:
    local = upkept.local
    chain = local.chain
    wallet = SignerRegistry.anvil(ACCOUNTS).addresses[15]
    before_crash = chain.snapshot()
    investor = local.issuer.investors.onboard(
        "Recovered Capital LLP",
        "GB",
        InvestorCategory.AUTHORISED_PARTICIPANT,
        kyc_expires_at=upkept.clock.now() + timedelta(days=365),
    )
    local.issuer.investors.bind_wallet(investor.id, wallet)
    registry = local.onchain.registry
    assert int(registry.investor_of(wallet)) == investor.onchain_id
    purposes = [f"investor:{investor.id}:v1", f"wallet:{wallet}"]
    with local.database.transaction() as session:
        rows = session.scalars(select(ChainTransactionRow).where(ChainTransactionRow.purpose.in_(purposes)))
        confirmed = [row.tx_hash for row in rows if row.status == TxStatus.CONFIRMED]
    assert len(confirmed) == 2
    chain.revert_to(before_crash)  # the node comes back without the last blocks
    assert all(chain.receipt(tx_hash) is None for tx_hash in confirmed)
    assert int(registry.investor_of(wallet)) == 0

    assert replay_lost_transactions(local.database, chain) == 2

    receipts = [chain.receipt(tx_hash) for tx_hash in confirmed]
    assert all(receipt is not None and receipt.succeeded for receipt in receipts)
    assert int(registry.investor_of(wallet)) == investor.onchain_id
    assert replay_lost_transactions(local.database, chain) == 0
