"""What the CFD venue is asked to do: tuples of integers and strings, journaled as they are.

Times are Unix microseconds (`at_us`), stamped by the venue, so replaying a command gives the same
answer whenever it is replayed. An open or a close may carry a client `order_id` (its last field;
"" for none): the engine applies each order id once and answers a repeat with the first outcome.
"""

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from equitoken.model.time import require_aware

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_micros(t: datetime) -> int:
    """Return aware time `t` as Unix microseconds."""
    return (require_aware(t) - _EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    """Return Unix microseconds as an aware UTC datetime."""
    return _EPOCH + micros * _MICROSECOND


class Deposit(NamedTuple):
    """Credit USDC to an account (once per `deposit_id`)."""

    account: int
    amount: int
    deposit_id: str
    at_us: int


class Withdraw(NamedTuple):
    """Debit USDC from an account's free margin (once per `withdrawal_id`)."""

    account: int
    amount: int
    withdrawal_id: str
    at_us: int


class Open(NamedTuple):
    """Open a position at market: `side` a `CfdSide`, `size` in 10^-18 share, leverage 1:N (once per
    `order_id` when one is given)."""

    account: int
    symbol: str
    side: int
    size: int
    leverage: int
    at_us: int
    order_id: str = ""


class Close(NamedTuple):
    """Close `size` of a position at market (0: all of it; once per `order_id` when one is given)."""

    account: int
    position_id: int
    size: int
    at_us: int
    order_id: str = ""


class MarkPrice(NamedTuple):
    """The oracle's price (10^-8 USD per share) and market status for an instrument at `at_us`."""

    symbol: str
    price: int
    status: int
    at_us: int


class SessionClose(NamedTuple):
    """Charge overnight financing for the last session that closed at or before `at_us`."""

    at_us: int


class Split(NamedTuple):
    """A split of `numerator` new shares for every `denominator` old ones."""

    symbol: str
    numerator: int
    denominator: int
    at_us: int


class Dividend(NamedTuple):
    """A cash dividend per share (USDC units) on the underlying: CFDs carry no shareholder rights."""

    symbol: str
    amount_per_share: int
    at_us: int


ORDERS = (Open, Close)
"""The commands that may carry a client `order_id`, as their last field."""

Command = Deposit | Withdraw | Open | Close | MarkPrice | SessionClose | Split | Dividend
COMMANDS: dict[str, type[Command]] = {
    c.__name__: c for c in (Deposit, Withdraw, Open, Close, MarkPrice, SessionClose, Split, Dividend)
}
