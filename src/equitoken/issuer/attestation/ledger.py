"""The custody ledger's entries for attestation flows and their hedges.

The issuer's inventory of `ticker` is the credit balance of `surplus:<ticker>` in shares: shares in
custody that back no token. Its dollar side (`surplus:<ticker>` in USD) carries what the inventory
cost less what it brought in, so after a round trip it holds the hedge's profit or loss.

- a mint of q shares for N USDC: the inventory's q shares become the holders' (`issued`), N reaches
  the treasury;
- a redemption: the reverse, N paid from the treasury;
- a hedge buy fill of q at cost C: custody gains q for the inventory, the broker is paid C;
- a hedge sell fill of q for P: custody gives q from the inventory, the broker pays P.
"""

from equitoken.issuer.attestation.states import HedgeKind
from equitoken.issuer.custody import (
    BROKER_CASH,
    TREASURY,
    USD,
    Line,
    custody_account,
    issued_account,
    surplus_account,
)


def execution_lines(kind: HedgeKind, ticker: str, shares: int, usd: int) -> list[Line]:
    """Return the entry of a quote's on-chain flow: `shares` out of (mint) or into (redeem) the
    inventory, `usd` into or out of the treasury."""
    sign = 1 if kind is HedgeKind.MINT else -1
    return [
        Line(issued_account(ticker), ticker, -sign * shares),
        Line(surplus_account(ticker), ticker, sign * shares),
        Line(TREASURY, USD, sign * usd),
        Line(surplus_account(ticker), USD, -sign * usd),
    ]


def fill_lines(buy: bool, ticker: str, shares: int, usd: int) -> list[Line]:
    """Return the custody entry of a hedge fill of `shares` for `usd`."""
    sign = 1 if buy else -1
    return [
        Line(custody_account(ticker), ticker, sign * shares),
        Line(surplus_account(ticker), ticker, -sign * shares),
        Line(surplus_account(ticker), USD, sign * usd),
        Line(BROKER_CASH, USD, -sign * usd),
    ]
