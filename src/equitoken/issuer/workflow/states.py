"""Where a mint or redeem request stands.

Mint:   accepted -> paid -> ordered -> settling -> completed | cancelled | expired
        (payment collected, broker buy order placed, each fill: custody entry, reserve push, mint;
        then the fee is taken and the unspent escrow refunded)
Redeem: accepted -> burned -> ordered -> settling -> completed | cancelled | expired
        (tokens burned first, so tokens outstanding never exceed custody; each fill: custody entry,
        reserve push; then unsold tokens are minted back and the proceeds less the fee paid out)
Any state can end in `failed` (a step the chain refused, with the reason) or `held` (needs an
operator: funds are safe but the workflow cannot finish on its own).
Held:   held -> the state it was held in (the operator's `retry`, once the cause is gone)
        held -> refunding -> cancelled (a mint's `refund`: the broker order is cancelled, the escrow
        comes back less what was delivered and its fee, and the shares bought for tokens never
        delivered stay in custody as the issuer's surplus)
"""

from enum import StrEnum


class RequestKind(StrEnum):
    MINT = "mint"
    REDEEM = "redeem"


class RequestState(StrEnum):
    ACCEPTED = "accepted"
    PAID = "paid"
    BURNED = "burned"
    ORDERED = "ordered"
    SETTLING = "settling"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"
    HELD = "held"
    REFUNDING = "refunding"

    @property
    def is_final(self) -> bool:
        return self in _FINAL


class HeldResolution(StrEnum):
    """What an operator does with a held request."""

    RETRY = "retry"
    REFUND = "refund"


_FINAL = frozenset(
    {
        RequestState.COMPLETED,
        RequestState.CANCELLED,
        RequestState.EXPIRED,
        RequestState.FAILED,
        RequestState.HELD,
    }
)
