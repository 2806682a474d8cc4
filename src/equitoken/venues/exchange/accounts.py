"""The exchange's accounts: each account's balance of each asset, split into available and locked.

Glossary and invariants:
- asset: `USDC` (in USDC units, 10^-6 dollar), an instrument's symbol (in the token's smallest units),
  or a ledger stock asset such as `AAPL.L` (in 10^-9 share; see `ledger_assets`).
- available: what the account may trade or withdraw; locked: what its open orders hold.
- a deposit is credited once per `deposit_id`, a withdrawal debited once per `withdrawal_id`; both
  are journaled before they change a balance, so a restart replays exactly the transfers made.
- settlement with the issuer: a `credit` (ledger shares bought, USDC proceeds or refunds) or a
  `debit` (USDC paid for ledger shares, ledger shares sold) under its own id, journaled like a
  deposit. A ledger asset moves in or out of the exchange only this way: it has no token, so a
  deposit or withdrawal of it is refused with `NoTokenError`.
- per asset, the sum of every account's available + locked (the fees account included) equals
  what was deposited minus what was withdrawn plus what the issuer credited minus what it debited:
  trades only move value between accounts.
- no balance is ever negative: a transfer or lock that would make one negative is refused and
  changes nothing.

Deposits are credited when the caller says the chain confirmed them; the on-chain watcher that
will call `credit_deposit` is not built yet, nor the sender of withdrawals.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple, Self

from equitoken.model.errors import EquitokenError, InsufficientFundsError
from equitoken.venues.exchange.journal import frame, read_frames
from equitoken.venues.exchange.ledger_assets import is_ledger_asset

USDC = "USDC"
FEES_ACCOUNT = -1
"""The venue's own account: every fee is credited to it. It cannot trade or take deposits."""

MAGIC = b"EQLEDGER v1\n"
_MAX_RECORD = 1 << 16
MAX_TRANSFER_ID_LENGTH = 80


class AccountsError(EquitokenError, ValueError):
    """A refused deposit, withdrawal or lock; nothing changed."""

    code = "accounts_error"


class UnknownAssetError(AccountsError):
    """An asset the exchange does not hold."""

    code = "unknown_asset"


class InvalidTransferError(AccountsError):
    """A transfer with a bad account, amount or id; the message names the field."""

    code = "invalid_transfer"


class NoTokenError(AccountsError):
    """A deposit or withdrawal of a ledger stock asset, which exists only in the exchange's accounts."""

    code = "ledger_asset_has_no_token"


class ConflictingTransferError(AccountsError):
    """A deposit or withdrawal id already used for another transfer."""

    code = "conflicting_transfer"


class LedgerJournalError(EquitokenError, RuntimeError):
    """A ledger journal that cannot be read."""


class Balance(NamedTuple):
    """One account's holding of one asset."""

    available: int
    locked: int

    @property
    def total(self) -> int:
        """Return available plus locked."""
        return self.available + self.locked


class Transfer(NamedTuple):
    """A transfer as journaled: `kind` is "deposit" or "withdrawal" (on-chain), "credit" or "debit"
    (settlement with the issuer)."""

    kind: str
    transfer_id: str
    account: int
    asset: str
    amount: int


@dataclass(slots=True)
class _Holding:
    available: int = 0
    locked: int = 0


class Accounts:
    """Hold every account's balances; deposits and withdrawals go through an optional ledger journal."""

    def __init__(self, assets: list[str], journal: "LedgerJournal | None" = None) -> None:
        if USDC not in assets or len(set(assets)) != len(assets):
            raise ValueError(f"assets {assets!r} must include {USDC} once and have no repeats")
        self.assets = tuple(assets)
        self._journal = journal
        self._holdings: dict[tuple[int, str], _Holding] = {}
        self._transfers: dict[tuple[str, str], Transfer] = {}
        self._deposited = dict.fromkeys(assets, 0)
        self._withdrawn = dict.fromkeys(assets, 0)
        self._credited = dict.fromkeys(assets, 0)
        self._debited = dict.fromkeys(assets, 0)

    @classmethod
    def open(cls, path: Path, assets: list[str], fsync: bool = True) -> Self:
        """Replay the ledger journal at `path` (creating it if absent) and continue it."""
        transfers, end = read_ledger(path) if path.exists() else ([], 0)
        accounts = cls(assets, None)
        for transfer in transfers:
            accounts._check_asset(transfer.asset)
            accounts._record(transfer)
        accounts._journal = LedgerJournal.open(path, end, fsync)
        return accounts

    # Transfers

    def credit_deposit(self, account: int, asset: str, amount: int, deposit_id: str) -> bool:
        """Credit a deposit the chain confirmed; return False if `deposit_id` was already credited."""
        _check_trader(account)
        _check_token(asset, "deposited")
        return self._transfer(Transfer("deposit", deposit_id, account, asset, amount))

    def request_withdrawal(self, account: int, asset: str, amount: int, withdrawal_id: str) -> bool:
        """Debit a withdrawal from the available balance; return False if its id was already debited."""
        if account != FEES_ACCOUNT:
            _check_trader(account)
        _check_token(asset, "withdrawn")
        return self._debit(Transfer("withdrawal", withdrawal_id, account, asset, amount), "withdraw")

    # Settlement with the issuer (called by the ledger desk, `ledger.LedgerDesk`)

    def credit(self, account: int, asset: str, amount: int, transfer_id: str) -> bool:
        """Credit what the issuer settled to `account` (ledger shares, USDC); False if `transfer_id` was
        already credited."""
        _check_trader(account)
        return self._transfer(Transfer("credit", transfer_id, account, asset, amount))

    def debit(self, account: int, asset: str, amount: int, transfer_id: str) -> bool:
        """Debit what `account` settles with the issuer from its available balance; False if
        `transfer_id` was already debited."""
        _check_trader(account)
        return self._debit(Transfer("debit", transfer_id, account, asset, amount), "pay")

    # Locks and settlement (called by the engine)

    def require_available(self, account: int, asset: str, amount: int) -> None:
        """Raise InsufficientFundsError unless `account` has `amount` of `asset` available."""
        available = self._holding(account, asset).available
        if amount > available:
            raise InsufficientFundsError(
                f"account {account} has {available} {asset} available; the order needs {amount}"
            )

    def move(self, account: int, asset: str, available: int, locked: int) -> None:
        """Add `available` and `locked` (either may be negative) to a balance the engine has checked."""
        holding = self._holding(account, asset)
        holding.available += available
        holding.locked += locked

    # Queries

    def balance(self, account: int, asset: str) -> Balance:
        """Return `account`'s balance of `asset` (zero if it never held any)."""
        self._check_asset(asset)
        holding = self._holdings.get((account, asset))
        return Balance(0, 0) if holding is None else Balance(holding.available, holding.locked)

    def balances(self) -> dict[tuple[int, str], Balance]:
        """Return every non-zero balance, keyed by (account, asset)."""
        return {
            key: Balance(h.available, h.locked)
            for key, h in sorted(self._holdings.items())
            if h.available or h.locked
        }

    def deposited(self, asset: str) -> int:
        """Return everything ever deposited of `asset`."""
        self._check_asset(asset)
        return self._deposited[asset]

    def withdrawn(self, asset: str) -> int:
        """Return everything ever withdrawn of `asset`."""
        self._check_asset(asset)
        return self._withdrawn[asset]

    def credited(self, asset: str) -> int:
        """Return everything the issuer ever credited of `asset`."""
        self._check_asset(asset)
        return self._credited[asset]

    def debited(self, asset: str) -> int:
        """Return everything ever debited of `asset` to settle with the issuer."""
        self._check_asset(asset)
        return self._debited[asset]

    def total(self, asset: str) -> int:
        """Return the sum of every account's available and locked `asset`."""
        return sum(h.available + h.locked for (_, a), h in self._holdings.items() if a == asset)

    def snapshot(self) -> bytes:
        """Return every balance and transfer total as canonical bytes: equal ledgers give equal bytes."""
        state: dict[str, object] = {
            "balances": [[account, asset, *balance] for (account, asset), balance in self.balances().items()],
            "deposited": self._deposited,
            "withdrawn": self._withdrawn,
        }
        # Settlement totals appear once there are any, so ledgers from before them keep their bytes.
        if any(self._credited.values()) or any(self._debited.values()):
            state["credited"] = self._credited
            state["debited"] = self._debited
        return json.dumps(state, separators=(",", ":"), sort_keys=True).encode()

    def close(self) -> None:
        """Close the ledger journal."""
        if self._journal is not None:
            self._journal.close()

    def _debit(self, transfer: Transfer, verb: str) -> bool:
        if (transfer.kind, transfer.transfer_id) not in self._transfers:
            self._check_asset(transfer.asset)
            _check_amount(transfer.amount)
            available = self._holding(transfer.account, transfer.asset).available
            if transfer.amount > available:
                raise InsufficientFundsError(
                    f"account {transfer.account} has {available} {transfer.asset} available, "
                    f"less than the {transfer.amount} to {verb}"
                )
        return self._transfer(transfer)

    def _transfer(self, transfer: Transfer) -> bool:
        if not isinstance(transfer.transfer_id, str) or not (
            0 < len(transfer.transfer_id) <= MAX_TRANSFER_ID_LENGTH and transfer.transfer_id.isprintable()
        ):
            raise InvalidTransferError(
                f"{transfer.kind} id {transfer.transfer_id!r} must be 1 to {MAX_TRANSFER_ID_LENGTH} "
                "printable characters"
            )
        earlier = self._transfers.get((transfer.kind, transfer.transfer_id))
        if earlier is not None:
            if earlier != transfer:
                raise ConflictingTransferError(
                    f"{transfer.kind} {transfer.transfer_id!r} was already {_done(earlier)}; not {transfer}"
                )
            return False
        self._check_asset(transfer.asset)
        _check_amount(transfer.amount)
        if self._journal is not None:
            self._journal.append(transfer)
        self._record(transfer)
        return True

    def _record(self, transfer: Transfer) -> None:
        self._transfers[transfer.kind, transfer.transfer_id] = transfer
        holding = self._holding(transfer.account, transfer.asset)
        totals = {
            "deposit": self._deposited,
            "withdrawal": self._withdrawn,
            "credit": self._credited,
            "debit": self._debited,
        }[transfer.kind]
        totals[transfer.asset] += transfer.amount
        if transfer.kind in ("deposit", "credit"):
            holding.available += transfer.amount
        else:
            holding.available -= transfer.amount

    def _holding(self, account: int, asset: str) -> _Holding:
        holding = self._holdings.get((account, asset))
        if holding is None:
            self._check_asset(asset)
            holding = self._holdings[account, asset] = _Holding()
        return holding

    def _check_asset(self, asset: str) -> None:
        if asset not in self._deposited:
            raise UnknownAssetError(f"asset {asset!r} is not one of {', '.join(self.assets)}")


class LedgerJournal:
    """Append transfers to a file: magic, then `u32 length | u32 crc32 | canonical JSON` records."""

    def __init__(self, path: Path, file: BinaryIO, fsync: bool) -> None:
        self.path = path
        self._file = file
        self._fsync = fsync

    @classmethod
    def open(cls, path: Path, end: int, fsync: bool) -> Self:
        """Create the journal, or continue it after byte `end` (dropping a torn tail)."""
        file: BinaryIO
        if end == 0:
            file = path.open("wb")
            file.write(MAGIC)
        else:
            file = path.open("r+b")
            file.truncate(end)
            file.seek(end)
        journal = cls(path, file, fsync)
        journal.sync()
        return journal

    def append(self, transfer: Transfer) -> None:
        """Write one transfer; it is durable when this returns (unless fsync is off, for tests)."""
        payload = json.dumps(list(transfer), separators=(",", ":"), ensure_ascii=True).encode()
        self._file.write(frame(payload))
        self.sync()

    def sync(self) -> None:
        """Flush, and fsync unless disabled."""
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())

    def close(self) -> None:
        """Sync and close the file."""
        if not self._file.closed:
            self.sync()
            self._file.close()


def read_ledger(path: Path) -> tuple[list[Transfer], int]:
    """Return the whole transfers in a ledger journal and the byte where they end (a torn tail is ignored)."""
    data = path.read_bytes()
    if not data.startswith(MAGIC):
        raise LedgerJournalError(f"{path} is not a ledger journal (it does not start with {MAGIC!r})")
    payloads, end = read_frames(data, len(MAGIC), _MAX_RECORD)
    return [_decode_transfer(payload, n, path) for n, payload in enumerate(payloads, 1)], end


def _decode_transfer(payload: bytes, number: int, path: Path) -> Transfer:
    match json.loads(payload):
        case [
            ("deposit" | "withdrawal" | "credit" | "debit") as kind,
            str(transfer_id),
            int(account),
            str(asset),
            int(amount),
        ]:
            return Transfer(kind, transfer_id, account, asset, amount)
    raise LedgerJournalError(f"{path}: record {number} is not a transfer")


def _check_trader(account: int) -> None:
    if type(account) is not int or account < 0:
        raise InvalidTransferError(f"account {account!r} must be a non-negative integer")


def _check_token(asset: str, done: str) -> None:
    if is_ledger_asset(asset):
        raise NoTokenError(
            f"{asset} is a ledger stock balance with no on-chain token: it cannot be {done}; "
            "sell it to the issuer or on the book instead"
        )


def _check_amount(amount: int) -> None:
    if type(amount) is not int or amount <= 0:
        raise InvalidTransferError(
            f"amount {amount!r} must be a positive integer of the asset's smallest units"
        )


def _done(transfer: Transfer) -> str:
    verb = "credited" if transfer.kind in ("deposit", "credit") else "debited"
    return f"{verb} as {transfer.amount} {transfer.asset} for account {transfer.account}"
