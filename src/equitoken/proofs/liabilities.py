"""The issuer's published liabilities: a tree per instrument over the indexer's holders, its holders'
proofs, and the signed reserves report that pairs it with custody.

``Liabilities(reader, issuer, secret)`` builds the tree of an instrument from
``IndexReader.holders(ticker)`` on every chain the issuer issues on, and keeps it until the indexer's
cursor moves on one of those chains; then the next call builds it again. Calls may come from many
threads (the API's): a tree is built once per cursor, and the others wait for it.

A tree reflects the indexed blocks it states (``LiabilitiesSnapshot.blocks``), never a mix: the cursors
are read before and after the holders and the supply, and the read is repeated if the indexer wrote a
batch in between. Its total is checked against the indexed supply.

The indexer may lag the chain. A report compares custody with the supply the chain reports now, so it
is signed only when the indexed supply on every chain equals the chain's current ``totalSupply``:
otherwise the liabilities root would not account for the tokens the report's outstanding figure
counts, and ``report`` refuses with ``LiabilitiesUnavailableError`` (try again after the next poll).
A transfer the indexer has not seen yet leaves the total unchanged; the served proofs then show the
balances at the stated blocks.

Given `ledger` (each exchange account's ledger balance of an instrument, read when asked), the
exchange's ledger stock balances get their own tree per instrument (`proofs.ledger`): `ledger_tree`,
`ledger_proof`, and the reserves report states its root next to the token tree's.
"""

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from equitoken.indexer.views import Cursor, IndexReader
from equitoken.issuer.chains import TokenChain, bridged_claims
from equitoken.issuer.service import Issuer
from equitoken.model.holders import HolderBalance
from equitoken.model.instrument import UnknownInstrumentError
from equitoken.proofs.errors import ProofsError
from equitoken.proofs.inclusion import InclusionProof
from equitoken.proofs.ledger import ledger_proof, ledger_tree
from equitoken.proofs.merkle_sum import MerkleSumTree
from equitoken.proofs.reserves_report import ReservesReport, SignedReport, sign_report

DEFAULT_ISSUER_NAME = "Equitoken Issuer Ltd"
_CONSISTENT_READ_ATTEMPTS = 5


class LiabilitiesUnavailableError(ProofsError):
    """The indexer has not (yet) indexed what a tree or report needs; retry after its next poll."""

    code = "liabilities_unavailable"


class UnservedChainError(ProofsError, LookupError):
    """A chain id this issuer's tokens do not live on."""

    code = "unknown_chain"


@dataclass(frozen=True)
class LiabilitiesSnapshot:
    """The liabilities tree of one instrument, the indexed block of each chain it reflects, and when
    (issuer's clock) it was built."""

    tree: MerkleSumTree
    blocks: tuple[Cursor, ...]
    supply: Mapping[int, int]
    built_at: datetime


class Liabilities:
    """Build, cache and serve the liabilities of the issuer's instruments from the indexer.

    `secret` derives the leaves' nonces (32 to 64 bytes): keep it the same for as long as published
    roots must match the proofs served. `issuer_name` and `spv_name` (with `{ticker}`) name the
    parties in reports.
    """

    def __init__(
        self,
        reader: IndexReader,
        issuer: Issuer,
        secret: bytes,
        *,
        issuer_name: str = DEFAULT_ISSUER_NAME,
        spv_name: str = "Equitoken {ticker} SPV",
        ledger: Callable[[str], Mapping[int, int]] | None = None,
    ) -> None:
        # Building an empty tree checks the secret now, not at the first request.
        MerkleSumTree.build("CHECK", [], secret)
        self.reader = reader
        self.issuer = issuer
        self.issuer_name = issuer_name
        self.spv_name = spv_name
        self._secret = secret
        self._ledger = ledger
        # Every chain the issuer issues on that the indexer follows (EVM and Solana on `up`).
        self._chains: tuple[TokenChain, ...] = tuple(c for c in issuer.chains if reader.follows(c.chain_id))
        self._snapshots: dict[str, LiabilitiesSnapshot] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    @property
    def chain_ids(self) -> tuple[int, ...]:
        """Return the chains whose holders the trees count."""
        return tuple(chain.chain_id for chain in self._chains)

    def snapshot(self, ticker: str) -> LiabilitiesSnapshot:
        """Return the tree of `ticker` at the indexer's current cursors, building it if they moved."""
        ticker = self._ticker(ticker)
        with self._lock(ticker):
            cached = self._snapshots.get(ticker)
            if cached is not None and cached.blocks == self._cursors():
                return cached
            snapshot = self._build(ticker)
            self._snapshots[ticker] = snapshot
            return snapshot

    def root(self, ticker: str) -> MerkleSumTree:
        """Return the current liabilities tree of `ticker` (its `root_hex`, `total`, `leaf_count`)."""
        return self.snapshot(ticker).tree

    def proof(self, ticker: str, chain_id: int, wallet: str) -> InclusionProof:
        """Return `wallet`'s inclusion proof on `chain_id`; raise `UnknownHolderError` if it holds none."""
        if chain_id not in self.chain_ids:
            known = ", ".join(str(c) for c in self.chain_ids)
            raise UnservedChainError(f"chain {chain_id} is not one this issuer's tokens live on ({known})")
        return InclusionProof.of(self.snapshot(ticker).tree, chain_id, wallet)

    def ledger_tree(self, ticker: str) -> MerkleSumTree | None:
        """Return the tree of the exchange's ledger balances of `ticker` now; None without a ledger."""
        ticker = self._ticker(ticker)
        return None if self._ledger is None else ledger_tree(ticker, self._ledger(ticker), self._secret)

    def ledger_proof(self, ticker: str, account: int) -> InclusionProof:
        """Return exchange account `account`'s proof of its ledger balance of `ticker`; raise
        `UnknownHolderError` if it holds none."""
        tree = self.ledger_tree(ticker)
        if tree is None:
            raise LiabilitiesUnavailableError("this issuer's liabilities count no exchange ledger balances")
        return ledger_proof(tree, account)

    def report(self, ticker: str, snapshot: LiabilitiesSnapshot | None = None) -> SignedReport:
        """Return the reserves report of `ticker` with `snapshot`'s tree (default: the current one),
        signed by the issuer's attester.

        Raise `LiabilitiesUnavailableError` while the indexed supply differs from the chain's.
        """
        ticker = self._ticker(ticker)
        # A snapshot of another instrument is refused by `ReservesReport.of`.
        snapshot = snapshot or self.snapshot(ticker)
        before = self._live_supply(ticker)
        reconciliation = self.issuer.reconcile()
        after = self._live_supply(ticker)
        for chain_id, live in after.items():
            indexed = snapshot.supply.get(chain_id, 0)
            if before[chain_id] != live:
                raise LiabilitiesUnavailableError(
                    f"{ticker}'s supply on chain {chain_id} changed while the report was read; retry"
                )
            if indexed != live:
                block = next(c.block_number for c in snapshot.blocks if c.chain_id == chain_id)
                raise LiabilitiesUnavailableError(
                    f"{ticker} on chain {chain_id}: the indexer is at block {block} with a supply of "
                    f"{indexed} raw units, the chain now has {live}; retry after the indexer's next poll"
                )
        holding = next(h for h in reconciliation.holdings if h.ticker == ticker)
        ledger = self.ledger_tree(ticker)
        report = ReservesReport.of(
            holding,
            snapshot.tree,
            issuer=self.issuer_name,
            spv=self.spv_name.format(ticker=ticker),
            as_of=self.issuer.clock.now(),
            ledger_tree=ledger if ledger is not None and ledger.leaf_count else None,
        )
        onchain = self.issuer.onchain
        return sign_report(report, onchain.chain.signers, onchain.roles.attester)

    def _build(self, ticker: str) -> LiabilitiesSnapshot:
        for _ in range(_CONSISTENT_READ_ATTEMPTS):
            blocks = self._cursors()
            holders = [
                HolderBalance(b.chain_id, b.holder, b.raw)
                for b in self.reader.holders(ticker)
                if b.chain_id in self.chain_ids and b.raw
            ]
            supply = {s.chain_id: s.raw for s in self.reader.supply(ticker) if s.chain_id in self.chain_ids}
            in_flight = self._in_flight(ticker)
            if self._cursors() == blocks:
                break
        else:
            raise LiabilitiesUnavailableError(
                f"the indexer wrote a batch during each of {_CONSISTENT_READ_ATTEMPTS} reads of "
                f"{ticker}'s holders; retry"
            )
        tree = MerkleSumTree.build(ticker, _merged(holders + in_flight), self._secret)
        owed = sum(supply.values()) + sum(c.raw for c in in_flight)
        if tree.total != owed:
            raise LiabilitiesUnavailableError(
                f"the indexed {ticker} balances and transfers in flight add up to {tree.total} raw units "
                f"but the indexed supply and the bridge's records to {owed}: the index is inconsistent; "
                "reindex the chain"
            )
        return LiabilitiesSnapshot(tree, blocks, supply, self.issuer.clock.now())

    def _in_flight(self, ticker: str) -> list[HolderBalance]:
        decimals = self.issuer.instruments[ticker].token_decimals
        with self.issuer.db.transaction() as session:
            claims = bridged_claims(session, self._chains, ticker, decimals)
        return [c for c in claims if c.chain_id in self.chain_ids]

    def _cursors(self) -> tuple[Cursor, ...]:
        cursors = []
        for chain_id in self.chain_ids:
            cursor = self.reader.cursor(chain_id)
            if cursor is None:
                raise LiabilitiesUnavailableError(
                    f"the indexer has not indexed chain {chain_id} yet; retry after its first poll"
                )
            cursors.append(cursor)
        return tuple(cursors)

    def _live_supply(self, ticker: str) -> dict[int, int]:
        return {chain.chain_id: chain.supply(ticker) for chain in self._chains if ticker in chain.tickers}

    def _ticker(self, ticker: str) -> str:
        symbol = ticker.upper() if isinstance(ticker, str) else ticker
        if not any(symbol in chain.tickers for chain in self._chains):
            raise UnknownInstrumentError(f"no instrument {ticker!r} is issued here")
        return symbol

    def _lock(self, ticker: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(ticker, threading.Lock())


def _merged(balances: list[HolderBalance]) -> list[HolderBalance]:
    """Return one balance per holder and chain: a receiver's leaf counts what is on its way to it."""
    merged: dict[tuple[int, str], int] = {}
    for balance in balances:
        key = (balance.chain_id, balance.holder)
        merged[key] = merged.get(key, 0) + balance.raw
    return [HolderBalance(chain_id, holder, raw) for (chain_id, holder), raw in merged.items()]
