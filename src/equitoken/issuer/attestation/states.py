"""Where an attestation quote's hedge is, and what kind of row it is."""

from enum import StrEnum


class HedgeKind(StrEnum):
    """A quote to mint, a quote to redeem, or a restock of the issuer's inventory (no quote)."""

    MINT = "mint"
    REDEEM = "redeem"
    RESTOCK = "restock"


class HedgeState(StrEnum):
    """quoted -> executed -> hedging -> hedged, or quoted -> expired.

    - quoted: signed and handed to the user; its mint or redemption not seen on-chain;
    - executed: the attestation id is used on-chain (the flow happened exactly as quoted) and the
      inventory entry is posted; no broker order yet (a restock starts here);
    - hedging: the broker order is placed (client order id from the attestation id); fills are
      recorded and posted to custody as they come;
    - hedged: the order is final, every fill is in custody and the reserve feed attests the result;
    - expired: the quote's expiry passed on-chain unused; nothing moved.
    """

    QUOTED = "quoted"
    EXECUTED = "executed"
    HEDGING = "hedging"
    HEDGED = "hedged"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return self in (HedgeState.HEDGED, HedgeState.EXPIRED)
