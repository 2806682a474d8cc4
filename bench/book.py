"""Order book throughput and latency against a straightforward baseline book, on one seeded order stream.

The stream (fixed seed) is a mix of what a busy book sees, drawn per operation:

- 40% passive limit orders (GTC, 1 to 20 ticks behind the best opposite price; 1 in 10 post-only),
- 35% cancels of a random earlier order (up to 3 draws for one still open, else it is refused),
- 10% amendments (half lower the quantity in place, half move the price 1 to 3 ticks),
- 15% marketable orders: 6% GTC limits crossing by 0 to 2 ticks, 5% IOC limits, 3% market IOC,
  1% FOK limits.

100 accounts trade (so self-trade prevention fires), quantities are 0.01 to 0.5 share in lots of
10^-4 share, prices are around $100.00 in $0.01 ticks and the mid drifts by a tick now and then.

Figures, from one run:
- ops_per_s: commands per second through `Book.apply` (best of --repeat passes, fresh book each);
- p99_us: 99th percentile of one command's time, in microseconds, from a pass timing each command;
- baseline_ops_per_s: commands per second through `bench/book_baseline.py` (sorted lists, linear scans).
The baseline must answer every command with exactly the real book's events, or the run fails.
Target: 300,000 ops/s. Run::

    python bench/book.py              # a table
    python bench/book.py --json       # {"ops_per_s": ..., "p99_us": ..., "baseline_ops_per_s": ...}
"""

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.book_baseline import BaselineBook

import equitoken.venues.exchange.book as book_module
from equitoken.model.quantities import Price
from equitoken.venues.exchange.book import Book, OpenOrder
from equitoken.venues.exchange.events import Accepted, Event, Filled
from equitoken.venues.exchange.orders import Amend, Cancel, Command, OrderType, Side, Submit, TimeInForce
from equitoken.venues.exchange.rules import BookRules, InstrumentSpec

SEED = 20251206
DEFAULT_OPS = 200_000
DEFAULT_REPEAT = 3
TARGET_OPS_PER_S = 300_000
ACCOUNTS = 100
LOT = 100_000  # 10^-4 share of a 9-decimal token
START_MID = 10_000  # $100.00 in $0.01 ticks
RULES = BookRules(InstrumentSpec("BENCH", 9, Price(1_000_000), LOT), maker_fee_bps=-2, taker_fee_bps=5)


class BenchmarkError(RuntimeError):
    """The baseline and the real book disagree on the stream."""


@dataclass(frozen=True)
class Result:
    ops: int
    ops_per_s: float
    p50_us: float
    p99_us: float
    baseline_ops_per_s: float
    compiled: bool
    resting_orders: int
    fills: int


def order_stream(count: int, seed: int = SEED) -> list[Command]:
    """Return `count` commands of the stated mix; a book follows along to aim cancels and amendments."""
    rng = random.Random(seed)
    book = Book(RULES)
    mid = START_MID
    ids: list[int] = []
    stream: list[Command] = []
    for n in range(count):
        if rng.random() < 0.02:
            mid += rng.choice((-1, 1))
        draw = rng.random()
        account = rng.randint(1, ACCOUNTS)
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        quantity = rng.randint(100, 5_000) * LOT
        best_bid, best_ask = book.best_bid(), book.best_ask()
        command: Command
        if draw < 0.40 or (draw < 0.85 and not ids):
            behind = rng.randint(1, 20)
            if side == Side.BUY:
                price = (best_ask if best_ask is not None else mid + 1) - behind
            else:
                price = (best_bid if best_bid is not None else mid - 1) + behind
            command = Submit(
                account, f"c{n}", side, OrderType.LIMIT, price, quantity, post_only=rng.random() < 0.1
            )
        elif draw < 0.85:
            order_id, order = _pick(rng, ids, book)
            if draw < 0.75:
                command = Cancel(order.account if order else account, order_id)
            elif order is None:
                command = Amend(account, order_id, mid, quantity)
            elif rng.random() < 0.5 and order.quantity > 100 * LOT:
                command = Amend(order.account, order_id, order.price, order.quantity - 50 * LOT)
            else:
                step = rng.randint(1, 3)
                away = order.price - step if order.side == Side.BUY else order.price + step
                command = Amend(order.account, order_id, max(away, 1), order.quantity)
        else:
            command = _marketable(rng, n, account, side, quantity, best_bid, best_ask, mid)
        for event in book.apply(command):
            if isinstance(event, Accepted):
                ids.append(event.order_id)
        stream.append(command)
    return stream


def _pick(rng: random.Random, ids: list[int], book: Book) -> tuple[int, OpenOrder | None]:
    # Up to three draws for an open order; ids found filled or cancelled are forgotten. When all
    # three are gone, the command goes to the last one and is refused, as happens on real venues.
    order_id, order = 0, None
    for _ in range(3):
        if not ids:
            break
        index = rng.randrange(len(ids))
        order_id = ids[index]
        order = book.order(order_id)
        if order is not None:
            break
        ids[index] = ids[-1]
        ids.pop()
    return order_id, order


def _marketable(
    rng: random.Random,
    n: int,
    account: int,
    side: Side,
    quantity: int,
    best_bid: int | None,
    best_ask: int | None,
    mid: int,
) -> Submit:
    kind = rng.random() * 15
    through = rng.randint(0, 2)
    reference = (best_ask if best_ask is not None else mid) if side == Side.BUY else (best_bid or mid)
    price = reference + through if side == Side.BUY else max(reference - through, 1)
    client_order_id = f"c{n}"
    if kind < 6:
        return Submit(account, client_order_id, side, OrderType.LIMIT, price, quantity)
    if kind < 11:
        return Submit(account, client_order_id, side, OrderType.LIMIT, price, quantity, TimeInForce.IOC)
    if kind < 14:
        return Submit(account, client_order_id, side, OrderType.MARKET, 0, quantity, TimeInForce.IOC)
    return Submit(account, client_order_id, side, OrderType.LIMIT, price, quantity, TimeInForce.FOK)


def check_baseline_agrees(stream: Sequence[Command]) -> int:
    """Run the stream through both books; raise unless every command gets the same events. Return fills."""
    book, baseline = Book(RULES), BaselineBook(RULES)
    fills = 0
    for number, command in enumerate(stream):
        events: list[Event] = book.apply(command)
        if baseline.apply(command) != events:
            raise BenchmarkError(
                f"command {number} ({command}): the baseline's events differ from the book's"
            )
        fills += sum(1 for event in events if isinstance(event, Filled))
    return fills


def throughput(
    apply_factory: Callable[[], Callable[[Command], list[Event]]], stream: Sequence[Command]
) -> float:
    """Return commands per second through one fresh book."""
    apply = apply_factory()
    started = time.perf_counter()
    for command in stream:
        apply(command)
    return len(stream) / (time.perf_counter() - started)


def latencies_ns(stream: Sequence[Command]) -> list[int]:
    """Return each command's time in nanoseconds, sorted."""
    apply = Book(RULES).apply
    clock = time.perf_counter_ns
    times = []
    for command in stream:
        started = clock()
        apply(command)
        times.append(clock() - started)
    times.sort()
    return times


def measure(ops: int, repeat: int, seed: int = SEED) -> Result:
    """Build the stream, check the baseline agrees, and time both books on it."""
    stream = order_stream(ops, seed)
    fills = check_baseline_agrees(stream)
    best = max(throughput(lambda: Book(RULES).apply, stream) for _ in range(repeat))
    times = latencies_ns(stream)
    baseline = throughput(lambda: BaselineBook(RULES).apply, stream)
    final = Book(RULES)
    for command in stream:
        final.apply(command)
    return Result(
        ops=ops,
        ops_per_s=best,
        p50_us=times[len(times) // 2] / 1_000,
        p99_us=times[min(len(times) - 1, len(times) * 99 // 100)] / 1_000,
        baseline_ops_per_s=baseline,
        compiled=not book_module.__file__.endswith(".py"),
        resting_orders=len(final.open_orders()),
        fills=fills,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--ops", type=int, default=DEFAULT_OPS, help="commands in the stream")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, help="timed passes; the best counts")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.ops < 1:
        parser.error(f"--ops must be at least 1, not {args.ops}")
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, not {args.repeat}")
    result = measure(args.ops, args.repeat, args.seed)
    if args.json:
        figures = {
            "ops_per_s": round(result.ops_per_s, 1),
            "p99_us": round(result.p99_us, 3),
            "baseline_ops_per_s": round(result.baseline_ops_per_s, 1),
        }
        print(json.dumps(figures))
        return 0
    table = Table(
        title=f"order book, {result.ops:,} commands (seed {args.seed}), target {TARGET_OPS_PER_S:,} ops/s"
    )
    for column in ("book", "ops/s", "p50 µs", "p99 µs"):
        table.add_column(column, justify="right" if column != "book" else "left")
    build = "compiled (mypyc)" if result.compiled else "interpreted"
    table.add_row(
        f"Book ({build})", f"{result.ops_per_s:,.0f}", f"{result.p50_us:.2f}", f"{result.p99_us:.2f}"
    )
    table.add_row("baseline (sorted lists)", f"{result.baseline_ops_per_s:,.0f}", "", "")
    console = Console()
    console.print(table)
    console.print(
        f"{result.fills:,} fills, {result.resting_orders:,} orders resting at the end; "
        "the baseline gave the same events for every command."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
