"""What the indexer knows, read back: holders, balances, supply and its history, multipliers, feeds,
and the journaled ERC-20 Transfers into an address (stock and settlement tokens alike).

Balances and supplies are raw token units (the ERC-20's integers). A UI amount applies the multiplier
in force at a time: by default the timestamp of the last indexed block of that chain, which is what
``balanceOfUI`` returned at that block.
"""

import json
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from equitoken.indexer.errors import UnindexedTickerError, UnknownChainError
from equitoken.indexer.multiplier import (
    MultiplierChange,
    MultiplierEntry,
    fold_history,
    multiplier_at,
)
from equitoken.indexer.sources import Source
from equitoken.model.address import checksum
from equitoken.model.multiplier import Multiplier
from equitoken.store.database import Database
from equitoken.store.schema import (
    IndexBalanceRow,
    IndexCursorRow,
    IndexEventRow,
    IndexFeedRoundRow,
    IndexInvestorRow,
    IndexMultiplierEventRow,
    IndexSupplyPointRow,
    IndexSupplyRow,
    IndexWalletRow,
)


@dataclass(frozen=True)
class Cursor:
    """The last block indexed on a chain."""

    chain_id: int
    block_number: int
    block_hash: str
    timestamp: int


@dataclass(frozen=True)
class TokenBalance:
    """A holder's balance of one token on one chain: raw units, and as a wallet shows it (``ui``)."""

    chain_id: int
    ticker: str
    holder: str
    raw: int
    ui: int


@dataclass(frozen=True)
class ChainSupply:
    """A token's raw total supply on one chain."""

    chain_id: int
    ticker: str
    raw: int


@dataclass(frozen=True)
class SupplyPoint:
    """The raw supply of a token on each chain after a block that changed it on one of them."""

    at: datetime
    by_chain: dict[int, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Return the raw supply summed over the chains."""
        return sum(self.by_chain.values())


@dataclass(frozen=True)
class ChainMultiplier:
    """A multiplier of a token's history on one chain, effective from ``effective_at`` (Unix seconds)."""

    chain_id: int
    multiplier: int
    effective_at: int
    block_number: int | None


@dataclass(frozen=True)
class RegisteredWallet:
    """A wallet bound in a chain's identity registry, and what the registry says of its investor."""

    chain_id: int
    wallet: str
    investor_id: int
    country: int | None
    frozen: bool


@dataclass(frozen=True)
class FeedRound:
    """A round of an instrument's price or reserve feed."""

    chain_id: int
    ticker: str
    kind: str
    round_id: int
    answer: int
    started_at: int
    updated_at: int
    status: int
    block_number: int


@dataclass(frozen=True)
class IndexedTransfer:
    """An indexed ERC-20 Transfer: ``asset`` is the stock ticker or the settlement token's symbol."""

    chain_id: int
    block_number: int
    log_index: int
    tx_hash: str
    token: str
    asset: str
    sender: str
    receiver: str
    amount: int

    @property
    def position(self) -> tuple[int, int]:
        """Return where the chain emitted it: (block number, log index)."""
        return (self.block_number, self.log_index)


MAX_TRANSFERS_READ = 1_000
_TRANSFER_SOURCES = (Source.TOKEN.value, Source.SETTLEMENT.value)


class IndexReader:
    """Read what has been indexed; ``tickers`` and ``chain_ids``, when given, are all one may ask about."""

    def __init__(
        self,
        database: Database,
        *,
        tickers: Collection[str] | None = None,
        chain_ids: Collection[int] | None = None,
    ) -> None:
        self.db = database
        self._tickers = None if tickers is None else frozenset(tickers)
        self._chain_ids = None if chain_ids is None else frozenset(chain_ids)

    def follows(self, chain_id: int) -> bool:
        """Return whether ``chain_id`` is one this reader reads (every chain if it was given none)."""
        return self._chain_ids is None or chain_id in self._chain_ids

    def cursor(self, chain_id: int) -> Cursor | None:
        """Return the last block indexed on ``chain_id``, or None before the first batch."""
        self._check_chain(chain_id)
        with self.db.transaction() as session:
            row = session.get(IndexCursorRow, chain_id)
            return (
                None
                if row is None
                else Cursor(chain_id, row.block_number, row.block_hash, row.block_timestamp)
            )

    def holders(
        self, ticker: str, chain_id: int | None = None, *, at: int | None = None
    ) -> list[TokenBalance]:
        """Return every holder of ``ticker`` with a balance, per chain (all chains unless one is given)."""
        self._check_ticker(ticker)
        if chain_id is not None:
            self._check_chain(chain_id)
        query = select(IndexBalanceRow).where(IndexBalanceRow.ticker == ticker)
        if chain_id is not None:
            query = query.where(IndexBalanceRow.chain_id == chain_id)
        with self.db.transaction() as session:
            return self._balances(session, session.scalars(query).all(), at)

    def balances_of(self, wallets: Iterable[str], *, at: int | None = None) -> list[TokenBalance]:
        """Return every token balance of ``wallets`` on every chain."""
        # EVM addresses in their checksum form; Solana's are case-sensitive as they are.
        addresses = sorted({checksum(w) if w.startswith("0x") else w for w in wallets})
        if not addresses:
            return []
        with self.db.transaction() as session:
            rows = session.scalars(select(IndexBalanceRow).where(IndexBalanceRow.holder.in_(addresses))).all()
            return self._balances(session, rows, at)

    def supply(self, ticker: str) -> list[ChainSupply]:
        """Return the raw total supply of ``ticker`` on each chain that has minted it."""
        self._check_ticker(ticker)
        with self.db.transaction() as session:
            rows = session.scalars(
                select(IndexSupplyRow)
                .where(IndexSupplyRow.ticker == ticker)
                .order_by(IndexSupplyRow.chain_id)
            ).all()
            return [ChainSupply(r.chain_id, ticker, r.raw) for r in rows]

    def supply_history(self, ticker: str) -> list[SupplyPoint]:
        """Return the supply of ``ticker`` over time: a point per block that minted or burned on any chain."""
        self._check_ticker(ticker)
        with self.db.transaction() as session:
            rows = session.scalars(
                select(IndexSupplyPointRow)
                .where(IndexSupplyPointRow.ticker == ticker)
                .order_by(
                    IndexSupplyPointRow.timestamp,
                    IndexSupplyPointRow.chain_id,
                    IndexSupplyPointRow.block_number,
                )
            ).all()
        points: list[SupplyPoint] = []
        current: dict[int, int] = {}
        for row in rows:
            current[row.chain_id] = row.raw
            at = datetime.fromtimestamp(row.timestamp, UTC)
            if points and points[-1].at == at:
                points[-1] = SupplyPoint(at, dict(current))
            else:
                points.append(SupplyPoint(at, dict(current)))
        return points

    def multiplier_history(self, ticker: str, chain_id: int | None = None) -> list[ChainMultiplier]:
        """Return the UI multiplier history of ``ticker`` per chain, as the token holds it (1.0 first)."""
        self._check_ticker(ticker)
        with self.db.transaction() as session:
            histories = self._histories(session, ticker)
        return [
            ChainMultiplier(chain, entry.multiplier, entry.effective_at, entry.block_number)
            for chain, history in sorted(histories.items())
            if chain_id is None or chain == chain_id
            for entry in history
        ]

    def wallets(self, chain_id: int) -> list[RegisteredWallet]:
        """Return the wallets bound in a chain's identity registry, with their investor's country, freeze."""
        self._check_chain(chain_id)
        with self.db.transaction() as session:
            rows = session.execute(
                select(IndexWalletRow, IndexInvestorRow)
                .outerjoin(
                    IndexInvestorRow,
                    (IndexInvestorRow.chain_id == IndexWalletRow.chain_id)
                    & (IndexInvestorRow.investor_id == IndexWalletRow.investor_id),
                )
                .where(IndexWalletRow.chain_id == chain_id)
                .order_by(IndexWalletRow.wallet)
            ).all()
        return [
            RegisteredWallet(
                chain_id,
                wallet.wallet,
                wallet.investor_id,
                investor.country if investor is not None else None,
                investor.frozen if investor is not None else False,
            )
            for wallet, investor in rows
        ]

    def feed_rounds(self, ticker: str, kind: str = "price") -> list[FeedRound]:
        """Return the rounds of ``ticker``'s ``price`` or ``reserve`` feed on every chain, oldest first."""
        self._check_ticker(ticker)
        if kind not in ("price", "reserve"):
            raise ValueError(f"feed kind must be 'price' or 'reserve', got {kind!r}")
        with self.db.transaction() as session:
            rows = session.scalars(
                select(IndexFeedRoundRow)
                .where(IndexFeedRoundRow.ticker == ticker, IndexFeedRoundRow.kind == kind)
                .order_by(IndexFeedRoundRow.chain_id, IndexFeedRoundRow.round_id)
            ).all()
        return [
            FeedRound(
                r.chain_id,
                r.ticker,
                r.kind,
                r.round_id,
                r.answer,
                r.started_at,
                r.updated_at,
                r.status,
                r.block_number,
            )
            for r in rows
        ]

    def transfers_to(
        self,
        chain_id: int,
        address: str,
        *,
        after: tuple[int, int] | None = None,
        limit: int = MAX_TRANSFERS_READ,
    ) -> list[IndexedTransfer]:
        """Return the indexed Transfers of watched ERC-20s into ``address``, in chain order.

        Only Transfers strictly after the position ``after`` = (block number, log index) are returned
        (all of them when None), at most ``limit``, and none past the chain's indexed cursor: what
        this returns is confirmed by the indexer's rule, and a later call never finds one before it
        unless a reorganisation deeper than the confirmations rewrote it.
        """
        self._check_chain(chain_id)
        receiver = checksum(address)
        if type(limit) is not int or not 1 <= limit <= MAX_TRANSFERS_READ:
            raise ValueError(f"limit must be an integer from 1 to {MAX_TRANSFERS_READ}, got {limit!r}")
        query = (
            select(IndexEventRow)
            .where(
                IndexEventRow.chain_id == chain_id,
                IndexEventRow.receiver == receiver,
                IndexEventRow.name == "Transfer",
                IndexEventRow.source.in_(_TRANSFER_SOURCES),
            )
            .order_by(IndexEventRow.block_number, IndexEventRow.log_index)
            .limit(limit)
        )
        if after is not None:
            block, log_index = _position(after)
            query = query.where(
                or_(
                    IndexEventRow.block_number > block,
                    and_(IndexEventRow.block_number == block, IndexEventRow.log_index > log_index),
                )
            )
        with self.db.transaction() as session:
            cursor = session.get(IndexCursorRow, chain_id)
            if cursor is None:
                return []
            rows = session.scalars(query.where(IndexEventRow.block_number <= cursor.block_number)).all()
        return [_transfer(row) for row in rows]

    # -- internals

    def _balances(
        self, session: Session, rows: Iterable[IndexBalanceRow], at: int | None
    ) -> list[TokenBalance]:
        histories: dict[str, dict[int, list[MultiplierEntry]]] = {}
        times: dict[int, int] = {}
        balances = []
        for row in rows:
            if row.ticker not in histories:
                histories[row.ticker] = self._histories(session, row.ticker)
            if at is None and row.chain_id not in times:
                cursor = session.get(IndexCursorRow, row.chain_id)
                times[row.chain_id] = cursor.block_timestamp if cursor is not None else 0
            when = at if at is not None else times[row.chain_id]
            multiplier = multiplier_at(histories[row.ticker].get(row.chain_id, []), when)
            balances.append(
                TokenBalance(
                    row.chain_id, row.ticker, row.holder, row.raw, Multiplier(multiplier).ui(row.raw)
                )
            )
        return sorted(balances, key=lambda b: (b.ticker, b.chain_id, b.holder))

    def _histories(self, session: Session, ticker: str) -> dict[int, list[MultiplierEntry]]:
        rows = session.scalars(
            select(IndexMultiplierEventRow)
            .where(IndexMultiplierEventRow.ticker == ticker)
            .order_by(IndexMultiplierEventRow.block_number, IndexMultiplierEventRow.log_index)
        ).all()
        changes: dict[int, list[MultiplierChange]] = defaultdict(list)
        for row in rows:
            changes[row.chain_id].append(
                MultiplierChange(row.kind, row.new_multiplier, row.set_at, row.effective_at, row.block_number)
            )
        with_tokens = {
            chain
            for (chain,) in session.execute(
                select(IndexSupplyRow.chain_id).where(IndexSupplyRow.ticker == ticker)
            )
        }
        return {chain: fold_history(changes.get(chain, [])) for chain in with_tokens | set(changes)}

    def _check_ticker(self, ticker: str) -> None:
        if self._tickers is not None and ticker not in self._tickers:
            known = ", ".join(sorted(self._tickers)) or "none"
            raise UnindexedTickerError(
                f"no indexed chain has a token for {ticker!r}; indexed tickers: {known}"
            )

    def _check_chain(self, chain_id: int) -> None:
        if self._chain_ids is not None and chain_id not in self._chain_ids:
            known = ", ".join(str(c) for c in sorted(self._chain_ids)) or "none"
            raise UnknownChainError(f"chain {chain_id} is not indexed; indexed chains: {known}")


def _position(after: tuple[int, int]) -> tuple[int, int]:
    if not (
        isinstance(after, tuple)
        and len(after) == 2
        and all(type(part) is int for part in after)
        and after[0] >= 0
        and after[1] >= -1
    ):
        raise ValueError(f"after must be a position (block number >= 0, log index >= -1), got {after!r}")
    return after


def _transfer(row: IndexEventRow) -> IndexedTransfer:
    args = json.loads(row.args)
    return IndexedTransfer(
        row.chain_id,
        row.block_number,
        row.log_index,
        row.tx_hash,
        row.contract,
        str(row.ticker),
        str(args["sender"]),
        str(args["receiver"]),
        int(args["value"]),
    )
