"""Follow the stock mints of a local Solana into the store the EVM chains are indexed into.

Each confirmed transaction's Token-2022 instructions on a watched mint become the events the
projection already knows: a mint, burn or transfer is a `Transfer` between the wallets owning the
token accounts (the zero address standing for none, as on EVM), a ScaledUiAmount `UpdateMultiplier`
is a `UIMultiplierUpdated`; freezes and thaws are journaled. So balances, supply, supply points and
the multiplier history of Solana read like any chain's. A batch and the cursor that says it was
applied are written in one database transaction.

A slot is the block here: LiteSVM has one transaction per slot and never forks, so a slot's hash is
its number, and the confirmation rule is `confirmations` slots (0 on the local chain). Instructions
run through another program (CPI) are not seen: the issuer's agents and wallets call Token-2022
directly.
"""

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction
from sqlalchemy import select
from sqlalchemy.orm import Session

from equitoken.chain.confirmation import confirmed_head
from equitoken.chain.solana.chain import Landed
from equitoken.chain.solana.deployment import SolanaDeployment
from equitoken.chain.solana.litesvm import LiteSvmChain
from equitoken.chain.solana.token2022 import TOKEN_2022_PROGRAM_ID, TokenInstruction
from equitoken.indexer.errors import IndexerConfigError
from equitoken.indexer.projection import ZERO_ADDRESS, apply_events
from equitoken.indexer.sources import ChainEvent, Contract, Source
from equitoken.model.multiplier import MULTIPLIER_ONE, Multiplier
from equitoken.store.database import Database
from equitoken.store.schema import IndexCursorRow, IndexMultiplierEventRow

GENESIS = "solana:litesvm"
# Where each instruction followed names its mint among its accounts.
_MINT_AT: Mapping[int, int] = {
    TokenInstruction.TRANSFER_CHECKED: 1,
    TokenInstruction.MINT_TO_CHECKED: 0,
    TokenInstruction.BURN_CHECKED: 1,
    TokenInstruction.FREEZE_ACCOUNT: 1,
    TokenInstruction.THAW_ACCOUNT: 1,
    TokenInstruction.SCALED_UI_AMOUNT: 0,
}
_UPDATE_MULTIPLIER = 1  # ScaledUiAmount's instruction group: 0 initialise, 1 update the multiplier


@dataclass(frozen=True)
class IndexedSolana:
    """A local Solana to index: the chain, its stock mints, and how many slots must follow one."""

    chain: LiteSvmChain
    deployment: SolanaDeployment
    confirmations: int = 0

    def __post_init__(self) -> None:
        if self.confirmations < 0:
            raise IndexerConfigError(f"confirmations must be 0 or more, got {self.confirmations}")

    @property
    def chain_id(self) -> int:
        return self.deployment.chain_id

    @property
    def tickers(self) -> list[str]:
        return self.deployment.tickers


@dataclass(frozen=True)
class SolanaProgress:
    """What one poll did on the Solana chain."""

    chain_id: int
    head: int
    indexed_to: int | None
    events: int


class SolanaFollower:
    """Index one `IndexedSolana` into `database`."""

    def __init__(self, database: Database, indexed: IndexedSolana) -> None:
        self.db = database
        self.indexed = indexed
        self._mints = {str(mint): ticker for ticker, mint in indexed.deployment.mints.items()}
        self._owners: dict[Pubkey, str] = {}

    def poll(self) -> SolanaProgress:
        """Index the transactions of the slots confirmed since the last poll."""
        chain, chain_id = self.indexed.chain, self.indexed.chain_id
        with self.db.transaction() as session:
            cursor = session.get(IndexCursorRow, chain_id)
            after = -1 if cursor is None else cursor.block_number
        # The current slot is still open (the next transaction lands in it): slots before it are done.
        head = chain.slot() - 1
        last = confirmed_head(head, self.indexed.confirmations)
        if last <= after:
            return SolanaProgress(chain_id, head, None if cursor is None else after, 0)
        history = chain.history(after, last)
        with self.db.transaction() as session:
            multipliers = self._multipliers(session)
            events = [e for landed, tx in history for e in self._events(landed, tx, multipliers)]
            timestamps = {landed.slot: landed.unix_timestamp for landed, _ in history}
            end_time = timestamps.get(last, chain.timestamp())
            if cursor is None:
                session.add(
                    IndexCursorRow(
                        chain_id=chain_id,
                        genesis_hash=GENESIS,
                        block_number=last,
                        block_hash=_slot_hash(last),
                        block_timestamp=end_time,
                    )
                )
            else:
                stored = session.get(IndexCursorRow, chain_id, with_for_update=True)
                assert stored is not None
                if stored.block_number != after:
                    return SolanaProgress(chain_id, head, stored.block_number, 0)  # another poll won
                stored.block_number, stored.block_hash, stored.block_timestamp = (
                    last,
                    _slot_hash(last),
                    end_time,
                )
            apply_events(session, events, timestamps)
        return SolanaProgress(chain_id, head, last, len(events))

    def _multipliers(self, session: Session) -> dict[str, int]:
        """Return each mint's newest indexed multiplier (what an update's `old` is)."""
        rows = session.scalars(
            select(IndexMultiplierEventRow)
            .where(IndexMultiplierEventRow.chain_id == self.indexed.chain_id)
            .order_by(IndexMultiplierEventRow.block_number, IndexMultiplierEventRow.log_index)
        )
        newest = dict.fromkeys(self._mints, MULTIPLIER_ONE)
        for row in rows:
            newest[row.token] = row.new_multiplier
        return newest

    def _events(
        self, landed: Landed, transaction: VersionedTransaction, multipliers: dict[str, int]
    ) -> list[ChainEvent]:
        message = transaction.message
        keys = message.account_keys
        events = []
        for index, instruction in enumerate(message.instructions):
            if keys[instruction.program_id_index] != TOKEN_2022_PROGRAM_ID:
                continue
            accounts = [keys[a] for a in instruction.accounts]
            decoded = self._decode(bytes(instruction.data), accounts, landed, multipliers)
            if decoded is None:
                continue
            mint, name, args = decoded
            contract = Contract(mint, Source.TOKEN, self._mints[mint])
            events.append(
                ChainEvent(
                    self.indexed.chain_id,
                    landed.slot,
                    _slot_hash(landed.slot),
                    landed.signature,
                    index,
                    contract,
                    name,
                    args,
                )
            )
        return events

    def _decode(
        self, data: bytes, accounts: Sequence[Pubkey], landed: Landed, multipliers: dict[str, int]
    ) -> tuple[str, str, Mapping[str, Any]] | None:
        """Return (mint, event name, arguments) for an instruction on a watched mint, else None."""
        kind = data[0] if data else -1
        mint_at = _MINT_AT.get(kind)
        if mint_at is None or len(accounts) <= mint_at or str(accounts[mint_at]) not in self._mints:
            return None
        mint = str(accounts[mint_at])
        if kind == TokenInstruction.SCALED_UI_AMOUNT:
            if data[1] != _UPDATE_MULTIPLIER:
                return None
            double, effective = struct.unpack_from("<dq", data, 2)
            new = Multiplier.from_double(double).value
            old, multipliers[mint] = multipliers[mint], new
            args = {
                "oldMultiplier": old,
                "newMultiplier": new,
                "setAtTimestamp": landed.unix_timestamp,
                "effectiveAtTimestamp": effective,
            }
            return mint, "UIMultiplierUpdated", args
        if kind in (TokenInstruction.FREEZE_ACCOUNT, TokenInstruction.THAW_ACCOUNT):
            name = "AccountFrozen" if kind == TokenInstruction.FREEZE_ACCOUNT else "AccountThawed"
            return mint, name, {"holder": self._owner(accounts[0])}
        (value,) = struct.unpack_from("<Q", data, 1)
        if kind == TokenInstruction.MINT_TO_CHECKED:
            sender, receiver = ZERO_ADDRESS, self._owner(accounts[1])
        elif kind == TokenInstruction.BURN_CHECKED:
            sender, receiver = self._owner(accounts[0]), ZERO_ADDRESS
        else:
            sender, receiver = self._owner(accounts[0]), self._owner(accounts[2])
        return mint, "Transfer", {"sender": sender, "receiver": receiver, "value": value}

    def _owner(self, account: Pubkey) -> str:
        """Return the wallet owning a token account (it never changes here: no SetAuthority is sent)."""
        if account not in self._owners:
            state = self.indexed.chain.token_account(account)
            self._owners[account] = str(account) if state is None else str(state.owner)
        return self._owners[account]


def _slot_hash(slot: int) -> str:
    return f"slot:{slot}"
