"""The platform's on-chain upkeep on a real anvil: node time follows market time, the oracle network's
reporters (processes of their own, reading the recorded market clock) bring the replayed prices into
the feeds at the open, hourly, on a deviation and at the close, and transactions a crashed node lost
are sent again."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.ports import free_port

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.durable.outbox import TxStatus
from equitoken.issuer.investors import InvestorCategory
from equitoken.market.clock import CLOCK_FILE, DEFAULT_REPLAY_START, ManualClock, SimulatedClock, SystemClock
from equitoken.oracle.observation import MarketStatus
from equitoken.oracle.policy import PushReason
from equitoken.oracle.transmitter import TransmitOutcome, TransmitResult
from equitoken.platform.local import ACCOUNTS, LocalIssuer, LocalPlatform
from equitoken.platform.node_time import advance_node_time
from equitoken.platform.oracle_network import QUORUM, REPORTER_COUNT, OracleNetwork
from equitoken.platform.recovery import replay_lost_transactions
from equitoken.store.schema import ChainTransactionRow

pytestmark = pytest.mark.anvil

SENT, NOT_DUE = TransmitOutcome.SENT, TransmitOutcome.NOT_DUE
# Monday 2025-12-01: the session runs from 14:30 to 21:00 UTC.
SESSION_DAY = DEFAULT_REPLAY_START.date()


def utc(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(SESSION_DAY.year, SESSION_DAY.month, SESSION_DAY.day, hour, minute, second, tzinfo=UTC)


@dataclass
class Upkept:
    platform: LocalPlatform
    local: LocalIssuer
    clock: ManualClock
    data_dir: Path

    def move_to(self, at: datetime) -> None:
        """Move market time: the issuer's clock, the clock the reporters read, and the node."""
        self.clock.advance(at - self.clock.now())
        SimulatedClock(at, SystemClock().now(), 1).save(self.data_dir / CLOCK_FILE)
        advance_node_time(self.local.chain, at)

    def price_feed(self, ticker: str) -> Contract:
        address = self.local.deployment.issuance.instrument(ticker).price_feed
        return self.local.chain.at(address, compile_contract("oracle/PriceFeed.vy"))

    def move(self, delta: timedelta) -> None:
        self.move_to(self.clock.now() + delta)


@pytest.fixture(scope="module")
def upkept(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upkept]:
    data_dir: Path = tmp_path_factory.mktemp("upkeep")
    platform = LocalPlatform(data_dir, free_port(), solana_rpc_port=free_port(), base_rpc_port=free_port())
    platform.start(lambda _: None, instruments=2)
    clock = ManualClock(DEFAULT_REPLAY_START)
    local = LocalIssuer(data_dir, platform.url, clock=clock)
    yield Upkept(platform, local, clock, data_dir)
    local.close()
    platform.stop()


@pytest.fixture(scope="module")
def network(upkept: Upkept) -> Iterator[OracleNetwork]:
    local = upkept.local
    with OracleNetwork(
        upkept.data_dir,
        local.database.url,
        local.chain,
        local.roles.price_updater,
        local.deployment.issuance,
        timeout=15,  # a loaded CI machine can starve the reporter processes past the default 2 s
    ) as running:
        yield running


def test_a_fresh_node_starts_at_market_time_and_is_only_ever_moved_forward(upkept: Upkept) -> None:
    chain = upkept.local.chain
    assert abs(chain.timestamp() - int(DEFAULT_REPLAY_START.timestamp())) < 120

    upkept.move(timedelta(seconds=30))
    at = chain.timestamp()
    assert at == int(upkept.clock.now().timestamp())

    assert advance_node_time(chain, DEFAULT_REPLAY_START) == at  # an earlier time leaves it alone
    chain.mine()
    assert chain.timestamp() >= at


def test_the_feeds_register_the_platforms_reporters_and_quorum(upkept: Upkept) -> None:
    keys = sorted(p.name for p in (upkept.data_dir / "oracle").iterdir())
    assert keys == [f"reporter-{i}.key" for i in range(1, REPORTER_COUNT + 1)]
    for ticker in ("AAPL", "MSFT"):
        feed = upkept.price_feed(ticker)
        assert len(feed.reporters()) == REPORTER_COUNT
        assert int(feed.quorum()) == QUORUM


def outcomes(results: list[TransmitResult]) -> dict[str, tuple[TransmitOutcome, PushReason | None]]:
    return {r.ticker: (r.outcome, r.reason) for r in results}


def test_rounds_land_at_the_open_hourly_on_deviation_and_at_the_close(
    upkept: Upkept, network: OracleNetwork
) -> None:
    local = upkept.local
    feed = upkept.price_feed("AAPL")

    def latest() -> tuple[int, int, int, MarketStatus]:
        round_id, answer, started_at, _, _, status = feed.latestRoundStatus()
        return int(round_id), int(answer), int(started_at), MarketStatus(status)

    def share_price(observed_at: int) -> int:
        return local.prices.quote("AAPL", datetime.fromtimestamp(observed_at, UTC)).price.units

    upkept.move_to(utc(14, 31))
    assert outcomes(network.tick()) == {
        "AAPL": (SENT, PushReason.FIRST_ROUND),
        "MSFT": (SENT, PushReason.FIRST_ROUND),
    }
    round_id, answer, observed_at, status = latest()
    assert (round_id, status) == (1, MarketStatus.OPEN)
    assert answer == share_price(observed_at)  # no split yet: the token's price is the share's
    results = network.tick()
    assert {r.outcome for r in results} == {NOT_DUE}, results  # nothing new a second later

    # AAPL 277.99 -> 277.13 and MSFT 488.45 -> 489.11 in the hour: below the 0.5% deviation.
    upkept.move_to(utc(15, 32))
    assert outcomes(network.tick()) == {
        "AAPL": (SENT, PushReason.HEARTBEAT),
        "MSFT": (SENT, PushReason.HEARTBEAT),
    }
    upkept.move_to(utc(16, 40))
    assert {r.reason for r in network.tick()} == {PushReason.HEARTBEAT}

    # 40 minutes on, AAPL is up 0.7% (a round before the heartbeat), MSFT down 0.3% (none).
    upkept.move_to(utc(17, 20))
    assert outcomes(network.tick()) == {
        "AAPL": (SENT, PushReason.DEVIATION),
        "MSFT": (NOT_DUE, None),
    }
    round_id, answer, observed_at, _ = latest()
    assert round_id == 4
    assert answer == share_price(observed_at)

    upkept.move_to(utc(21, 0, 30))  # the session closed at 21:00
    assert outcomes(network.tick()) == {
        "AAPL": (SENT, PushReason.STATUS_CHANGE),
        "MSFT": (SENT, PushReason.STATUS_CHANGE),
    }
    close = latest()
    assert close[3] is MarketStatus.CLOSED
    assert close[1] == local.prices.quote("AAPL", utc(21, 0)).price.units
    assert int(feed.last_close()) == close[1]

    upkept.move_to(utc(21, 30))
    assert {r.outcome for r in network.tick()} == {NOT_DUE}  # a closed market's price does not move
    upkept.move_to(utc(22, 5))
    assert {r.reason for r in network.tick()} == {PushReason.HEARTBEAT}
    assert latest()[0] == close[0] + 1
    assert latest()[1] == close[1]  # frozen at the close


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
