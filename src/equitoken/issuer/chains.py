"""What the issuer does with its tokens on a chain, whatever the chain's family, and how custody is
allotted between chains.

The workflow mints, burns and attests through a `TokenChain`: `IssuerChain` on EVM (a stock token
and its reserve feed), `SolanaIssuerChain` on Solana (a Token-2022 mint). Payment and payouts stay on
the issuer's settlement chain (EVM, USDC) whatever chain the tokens are on.

Allotment (invariant: for every instrument, sum over chains of supply x multiplier <= custody):
chain c may have outstanding at most its allotment,
    allotment(c) = backing - sum over other chains c' of (outstanding(c') + in flight(c')),
where outstanding is the chain's supply times its multiplier, in shares, and in flight is the shares
of fills whose custody is posted and whose mint has not been recorded (a mint that may be landing),
plus the shares of bridge transfers to the chain burned at their source and not minted (`bridging`):
burned tokens leave their chain's supply at once, and count at their destination until they land.
A chain's reserve feed is told its allotment, so its on-chain gate enforces the invariant; on a chain
without a feed (Solana) the issuer checks the allotment before it signs a mint.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from solders.pubkey import Pubkey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from equitoken.durable.steps import CallOutbox
from equitoken.model.address import checksum
from equitoken.model.holders import HolderBalance
from equitoken.model.multiplier import MULTIPLIER_ONE
from equitoken.model.quantities import Shares
from equitoken.store.schema import BridgeTransferRow, ChainTransactionRow, FillRow, RequestRow


class ChainOutbox(CallOutbox, Protocol):
    """What the workflow asks of a chain family's outbox."""

    def find(self, session: Session, purpose: str) -> ChainTransactionRow | None: ...

    def release_failed(self, session: Session, owner: str) -> list[str]: ...


class TokenChain(Protocol):
    """One chain the issuer's tokens live on."""

    @property
    def chain_id(self) -> int: ...

    @property
    def family(self) -> str: ...

    @property
    def tickers(self) -> list[str]: ...

    @property
    def outbox(self) -> ChainOutbox: ...

    @property
    def has_reserve_feed(self) -> bool:
        """Whether mints are gated on-chain by a reserve feed the issuer pushes custody to."""
        ...

    def parse_wallet(self, text: str) -> str:
        """Return the wallet `text` names on this chain; raise InvalidRequestError naming the problem."""
        ...

    def multiplier(self, ticker: str) -> int:
        """Return the UI multiplier in force (MULTIPLIER_ONE = 1.0)."""
        ...

    def supply(self, ticker: str) -> int:
        """Return the raw token units outstanding."""
        ...

    def balance(self, ticker: str, wallet: str) -> int:
        """Return the raw units `wallet` holds."""
        ...

    def redemption_shortfall(self, ticker: str, wallet: str, tokens: int) -> str | None:
        """Say why `tokens` units cannot be burned from `wallet` now; None if they can."""
        ...

    def mint_call(self, ticker: str, wallet: str, tokens: int) -> Any:
        """Return the call that mints `tokens` raw units to `wallet`, for this chain's outbox."""
        ...

    def burn_call(self, ticker: str, wallet: str, tokens: int) -> Any:
        """Return the call that burns `tokens` raw units from `wallet` (a redemption)."""
        ...

    def multiplier_call(self, ticker: str, multiplier: int, effective_at: int) -> Any:
        """Return the call that sets the UI multiplier to `multiplier` from unix time `effective_at`."""
        ...

    def attestation_call(self, ticker: str, reserve: int, observed_at: int) -> Any | None:
        """Return the call that tells the reserve feed `reserve` raw units; None on a chain without a
        feed (see `has_reserve_feed`)."""
        ...

    def observation_time(self, now: datetime) -> int:
        """Return the chain time to stamp a custody observation made at `now` with."""
        ...

    def reserve_observed_at(self, ticker: str) -> int | None:
        """Return when the custody in the reserve feed's latest round was observed (Unix seconds);
        None on a chain without a feed or before its first round."""
        ...


def outstanding(chain: TokenChain, ticker: str, decimals: int) -> Shares:
    """Return the shares `ticker`'s tokens on `chain` stand for: supply times multiplier, rounded up
    (what another chain may not count on)."""
    steps = -(-chain.supply(ticker) * chain.multiplier(ticker) // MULTIPLIER_ONE)
    return Shares(steps * Shares.token_step(decimals))


def in_flight(session: Session, ticker: str, chain_id: int, *, excluding: str | None = None) -> Shares:
    """Return the shares of fills on `chain_id` in custody whose mint is not recorded (but `excluding`)."""
    query = (
        select(func.coalesce(func.sum(FillRow.quantity), 0))
        .join(RequestRow, FillRow.request_id == RequestRow.id)
        .where(
            RequestRow.ticker == ticker,
            RequestRow.chain_id == chain_id,
            RequestRow.kind == "mint",
            FillRow.settled.is_(False),
            FillRow.custody_entry_id.is_not(None),
            FillRow.token_amount > 0,
        )
    )
    if excluding is not None:
        query = query.where(FillRow.id != excluding)
    return Shares(int(session.scalar(query) or 0))


BRIDGE_IN_FLIGHT_STATES = ("burned", "attested", "held")
"""A bridge transfer in these states is burned at its source and not minted at its destination."""
BRIDGE_SHARED_DECIMALS = 8


def bridging(session: Session, chain: TokenChain, ticker: str, decimals: int) -> Shares:
    """Return the shares of bridge transfers of `ticker` to `chain` burned and not minted, rounded up."""
    amounts = session.scalars(
        select(BridgeTransferRow.amount).where(
            BridgeTransferRow.ticker == ticker,
            BridgeTransferRow.dest_chain == chain.chain_id,
            BridgeTransferRow.state.in_(BRIDGE_IN_FLIGHT_STATES),
        )
    )
    raw = sum(amounts) * 10 ** (decimals - BRIDGE_SHARED_DECIMALS)
    if raw == 0:
        return Shares.zero()
    steps = -(-raw * chain.multiplier(ticker) // MULTIPLIER_ONE)
    return Shares(steps * Shares.token_step(decimals))


def bridged_claims(
    session: Session, chains: Sequence[TokenChain], ticker: str, decimals: int
) -> list[HolderBalance]:
    """Return what bridge transfers in flight owe their receivers: one balance per transfer, on its
    destination chain, in that chain's raw units (the liabilities tree adds them to the receivers')."""
    families = {chain.chain_id: chain.family for chain in chains}
    rows = session.scalars(
        select(BridgeTransferRow).where(
            BridgeTransferRow.ticker == ticker, BridgeTransferRow.state.in_(BRIDGE_IN_FLIGHT_STATES)
        )
    )
    claims = []
    for row in rows:
        receiver = bytes.fromhex(row.receiver.removeprefix("0x"))
        if families.get(row.dest_chain) == "Solana":
            holder = str(Pubkey(receiver))
        else:
            holder = checksum("0x" + receiver[12:].hex())
        raw = row.amount * 10 ** (decimals - BRIDGE_SHARED_DECIMALS)
        claims.append(HolderBalance(row.dest_chain, holder, raw))
    return claims


def allotment(
    session: Session,
    backing: Shares,
    chains: Sequence[TokenChain],
    chain_id: int,
    ticker: str,
    decimals: int,
) -> Shares:
    """Return the custody chain `chain_id` may have outstanding of `ticker` (see the module's glossary)."""
    others = Shares.zero()
    for chain in chains:
        if chain.chain_id != chain_id and ticker in chain.tickers:
            others += (
                outstanding(chain, ticker, decimals)
                + in_flight(session, ticker, chain.chain_id)
                + bridging(session, chain, ticker, decimals)
            )
    return backing - others


def by_id(chains: Sequence[TokenChain]) -> Mapping[int, TokenChain]:
    """Return the chains by id; raise ValueError if two share one."""
    found: dict[int, TokenChain] = {}
    for chain in chains:
        if chain.chain_id in found:
            raise ValueError(f"two chains have the id {chain.chain_id}")
        found[chain.chain_id] = chain
    return found
