"""Follow the token, settlement-token, registry and feed events of every configured chain into the store.

``poll`` indexes, on each chain, the blocks buried under ``confirmations`` newer ones, in batches of at
most ``batch_blocks`` blocks. A batch is read from the node first, then written in one database
transaction together with the new cursor (block number and hash), so a process killed at any point
either wrote the whole batch or nothing, and replays it.

Before each batch the stored hash of the cursor's block is compared with the node's. If they differ
(a reorganisation, or a node restarted from an older state), the indexer walks back over the block
hashes it kept to the newest block both agree on, undoes everything derived from later blocks, and
carries on from there. A node whose genesis block differs is another chain: ``ChainReplacedError``,
nothing changed.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from equitoken.chain.confirmation import confirmed_head
from equitoken.chain.errors import ChainError
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.records import BlockHeader
from equitoken.indexer.errors import ChainReplacedError, IndexerConfigError
from equitoken.indexer.projection import apply_events, forget_chain, undo_after
from equitoken.indexer.solana import IndexedSolana, SolanaFollower
from equitoken.indexer.sources import ChainEvent, IndexedChain, WatchedContracts
from equitoken.indexer.views import IndexReader
from equitoken.model.address import checksum
from equitoken.store.database import Database
from equitoken.store.schema import IndexBlockRow, IndexCursorRow

_ATTEMPTS = 3  # reads of one batch that may be spoilt by the chain moving under them


@dataclass(frozen=True)
class Reorg:
    """A reorganisation (or a node that lost blocks) undone on a chain."""

    chain_id: int
    indexed_block: int
    common_ancestor: int
    events_undone: int


@dataclass(frozen=True)
class ChainProgress:
    """What one poll did on one chain."""

    chain_id: int
    head: int
    indexed_to: int | None
    batches: int = 0
    events: int = 0
    reorgs: tuple[Reorg, ...] = ()
    caught_up: bool = True


@dataclass(frozen=True)
class IndexReport:
    """What one poll did, per chain."""

    chains: tuple[ChainProgress, ...] = field(default_factory=tuple)

    @property
    def events(self) -> int:
        """Return how many events the poll indexed on all chains."""
        return sum(c.events for c in self.chains)

    @property
    def caught_up(self) -> bool:
        """Return whether every chain is indexed up to its confirmed head."""
        return all(c.caught_up for c in self.chains)


@dataclass(frozen=True)
class _Batch:
    first: int
    last: BlockHeader
    events: list[ChainEvent]
    timestamps: dict[int, int]
    hashes: dict[int, str]


class _ChainMovedError(Exception):
    """The node's chain changed while a batch was read; read it again."""


class Indexer(IndexReader):
    """Index every chain in ``chains`` into ``database``; the reads come from :class:`IndexReader`."""

    def __init__(
        self, database: Database, chains: Sequence[IndexedChain], solana: Sequence[IndexedSolana] = ()
    ) -> None:
        ids = [c.chain_id for c in chains] + [s.chain_id for s in solana]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise IndexerConfigError(f"chain {duplicates[0]} is given twice: index each chain once")
        tickers = {i.ticker for c in chains for i in c.deployment.instruments}
        tickers |= {t for s in solana for t in s.tickers}
        super().__init__(database, tickers=tickers, chain_ids=ids)
        self.chains = tuple(chains)
        self.solana = tuple(SolanaFollower(database, s) for s in solana)
        self._watched = {c.chain_id: WatchedContracts(c.deployment, c.settlement_tokens) for c in chains}

    def follows_transfers_of(self, chain_id: int, token: str) -> bool:
        """Return whether the Transfers of the ERC-20 at ``token`` on ``chain_id`` are journaled."""
        watched = self._watched.get(chain_id)
        if watched is None:
            return False
        address = checksum(token)
        return address in watched.tokens.values() or address in watched.settlement_tokens.values()

    def poll(self, max_batches: int | None = None) -> IndexReport:
        """Index the newly confirmed blocks of every chain (at most ``max_batches`` batches per chain)."""
        progress = [self._poll_chain(c, max_batches) for c in self.chains]
        for follower in self.solana:
            done = follower.poll()
            progress.append(
                ChainProgress(done.chain_id, done.head, done.indexed_to, int(done.events > 0), done.events)
            )
        return IndexReport(tuple(progress))

    def reset(self, chain_id: int) -> None:
        """Forget everything indexed of ``chain_id``, so the next poll indexes it from its start block."""
        self._check_chain(chain_id)
        with self.db.transaction() as session:
            forget_chain(session, chain_id)
            session.execute(delete(IndexCursorRow).where(IndexCursorRow.chain_id == chain_id))

    # -- one chain

    def _poll_chain(self, indexed: IndexedChain, max_batches: int | None) -> ChainProgress:
        chain = indexed.chain
        if chain.chain_id != indexed.chain_id:
            raise IndexerConfigError(
                f"the node serves chain {chain.chain_id}, but the deployment is on chain {indexed.chain_id}"
            )
        batches = events = 0
        reorgs: list[Reorg] = []
        attempts = 0
        while True:
            cursor = self._stored_cursor(indexed.chain_id)
            head = chain.block_number()
            if cursor is not None and not self._still_on_chain(chain, cursor, head):
                reorg = self._undo_reorg(indexed, cursor, head)
                if reorg is not None:
                    reorgs.append(reorg)
                continue
            indexed_to = cursor.block_number if cursor is not None else None
            first = indexed.start_block if indexed_to is None else indexed_to + 1
            confirmed = confirmed_head(head, indexed.confirmations)
            if first > confirmed:
                return ChainProgress(indexed.chain_id, head, indexed_to, batches, events, tuple(reorgs))
            if max_batches is not None and batches >= max_batches:
                return ChainProgress(
                    indexed.chain_id, head, indexed_to, batches, events, tuple(reorgs), False
                )
            last = min(confirmed, first + indexed.batch_blocks - 1)
            try:
                batch = self._read_batch(indexed, cursor, first, last)
                self._write_batch(indexed, cursor, batch)
            except _ChainMovedError:
                attempts += 1
                if attempts >= _ATTEMPTS:
                    return ChainProgress(
                        indexed.chain_id, head, indexed_to, batches, events, tuple(reorgs), False
                    )
                continue
            batches += 1
            events += len(batch.events)

    def _stored_cursor(self, chain_id: int) -> IndexCursorRow | None:
        with self.db.transaction() as session:
            return session.get(IndexCursorRow, chain_id)

    def _still_on_chain(self, chain: EvmChain, cursor: IndexCursorRow, head: int) -> bool:
        if cursor.block_number > head:
            return False
        return chain.block_header(cursor.block_number).hash == cursor.block_hash

    def _read_batch(
        self, indexed: IndexedChain, cursor: IndexCursorRow | None, first: int, last: int
    ) -> _Batch:
        chain, watched = indexed.chain, self._watched[indexed.chain_id]
        end = chain.block_header(last)
        events = watched.decode(chain.get_raw_logs(watched.addresses, (), first, last))
        headers = {last: end}
        for number in sorted({e.block_number for e in events} - {last}):
            headers[number] = chain.block_header(number)
        # The logs, the headers and the cursor's block must all come from the chain as it is now.
        if any(e.block_hash and e.block_hash != headers[e.block_number].hash for e in events):
            raise _ChainMovedError
        if chain.block_header(last).hash != end.hash:
            raise _ChainMovedError
        if cursor is not None and chain.block_header(cursor.block_number).hash != cursor.block_hash:
            raise _ChainMovedError
        stamped = [e if e.block_hash else _with_hash(e, headers[e.block_number].hash) for e in events]
        return _Batch(
            first,
            end,
            stamped,
            {n: h.timestamp for n, h in headers.items()},
            {n: h.hash for n, h in headers.items()},
        )

    def _write_batch(self, indexed: IndexedChain, cursor: IndexCursorRow | None, batch: _Batch) -> None:
        chain_id, end = indexed.chain_id, batch.last
        with self.db.transaction() as session:
            if cursor is None:
                session.add(
                    IndexCursorRow(
                        chain_id=chain_id,
                        genesis_hash=indexed.chain.block_header(0).hash,
                        block_number=end.number,
                        block_hash=end.hash,
                        block_timestamp=end.timestamp,
                    )
                )
                try:
                    session.flush()
                except IntegrityError as exc:
                    raise _ChainMovedError from exc  # another indexer wrote the first batch meanwhile
            else:
                # Compare-and-set: if another indexer moved the cursor first, this batch is dropped.
                moved = session.execute(
                    update(IndexCursorRow)
                    .where(
                        IndexCursorRow.chain_id == chain_id,
                        IndexCursorRow.block_number == cursor.block_number,
                        IndexCursorRow.block_hash == cursor.block_hash,
                    )
                    .values(block_number=end.number, block_hash=end.hash, block_timestamp=end.timestamp)
                )
                if moved.rowcount != 1:  # type: ignore[attr-defined]
                    raise _ChainMovedError
            apply_events(session, batch.events, batch.timestamps)
            for number, block_hash in batch.hashes.items():
                session.merge(
                    IndexBlockRow(
                        chain_id=chain_id, number=number, hash=block_hash, timestamp=batch.timestamps[number]
                    )
                )
            session.execute(
                delete(IndexBlockRow).where(
                    IndexBlockRow.chain_id == chain_id,
                    IndexBlockRow.number < end.number - indexed.reorg_window,
                )
            )

    def _undo_reorg(self, indexed: IndexedChain, cursor: IndexCursorRow, head: int) -> Reorg | None:
        chain, chain_id = indexed.chain, indexed.chain_id
        genesis = chain.block_header(0).hash
        if genesis != cursor.genesis_hash:
            raise ChainReplacedError(
                f"chain {chain_id}: the node's genesis block is {genesis}, the indexed chain's was "
                f"{cursor.genesis_hash}; it is another chain (a node started afresh?). Nothing was changed; "
                f"call reset({chain_id}) to index the new chain from block {indexed.start_block}"
            )
        with self.db.transaction() as session:
            kept = session.scalars(
                select(IndexBlockRow)
                .where(IndexBlockRow.chain_id == chain_id, IndexBlockRow.number <= cursor.block_number)
                .order_by(IndexBlockRow.number.desc())
            ).all()
        ancestor: IndexBlockRow | None = None
        for block in kept:
            if block.number <= head and _hash_at(chain, block.number) == block.hash:
                ancestor = block
                break
        with self.db.transaction() as session:
            current = session.get(IndexCursorRow, chain_id)
            if current is None or (current.block_number, current.block_hash) != (
                cursor.block_number,
                cursor.block_hash,
            ):
                return None  # another indexer got here first; the next round of the loop sees its work
            if ancestor is None:
                # Parted deeper than the hashes kept reach: index the chain again from the start.
                undone = undo_after(session, chain_id, -1)
                forget_chain(session, chain_id)
                session.delete(current)
                return Reorg(chain_id, cursor.block_number, indexed.start_block - 1, undone)
            undone = undo_after(session, chain_id, ancestor.number)
            current.block_number = ancestor.number
            current.block_hash = ancestor.hash
            current.block_timestamp = ancestor.timestamp
            return Reorg(chain_id, cursor.block_number, ancestor.number, undone)


def _hash_at(chain: EvmChain, number: int) -> str | None:
    try:
        return chain.block_header(number).hash
    except ChainError:
        return None  # the node no longer has that block


def _with_hash(event: ChainEvent, block_hash: str) -> ChainEvent:
    return ChainEvent(
        event.chain_id,
        event.block_number,
        block_hash,
        event.tx_hash,
        event.log_index,
        event.contract,
        event.name,
        event.args,
    )
