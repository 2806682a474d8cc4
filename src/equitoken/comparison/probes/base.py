"""What a probe is: one way of holding a US stock on the platform, driven through its real venue.

A probe opens a holding in each instrument at the session before the period (`setup`), acts after
every step of the world (`tick`: its keeper, its price), and answers, from the venue's own state:
- `mark`: the price per share a holder can trade at or is marked at now (None: the venue shows none);
- `holding`: what the holding is worth now and the cash its corporate actions paid it;
- `round_trip`: buy `usd` of exposure now and unwind at once: USDC paid and received, gas used;
- `place` and `poll`: an order to buy, and when (platform time) it was delivered.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Generic, TypeVar

from equitoken.chain.errors import ChainError
from equitoken.comparison.world import World
from equitoken.model.errors import EquitokenError
from equitoken.model.quantities import Price

REFUSALS: tuple[type[BaseException], ...] = (ChainError, EquitokenError, ValueError)


@dataclass(frozen=True)
class RoundTrip:
    """A buy of `usd` of exposure and its unwind at once (USDC units); `refused` says why it could not."""

    usd: int
    paid: int = 0
    received: int = 0
    gas: int = 0
    exposure: int = 0  # USDC value of what the buy delivered, at the underlying's price then
    refused: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Holding:
    """A holding's mark-to-market value and the cash its corporate actions paid (USDC units)."""

    value: int
    cash: int
    detail: str


OrderIdT = TypeVar("OrderIdT", int, str)


@dataclass
class Placed(Generic[OrderIdT]):
    """An order a probe placed to time its delivery, and when `tick` first saw it final."""

    order_id: OrderIdT
    delivered: datetime | None = None


@dataclass(frozen=True)
class Delivery:
    """An order's outcome: delivered at `at` (platform time) or refused with a reason."""

    at: datetime | None
    refused: str | None = None
    note: str = ""


class Probe(ABC):
    """One model, driven through its real venue (see the module notes)."""

    model: ClassVar[str]
    title: ClassVar[str]

    @abstractmethod
    def setup(self, world: World) -> None:
        """Deploy the venue and open a holding in every instrument (the clock is in a session)."""

    def tick(self, world: World) -> None:  # noqa: B027 - most venues need no keeper
        """Act after the world moved (keepers, prices)."""

    @abstractmethod
    def mark(self, world: World, ticker: str) -> Price | None:
        """Return the price per share the model trades at or marks at now."""

    @abstractmethod
    def holding(self, world: World, ticker: str) -> Holding:
        """Return what the holding opened at setup is worth now."""

    @abstractmethod
    def round_trip(self, world: World, ticker: str, usd: int) -> RoundTrip:
        """Buy `usd` of exposure now and unwind it at once."""

    @abstractmethod
    def place(self, world: World, ticker: str, usd: int) -> object:
        """Place an order to buy `usd` of exposure now; return a handle for `poll`, or a Delivery."""

    @abstractmethod
    def poll(self, world: World, handle: object) -> Delivery | None:
        """Return the order's outcome once known, else None."""


def per_share(token_price: int, multiplier: int) -> Price:
    """Return the price per share of a token priced `token_price` under `multiplier` (1e18 = one share)."""
    return Price(token_price * 10**18 // multiplier)


def feed_mark(world: World, ticker: str) -> Price:
    """Return the price per share of `ticker`'s latest price feed round."""
    return per_share(int(world.feed(ticker).latestRoundData()[1]), world.multiplier(ticker))


def dividends_paid(world: World, ticker: str, holder: str) -> int:
    """Return the USDC units `ticker`'s corporate actions have paid `holder`."""
    return sum(
        p.amount.units
        for a in world.actions.actions(ticker)
        for p in world.actions.payments(a.id)
        if p.holder.lower() == holder.lower() and p.state.value == "paid"
    )


def wallet_holding(world: World, ticker: str, wallet: str, held_as: str) -> Holding:
    """Return the holding of `ticker`'s tokens in `wallet`, valued at the underlying's price, described as
    its shares (UI balance) followed by `held_as`."""
    ui = int(world.token(ticker).balanceOfUI(wallet))
    # 8-decimal tokens x 8-decimal price -> 1e-6 dollars.
    value = ui * world.share_price(ticker).units // 10**10
    return Holding(value, dividends_paid(world, ticker, wallet), f"{ui / 10**8:,.4f} {held_as}")


def refusal(error: BaseException) -> str:
    """Return a refusal's reason in one line."""
    return " ".join(str(error).split())[:400] or type(error).__name__
