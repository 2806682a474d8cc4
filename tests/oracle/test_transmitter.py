"""The transmitter end to end, on the in-process chain and on anvil: real reporters observing the
replayed history sign rounds that land in the real `PriceFeed`; liars, dead reporters and removed
reporters never move the answer outside the honest range, and without a quorum nothing is sent."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from tests.ports import free_port

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuerRoles, OracleMembers, deploy_issuance
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.issuer.catalogue import load_catalogue
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Price
from equitoken.oracle.closed_market import ClosedTerms
from equitoken.oracle.keys import key_path, reporter_keys
from equitoken.oracle.observation import FeedId, MarketStatus, Observation, SignedObservation
from equitoken.oracle.policy import PushPolicy, PushReason
from equitoken.oracle.reporter import ObservationClient, ObservationRequest, Reporter
from equitoken.oracle.reporter_client import ReporterClient, ReporterProcess
from equitoken.oracle.sources import MarketObservationSource, ObservationSource
from equitoken.oracle.transmitter import TransmitOutcome, Transmitter

ACCOUNTS = 14
# Monday 2025-12-01, 10:00 New York (session open); the session closes at 21:00 UTC.
T0 = int(datetime(2025, 12, 1, 15, 0, tzinfo=UTC).timestamp())
SESSION_CLOSE = int(datetime(2025, 12, 1, 21, 0, tzinfo=UTC).timestamp())
ONE = 10**18


@pytest.fixture(params=["inproc", pytest.param("anvil", marks=pytest.mark.anvil)])
def chain(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EvmChain]:
    signers = SignerRegistry.anvil(ACCOUNTS)
    if request.param == "inproc":
        yield InProcessChain(signers, genesis_timestamp=T0 - 600)
        return
    log = tmp_path_factory.mktemp("anvil") / "anvil.log"
    # A node of its own, so that its clock starts in the replayed history.
    with AnvilNode(accounts=ACCOUNTS, timestamp=T0 - 600, log_file=log) as node, node.chain() as rpc:
        rpc.signers = signers
        yield rpc


@dataclass
class Oracle:
    chain: EvmChain
    roles: IssuerRoles
    feed: Contract
    token: Contract
    feed_id: FeedId

    def transmitter(self, reporters: list[ObservationClient], **policy: int) -> Transmitter:
        return Transmitter(
            self.chain,
            self.chain.accounts[12],
            {"AAPL": self.feed_id},
            reporters,
            PushPolicy(**policy),
            timeout=3,
        )

    def move_to(self, timestamp: int) -> None:
        self.chain.set_next_block_timestamp(timestamp)
        self.chain.mine()

    def answer(self) -> int:
        return int(self.feed.latestRoundData()[1])


class LyingReporter:
    """A registered reporter that signs what the feed must not accept (or what it must outvote)."""

    def __init__(
        self,
        account: LocalAccount,
        source: ObservationSource,
        *,
        price_factor: int = 1,
        age: int = 0,
        round_shift: int = 0,
        claims: str | None = None,
    ) -> None:
        self._account = account
        self._source = source
        self.price_factor, self.age, self.round_shift, self.claims = price_factor, age, round_shift, claims

    @property
    def address(self) -> str:
        return self.claims or self._account.address

    def observe(self, request: ObservationRequest) -> SignedObservation:
        at = request.at - self.age
        price, status = self._source.observe(request.ticker, datetime.fromtimestamp(at, UTC), ClosedTerms())
        observation = Observation(
            request.feed,
            request.round_id + self.round_shift,
            Price(price.units * self.price_factor),
            status,
            at,
        )
        signed = observation.sign(self._account)
        return SignedObservation(observation, signed.signature, self.claims or signed.reporter)


def deploy(
    chain: EvmChain, prices: ReplayPriceSource, calendar: MarketCalendar, members: list[str], quorum: int
) -> Oracle:
    roles = IssuerRoles.from_accounts(chain.accounts)
    aapl = [i for i in load_catalogue() if i.ticker == "AAPL"]
    deployment = deploy_issuance(chain, roles, aapl, oracle=OracleMembers(tuple(members), quorum))
    onchain = deployment.instrument("AAPL")
    feed = chain.at(onchain.price_feed, compile_contract("oracle/PriceFeed.vy"), "AAPL feed")
    token = chain.at(onchain.token, compile_contract("token/StockToken.vy"), "AAPLx")
    return Oracle(chain, roles, feed, token, FeedId(chain.chain_id, feed.address))


def honest_reporters(count: int, prices: ReplayPriceSource, calendar: MarketCalendar) -> list[Reporter]:
    source = MarketObservationSource(prices, calendar)
    keys = sorted((Account.create() for _ in range(count)), key=lambda k: k.address)
    return [Reporter(key, source) for key in keys]


def share_price(prices: ReplayPriceSource, at: int) -> int:
    return prices.quote("AAPL", datetime.fromtimestamp(at, UTC)).price.units


def test_rounds_land_priced_through_the_multiplier_and_follow_the_push_policy(
    chain: EvmChain, prices: ReplayPriceSource, calendar: MarketCalendar
) -> None:
    reporters = honest_reporters(3, prices, calendar)
    oracle = deploy(chain, prices, calendar, [r.address for r in reporters], 2)
    oracle.move_to(T0)
    oracle.token.setUIMultiplier(3 * ONE // 2, T0 + 5, sender=oracle.roles.multiplier_updater)
    oracle.move_to(T0 + 10)
    transmitter = oracle.transmitter(list(reporters))

    [first] = transmitter.tick()
    observed_at = int(oracle.feed.latestRoundData()[2])

    assert (first.outcome, first.reason, first.observations) == (
        TransmitOutcome.SENT,
        PushReason.FIRST_ROUND,
        3,
    )
    assert oracle.answer() == first.answer == share_price(prices, observed_at) * 3 // 2
    assert oracle.feed.marketStatus() == MarketStatus.OPEN

    oracle.move_to(observed_at + 60)
    assert transmitter.tick()[0].outcome is TransmitOutcome.NOT_DUE

    # The heartbeat runs from the block that accepted the round, which can be a second or more after
    # its observation when the machine is busy.
    accepted_at = int(oracle.feed.latestRoundData()[3])
    oracle.move_to(accepted_at + 3_600)
    [hourly] = transmitter.tick()
    assert hourly.outcome is TransmitOutcome.SENT
    assert hourly.reason in (PushReason.HEARTBEAT, PushReason.DEVIATION)

    # While open, the reporters are not held to an earlier close: the evening's first closed round sets
    # the new one (after a split, in other shares).
    assert transmitter.state("AAPL").closed.last_close is None
    oracle.move_to(SESSION_CLOSE)
    [close] = transmitter.tick()
    official_close = prices.quote("AAPL", datetime.fromtimestamp(SESSION_CLOSE, UTC)).price.units
    assert (close.outcome, close.reason) == (TransmitOutcome.SENT, PushReason.STATUS_CHANGE)
    assert oracle.feed.marketStatus() == MarketStatus.CLOSED
    assert oracle.answer() == official_close * 3 // 2
    assert int(oracle.feed.last_close()) == official_close
    assert int(oracle.feed.latestRoundData()[0]) == 3
    assert transmitter.state("AAPL").closed.last_close == Price(official_close)
    transmitter.close()


def test_a_lying_minority_never_moves_the_answer_outside_the_honest_range(
    chain: EvmChain, prices: ReplayPriceSource, calendar: MarketCalendar
) -> None:
    honest = honest_reporters(5, prices, calendar)
    source = honest[0].source
    far_off = LyingReporter(Account.create(), source, price_factor=10)
    stale = LyingReporter(Account.create(), source, age=1_000)
    wrong_round = LyingReporter(Account.create(), source, round_shift=1)
    dead_key = Account.create()
    forger = LyingReporter(Account.create(), source, claims=dead_key.address)
    dead = ReporterClient(f"http://127.0.0.1:{free_port()}", timeout=0.5)
    registered = [r.address for r in honest] + [
        far_off.address,
        stale.address,
        wrong_round.address,
        dead_key.address,
    ]
    oracle = deploy(chain, prices, calendar, registered, 5)
    oracle.move_to(T0)
    liars: list[ObservationClient] = [far_off, stale, wrong_round, forger, dead]
    transmitter = oracle.transmitter(liars + list(honest))

    [result] = transmitter.tick()

    at = int(oracle.feed.latestRoundData()[2])
    assert result.outcome is TransmitOutcome.SENT
    assert result.observations == 6  # five honest, and the far-off one, outvoted
    assert oracle.answer() == share_price(prices, at)
    skipped = " | ".join(result.skipped)
    assert "more than 300s before" in skipped
    assert "signed for round 2" in skipped
    assert "the signature is not the reporter's" in skipped
    assert "did not answer" in skipped
    transmitter.close()
    dead.close()


def test_below_the_quorum_nothing_is_sent(
    chain: EvmChain, prices: ReplayPriceSource, calendar: MarketCalendar
) -> None:
    reporters = honest_reporters(5, prices, calendar)
    oracle = deploy(chain, prices, calendar, [r.address for r in reporters], 3)
    oracle.move_to(T0)
    block = chain.block_number()
    transmitter = oracle.transmitter(list(reporters[:2]))

    [result] = transmitter.tick()

    assert result.outcome is TransmitOutcome.BELOW_QUORUM
    assert result.detail == "2 acceptable observations, the feed's quorum is 3"
    assert chain.block_number() == block
    with pytest.raises(RevertError, match="no data"):
        oracle.feed.latestRoundData()
    transmitter.close()


def test_a_reporter_removed_on_chain_is_ignored(
    chain: EvmChain, prices: ReplayPriceSource, calendar: MarketCalendar
) -> None:
    reporters = honest_reporters(3, prices, calendar)
    oracle = deploy(chain, prices, calendar, [r.address for r in reporters], 2)
    oracle.feed.remove_reporter(reporters[1].address, sender=oracle.roles.admin)
    oracle.move_to(T0)
    transmitter = oracle.transmitter(list(reporters))

    [result] = transmitter.tick()

    assert (result.outcome, result.observations) == (TransmitOutcome.SENT, 2)
    assert result.skipped == (f"reporter 1 ({reporters[1].address}): not a reporter of the feed",)
    transmitter.close()


class RacingReporter:
    """An honest reporter that lets another transmitter send the round before it answers."""

    def __init__(self, reporter: Reporter, rival: Transmitter) -> None:
        self._reporter, self._rival = reporter, rival

    @property
    def address(self) -> str:
        return self._reporter.address

    def observe(self, request: ObservationRequest) -> SignedObservation:
        self._rival.tick()
        return self._reporter.observe(request)


def test_a_round_another_transmitter_sent_first_is_no_error(
    chain: EvmChain, prices: ReplayPriceSource, calendar: MarketCalendar
) -> None:
    reporters = honest_reporters(3, prices, calendar)
    oracle = deploy(chain, prices, calendar, [r.address for r in reporters], 2)
    oracle.move_to(T0)
    rival = oracle.transmitter(list(reporters))
    late = oracle.transmitter([RacingReporter(reporters[0], rival), reporters[1], reporters[2]])

    [result] = late.tick()

    assert (result.outcome, result.round_id) == (TransmitOutcome.LOST_RACE, 1)
    assert int(oracle.feed.latestRoundData()[0]) == 1
    rival.close()
    late.close()


def test_an_observation_across_a_split_is_left_out_so_the_token_price_stays_continuous(
    chain: EvmChain, prices: ReplayPriceSource, calendar: MarketCalendar
) -> None:
    honest = honest_reporters(3, prices, calendar)
    before_split = LyingReporter(Account.create(), honest[0].source, age=100)
    oracle = deploy(chain, prices, calendar, [r.address for r in honest] + [before_split.address], 3)
    oracle.move_to(T0)
    oracle.token.setUIMultiplier(2 * ONE, T0 + 100, sender=oracle.roles.multiplier_updater)
    oracle.move_to(T0 + 150)
    transmitter = oracle.transmitter([before_split, *honest])

    [result] = transmitter.tick()

    at = int(oracle.feed.latestRoundData()[2])
    assert (result.outcome, result.observations) == (TransmitOutcome.SENT, 3)
    assert oracle.answer() == share_price(prices, at) * 2
    assert "across a UI multiplier change" in result.skipped[0]
    transmitter.close()


def test_reporters_in_their_own_processes_bring_rounds_over_http(
    prices: ReplayPriceSource, calendar: MarketCalendar, tmp_path: Path
) -> None:
    chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=T0 - 600)
    keys = reporter_keys(tmp_path, 3)
    oracle = deploy(chain, prices, calendar, [k.address for k in keys], 2)
    oracle.move_to(T0)
    with ReporterProcess(key_path(tmp_path, 1)) as first, ReporterProcess(key_path(tmp_path, 2)) as second:
        clients = [first.client(), second.client()]
        # The third reporter's process is not running: two of three still make the quorum.
        clients.append(ReporterClient(f"http://127.0.0.1:{free_port()}", timeout=0.5))
        transmitter = oracle.transmitter(list(clients))

        [result] = transmitter.tick()

        transmitter.close()
        for client in clients:
            client.close()
    at = int(oracle.feed.latestRoundData()[2])
    assert (result.outcome, result.observations) == (TransmitOutcome.SENT, 2)
    assert oracle.answer() == share_price(prices, at)


def test_while_frozen_a_reporter_moving_the_close_is_left_out(
    chain: EvmChain, prices: ReplayPriceSource, calendar: MarketCalendar
) -> None:
    honest = honest_reporters(3, prices, calendar)
    mover = LyingReporter(Account.create(), honest[0].source, price_factor=2)
    oracle = deploy(chain, prices, calendar, [r.address for r in honest] + [mover.address], 3)
    oracle.move_to(SESSION_CLOSE + 60)
    transmitter = oracle.transmitter([mover, *honest], heartbeat_closed=7_200)
    assert transmitter.tick()[0].outcome is TransmitOutcome.SENT  # the round that closes the session
    closed_at = int(oracle.feed.latestRoundData()[3])

    oracle.move_to(closed_at + 3_600)
    assert transmitter.tick()[0].outcome is TransmitOutcome.NOT_DUE  # the closed heartbeat is 2 h
    oracle.move_to(closed_at + 7_200)
    [result] = transmitter.tick()

    official_close = prices.quote("AAPL", datetime.fromtimestamp(SESSION_CLOSE, UTC)).price.units
    assert (result.outcome, result.reason, result.observations) == (
        TransmitOutcome.SENT,
        PushReason.HEARTBEAT,
        3,
    )
    assert "moved from the frozen close" in result.skipped[0]
    assert oracle.answer() == official_close == int(oracle.feed.last_close())
    transmitter.close()


def test_a_transmitter_is_refused_feeds_of_another_chain_or_no_reporters(
    prices: ReplayPriceSource, calendar: MarketCalendar
) -> None:
    chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=T0)
    reporters: list[ObservationClient] = list(honest_reporters(1, prices, calendar))
    elsewhere = {"AAPL": FeedId(chain.chain_id + 1, "0x" + "11" * 20)}

    with pytest.raises(
        ValueError, match=f"feed of AAPL is on chain {chain.chain_id + 1}, not on {chain.chain_id}"
    ):
        Transmitter(chain, chain.accounts[0], elsewhere, reporters)
    with pytest.raises(ValueError, match="at least one reporter"):
        Transmitter(chain, chain.accounts[0], {}, [])


def test_a_change_of_quorum_is_honoured_on_the_very_next_tick(
    chain: EvmChain, prices: ReplayPriceSource, calendar: MarketCalendar
) -> None:
    reporters = honest_reporters(5, prices, calendar)
    oracle = deploy(chain, prices, calendar, [r.address for r in reporters], 4)
    oracle.move_to(T0)
    transmitter = oracle.transmitter(list(reporters[:3]))
    assert transmitter.tick()[0].detail == "3 acceptable observations, the feed's quorum is 4"

    oracle.feed.set_quorum(3, sender=oracle.roles.admin)
    [lowered] = transmitter.tick()
    updated_at = int(oracle.feed.latestRoundData()[3])
    oracle.feed.set_quorum(4, sender=oracle.roles.admin)
    oracle.move_to(updated_at + 3_600)
    [raised] = transmitter.tick()

    assert (lowered.outcome, lowered.observations) == (TransmitOutcome.SENT, 3)
    assert (raised.outcome, raised.round_id) == (TransmitOutcome.BELOW_QUORUM, 2)
    assert raised.detail == "3 acceptable observations, the feed's quorum is 4"
    transmitter.close()


def test_a_change_of_reporters_is_honoured_on_the_very_next_tick(
    chain: EvmChain, prices: ReplayPriceSource, calendar: MarketCalendar
) -> None:
    first, second, third, newcomer = honest_reporters(4, prices, calendar)
    oracle = deploy(chain, prices, calendar, [first.address, second.address, third.address], 2)
    oracle.move_to(T0)
    transmitter = oracle.transmitter([first, second, third, newcomer])
    [before] = transmitter.tick()
    updated_at = int(oracle.feed.latestRoundData()[3])

    oracle.feed.remove_reporter(first.address, sender=oracle.roles.admin)
    oracle.feed.add_reporter(newcomer.address, sender=oracle.roles.admin)
    oracle.move_to(updated_at + 3_600)
    [after] = transmitter.tick()

    assert (before.outcome, before.observations) == (TransmitOutcome.SENT, 3)
    assert before.skipped == (f"reporter 3 ({newcomer.address}): not a reporter of the feed",)
    assert (after.outcome, after.observations) == (TransmitOutcome.SENT, 3)
    assert after.skipped == (f"reporter 0 ({first.address}): not a reporter of the feed",)
    assert int(oracle.feed.latestRoundData()[0]) == 2
    transmitter.close()


def test_a_change_of_the_ui_multiplier_is_priced_on_the_very_next_tick(
    chain: EvmChain, prices: ReplayPriceSource, calendar: MarketCalendar
) -> None:
    reporters = honest_reporters(3, prices, calendar)
    oracle = deploy(chain, prices, calendar, [r.address for r in reporters], 2)
    oracle.move_to(T0)
    transmitter = oracle.transmitter(list(reporters))
    assert transmitter.tick()[0].outcome is TransmitOutcome.SENT
    observed_at = int(oracle.feed.latestRoundData()[2])

    # 5%: past the 0.5% deviation, within the feed's 10% move.
    oracle.token.setUIMultiplier(105 * ONE // 100, observed_at + 30, sender=oracle.roles.multiplier_updater)
    oracle.move_to(observed_at + 60)
    [result] = transmitter.tick()

    at = int(oracle.feed.latestRoundData()[2])
    assert (result.outcome, result.reason) == (TransmitOutcome.SENT, PushReason.DEVIATION)
    assert result.answer == oracle.answer() == share_price(prices, at) * 105 // 100
    transmitter.close()


def test_a_chain_gone_back_to_a_snapshot_is_read_again(
    chain: EvmChain, prices: ReplayPriceSource, calendar: MarketCalendar
) -> None:
    reporters = honest_reporters(3, prices, calendar)
    newcomer = honest_reporters(1, prices, calendar)[0]
    oracle = deploy(chain, prices, calendar, [r.address for r in reporters], 2)
    oracle.move_to(T0)
    snapshot = chain.snapshot()
    oracle.feed.set_quorum(3, sender=oracle.roles.admin)
    oracle.feed.add_reporter(newcomer.address, sender=oracle.roles.admin)
    transmitter = oracle.transmitter([*reporters, newcomer])
    assert transmitter.tick()[0].observations == 4

    chain.revert_to(snapshot)
    [again] = transmitter.tick()

    assert (again.outcome, again.round_id, again.observations) == (TransmitOutcome.SENT, 1, 3)
    assert again.skipped == (f"reporter 3 ({newcomer.address}): not a reporter of the feed",)
    transmitter.close()


class CountingChain(InProcessChain):
    """The in-process chain, counting the contract calls made on it."""

    calls = 0

    def call_raw(self, to: str, data: bytes, **options: Any) -> bytes:
        self.calls += 1
        return super().call_raw(to, data, **options)


def test_a_tick_reads_no_feed_while_nothing_changed_and_everything_after_refresh_after(
    prices: ReplayPriceSource, calendar: MarketCalendar
) -> None:
    chain = CountingChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=T0 - 600)
    reporters = honest_reporters(3, prices, calendar)
    oracle = deploy(chain, prices, calendar, [r.address for r in reporters], 2)
    oracle.move_to(T0)
    oracle.token.setUIMultiplier(2 * ONE, T0 + 5, sender=oracle.roles.multiplier_updater)
    oracle.move_to(T0 + 10)
    cached = oracle.transmitter(list(reporters))
    cached.tick()  # reads the feed, sends the first round
    oracle.move_to(T0 + 60)
    cached.tick()  # reads the feed again: the round changed it

    chain.calls = 0
    results = []
    for second in range(3):  # the chain moves on, the feed does not
        oracle.move_to(T0 + 61 + second)
        results.append(cached.tick()[0].outcome)
    calls_while_unchanged = chain.calls
    refreshing = Transmitter(
        chain, chain.accounts[12], {"AAPL": oracle.feed_id}, list(reporters), refresh_after=1e-9
    )
    refreshing.tick()
    chain.calls = 0
    refreshing.tick()

    assert results == [TransmitOutcome.NOT_DUE] * 3
    assert calls_while_unchanged == 0
    # latestRoundStatus, token, quorum, reporters, closed_policy, closed_band_bps, max_report_age
    # (last_close only while closed: the market is open); multiplierHistoryLength and the two
    # multipliers.
    assert chain.calls == 10
    cached.close()
    refreshing.close()


def test_a_transmitter_refuses_a_refresh_interval_that_is_not_positive(
    prices: ReplayPriceSource, calendar: MarketCalendar
) -> None:
    chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=T0)
    reporters: list[ObservationClient] = list(honest_reporters(1, prices, calendar))

    with pytest.raises(ValueError, match="refresh_after must be a positive number of seconds, not 0"):
        Transmitter(chain, chain.accounts[0], {}, reporters, refresh_after=0)
