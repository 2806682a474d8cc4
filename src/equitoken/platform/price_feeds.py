"""Push replayed prices into each instrument's on-chain `PriceFeed`, so the chain carries a history.

The feed accepts an update when the market status changed, or an hour after the last one, and
refuses a move of more than 10% (`contracts/oracle/feed.vy`). So prices go in at every session open
and close, and hourly while the session is open: a handful of transactions per instrument and day.
A larger move (a split in the as-traded history) is approached in steps just inside the bound.
Pushes are plain transactions from the price updater, an account nothing else uses: a lost push is
simply made again by the next pass, which reads where the feed stands from the chain.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from equitoken.chain.artifacts import Artifact
from equitoken.chain.compiler import compile_contract
from equitoken.chain.evm import ChainError, Contract, RevertError
from equitoken.issuer.onchain import IssuerChain
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import Clock
from equitoken.market.prices import NoPriceError, PriceSource

MARKET_OPEN = 1
MARKET_CLOSED = 2
# The feed's bounds (PriceFeed.vy defaults), with a margin on the move so rounding never trips it.
MIN_INTERVAL_SECONDS = 3_600
MAX_MOVE_BPS = 990
_BPS = 10_000


@cache
def _artifact() -> Artifact:
    return compile_contract("oracle/PriceFeed.vy")


@dataclass(frozen=True)
class FeedState:
    """Where an instrument's feed stands: its last answer, its market status and when it was accepted."""

    answer: int
    status: int
    updated_at: int


def bounded_answer(previous: int, target: int) -> int:
    """Return `target`, or the nearest answer within the feed's move bound from `previous`."""
    step = previous * MAX_MOVE_BPS // _BPS
    return max(previous - step, min(previous + step, target))


class PriceFeedPusher:
    """Keep every deployed instrument's price feed current with the price source."""

    def __init__(
        self,
        onchain: IssuerChain,
        prices: PriceSource,
        calendar: MarketCalendar,
        clock: Clock,
        log: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.onchain = onchain
        self.prices = prices
        self.calendar = calendar
        self.clock = clock
        self.log = log

    def feed(self, ticker: str) -> Contract:
        """Return the price feed of `ticker`."""
        deployed = self.onchain.deployment.instrument(ticker)
        return self.onchain.chain.at(deployed.price_feed, _artifact(), f"{ticker} / USD")

    def state(self, ticker: str) -> FeedState | None:
        """Return where the feed of `ticker` stands, or None before its first update."""
        feed = self.feed(ticker)
        try:
            _, answer, _, updated_at, _ = feed.latestRoundData()
        except RevertError:
            return None
        return FeedState(int(answer), int(feed.marketStatus()), int(updated_at))

    def push(self) -> int:
        """Update every feed that is due; return how many were updated."""
        now = self.clock.now()
        status = MARKET_OPEN if self.calendar.is_open(now) else MARKET_CLOSED
        pushed = 0
        for ticker in self.onchain.tickers:
            if ticker not in self.prices.tickers():
                continue
            try:
                pushed += self._push_one(ticker, status)
            except NoPriceError:
                continue  # outside the replayed history: the feed keeps its last answer
            except ChainError as error:
                self.log(f"price feed {ticker}: {error}")
        return pushed

    def _push_one(self, ticker: str, status: int) -> bool:
        chain_now = self.onchain.chain.timestamp()
        state = self.state(ticker)
        # A closed market's price does not move; an open one is worth a round an hour.
        if (
            state is not None
            and state.status == status
            and (status != MARKET_OPEN or chain_now - state.updated_at < MIN_INTERVAL_SECONDS)
        ):
            return False
        target = self.prices.quote(ticker, self.clock.now()).price.units
        answer = target if state is None else bounded_answer(state.answer, target)
        # Observed at the chain's own time, so the feed never sees an observation from its future.
        self.feed(ticker).update(answer, chain_now, status, sender=self.onchain.roles.price_updater)
        return True
