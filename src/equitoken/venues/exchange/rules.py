"""A book's rules: the instrument's ticks and lots, fees, minimum notional and self-trade prevention.

Glossary:
- tick: the price step, a fixed `Price` (10^-8 dollar per share units); a book price is a count of ticks.
- token unit: the token's smallest unit; one share is 10^d units for a token of d decimals.
- lot: the quantity step, in token units; an order's quantity is a whole number of lots.
- notional: price x quantity in USDC units (10^-6 dollar). The lot is chosen so that one tick times
  one lot is a whole number of USDC units, so every order's and fill's notional is exact:
  notional = ticks x (quantity / lot) x usdc_per_tick_lot.
Fees are in basis points of the notional, rounded in the venue's favour: a charge rounds up, a
rebate (a negative maker fee) rounds down; the taker fee covers any maker rebate.
"""

from dataclasses import dataclass
from enum import IntEnum
from typing import TypeVar

from equitoken.model.errors import EquitokenError
from equitoken.model.quantities import PRICE_DECIMALS, SHARE_DECIMALS, USD_DECIMALS, Price, Shares, Usd

# A tick times a lot in 10^-17 dollars (price units x share units) per USDC unit.
_EXACT_PER_USDC_UNIT: int = 10 ** (SHARE_DECIMALS + PRICE_DECIMALS - USD_DECIMALS)
MAX_PRICE_TICKS = 2**48
ONE_DOLLAR = Usd(1_000_000)
_T = TypeVar("_T")


class InvalidRulesError(EquitokenError, ValueError):
    """Book rules that cannot work, with the field named."""


class SelfTradePrevention(IntEnum):
    """What happens when an order would trade with a resting order of the same account."""

    CANCEL_RESTING = 0
    CANCEL_INCOMING = 1
    CANCEL_BOTH = 2


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    """The instrument a book trades: its symbol, token decimals, tick and lot."""

    symbol: str
    token_decimals: int
    tick: Price
    lot: int

    def __post_init__(self) -> None:
        if not self.symbol or not self.symbol.isprintable():
            raise InvalidRulesError(f"instrument symbol {self.symbol!r} is empty or unprintable")
        Shares.token_step(self.token_decimals)  # raises for decimals outside 0..9
        if self.tick.units <= 0:
            raise InvalidRulesError(f"tick {self.tick} must be positive")
        if self.lot <= 0:
            raise InvalidRulesError(f"lot {self.lot} must be a positive number of token units")
        exact = self.tick.units * self.lot * Shares.token_step(self.token_decimals)
        if exact % _EXACT_PER_USDC_UNIT:
            raise InvalidRulesError(
                f"one tick ({self.tick}) times one lot ({self.lot} units) is not a whole number of USDC "
                "units; choose a larger lot"
            )

    @property
    def usdc_per_tick_lot(self) -> int:
        """Return the USDC units one tick times one lot is worth."""
        return self.tick.units * self.lot * Shares.token_step(self.token_decimals) // _EXACT_PER_USDC_UNIT

    def notional(self, price_ticks: int, quantity: int) -> Usd:
        """Return the exact value of `quantity` token units at `price_ticks`."""
        return Usd(price_ticks * (quantity // self.lot) * self.usdc_per_tick_lot)


@dataclass(frozen=True, slots=True)
class BookRules:
    """Everything that decides how a book matches: instrument, fees, minimum notional, STP."""

    instrument: InstrumentSpec
    maker_fee_bps: int = 0
    taker_fee_bps: int = 10
    min_notional: Usd = ONE_DOLLAR
    self_trade_prevention: SelfTradePrevention = SelfTradePrevention.CANCEL_RESTING

    def __post_init__(self) -> None:
        if not 0 <= self.taker_fee_bps <= 1_000:
            raise InvalidRulesError(f"taker fee {self.taker_fee_bps} bps must be 0 to 1000")
        if not -self.taker_fee_bps <= self.maker_fee_bps <= 1_000:
            raise InvalidRulesError(
                f"maker fee {self.maker_fee_bps} bps must be at most 1000, and a rebate at most the taker fee"
            )
        if self.self_trade_prevention not in tuple(SelfTradePrevention):
            raise InvalidRulesError(f"self-trade prevention {self.self_trade_prevention!r} is not a mode")
        if self.min_notional.units < 0:
            raise InvalidRulesError(f"minimum notional {self.min_notional} must not be negative")


def rules_state(rules: BookRules) -> dict[str, int | str]:
    """Return the rules as a flat dict of integers and strings (for snapshots and journal headers)."""
    instrument = rules.instrument
    return {
        "symbol": instrument.symbol,
        "token_decimals": instrument.token_decimals,
        "tick": instrument.tick.units,
        "lot": instrument.lot,
        "maker_fee_bps": rules.maker_fee_bps,
        "taker_fee_bps": rules.taker_fee_bps,
        "min_notional": rules.min_notional.units,
        "self_trade_prevention": int(rules.self_trade_prevention),
    }


def rules_from_state(state: dict[str, object]) -> BookRules:
    """Rebuild rules from `rules_state`'s dict; raise InvalidRulesError for a missing or wrong field."""
    try:
        return BookRules(
            InstrumentSpec(
                _field(state, "symbol", str),
                _field(state, "token_decimals", int),
                Price(_field(state, "tick", int)),
                _field(state, "lot", int),
            ),
            maker_fee_bps=_field(state, "maker_fee_bps", int),
            taker_fee_bps=_field(state, "taker_fee_bps", int),
            min_notional=Usd(_field(state, "min_notional", int)),
            self_trade_prevention=SelfTradePrevention(_field(state, "self_trade_prevention", int)),
        )
    except InvalidRulesError:
        raise
    except ValueError as error:
        raise InvalidRulesError(f"book rules {state!r} are invalid: {error}") from None


def _field(state: dict[str, object], name: str, kind: type[_T]) -> _T:
    value = state.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidRulesError(f"book rules field {name!r} must be a {kind.__name__}, not {value!r}")
    return value
