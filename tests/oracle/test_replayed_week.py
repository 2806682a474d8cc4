"""The oracle network over two replayed weeks of real prices, 2025-11-14 to 2025-11-28: NFLX's
10-for-1 split (ex-date Monday 2025-11-17), two weekends, Thanksgiving (Thursday 2025-11-27) and
its half day (Friday 2025-11-28, close 13:00 New York).

Four reporters, each with its own key and its own `MarketObservationSource` over the replayed bars,
sign every round; quorum is three. A transmitter with the default push policy (0.5% deviation, 1 h
heartbeat) ticks every 10 minutes in session and every 30 minutes outside it, at the chain time of
the next block, on anvil. NFLX's feed uses the `frozen` closed-market policy,
AAPL's the `internal` one over a real trade tape in SQLite; NFLX is halted for 20 minutes on the
Tuesday.
"""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from eth_account import Account
from tests.support.reporters import IN_PROCESS_TIMEOUT

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuerRoles, OracleMembers, deploy_issuance
from equitoken.issuer.catalogue import load_catalogue
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.bps import BPS
from equitoken.model.quantities import Price, Shares
from equitoken.oracle.closed_market import ClosedPolicy, ClosedPricing
from equitoken.oracle.halts import HaltBook
from equitoken.oracle.observation import FeedId, MarketStatus
from equitoken.oracle.policy import PushPolicy, PushReason
from equitoken.oracle.reporter import ObservationClient, Reporter
from equitoken.oracle.sources import MarketObservationSource
from equitoken.oracle.trades import VenueTrade, VenueTradeBook
from equitoken.oracle.transmitter import TransmitOutcome, TransmitResult, Transmitter
from equitoken.store.database import Database, sqlite_url

pytestmark = pytest.mark.anvil

NEW_YORK = ZoneInfo("America/New_York")
START = datetime(2025, 11, 14, 14, 0, tzinfo=NEW_YORK)
END = datetime(2025, 11, 28, 14, 0, tzinfo=NEW_YORK)
SPLIT_OPEN = datetime(2025, 11, 17, 9, 30, tzinfo=NEW_YORK)
SPLIT_RATIO = 10
HALT_START = datetime(2025, 11, 18, 11, 0, tzinfo=NEW_YORK)
HALT_END = datetime(2025, 11, 18, 11, 20, tzinfo=NEW_YORK)
SESSION_STEP = timedelta(minutes=10)
CLOSED_STEP = timedelta(minutes=30)
REPORTERS = 4
QUORUM = 3
ONE = 10**18
DEVIATION_BPS = 50
HEARTBEAT = 3_600
BAND_BPS = 1_000
# Weekend trades on our own venues, as a fraction of AAPL's Friday close, in basis points.
WEEKEND_TRADES_BPS = (
    (datetime(2025, 11, 22, 12, 0, tzinfo=NEW_YORK), 300),
    *((datetime(2025, 11, 23, 10, 0, tzinfo=NEW_YORK) + timedelta(minutes=10 * i), 2_500) for i in range(12)),
)


def _unix(at: datetime) -> int:
    return int(at.timestamp())


@dataclass(frozen=True)
class Round:
    ticker: str
    round_id: int
    answer: int
    started_at: int
    status: MarketStatus
    reason: PushReason


@dataclass
class Week:
    calendar: MarketCalendar
    prices: ReplayPriceSource
    feeds: dict[str, Contract]
    rounds: dict[str, list[Round]]
    results: list[TransmitResult]
    friday_close_aapl: Price

    def rounds_between(self, ticker: str, start: datetime, end: datetime) -> list[Round]:
        return [r for r in self.rounds[ticker] if _unix(start) <= r.started_at < _unix(end)]


def _sessions(calendar: MarketCalendar) -> list[tuple[datetime, datetime]]:
    return [(s.open, s.close) for s in calendar.sessions_between(START.date(), END.date())]


def _times(calendar: MarketCalendar) -> Iterator[datetime]:
    at = START
    while at <= END:
        yield at
        at += SESSION_STEP if calendar.is_open(at) or calendar.is_open(at + CLOSED_STEP) else CLOSED_STEP


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Week]:
    calendar = MarketCalendar("XNYS")
    prices = ReplayPriceSource(calendar)
    log = tmp_path_factory.mktemp("anvil") / "anvil.log"
    with AnvilNode(accounts=10, timestamp=_unix(START) - 600, log_file=log) as node, node.chain() as chain:
        chain.signers = SignerRegistry.anvil(10)
        yield _replay(chain, calendar, prices, tmp_path_factory.mktemp("oracle-week"))


def _replay(chain: EvmChain, calendar: MarketCalendar, prices: ReplayPriceSource, data_dir: Path) -> Week:
    roles = IssuerRoles.from_accounts(chain.accounts)
    accounts = [Account.from_key(bytes([i + 1]) * 32) for i in range(REPORTERS)]
    catalogue = {i.ticker: i for i in load_catalogue()}
    deployment = deploy_issuance(
        chain,
        roles,
        [catalogue["NFLX"], catalogue["AAPL"]],
        oracle=OracleMembers(tuple(a.address for a in accounts), QUORUM),
    )
    feed_artifact = compile_contract("oracle/PriceFeed.vy")
    token_artifact = compile_contract("token/StockToken.vy")
    feeds = {d.ticker: chain.at(d.price_feed, feed_artifact) for d in deployment.instruments}
    nflx_token = chain.at(deployment.instrument("NFLX").token, token_artifact)
    # What the corporate-action engine does for a split: the multiplier switches at the ex-date's open.
    nflx_token.setUIMultiplier(SPLIT_RATIO * ONE, _unix(SPLIT_OPEN), sender=roles.multiplier_updater)
    feeds["AAPL"].set_closed_policy(int(ClosedPolicy.INTERNAL), BAND_BPS, sender=roles.admin)

    database = Database(sqlite_url(data_dir / "oracle.sqlite"))
    database.migrate()
    halts = HaltBook(database, ["NFLX", "AAPL"])
    halts.declare("NFLX", HALT_START, HALT_END, "news pending")
    tape = VenueTradeBook(database)
    friday_close_aapl = prices.quote("AAPL", datetime(2025, 11, 21, 16, 0, tzinfo=NEW_YORK)).price
    for n, (at, bps) in enumerate(WEEKEND_TRADES_BPS):
        price = friday_close_aapl.scaled_bps(bps)
        tape.record(VenueTrade("amm", f"weekend-{n}", "AAPL", price, Shares.parse("2"), at))

    reporters: list[ObservationClient] = [
        Reporter(
            account,
            MarketObservationSource(ReplayPriceSource(calendar), calendar, halts, ClosedPricing(tape)),
        )
        for account in accounts
    ]
    transmitter = Transmitter(
        chain,
        roles.price_updater,
        {d.ticker: FeedId(chain.chain_id, d.price_feed) for d in deployment.instruments},
        reporters,
        PushPolicy(DEVIATION_BPS, HEARTBEAT, HEARTBEAT),
        timeout=IN_PROCESS_TIMEOUT,
    )
    rounds: dict[str, list[Round]] = {"NFLX": [], "AAPL": []}
    results: list[TransmitResult] = []
    for at in _times(calendar):
        chain.set_next_block_timestamp(_unix(at))
        for result in transmitter.tick():
            results.append(result)
            if result.outcome is TransmitOutcome.SENT:
                assert result.answer is not None
                assert result.status is not None
                assert result.reason is not None
                started_at = int(feeds[result.ticker].latestRoundData()[2])
                rounds[result.ticker].append(
                    Round(
                        result.ticker,
                        result.round_id,
                        result.answer,
                        started_at,
                        result.status,
                        result.reason,
                    )
                )
    transmitter.close()
    return Week(calendar, prices, feeds, rounds, results, friday_close_aapl)


def test_every_tick_gathers_a_quorum_and_every_round_sent_is_accepted(week: Week) -> None:
    outcomes = {r.outcome for r in week.results}
    assert outcomes <= {TransmitOutcome.SENT, TransmitOutcome.NOT_DUE}, [
        r for r in week.results if r.outcome not in (TransmitOutcome.SENT, TransmitOutcome.NOT_DUE)
    ][:3]
    for ticker, rounds in week.rounds.items():
        assert [r.round_id for r in rounds] == list(range(1, len(rounds) + 1))
        latest = week.feeds[ticker].latestRoundData()
        assert (int(latest[0]), int(latest[1])) == (rounds[-1].round_id, rounds[-1].answer)
    assert all(r.observations == REPORTERS for r in week.results if r.outcome is TransmitOutcome.SENT)


def test_the_status_flips_at_the_exact_session_boundaries(week: Week) -> None:
    sessions = _sessions(week.calendar)
    assert len(sessions) == 10  # Fri 14th, five and four days of the next weeks, the half day
    assert sessions[-1][1] == datetime(2025, 11, 28, 13, 0, tzinfo=NEW_YORK)  # the half day
    assert all(open_.date() != date(2025, 11, 27) for open_, _ in sessions)  # Thanksgiving
    for ticker in ("NFLX", "AAPL"):
        flips = [
            (r.started_at, r.status)
            for previous, r in itertools.pairwise(week.rounds[ticker])
            if r.status != previous.status
        ]
        expected = []
        for open_, close in sessions[1:]:
            expected += [(_unix(open_), MarketStatus.OPEN), (_unix(close), MarketStatus.CLOSED)]
        expected.insert(0, (_unix(sessions[0][1]), MarketStatus.CLOSED))
        if ticker == "NFLX":
            expected[4:4] = [(_unix(HALT_START), MarketStatus.HALTED), (_unix(HALT_END), MarketStatus.OPEN)]
        # The second feed of a tick lands a block later, at most a second after the first.
        assert [status for _, status in flips] == [status for _, status in expected]
        assert all(0 <= at - boundary <= 1 for (at, _), (boundary, _) in zip(flips, expected, strict=True))
        for r in week.rounds[ticker]:
            at = datetime.fromtimestamp(r.started_at, UTC)
            assert (r.status is not MarketStatus.CLOSED) == week.calendar.is_open(at)


def test_rounds_come_on_deviation_or_heartbeat_and_never_miss_either(week: Week) -> None:
    for ticker, rounds in week.rounds.items():
        reasons = {reason: sum(r.reason is reason for r in rounds) for reason in PushReason}
        assert reasons[PushReason.DEVIATION] >= 20, reasons
        assert reasons[PushReason.HEARTBEAT] >= 100, reasons
        for previous, r in itertools.pairwise(rounds):
            gap = r.started_at - previous.started_at
            moved = abs(r.answer - previous.answer) * BPS
            if r.reason is PushReason.DEVIATION:
                assert moved >= previous.answer * DEVIATION_BPS
            elif r.reason is PushReason.HEARTBEAT:
                assert gap >= HEARTBEAT
            step = SESSION_STEP if previous.status is not MarketStatus.CLOSED else CLOSED_STEP
            assert gap <= HEARTBEAT + step.total_seconds(), (ticker, previous, r)
    # Between rounds, the price the reporters saw never strayed past the deviation threshold.
    for result in week.results:
        if result.outcome is TransmitOutcome.NOT_DUE and result.answer is not None:
            latest = next(r for r in reversed(week.rounds[result.ticker]) if r.round_id < result.round_id)
            assert abs(result.answer - latest.answer) * BPS < latest.answer * DEVIATION_BPS


def test_the_split_never_shows_as_a_price_jump(week: Week) -> None:
    before = week.rounds_between("NFLX", SPLIT_OPEN - timedelta(days=3), SPLIT_OPEN)[-1]
    after = week.rounds_between("NFLX", SPLIT_OPEN, SPLIT_OPEN + timedelta(minutes=1))[0]
    assert (before.status, after.status) == (MarketStatus.CLOSED, MarketStatus.OPEN)
    share_before = week.prices.quote("NFLX", SPLIT_OPEN - timedelta(seconds=1)).price.units
    share_after = week.prices.quote("NFLX", SPLIT_OPEN).price.units
    assert share_after * 5 < share_before  # the share itself fell tenfold
    assert before.answer == share_before  # the token answer is the share price x 1 ...
    assert after.answer == share_after * SPLIT_RATIO  # ... and then x 10
    assert abs(after.answer - before.answer) * BPS < before.answer * 500  # the token moved < 5%
    for previous, r in itertools.pairwise(week.rounds["NFLX"]):
        assert abs(r.answer - previous.answer) * BPS <= previous.answer * 1_000  # the feed's bound


def test_the_frozen_policy_holds_the_last_close_until_the_next_open(week: Week) -> None:
    sessions = _sessions(week.calendar)
    for (_, close), (next_open, _) in itertools.pairwise(sessions):
        closed = week.rounds_between("NFLX", close, next_open)
        assert closed
        assert closed[0].started_at == _unix(close)  # NFLX, the first feed of each tick
        assert {r.answer for r in closed} == {closed[0].answer}
        assert all(r.status is MarketStatus.CLOSED for r in closed)
        share_close = week.prices.quote("NFLX", close).price.units
        multiplier = SPLIT_RATIO if close > SPLIT_OPEN else 1
        assert closed[0].answer == share_close * multiplier


def test_the_internal_policy_follows_our_venues_within_the_band(week: Week) -> None:
    friday_close = datetime(2025, 11, 21, 16, 0, tzinfo=NEW_YORK)
    monday_open = datetime(2025, 11, 24, 9, 30, tzinfo=NEW_YORK)
    weekend = week.rounds_between("AAPL", friday_close, monday_open)
    close = week.friday_close_aapl.units
    assert weekend[0].answer == close  # the close itself, then the tape
    before_trades = [r for r in weekend if r.started_at < _unix(WEEKEND_TRADES_BPS[0][0])]
    assert {r.answer for r in before_trades} == {close}  # no trades yet: the close
    answers = [r.answer for r in weekend]
    assert max(answers) == close * (BPS + BAND_BPS) // BPS  # the +25% trades are clamped at +10%
    assert all(close <= a <= close * (BPS + BAND_BPS) // BPS for a in answers)
    saturday = [
        r
        for r in weekend
        if _unix(WEEKEND_TRADES_BPS[0][0]) <= r.started_at < _unix(WEEKEND_TRADES_BPS[1][0])
    ]
    assert saturday
    assert all(close < r.answer <= close * (BPS + 300) // BPS for r in saturday)
    # Other closed periods had no trades on the tape: the internal price is the close.
    thanksgiving = week.rounds_between(
        "AAPL", datetime(2025, 11, 26, 16, 0, tzinfo=NEW_YORK), datetime(2025, 11, 28, 9, 30, tzinfo=NEW_YORK)
    )
    assert len({r.answer for r in thanksgiving}) == 1


def test_a_halt_sets_the_status_halted_and_holds_the_price(week: Week) -> None:
    halted = week.rounds_between("NFLX", HALT_START, HALT_END)
    assert halted[0].started_at == _unix(HALT_START)
    assert {r.status for r in halted} == {MarketStatus.HALTED}
    assert {r.answer for r in halted} == {halted[0].answer}
    resumed = week.rounds_between("NFLX", HALT_END, HALT_END + timedelta(minutes=1))
    assert resumed
    assert resumed[0].status is MarketStatus.OPEN
    assert all(r.status is not MarketStatus.HALTED for r in week.rounds["AAPL"])
