"""The perpetuals venue through a replayed week of MSTR with its keeper, under both closed-market policies.

The week: Friday 2024-08-02 10:00 to Friday 2024-08-09 16:00 New York. It holds a weekend, the largest
Friday-close-to-Monday-open fall in the repo's daily bars among the venues' default tickers (MSTR
$1,447.99 -> $1,051.65, -27.4%, see `lending_gap.py`) and MSTR's 10-for-1 split (split-adjusted trading
began Thursday 2024-08-08; the token's UI multiplier switches at that session's open, as the
corporate-action engine schedules it). Prices are as traded.

A real issuance of MSTR with its quorum `PriceFeed` driven by the oracle's `Transmitter` and four
in-process `Reporter`s over the replayed prices (quorum 3). The feed prices a closed market with the
`INTERNAL` policy: the close moved by our venues' trades within the feed's band, and the venue whose
trades it reads is the perpetual market itself (every fill goes on the trade tape), as a trade.xyz
market discovers its weekend price from its own book. Test USDC, the venue (`deploy_perps`, MSTR's
default market: 5x, 8 bps fees, $2M of skew moves the fill 1%) with an LP's $2M in the vault, and the
`PerpsKeeper`.

Traders (`TRADERS` wallets, seeded): every tick each trader without a position opens one with
probability `OPEN_CHANCE` (long with probability `LONG_BIAS`, margin $2k-$20k, leverage 2x-5x, a
stop-loss on some), and each trader with one closes half or all of it with probability `CLOSE_CHANCE`.
While the market is closed under the `closed` policy they queue the same orders (`request_open`,
`request_close`) for the reopening; under `discovery` they trade at the clamped price. Every tick:
the transmitter, the traders, then the keeper. Ticks: every hour in session, every two hours
outside it, every 5 minutes in Monday's first half hour.

Run ``python -m tests.keepers.perps_week`` for the figures of both policies (``--json`` as one object).
"""

import json
import random
import sys
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from zoneinfo import ZoneInfo

from tests.support.replayed_oracle import ReplayedOracle, issue, start_oracle, unix

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.issuer.onchain import deploy_test_usdc
from equitoken.keepers.perps import PerpsKeeper
from equitoken.market.calendar import MarketCalendar
from equitoken.model.multiplier import Multiplier
from equitoken.model.quantities import Price, Shares
from equitoken.oracle.closed_market import ClosedPolicy as FeedClosedPolicy
from equitoken.oracle.trades import VenueTrade
from equitoken.store.database import Database, sqlite_url
from equitoken.venues.perps.deployment import deploy_perps
from equitoken.venues.perps.parameters import DEFAULT_PARAMETERS, ClosedPolicy

NEW_YORK = ZoneInfo("America/New_York")
TICKER = "MSTR"
START = datetime(2024, 8, 2, 10, 0, tzinfo=NEW_YORK)
MONDAY_OPEN = datetime(2024, 8, 5, 9, 30, tzinfo=NEW_YORK)
MINUTE_UNTIL = datetime(2024, 8, 5, 10, 0, tzinfo=NEW_YORK)
SPLIT_OPEN = datetime(2024, 8, 8, 9, 30, tzinfo=NEW_YORK)
SPLIT_RATIO = 10
END = datetime(2024, 8, 9, 16, 0, tzinfo=NEW_YORK)
STEP = timedelta(hours=1)
CLOSED_STEP = timedelta(hours=2)
SEED = 20240802
TRADERS = 16
OPEN_CHANCE = 0.15
CLOSE_CHANCE = 0.08
LONG_BIAS = 0.6
STOP_LOSS_CHANCE = 0.3
LP_USDC = 2_000_000
FEED_BAND_BPS = 1_000  # the feed's INTERNAL band around the close: the default
USDC = 10**6
WAD = 10**18
ACCOUNTS = 10 + 2 + TRADERS
LP, KEEPER = 10, 11
FIRST_TRADER = 12
PERP_VENUE = "perp"

STATE_OPEN, STATE_CLOSED, STATE_DISCOVERY = 1, 2, 3
POLICIES = {"closed": ClosedPolicy.CLOSED, "discovery": ClosedPolicy.DISCOVERY}


@dataclass(frozen=True)
class Tick:
    """The market at one tick, after the traders and the keeper."""

    at: str
    state: int
    answer: int  # the feed's answer, the token price, 8 decimals
    mark: int
    close: int  # the close in token terms (0 in session)
    funding_rate: int  # WAD per day
    skew: int  # token units, 18 decimals


@dataclass(frozen=True)
class LiquidationRecord:
    at: str
    state: int
    minutes_after_open: float
    mark: int
    equity_usdc: float
    margin_usdc: float


@dataclass
class WeekReplay:
    """What one policy did through the week; money in USDC (6 decimals) unless named otherwise."""

    policy: str
    ticks: list[Tick] = field(default_factory=list)
    fills_in_session: int = 0
    fills_while_closed: int = 0
    queued_orders: int = 0
    executed_orders: int = 0
    cancelled_orders: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    liquidations: list[LiquidationRecord] = field(default_factory=list)
    liquidated_margin_usdc: int = 0
    shortfall_usdc: int = 0  # losses beyond the margins of liquidated positions, which the vault never got
    liquidation_rewards_usdc: int = 0
    vault_start_usdc: int = 0
    vault_end_usdc: int = 0
    max_discovery_gap_bps: int = 0  # the largest |mark - close| / close while closed
    split_positions: int = 0  # positions open across the split
    split_changed: int = 0  # of those, how many the split changed (size, entry, margin, funding, triggers)
    split_mark_before: int = 0
    split_mark_after: int = 0

    def table(self) -> str:
        """Return the figures as a readable block."""
        closed = [t for t in self.ticks if t.state != STATE_OPEN]
        first = min((r.minutes_after_open for r in self.liquidations), default=None)
        lines = [
            f"{self.policy} policy: {len(self.ticks)} ticks ({len(closed)} closed)",
            f"  fills in session {self.fills_in_session}, while closed {self.fills_while_closed}; "
            f"orders queued {self.queued_orders}, executed {self.executed_orders}, "
            f"cancelled {self.cancelled_orders}",
            f"  largest gap of the closed mark from the close {self.max_discovery_gap_bps} bps",
            f"  liquidations {len(self.liquidations)} (first {first} min after Monday's open); margin lost "
            f"{self.liquidated_margin_usdc / USDC:,.2f} USDC, shortfall beyond margins "
            f"{self.shortfall_usdc / USDC:,.2f}, keeper rewards {self.liquidation_rewards_usdc / USDC:,.2f}",
            f"  vault {self.vault_start_usdc / USDC:,.2f} -> {self.vault_end_usdc / USDC:,.2f} USDC; "
            f"positions across the split {self.split_positions} ({self.split_changed} changed), mark "
            f"{self.split_mark_before / 1e8:,.2f} -> {self.split_mark_after / 1e8:,.2f}",
            f"  refusals {self.refused}",
        ]
        return "\n".join(lines)


@dataclass
class Week:
    chain: InProcessChain
    token: Contract
    feed: Contract
    market: Contract
    vault: Contract
    oracle: ReplayedOracle
    keeper: PerpsKeeper
    traders: list[str]
    max_leverage: int
    random: random.Random
    positions: dict[str, int] = field(default_factory=dict)  # trader -> open position id
    orders: dict[int, tuple[str, bool]] = field(default_factory=dict)  # queued order id -> (trader, an open)
    fills: int = 0


def build(policy: ClosedPolicy, data_dir: Path) -> Week:
    """Deploy everything on a fresh in-process chain in Friday's session."""
    issuance = issue(TICKER, ACCOUNTS, START)
    chain, roles, deployment, token = issuance.chain, issuance.roles, issuance.deployment, issuance.token
    accounts = chain.accounts
    issuance.feed.set_closed_policy(int(FeedClosedPolicy.INTERNAL), FEED_BAND_BPS, sender=roles.admin)
    # What the corporate-action engine does for a split: the multiplier switches at the ex-date's open.
    token.setUIMultiplier(SPLIT_RATIO * WAD, unix(SPLIT_OPEN), sender=roles.multiplier_updater)
    oracle = start_oracle(issuance, data_dir / "perps-week.sqlite", START)
    usdc = deploy_test_usdc(chain, roles.admin)
    parameters = replace(DEFAULT_PARAMETERS[TICKER], closed_policy=policy)
    perps = deploy_perps(
        chain, roles.admin, usdc.address, deployment, [TICKER], parameters={TICKER: parameters}, vault_seed=0
    )
    market, vault = perps.contract(chain, TICKER), perps.vault_contract(chain)
    lp = accounts[LP]
    usdc.mint(lp, LP_USDC * USDC, sender=roles.admin)
    usdc.approve(vault.address, LP_USDC * USDC, sender=lp)
    vault.deposit(LP_USDC * USDC, lp, sender=lp)
    traders = [accounts[FIRST_TRADER + i] for i in range(TRADERS)]
    for trader in traders:
        usdc.mint(trader, 200_000 * USDC, sender=roles.admin)
        usdc.approve(market.address, 2**256 - 1, sender=trader)
    keeper_db = Database(sqlite_url(data_dir / "perps-keeper.sqlite"))
    keeper_db.migrate()
    keeper = PerpsKeeper(chain, accounts[KEEPER], perps, keeper_db, oracle.clock)
    return Week(
        chain,
        token,
        issuance.feed,
        market,
        vault,
        oracle,
        keeper,
        traders,
        parameters.max_leverage,
        random.Random(SEED),
    )


def _times(calendar: MarketCalendar) -> list[datetime]:
    at, times = START, []
    while at <= END:
        times.append(at)
        if MONDAY_OPEN <= at < MINUTE_UNTIL:
            at += timedelta(minutes=5)
        elif calendar.is_open(at):
            at += STEP
        else:
            at += CLOSED_STEP
            opens = calendar.next_open(at - CLOSED_STEP)
            if at > opens > times[-1]:
                at = opens  # never step over a reopening
    return times


def _close_in_token_terms(week: Week) -> int:
    close = int(week.feed.last_close())
    return close * int(week.token.uiMultiplierAt(int(week.feed.status_since()))) // WAD


def _record_fill(week: Week, position_id: int, at: datetime) -> None:
    position = week.market.position(position_id)
    token_units = int(position[2]) // 10**10  # perp size has 18 decimals, MSTR's token 8
    if token_units == 0:
        return
    multiplier = Multiplier(int(week.token.uiMultiplierAt(unix(at))))
    week.fills += 1
    week.oracle.tape.record(
        VenueTrade.of_tokens(
            PERP_VENUE,
            f"fill-{week.fills}",
            TICKER,
            Price(int(position[3])),
            Shares(token_units),
            multiplier,
            at,
        )
    )


def _trade(week: Week, result: WeekReplay, at: datetime, state: int) -> None:
    """Let every trader act once, as the market's state allows."""
    queue = state == STATE_CLOSED
    for trader in week.traders:
        draw = week.random.random()
        held = week.positions.get(trader)
        try:
            if held is None and trader not in {t for t, _ in week.orders.values()} and draw < OPEN_CHANCE:
                is_long = week.random.random() < LONG_BIAS
                margin = week.random.randint(2_000, 20_000) * USDC
                leverage = week.random.randint(2, week.max_leverage // WAD) * WAD
                mark = int(week.market.mark_price()[0])
                stop = 0
                if week.random.random() < STOP_LOSS_CHANCE:
                    stop = mark * 92 // 100 if is_long else mark * 108 // 100
                if queue:
                    order_id = int(week.market.next_order_id())
                    week.market.request_open(is_long, margin, leverage, 0, stop, 0, sender=trader)
                    week.orders[order_id] = (trader, True)
                    result.queued_orders += 1
                else:
                    position_id = int(week.market.next_position_id())
                    week.market.open_position(is_long, margin, leverage, 0, stop, 0, sender=trader)
                    week.positions[trader] = position_id
                    _record_fill(week, position_id, at)
                    _count_fill(result, state)
            elif held is not None and draw < CLOSE_CHANCE:
                size = int(week.market.position(held)[2])
                part = size if week.random.random() < 0.5 else size // 2
                if queue:
                    order_id = int(week.market.next_order_id())
                    week.market.request_close(held, part, 0, sender=trader)
                    week.orders[order_id] = (trader, False)
                    result.queued_orders += 1
                else:
                    _record_fill(week, held, at)
                    week.market.close_position(held, part, 0, sender=trader)
                    _count_fill(result, state)
        except RevertError as error:
            reason = str(error).split("reverted: ")[-1]
            result.refused[reason] = result.refused.get(reason, 0) + 1


def _count_fill(result: WeekReplay, state: int) -> None:
    if state == STATE_OPEN:
        result.fills_in_session += 1
    else:
        result.fills_while_closed += 1


def _fields(week: Week, position_id: int) -> tuple[int, ...]:
    return tuple(int(v) if not isinstance(v, str) else int(v, 16) for v in week.market.position(position_id))


def _forget_closed(week: Week) -> None:
    """Drop positions that no longer exist (closed in full, liquidated, stopped out)."""
    for trader, position_id in list(week.positions.items()):
        if int(week.market.position(position_id)[2]) == 0:
            del week.positions[trader]


def replay(name: str, policy: ClosedPolicy, data_dir: Path) -> WeekReplay:
    """Replay the week under `policy`; return its figures."""
    data_dir.mkdir(parents=True, exist_ok=True)
    week = build(policy, data_dir)
    calendar = MarketCalendar("XNYS")
    result = WeekReplay(name, vault_start_usdc=int(week.vault.totalAssets()))
    before_split: dict[int, tuple[int, ...]] | None = {}
    try:
        for at in _times(calendar):
            week.oracle.tick(at)
            mark, state = (int(v) for v in week.market.mark_price())
            if before_split is not None and at >= SPLIT_OPEN:
                # The first tick of split-adjusted trading: every position as the last tick left it.
                after = {pid: _fields(week, pid) for pid in before_split}
                result.split_positions = len(before_split)
                result.split_changed = sum(1 for pid, fields in before_split.items() if after[pid] != fields)
                result.split_mark_before, result.split_mark_after = result.ticks[-1].mark, mark
                before_split = None
            if state in (STATE_OPEN, STATE_CLOSED, STATE_DISCOVERY):
                _trade(week, result, at, state)
            # What the keeper will liquidate, and each position's equity and margin just before.
            doomed = {
                pid: (int(week.market.equity(pid)), int(week.market.position(pid)[4]))
                for pid in week.positions.values()
                if week.market.is_liquidatable(pid)
            }
            report = week.keeper.tick()
            for execution in report.executions:
                if execution.filled:
                    result.executed_orders += 1
                    trader, opens = week.orders.pop(execution.order_id)
                    if opens:
                        week.positions[trader] = execution.position_id
                else:
                    result.cancelled_orders += 1
                    week.orders.pop(execution.order_id)
            for liquidation in report.liquidations:
                equity, margin = doomed.get(liquidation.position_id, (0, 0))
                result.liquidations.append(
                    LiquidationRecord(
                        at.isoformat(),
                        state,
                        (at - MONDAY_OPEN).total_seconds() / 60,
                        liquidation.mark.units,
                        equity / USDC,
                        margin / USDC,
                    )
                )
                result.liquidated_margin_usdc += margin
                result.shortfall_usdc += max(0, -equity)
                result.liquidation_rewards_usdc += liquidation.reward.units
            _forget_closed(week)
            mark, state = (int(v) for v in week.market.mark_price())
            close = _close_in_token_terms(week) if state != STATE_OPEN else 0
            answer = int(week.feed.latestRoundStatus()[1])
            if close:
                result.max_discovery_gap_bps = max(
                    result.max_discovery_gap_bps, abs(mark - close) * 10_000 // close
                )
            long_size, short_size = (int(v) for v in week.market.open_interest())
            result.ticks.append(
                Tick(
                    at.isoformat(),
                    state,
                    answer,
                    mark,
                    close,
                    int(week.market.funding_rate()),
                    long_size - short_size,
                )
            )
            if before_split is not None:
                before_split = {pid: _fields(week, pid) for pid in week.positions.values()}
        result.vault_end_usdc = int(week.vault.totalAssets())
        return result
    finally:
        week.oracle.transmitter.close()


def main() -> int:
    """Print both policies' figures (``--json``: as one JSON object)."""
    with TemporaryDirectory() as tmp:
        results = {name: replay(name, policy, Path(tmp) / name) for name, policy in POLICIES.items()}
    if "--json" in sys.argv:
        print(
            json.dumps({name: asdict(r) | {"ticks": len(r.ticks)} for name, r in results.items()}, indent=2)
        )
    else:
        for r in results.values():
            print(r.table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
