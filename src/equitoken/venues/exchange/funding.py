"""Deposits into the exchange's hot wallet and withdrawals from it, each moving value exactly once.

Glossary and invariants:
- hot wallet: the exchange's own address on the chain; it holds every member's deposited tokens and
  USDC. For a ``permissioned`` token it must be a wallet of a verified investor (the venue operator):
  `register_hot_wallet` onboards that operator and binds the wallet through the issuer's registry.
- deposit: an ERC-20 `Transfer` into the hot wallet, as the indexer journaled it: the indexer is
  the one watcher of the chain, follows the stock tokens and the settlement token (USDC) alike, and
  journals only blocks its confirmation rule has buried, so a deposit is confirmed exactly when the
  indexer has it (`IndexReader.transfers_to`). A transfer from a wallet some investor owns is
  credited to that investor's account under the ledger id `<chain id>:<tx hash>:<log index>`; any
  other is recorded as unattributed and credited to no one. The ledger credit comes first, then the
  row and the cursor (the position of the transfer) in one transaction: a crash between them
  re-credits nothing (the ledger id is spent) and the next poll records the row.
- withdrawal: checked in full before anything changes (asset, amount, the investor's own registered
  wallet, no freeze, valid KYC, no sanctioned destination, the stock token's own
  `can_transfer(hot wallet, destination, amount)`, and the available balance); then recorded as
  `requested` and debited under its id. Should trading take the balance between the check and the
  debit, the row is deleted again and the refusal raised, so a refused withdrawal leaves nothing.
  `process_withdrawals` debits again (a no-op once done, so a crash between the row and the debit
  loses nothing), then sends the ERC-20 transfer through the issuer's outbox under the
  purpose `exchange-withdrawal:<id>`: signed and stored before it is broadcast, so at most one
  transfer exists per withdrawal. A transfer the chain refuses or reverts is `failed` and credited
  back once, under the ledger id `refund:<id>`.

Balances are read and moved only through the `ExchangeVenue` the exchange trades behind, under its
one lock, so funding and trading never interleave on the same balances.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from equitoken.chain.evm.contract import Contract
from equitoken.durable.crashpoints import checkpoint
from equitoken.durable.steps import Step, StepMachine
from equitoken.indexer import IndexedTransfer, Indexer
from equitoken.issuer.investors import Investor, InvestorBook
from equitoken.issuer.onchain import IssuerChain, parse_address
from equitoken.model.address import checksum
from equitoken.model.errors import EquitokenError, InsufficientFundsError
from equitoken.model.time import Clock
from equitoken.store.database import Database
from equitoken.store.schema import (
    ExchangeDepositCursorRow,
    ExchangeDepositRow,
    ExchangeWithdrawalRow,
    InvestorRow,
    WalletRow,
)
from equitoken.venues.exchange.accounts import USDC, NoTokenError, UnknownAssetError
from equitoken.venues.exchange.ledger_assets import is_ledger_asset
from equitoken.venues.exchange.members import ExchangeMembers
from equitoken.venues.exchange.venue import ExchangeVenue

MAX_WITHDRAWAL_ID_LENGTH = 64
"""Room for the `refund:` prefix inside the ledger's 80-character transfer ids."""
DEPOSITS_PER_READ = 500


class FundingError(EquitokenError, ValueError):
    """A withdrawal refused before anything changed; the message names the reason."""

    code = "funding_error"


class InvalidWithdrawalError(FundingError):
    """A withdrawal with a bad amount, id or destination."""

    code = "invalid_withdrawal"


class WithdrawalNotAllowedError(FundingError):
    """Compliance refuses the withdrawal: a freeze, expired KYC, a sanction or the token's own rules."""

    code = "withdrawal_not_allowed"


class ConflictingWithdrawalError(FundingError):
    """A withdrawal id already used for a different withdrawal."""

    code = "conflicting_withdrawal"


class WithdrawalStatus(StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    FAILED = "failed"


@dataclass(frozen=True)
class Deposit:
    """A confirmed transfer into the hot wallet; `investor_id` is None while unattributed."""

    chain_id: int
    tx_hash: str
    log_index: int
    block_number: int
    asset: str
    sender: str
    amount: int
    investor_id: str | None
    account: int | None

    @property
    def deposit_id(self) -> str:
        return f"{self.chain_id}:{self.tx_hash}:{self.log_index}"

    @classmethod
    def from_row(cls, row: ExchangeDepositRow) -> "Deposit":
        return cls(
            row.chain_id,
            row.tx_hash,
            row.log_index,
            row.block_number,
            row.asset,
            row.sender,
            row.amount,
            row.investor_id,
            row.account,
        )


@dataclass(frozen=True)
class Withdrawal:
    """A withdrawal to an investor's own wallet and where it stands."""

    id: str
    investor_id: str
    account: int
    asset: str
    amount: int
    destination: str
    status: WithdrawalStatus
    tx_hash: str | None
    reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: ExchangeWithdrawalRow) -> "Withdrawal":
        return cls(
            row.id,
            row.investor_id,
            row.account,
            row.asset,
            row.amount,
            row.destination,
            WithdrawalStatus(row.status),
            row.tx_hash,
            row.reason,
            row.created_at,
            row.updated_at,
        )


def register_hot_wallet(
    investors: InvestorBook,
    hot_wallet: str,
    *,
    kyc_expires_at: datetime,
    jurisdiction: str,
    name: str = "Equitoken Exchange (venue operator)",
) -> Investor:
    """Onboard the venue operator as an accredited professional and bind the hot wallet to it.

    The binding is mirrored in the identity registry, so the hot wallet may hold ``permissioned``
    tokens. Binding a wallet some other investor owns is refused by `InvestorBook.bind_wallet`.
    """
    address = parse_address(hot_wallet)
    with investors.db.transaction() as session:
        owner = session.get(WalletRow, address)
        owner_id = None if owner is None else owner.investor_id
    if owner_id is not None:
        return investors.get(owner_id)
    operator = investors.onboard(
        name, jurisdiction, "professional", kyc_expires_at=kyc_expires_at, accredited=True
    )
    return investors.bind_wallet(operator.id, address)


class ExchangeFunding:
    """Credit the deposits the indexer confirmed into the hot wallet, send withdrawals from it, exactly once.

    ``indexer`` must follow, on the issuer's chain, every stock token the venue lists and the USDC
    (``IndexedChain(..., settlement_tokens={"USDC": onchain.usdc.address})``); polling it is the
    indexer's owner's job, ``poll_deposits`` only reads what it has indexed.
    """

    def __init__(
        self,
        database: Database,
        venue: ExchangeVenue,
        members: ExchangeMembers,
        onchain: IssuerChain,
        hot_wallet: str,
        *,
        indexer: Indexer,
        clock: Clock,
    ) -> None:
        self._db = database
        self._venue = venue
        self._members = members
        self._onchain = onchain
        self._chain = onchain.chain
        self._hot_wallet = checksum(hot_wallet)
        self._indexer = indexer
        self._clock = clock
        assets = venue.assets()
        self._tokens: dict[str, Contract] = {
            ticker: onchain.token(ticker) for ticker in onchain.tickers if ticker in assets
        }
        self._contracts: dict[str, Contract] = {**self._tokens, USDC: onchain.usdc}
        self._steps = WithdrawalSteps(database, venue, onchain, self._hot_wallet, self._contracts, clock)
        self._asset_of = {checksum(c.address): asset for asset, c in self._contracts.items()}
        unfollowed = [
            f"{asset} ({token})"
            for token, asset in self._asset_of.items()
            if not indexer.follows_transfers_of(self._chain.chain_id, token)
        ]
        if unfollowed:
            raise ValueError(
                f"the indexer does not follow {', '.join(unfollowed)} on chain {self._chain.chain_id}, "
                "so deposits of it would never be seen; index the chain with those tokens "
                "(the USDC as a settlement token)"
            )

    # Deposits

    def deposit_address(self) -> str:
        """Return the hot wallet members send deposits to."""
        return self._hot_wallet

    @property
    def chain_id(self) -> int:
        """Return the id of the chain deposits and withdrawals move on."""
        return self._chain.chain_id

    def poll_deposits(self) -> list[Deposit]:
        """Record (and credit, when a member sent it) every newly indexed transfer into the hot wallet."""
        chain_id = self._chain.chain_id
        recorded: list[Deposit] = []
        while True:
            with self._db.transaction() as session:
                cursor = session.get(ExchangeDepositCursorRow, (chain_id, self._hot_wallet))
                after = None if cursor is None else (cursor.block_number, cursor.log_index)
            transfers = self._indexer.transfers_to(
                chain_id, self._hot_wallet, after=after, limit=DEPOSITS_PER_READ
            )
            for transfer in transfers:
                deposit = self._take(transfer)
                if deposit is not None:
                    recorded.append(deposit)
            if len(transfers) < DEPOSITS_PER_READ:
                return recorded

    def deposits(self, investor_id: str) -> list[Deposit]:
        """Return the investor's recorded deposits, oldest first."""
        return self._deposits(ExchangeDepositRow.investor_id == investor_id)

    def unattributed_deposits(self) -> list[Deposit]:
        """Return transfers into the hot wallet from wallets no investor owns: held, credited to no one."""
        return self._deposits(ExchangeDepositRow.investor_id.is_(None))

    def _deposits(self, condition: ColumnElement[bool]) -> list[Deposit]:
        with self._db.transaction() as session:
            rows = session.scalars(
                select(ExchangeDepositRow)
                .where(condition)
                .order_by(ExchangeDepositRow.block_number, ExchangeDepositRow.log_index)
            )
            return [Deposit.from_row(r) for r in rows]

    # Withdrawals

    def request_withdrawal(
        self, investor_id: str, asset: str, amount: int, destination: str, withdrawal_id: str
    ) -> Withdrawal:
        """Check a withdrawal in full, then record it and debit the account; the same id returns it again."""
        _check_withdrawal_id(withdrawal_id)
        existing = self._withdrawal(withdrawal_id)
        if existing is not None:
            if (existing.investor_id, existing.asset, existing.amount, existing.destination) != (
                investor_id,
                asset,
                amount,
                _address_or_raw(destination),
            ):
                raise ConflictingWithdrawalError(
                    f"withdrawal {withdrawal_id!r} was already requested as "
                    f"{existing.amount} {existing.asset} to {existing.destination} for {existing.investor_id}"
                )
            return existing
        if is_ledger_asset(asset):
            raise NoTokenError(
                f"{asset} is a ledger stock balance with no on-chain token: it cannot be withdrawn; "
                "sell it to the issuer or on the book instead"
            )
        if asset not in self._contracts:
            raise UnknownAssetError(f"asset {asset!r} is not one of {', '.join(sorted(self._contracts))}")
        if type(amount) is not int or amount <= 0:
            raise InvalidWithdrawalError(f"amount {amount!r} must be a positive integer of {asset} units")
        try:
            address = parse_address(destination)
        except ValueError as exc:
            raise InvalidWithdrawalError(f"destination: {exc}") from exc
        account = self._members.account_of(investor_id)
        available = self._venue.balance(account, asset).available
        if amount > available:
            raise InsufficientFundsError(
                f"account {account} has {available} {asset} available; the withdrawal needs {amount}"
            )
        self._check_compliance(investor_id, asset, amount, address)
        now = self._clock.now()
        try:
            with self._db.transaction() as session:
                session.add(
                    ExchangeWithdrawalRow(
                        id=withdrawal_id,
                        investor_id=investor_id,
                        account=account,
                        asset=asset,
                        amount=amount,
                        destination=address,
                        chain_id=self._chain.chain_id,
                        status=WithdrawalStatus.REQUESTED,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            # The same id committed by a concurrent call: answer as a repeat would.
            return self.request_withdrawal(investor_id, asset, amount, destination, withdrawal_id)
        checkpoint("withdrawal_recorded")
        try:
            self._venue.request_withdrawal(account, asset, amount, withdrawal_id)
        except InsufficientFundsError:
            # An order locked the balance since the check: take the request back, unless a
            # concurrent `process_withdrawals` has already settled it as never debited.
            with self._db.transaction() as session:
                session.execute(
                    delete(ExchangeWithdrawalRow).where(
                        ExchangeWithdrawalRow.id == withdrawal_id,
                        ExchangeWithdrawalRow.status == WithdrawalStatus.REQUESTED,
                    )
                )
            raise
        withdrawal = self._withdrawal(withdrawal_id)
        assert withdrawal is not None
        return withdrawal

    def process_withdrawals(self) -> list[Withdrawal]:
        """Send every requested withdrawal through the outbox and record how it ended."""
        with self._db.transaction() as session:
            pending = self._steps.open_ids(session)
        done = []
        for withdrawal_id in pending:
            self._steps.advance(withdrawal_id)
            withdrawal = self._withdrawal(withdrawal_id)
            assert withdrawal is not None
            done.append(withdrawal)
        return done

    def withdrawals(self, investor_id: str) -> list[Withdrawal]:
        """Return the investor's withdrawals, oldest first."""
        with self._db.transaction() as session:
            rows = session.scalars(
                select(ExchangeWithdrawalRow)
                .where(ExchangeWithdrawalRow.investor_id == investor_id)
                .order_by(ExchangeWithdrawalRow.created_at, ExchangeWithdrawalRow.id)
            )
            return [Withdrawal.from_row(r) for r in rows]

    def withdrawal(self, withdrawal_id: str) -> Withdrawal:
        """Return one withdrawal by id, or raise `InvalidWithdrawalError`."""
        withdrawal = self._withdrawal(withdrawal_id)
        if withdrawal is None:
            raise InvalidWithdrawalError(f"no withdrawal {withdrawal_id!r}")
        return withdrawal

    # Internals

    def _take(self, transfer: IndexedTransfer) -> Deposit | None:
        """Credit one transfer if a member sent it, then record it with the cursor; None if seen before."""
        chain_id = self._chain.chain_id
        sender = checksum(transfer.sender)
        asset = self._asset_of.get(checksum(transfer.token))
        key = (chain_id, transfer.tx_hash, transfer.log_index)
        with self._db.transaction() as session:
            seen = _deposit_row(session, *key) is not None
            owner = session.get(WalletRow, sender)
            investor_id = None if owner is None else owner.investor_id
        # A token the venue does not list, a zero amount or the wallet paying itself deposits nothing.
        if seen or asset is None or transfer.amount == 0 or sender == self._hot_wallet:
            self._advance(transfer, None)
            return None
        account = None if investor_id is None else self._members.account_of(investor_id)
        deposit = Deposit(
            chain_id,
            transfer.tx_hash,
            transfer.log_index,
            transfer.block_number,
            asset,
            sender,
            transfer.amount,
            investor_id,
            account,
        )
        if account is not None:
            self._venue.credit_deposit(account, asset, transfer.amount, deposit.deposit_id)
            checkpoint("deposit_credited")
        row = ExchangeDepositRow(
            chain_id=chain_id,
            tx_hash=transfer.tx_hash,
            log_index=transfer.log_index,
            block_number=transfer.block_number,
            token=checksum(transfer.token),
            asset=asset,
            sender=sender,
            amount=transfer.amount,
            investor_id=investor_id,
            account=account,
            recorded_at=self._clock.now(),
        )
        try:
            self._advance(transfer, row)
        except IntegrityError:  # another poller recorded it first
            return None
        return deposit

    def _advance(self, transfer: IndexedTransfer, row: ExchangeDepositRow | None) -> None:
        """Record ``row`` (if any) and move the cursor to ``transfer``, in one transaction."""
        with self._db.transaction() as session:
            if row is not None:
                session.add(row)
                session.flush()
            key = (transfer.chain_id, self._hot_wallet)
            cursor = session.get(ExchangeDepositCursorRow, key, with_for_update=True)
            if cursor is None:
                session.add(
                    ExchangeDepositCursorRow(
                        chain_id=transfer.chain_id,
                        hot_wallet=self._hot_wallet,
                        block_number=transfer.block_number,
                        log_index=transfer.log_index,
                    )
                )
            elif (cursor.block_number, cursor.log_index) < transfer.position:
                cursor.block_number, cursor.log_index = transfer.position

    def _check_compliance(self, investor_id: str, asset: str, amount: int, destination: str) -> None:
        now = self._clock.now()
        with self._db.transaction() as session:
            investor = session.get(InvestorRow, investor_id)
            assert investor is not None  # account_of has found it
            owner = session.get(WalletRow, destination)
            frozen, kyc_status, kyc_expires_at = investor.frozen, investor.kyc_status, investor.kyc_expires_at
        if owner is None or owner.investor_id != investor_id:
            raise InvalidWithdrawalError(
                f"destination {destination} is not a registered wallet of investor {investor_id}"
            )
        if destination == self._hot_wallet:
            raise InvalidWithdrawalError(f"destination {destination} is the exchange's own hot wallet")
        if frozen:
            raise WithdrawalNotAllowedError(f"investor {investor_id} is frozen")
        if kyc_status != "approved" or kyc_expires_at <= now:
            raise WithdrawalNotAllowedError(
                f"investor {investor_id}'s KYC is {kyc_status}, expiring {kyc_expires_at.isoformat()}"
            )
        if bool(self._onchain.sanctions.isSanctioned(destination)):
            raise WithdrawalNotAllowedError(f"destination {destination} is on the sanctions list")
        token = self._tokens.get(asset)
        if token is not None:
            code, reason = token.can_transfer(self._hot_wallet, destination, amount)
            if int(code) != 0:
                raise WithdrawalNotAllowedError(
                    f"{asset} refuses the transfer from the hot wallet to {destination}: "
                    f"{reason} (code {code})"
                )

    def _withdrawal(self, withdrawal_id: str) -> Withdrawal | None:
        with self._db.transaction() as session:
            row = session.get(ExchangeWithdrawalRow, withdrawal_id)
            return None if row is None else Withdrawal.from_row(row)


class WithdrawalSteps(StepMachine[ExchangeWithdrawalRow]):
    """Requested withdrawals, each taken in one step: debited (again: a no-op once done), then sent
    through the outbox and settled as its transaction ends."""

    row_type = ExchangeWithdrawalRow
    owner_kind = "withdrawal"

    def __init__(
        self,
        database: Database,
        venue: ExchangeVenue,
        onchain: IssuerChain,
        hot_wallet: str,
        contracts: dict[str, Contract],
        clock: Clock,
    ) -> None:
        super().__init__(database, onchain.outbox, clock)
        self._venue = venue
        self._chain_id = onchain.chain_id
        self._hot_wallet = hot_wallet
        self._contracts = contracts

    def open_ids(self, session: Session) -> list[str]:
        """Return the chain's requested withdrawals, oldest first."""
        return list(
            session.scalars(
                select(ExchangeWithdrawalRow.id)
                .where(ExchangeWithdrawalRow.status == WithdrawalStatus.REQUESTED)
                .where(ExchangeWithdrawalRow.chain_id == self._chain_id)
                .order_by(ExchangeWithdrawalRow.created_at, ExchangeWithdrawalRow.id)
            )
        )

    def step_for(self, row: ExchangeWithdrawalRow) -> Step | None:
        """Return the sending step of a requested withdrawal; None once it has ended."""
        return self._send if row.status == WithdrawalStatus.REQUESTED else None

    def _send(self, withdrawal_id: str) -> bool:
        with self.db.transaction() as session:
            withdrawal = Withdrawal.from_row(self.load(session, withdrawal_id, lock=False))
        try:
            # A no-op when the request already debited it; the debit a crash skipped otherwise.
            self._venue.request_withdrawal(
                withdrawal.account, withdrawal.asset, withdrawal.amount, withdrawal_id
            )
        except InsufficientFundsError as exc:
            with self.db.transaction() as session:
                _settle(
                    self.load(session, withdrawal_id),
                    WithdrawalStatus.FAILED,
                    None,
                    f"never debited: {exc}",
                    self.clock,
                )
            return True
        checkpoint("withdrawal_debited")
        purpose = f"exchange-withdrawal:{withdrawal_id}"

        def confirmed(session: Session, row: ExchangeWithdrawalRow) -> None:
            stored = self.outbox.find(session, purpose)
            _settle(
                row, WithdrawalStatus.CONFIRMED, None if stored is None else stored.tx_hash, None, self.clock
            )

        def failed(session: Session, row: ExchangeWithdrawalRow, reason: str) -> None:
            if row.status != WithdrawalStatus.REQUESTED:
                return
            self._venue.credit_deposit(row.account, row.asset, row.amount, f"refund:{row.id}")
            stored = self.outbox.find(session, purpose)
            _settle(
                row, WithdrawalStatus.FAILED, None if stored is None else stored.tx_hash, reason, self.clock
            )

        self.transact(
            withdrawal_id,
            purpose,
            self._contracts[withdrawal.asset].transfer,
            (withdrawal.destination, withdrawal.amount),
            self._hot_wallet,
            confirmed,
            failed,
            crash_sent="withdrawal_sent",
            crash_mined="withdrawal_mined",
        )
        return True


def _settle(
    row: ExchangeWithdrawalRow,
    status: WithdrawalStatus,
    tx_hash: str | None,
    reason: str | None,
    clock: Clock,
) -> None:
    row.status = status
    row.tx_hash = tx_hash
    row.reason = reason
    row.updated_at = clock.now()


def _deposit_row(session: Session, chain_id: int, tx_hash: str, log_index: int) -> ExchangeDepositRow | None:
    return session.scalars(
        select(ExchangeDepositRow).where(
            ExchangeDepositRow.chain_id == chain_id,
            ExchangeDepositRow.tx_hash == tx_hash,
            ExchangeDepositRow.log_index == log_index,
        )
    ).one_or_none()


def _check_withdrawal_id(withdrawal_id: str) -> None:
    if not (
        isinstance(withdrawal_id, str)
        and 0 < len(withdrawal_id) <= MAX_WITHDRAWAL_ID_LENGTH
        and withdrawal_id.isprintable()
    ):
        raise InvalidWithdrawalError(
            f"withdrawal id {withdrawal_id!r} must be 1 to {MAX_WITHDRAWAL_ID_LENGTH} printable characters"
        )


def _address_or_raw(text: str) -> str:
    try:
        return parse_address(text)
    except ValueError:
        return text
