"""Gas of the oracle network on chain: one k-of-n round, and a guarded price read against a plain one.

Every figure is the ``gasUsed`` of a real signed transaction's receipt on a local anvil node, so it
includes the 21,000 of a transaction and the cold account and storage access a fresh transaction
pays. Run::

    python bench/oracle.py          # a table
    python bench/oracle.py --json   # one JSON object

- ``update_gas``: one ``PriceFeed.transmit`` with all n reporters' signed observations, for each n
  (quorum n // 2 + 1), in the steady state: a second round after a first, the market status
  unchanged, the price moved by more than the feed's deviation so the heartbeat is waived.
- ``guarded_read_gas``: ``GuardedReader.read()``, a venue reading through ``price_guard``.
- ``plain_read_gas``: ``PlainReader.read()``, a Chainlink consumer reading ``latestRoundData``.
- ``tick_to_round_ms``: the median end-to-end latency from a source tick to the confirmed round
  that carries it, over ``--repetitions`` ticks (20 by default; the table adds p90 and max). The
  parts are the real ones: an anvil node, a share price feed with 4 reporters and a quorum of 3,
  4 reporter processes answering over HTTP and reading market time from a clock file, and a
  ``Transmitter`` ticking in a tight loop in its own thread. The ticks are instants of 2025 AAPL
  sessions where the replayed price has moved by at least 0.6% since the previous one (the feed's
  deviation is 0.5%). A tick writes that instant to the clock file (a ``SimulatedClock``) and moves
  the node's time there; the latency runs from before the write until the transmitter holds the
  receipt of the round. Each round is then checked: the next round id, observed at or after the
  tick, at the replayed price of its observation time, moved by the feed's deviation or more. A
  tick comes after a random pause (0 to 300 ms), so it meets the loop anywhere in a tick: the figure
  includes the wait for the tick under way to finish.
"""

import argparse
import json
import queue
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.chain.evm.types import Receipt
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import CLOCK_FILE, SimulatedClock, SystemClock
from equitoken.market.prices import NoPriceError
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.bps import BPS
from equitoken.model.quantities import Price
from equitoken.oracle import keys as oracle_keys
from equitoken.oracle.observation import FeedId, MarketStatus, Observation
from equitoken.oracle.policy import PushPolicy
from equitoken.oracle.reporter_client import ReporterProcess
from equitoken.oracle.transmitter import TransmitOutcome, TransmitResult, Transmitter

REPORTER_COUNTS = (1, 4, 7, 10)
GUARDED_READ_TARGET = 30_000
DECIMALS = 8
NO_TOKEN = "0x0000000000000000000000000000000000000000"
FIRST_PRICE = Price(150 * 10**DECIMALS)
# 1%: above the feed's default 0.5% deviation, so the second round needs no heartbeat wait.
STEADY_MOVE_BPS = 100
# Seconds between two rounds' observations: newer than the last, well inside the report age.
OBSERVATION_STEP = 60
GUARD_MAX_AGE = 3_600
GUARD_BAND = (1, 2**100)

LATENCY_TICKER = "AAPL"
LATENCY_REPORTERS = 4
LATENCY_REPETITIONS = 20
# 0.6%: past the feed's 0.5% deviation, with room for the replayed price's drift while a round is
# made (it moves a few basis points a minute on a 2025 session's path).
TICK_MOVE_BPS = 60
FEED_DEVIATION_BPS = 50
TICKS_FROM = date(2025, 6, 2)
TICK_STEP = timedelta(minutes=1)
# Ticks keep this far from the open and the close, so every round of the run is an OPEN one.
SESSION_MARGIN = timedelta(minutes=5)
# Seconds the node's clock starts before the first tick.
NODE_LEAD = 600
ROUND_TIMEOUT = 30.0
# A source ticks whenever it does, not just after a round: each tick waits a pause drawn from 0 to
# this many seconds (longer than a transmitter tick), so it meets the loop at any point of a tick.
PHASE_SPREAD = 0.3
PHASE_SEED = 2025

Figures = dict[str, int | float | dict[str, int]]


@dataclass(frozen=True, slots=True)
class SourceTick:
    """An instant of a regular session and the replayed share price then."""

    at: datetime
    price: Price


@dataclass(frozen=True, slots=True)
class RoundLatency:
    """One tick's latency and the round that carried it."""

    milliseconds: float
    tick: SourceTick
    round_id: int
    answer: int
    observed_at: int
    moved_bps: int


def source_ticks(
    prices: ReplayPriceSource, calendar: MarketCalendar, count: int, start: date = TICKS_FROM
) -> list[SourceTick]:
    """Return `count` instants of the regular sessions from `start` on, each (after the first) where
    the replayed price of `LATENCY_TICKER` has moved by at least `TICK_MOVE_BPS` since the previous
    one; raise ValueError if the replayed history holds fewer."""
    if count < 1:
        raise ValueError(f"count must be at least 1, not {count}")
    ticks: list[SourceTick] = []
    for session in calendar.sessions_between(start, start + timedelta(days=366)):
        at = session.open + SESSION_MARGIN
        while at <= session.close - SESSION_MARGIN:
            try:
                price = prices.quote(LATENCY_TICKER, at).price
            except NoPriceError:
                break  # the replayed history has ended
            if not ticks or moved_bps(ticks[-1].price.units, price.units) >= TICK_MOVE_BPS:
                ticks.append(SourceTick(at, price))
                if len(ticks) == count:
                    return ticks
            at += TICK_STEP
    raise ValueError(
        f"the replayed {LATENCY_TICKER} history from {start} holds {len(ticks)} ticks, not {count}"
    )


def moved_bps(before: int, after: int) -> int:
    """Return how far `after` is from `before`, in whole basis points of `before`, rounded down."""
    return abs(after - before) * BPS // before


class _TransmitLoop(threading.Thread):
    """Tick the transmitter in a tight loop; hand over every round it sends, timed at its receipt."""

    def __init__(self, transmitter: Transmitter) -> None:
        super().__init__(name="transmit-loop", daemon=True)
        self.transmitter = transmitter
        self.rounds: queue.Queue[tuple[float, TransmitResult]] = queue.Queue()
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            for result in self.transmitter.tick():
                if result.outcome is TransmitOutcome.SENT:
                    self.rounds.put((time.perf_counter(), result))

    def next_round(self, round_id: int) -> tuple[float, TransmitResult]:
        """Return the time and result of round `round_id`; raise RuntimeError for any other or none."""
        try:
            sent_at, result = self.rounds.get(timeout=ROUND_TIMEOUT)
        except queue.Empty:
            raise RuntimeError(f"no round {round_id} within {ROUND_TIMEOUT:g}s of its tick") from None
        if result.round_id != round_id:
            raise RuntimeError(f"round {result.round_id} was sent while round {round_id} was awaited")
        return sent_at, result

    def stop(self) -> None:
        """Finish the tick under way and stop."""
        self.stopping.set()
        self.join()


def _publish(tick: SourceTick, clock_file: Path, control: JsonRpcChain) -> None:
    # The source moves: the reporters' market clock, then the node's, jump to the tick.
    SimulatedClock(tick.at, SystemClock().now()).save(clock_file)
    control.set_next_block_timestamp(int(tick.at.timestamp()))
    control.mine()


def _check_round(latency: RoundLatency, previous_answer: int, prices: ReplayPriceSource) -> None:
    # The round must carry the moved price: observed at or after the tick, at the replayed price of
    # its observation time, and moved by at least the feed's deviation.
    tick_second = int(latency.tick.at.timestamp())
    observed = datetime.fromtimestamp(latency.observed_at, latency.tick.at.tzinfo)
    replayed = prices.quote(LATENCY_TICKER, observed).price.units
    problems = []
    if latency.observed_at < tick_second:
        problems.append(f"observed at {latency.observed_at}, before the tick at {tick_second}")
    if latency.answer != replayed:
        problems.append(f"answer {latency.answer}, not the replayed price {replayed}")
    if latency.moved_bps < FEED_DEVIATION_BPS:
        problems.append(f"moved {latency.moved_bps} bps from {previous_answer}, under the deviation")
    if problems:
        raise RuntimeError(f"round {latency.round_id} does not carry its tick: {'; '.join(problems)}")


def tick_to_round(repetitions: int = LATENCY_REPETITIONS) -> list[RoundLatency]:
    """Measure `repetitions` ticks from the source to a confirmed round (see the module's doc)."""
    if repetitions < 1:
        raise ValueError(f"repetitions must be at least 1, not {repetitions}")
    calendar = MarketCalendar("XNYS")
    prices = ReplayPriceSource.default(calendar)
    ticks = source_ticks(prices, calendar, repetitions + 1)
    first_second = int(ticks[0].at.timestamp())
    with ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="oracle-bench-")))
        keys = oracle_keys.reporter_keys(data_dir, LATENCY_REPORTERS)
        clock_file = data_dir / CLOCK_FILE
        node = stack.enter_context(
            AnvilNode(accounts=1, timestamp=first_second - NODE_LEAD, log_file=data_dir / "anvil.log")
        )
        chain, control = stack.enter_context(node.chain()), stack.enter_context(node.chain())
        admin = node.accounts[0]
        feed = deploy_feed(chain, admin, sorted(keys, key=lambda key: int(key.address, 16)))
        _publish(ticks[0], clock_file, control)
        clients = []
        for index in range(1, LATENCY_REPORTERS + 1):
            process = ReporterProcess(
                oracle_keys.key_path(data_dir, index),
                clock_file=clock_file,
                log_file=data_dir / f"reporter-{index}.log",
            )
            clients.append(stack.enter_context(stack.enter_context(process).client()))
        transmitter = Transmitter(
            chain, admin, {LATENCY_TICKER: FeedId(chain.chain_id, feed.address)}, clients, PushPolicy()
        )
        stack.callback(transmitter.close)
        loop = _TransmitLoop(transmitter)
        loop.start()
        stack.callback(loop.stop)
        _, first = loop.next_round(1)
        previous_answer = first.answer or 0
        latencies = []
        phases = random.Random(PHASE_SEED)
        for round_id, tick in enumerate(ticks[1:], start=2):
            time.sleep(phases.uniform(0, PHASE_SPREAD))
            started = time.perf_counter()
            _publish(tick, clock_file, control)
            sent_at, _ = loop.next_round(round_id)
            answer, observed_at = (int(v) for v in feed.getRoundData(round_id)[1:3])
            latency = RoundLatency(
                (sent_at - started) * 1_000,
                tick,
                round_id,
                answer,
                observed_at,
                moved_bps(previous_answer, answer),
            )
            _check_round(latency, previous_answer, prices)
            latencies.append(latency)
            previous_answer = answer
    return latencies


def nearest_rank(values: Sequence[float], percent: int) -> float:
    """Return the `percent`-th percentile of `values` by nearest rank (the smallest value with at least
    `percent`% of the values at or below it)."""
    if not values or not 0 < percent <= 100:
        raise ValueError(f"need values and a percent in 1..100, got {len(values)} values and {percent}")
    ordered = sorted(values)
    return ordered[-(-len(ordered) * percent // 100) - 1]


def reporter_keys(count: int) -> list[LocalAccount]:
    """Return `count` deterministic reporter keys, in the order `transmit` demands (by address)."""
    keys: list[LocalAccount] = [Account.from_key(keccak(text=f"bench reporter {i}")) for i in range(count)]
    return sorted(keys, key=lambda key: int(key.address, 16))


def quorum_for(reporter_count: int) -> int:
    """Return the smallest majority of `reporter_count` reporters."""
    return reporter_count // 2 + 1


def deploy_feed(chain: JsonRpcChain, admin: str, reporters: Sequence[LocalAccount]) -> Contract:
    """Deploy a share price feed (no token) with `reporters` and a majority quorum."""
    return chain.deploy_contract(
        compile_contract("oracle/PriceFeed.vy"),
        DECIMALS,
        "AAPL / USD",
        NO_TOKEN,
        [key.address for key in reporters],
        quorum_for(len(reporters)),
        sender=admin,
    )


def transmit_round(
    chain: JsonRpcChain,
    feed: Contract,
    reporters: Sequence[LocalAccount],
    round_id: int,
    price: Price,
    sender: str,
) -> Receipt:
    """Have every reporter observe `price` (market open) and send the signed round in its own block.

    The observations are made in the second the next block is mined, so the round's age is zero
    whatever the wall clock did between runs, and the gas does not depend on it.
    """
    observed_at = chain.timestamp() + OBSERVATION_STEP
    chain.set_next_block_timestamp(observed_at)
    where = FeedId(chain.chain_id, feed.address)
    signed = [
        Observation(where, round_id, price, MarketStatus.OPEN, observed_at).sign(key) for key in reporters
    ]
    receipt: Receipt = feed.transmit(round_id, [s.as_call_argument() for s in signed], sender=sender)
    return receipt


def steady_update_gas(chain: JsonRpcChain, admin: str, reporter_count: int) -> int:
    """Return the gas of the second round of a fresh feed with `reporter_count` reporters."""
    reporters = reporter_keys(reporter_count)
    feed = deploy_feed(chain, admin, reporters)
    transmit_round(chain, feed, reporters, 1, FIRST_PRICE, admin)
    moved = FIRST_PRICE.scaled_bps(STEADY_MOVE_BPS)
    return transmit_round(chain, feed, reporters, 2, moved, admin).gas_used


def read_gas(chain: JsonRpcChain, admin: str) -> tuple[int, int]:
    """Return the gas of a guarded read and of a plain Chainlink read of the same fresh round."""
    reporters = reporter_keys(1)
    feed = deploy_feed(chain, admin, reporters)
    transmit_round(chain, feed, reporters, 1, FIRST_PRICE, admin)
    guarded = chain.deploy_contract(
        compile_contract("mocks/GuardedReader.vy"), feed.address, GUARD_MAX_AGE, *GUARD_BAND, sender=admin
    )
    plain = chain.deploy_contract(compile_contract("mocks/PlainReader.vy"), feed.address, sender=admin)
    guarded_receipt: Receipt = guarded.read(sender=admin)
    plain_receipt: Receipt = plain.read(sender=admin)
    return guarded_receipt.gas_used, plain_receipt.gas_used


def measure(
    reporter_counts: Sequence[int] = REPORTER_COUNTS, repetitions: int = LATENCY_REPETITIONS
) -> tuple[Figures, list[float]]:
    """Measure the gas on a fresh anvil node, then the latency on another; return the figures and
    every tick's latency in milliseconds."""
    with AnvilNode(accounts=1) as node:
        chain = node.chain()
        admin = node.accounts[0]
        update_gas = {str(n): steady_update_gas(chain, admin, n) for n in reporter_counts}
        guarded, plain = read_gas(chain, admin)
    latencies = [latency.milliseconds for latency in tick_to_round(repetitions)]
    figures: Figures = {
        "update_gas": update_gas,
        "guarded_read_gas": guarded,
        "plain_read_gas": plain,
        "tick_to_round_ms": round(statistics.median(latencies), 1),
    }
    return figures, latencies


def render(figures: Figures, latencies: Sequence[float] = ()) -> str:
    """Return a readable table: one row per figure, nested figures one row per key, and the latency's
    p90 and maximum when `latencies` are given."""
    lines = [f"{'figure':<26}{'value':>12}"]
    for name, value in figures.items():
        if isinstance(value, dict):
            for key, item in value.items():
                lines.append(f"{f'{name}[n={key}]':<26}{item:>12,}")
        else:
            lines.append(f"{name:<26}{value:>12,}")
    if latencies:
        lines.append(f"{'tick_to_round_ms p90':<26}{nearest_rank(latencies, 90):>12,.1f}")
        lines.append(f"{'tick_to_round_ms max':<26}{max(latencies):>12,.1f}")
    guarded, plain = figures.get("guarded_read_gas"), figures.get("plain_read_gas")
    if isinstance(guarded, int) and isinstance(plain, int):
        verdict = "meets" if guarded < GUARDED_READ_TARGET else "misses"
        lines.append("")
        lines.append(
            f"guarded read: {guarded - plain:+,} gas over a plain read "
            f"({verdict} the {GUARDED_READ_TARGET:,} target)"
        )
    if latencies:
        lines.append(
            f"tick to round: {len(latencies)} ticks of 2025 {LATENCY_TICKER} sessions, "
            f"{LATENCY_REPORTERS} reporter processes, quorum {quorum_for(LATENCY_REPORTERS)}, anvil"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object of the figures")
    parser.add_argument(
        "--reporters",
        type=int,
        nargs="+",
        default=list(REPORTER_COUNTS),
        help="reporter counts n to measure a round for (default: %(default)s)",
    )
    parser.add_argument(
        "--repetitions",
        type=int,
        default=LATENCY_REPETITIONS,
        help="source ticks to time from tick to round (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if any(n < 1 or n > 16 for n in args.reporters):
        parser.error(f"reporter counts must be between 1 and 16, got {args.reporters}")
    if args.repetitions < 1:
        parser.error(f"repetitions must be at least 1, got {args.repetitions}")
    figures, latencies = measure(args.reporters, args.repetitions)
    print(json.dumps(figures) if args.json else render(figures, latencies))
    return 0


if __name__ == "__main__":
    sys.exit(main())
