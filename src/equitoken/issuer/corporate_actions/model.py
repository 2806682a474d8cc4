"""Corporate actions as the issuer records them: kinds, states, per-instrument policies, read views."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from equitoken.issuer.errors import InvalidRequestError
from equitoken.model.bps import BPS
from equitoken.model.multiplier import MULTIPLIER_ONE
from equitoken.model.quantities import Price, Shares, Usd


class ActionKind(StrEnum):
    SPLIT = "split"
    REVERSE_SPLIT = "reverse_split"
    CASH_DIVIDEND = "cash_dividend"
    MANAGEMENT_FEE = "management_fee"


class ActionState(StrEnum):
    """Where an action stands; each kind passes a subset, in the order its module docstring gives."""

    ANNOUNCED = "announced"  # recorded, not due yet
    CUSTODY_ADJUSTED = "custody_adjusted"  # the custody ledger moved with the action
    SCHEDULED = "scheduled"  # the new multiplier is on-chain, effective at `chain_effective_at`
    RECORDED = "recorded"  # dividend: holders of record and their payments fixed, cash received
    ORDERED = "ordered"  # reinvested dividend: the broker buy is placed
    BOUGHT = "bought"  # reinvested dividend: the buy is final, shares in custody
    PAYING = "paying"  # dividend: paying holders (or treaty refunds) one by one
    COMPLETED = "completed"
    FAILED = "failed"  # the chain refused a step; see the reason

    @property
    def is_final(self) -> bool:
        return self in (ActionState.COMPLETED, ActionState.FAILED)


class DividendPolicy(StrEnum):
    """What a token does with a cash dividend on its shares."""

    REINVEST = "reinvest"  # buy shares with it and raise the multiplier
    PAYOUT = "payout"  # pay holders of record in the stablecoin


class PaymentState(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    HELD = "held"  # not paid: the holder was sanctioned or frozen; released by an operator
    FAILED = "failed"  # the transfer reverted


def parse_policy(value: DividendPolicy | str) -> DividendPolicy:
    """Return `value` as a policy, or raise `InvalidRequestError` naming the known ones."""
    try:
        return DividendPolicy(value)
    except ValueError:
        known = ", ".join(p.value for p in DividendPolicy)
        raise InvalidRequestError(f"dividend policy {value!r} is not one of: {known}") from None


@dataclass(frozen=True)
class InstrumentPolicy:
    """How one instrument's token handles dividends, and its optional management fee.

    The fee is `fee_bps_per_year` basis points a year, taken in `fee_periods_per_year` equal steps
    (12: monthly, 4: quarterly, 2, 1) at the first regular open of each period, from `fee_start`.
    """

    dividends: DividendPolicy = DividendPolicy.REINVEST
    fee_bps_per_year: int = 0
    fee_periods_per_year: int = 12
    fee_start: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "dividends", parse_policy(self.dividends))
        if not 0 <= self.fee_bps_per_year < BPS:
            raise InvalidRequestError(
                f"management fee must be 0 to 9999 bps a year, not {self.fee_bps_per_year}"
            )
        if self.fee_periods_per_year not in (1, 2, 4, 12):
            raise InvalidRequestError(
                f"fee periods per year must be 1, 2, 4 or 12, not {self.fee_periods_per_year}"
            )
        if self.fee_bps_per_year and self.fee_start is None:
            raise InvalidRequestError("a management fee needs the date it starts accruing (fee_start)")

    def fee_per_period(self) -> int:
        """Return the fraction of the multiplier taken each period, with 18 decimals (rounded up)."""
        return -(-self.fee_bps_per_year * MULTIPLIER_ONE // (BPS * self.fee_periods_per_year))


@dataclass(frozen=True)
class CorporateActionsConfig:
    """Per-instrument policies (by ticker) over a default, and how the reinvestment buys.

    `reinvest_buffer_bps`: the reinvestment's buy is a limit this far above the quote, and sized so
    that even a fill at the limit costs no more than the dividend received.
    `multiplier_lead_seconds`: a multiplier that takes effect at once is scheduled this long after
    the next block's time, the time its transaction may take to be mined (the token refuses an
    effective time in the past). Raise it to a few block times on a real network.
    """

    default: InstrumentPolicy = field(default_factory=InstrumentPolicy)
    instruments: Mapping[str, InstrumentPolicy] = field(default_factory=dict)
    reinvest_buffer_bps: int = 100
    multiplier_lead_seconds: int = 5

    def policy(self, ticker: str) -> InstrumentPolicy:
        """Return the policy of `ticker`."""
        return self.instruments.get(ticker, self.default)


@dataclass(frozen=True)
class ActionEvent:
    at: datetime
    from_state: str | None
    to_state: str
    reason: str


@dataclass(frozen=True)
class CorporateAction:
    """A corporate action as an operator reads it."""

    id: str
    ticker: str
    kind: ActionKind
    ex_date: date
    record_date: date
    effective_at: datetime
    ratio: tuple[int, int]  # (new, old) shares; (1, 1) for a dividend or a fee
    amount_per_share: Price
    policy: DividendPolicy | None
    source: str
    state: ActionState
    old_multiplier: int | None
    new_multiplier: int | None
    record_shares: Shares
    cash_received: Usd
    shares_bought: Shares
    reason: str | None
    events: tuple[ActionEvent, ...]


@dataclass(frozen=True)
class DividendPayment:
    """What one holder of record is owed for a dividend: the payout, or the treaty refund when reinvested."""

    id: int
    action_id: str
    chain_id: int
    holder: str
    investor_id: str | None
    jurisdiction: str | None
    withholding_bps: int
    raw_balance: int
    record_shares: Shares
    amount: Usd
    state: PaymentState
    reason: str | None
