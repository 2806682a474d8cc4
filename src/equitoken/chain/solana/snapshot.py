"""The local Solana's state on disk: the accounts the platform's transactions touch, and the clock.

LiteSVM keeps its accounts in memory and has no save or restore, so `LiteSvmChain` writes every
account a confirmed transaction touched here, in one SQLite transaction with the clock, and loads
them all on start. Only accounts owned by the system, Token, Token-2022 and Associated Token
Account programs are kept: the programs themselves and the sysvars come with LiteSVM.
"""

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from solders.account import Account
from solders.pubkey import Pubkey

from equitoken.chain.solana.chain import Landed
from equitoken.chain.solana.token2022 import (
    ASSOCIATED_TOKEN_PROGRAM_ID,
    SYSTEM_PROGRAM_ID,
    TOKEN_2022_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
)

KEPT_OWNERS = frozenset(
    {SYSTEM_PROGRAM_ID, TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID, ASSOCIATED_TOKEN_PROGRAM_ID}
)

_SCHEMA = """
create table if not exists accounts (
    address blob primary key,
    lamports integer not null,
    data blob not null,
    owner blob not null,
    executable integer not null,
    rent_epoch integer not null
);
create table if not exists transactions (
    signature text primary key,
    slot integer not null,
    unix_timestamp integer not null,
    compute_units integer not null,
    raw blob not null
);
create table if not exists clock (
    id integer primary key check (id = 1),
    slot integer not null,
    unix_timestamp integer not null,
    blockhashes integer not null
);
"""


@dataclass(frozen=True, slots=True)
class SavedClock:
    """Where the chain stood at the last save: its slot, unix time, and how often its blockhash changed."""

    slot: int
    unix_timestamp: int
    blockhashes: int


class SvmSnapshot:
    """Accounts and clock of one local Solana, in an SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("pragma journal_mode = wal")
        self._db.execute("pragma synchronous = full")
        self._db.executescript(_SCHEMA)

    def save(
        self,
        accounts: Iterable[tuple[Pubkey, Account | None]],
        slot: int,
        unix_timestamp: int,
        blockhashes: int,
        landed: Landed | None = None,
        raw: bytes = b"",
    ) -> None:
        """Write the accounts (None: closed), the clock and the transaction (`raw`, as signed) that
        changed them, at once."""
        rows = []
        closed = []
        for address, account in accounts:
            if account is None or account.lamports == 0:
                closed.append((bytes(address),))
            elif account.owner in KEPT_OWNERS and not account.executable:
                rows.append(
                    (
                        bytes(address),
                        account.lamports,
                        bytes(account.data),
                        bytes(account.owner),
                        0,
                        account.rent_epoch,
                    )
                )
        with self._db:
            self._db.execute("begin immediate")
            self._db.executemany("delete from accounts where address = ?", closed)
            self._db.executemany("insert or replace into accounts values (?, ?, ?, ?, ?, ?)", rows)
            self._db.execute(
                "insert or replace into clock values (1, ?, ?, ?)", (slot, unix_timestamp, blockhashes)
            )
            if landed is not None:
                self._db.execute(
                    "insert into transactions values (?, ?, ?, ?, ?)",
                    (landed.signature, landed.slot, landed.unix_timestamp, landed.compute_units, raw),
                )

    def load(self) -> tuple[list[tuple[Pubkey, Account]], SavedClock | None]:
        """Return every kept account and the clock of the last save, if any."""
        accounts = [
            (
                Pubkey.from_bytes(address),
                Account(lamports, data, Pubkey.from_bytes(owner), bool(executable), rent_epoch),
            )
            for address, lamports, data, owner, executable, rent_epoch in self._db.execute(
                "select address, lamports, data, owner, executable, rent_epoch from accounts"
            )
        ]
        row = self._db.execute("select slot, unix_timestamp, blockhashes from clock").fetchone()
        return accounts, SavedClock(*row) if row is not None else None

    def landed(self) -> list[Landed]:
        """Return every confirmed transaction, oldest first."""
        rows = self._db.execute(
            "select signature, slot, unix_timestamp, compute_units from transactions order by slot"
        )
        return [Landed(*row) for row in rows]

    def raw_transaction(self, signature: str) -> bytes | None:
        """Return the confirmed transaction with `signature` as it was signed, or None."""
        row = self._db.execute("select raw from transactions where signature = ?", (signature,)).fetchone()
        return None if row is None else bytes(row[0])

    def close(self) -> None:
        self._db.close()
