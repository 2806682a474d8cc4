"""A holder's balance of one token on one chain: the input of payouts and of liabilities proofs."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HolderBalance:
    """One holder's raw token balance (smallest token units) of one instrument on one chain."""

    chain_id: int
    holder: str
    raw: int
