"""Investor onboarding, and the on-chain identity registry kept in step with it.

On EVM the registry is a contract. On Solana it is the state of each wallet's token accounts: a
bound wallet's accounts are created (and thawed where the profile allows holders to move tokens),
and frozen while its investor is frozen or the wallet sanctioned.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.contract import ContractFunction
from equitoken.issuer.errors import ComplianceError, InvalidRequestError, UnknownInvestorError
from equitoken.issuer.jurisdictions import numeric_code
from equitoken.issuer.onchain import IssuerChain, parse_address
from equitoken.issuer.solana import SolanaIssuerChain
from equitoken.model.ids import InvestorId, new_investor_id
from equitoken.model.time import Clock
from equitoken.store.database import Database
from equitoken.store.schema import InvestorRow, WalletRow

E = TypeVar("E", bound=StrEnum)


class InvestorCategory(StrEnum):
    AUTHORISED_PARTICIPANT = "authorised_participant"
    PROFESSIONAL = "professional"
    RETAIL = "retail"


class KycStatus(StrEnum):
    APPROVED = "approved"
    PENDING = "pending"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Investor:
    """An onboarded investor as the issuer sees it."""

    id: InvestorId
    onchain_id: int
    name: str
    jurisdiction: str
    category: InvestorCategory
    accredited: bool
    kyc_status: KycStatus
    kyc_expires_at: datetime
    frozen: bool
    wallets: tuple[str, ...]

    @classmethod
    def from_row(cls, row: InvestorRow) -> "Investor":
        return cls(
            id=InvestorId(row.id),
            onchain_id=row.onchain_id,
            name=row.name,
            jurisdiction=row.jurisdiction,
            category=InvestorCategory(row.category),
            accredited=row.accredited,
            kyc_status=KycStatus(row.kyc_status),
            kyc_expires_at=row.kyc_expires_at,
            frozen=row.frozen,
            wallets=tuple(w.address for w in row.wallets),
        )


class InvestorBook:
    """Onboard investors and bind wallets; every change is mirrored to the identity registry."""

    def __init__(
        self,
        database: Database,
        onchain: IssuerChain,
        clock: Clock,
        blocked: frozenset[str],
        *,
        solana: SolanaIssuerChain | None = None,
        sanctioned: frozenset[str] = frozenset(),
    ) -> None:
        self.db = database
        self.onchain = onchain
        self.clock = clock
        self.blocked = blocked
        self.solana = solana
        self.sanctioned = frozenset(w.lower() for w in sanctioned)

    def onboard(
        self,
        name: str,
        jurisdiction: str,
        category: InvestorCategory | str,
        *,
        kyc_expires_at: datetime,
        accredited: bool = False,
        kyc_status: KycStatus | str = KycStatus.APPROVED,
    ) -> Investor:
        """Record an investor and register it on-chain; raise without changing anything on bad input."""
        name = name.strip()
        if not 0 < len(name) <= 200:
            raise InvalidRequestError("investor name must have 1 to 200 characters")
        jurisdiction = jurisdiction.strip().upper()
        numeric_code(jurisdiction)
        if jurisdiction in self.blocked:
            raise ComplianceError(f"jurisdiction {jurisdiction} is blocked by this issuer")
        category = _enum(InvestorCategory, category, "investor category")
        kyc_status = _enum(KycStatus, kyc_status, "KYC status")
        if kyc_expires_at.tzinfo is None:
            raise InvalidRequestError("KYC expiry must carry a timezone")
        now = self.clock.now()
        with self.db.transaction() as session:
            onchain_id = (session.scalar(select(func.max(InvestorRow.onchain_id))) or 0) + 1
            row = InvestorRow(
                id=new_investor_id(),
                onchain_id=onchain_id,
                name=name,
                jurisdiction=jurisdiction,
                category=category,
                accredited=accredited,
                kyc_status=kyc_status,
                kyc_expires_at=kyc_expires_at,
                frozen=False,
                created_at=now,
                synced_version=0,
                version=1,
            )
            session.add(row)
            investor_id = row.id
        self.sync()
        return self.get(investor_id)

    def bind_wallet(self, investor_id: str, wallet: str) -> Investor:
        """Bind `wallet` (an EVM address, or a Solana one where the issuer issues on Solana) to the
        investor and add it to the identity registry."""
        address = self._parse_wallet(wallet)
        with self.db.transaction() as session:
            investor = self._row(session, investor_id)
            existing = session.get(WalletRow, address)
            if existing is not None:
                if existing.investor_id != investor.id:
                    raise ComplianceError(f"wallet {address} already belongs to another investor")
                return Investor.from_row(investor)
            if len(investor.wallets) >= 8:
                raise InvalidRequestError(
                    f"investor {investor_id} already has 8 wallets, the registry's maximum"
                )
            session.add(WalletRow(address=address, investor_id=investor.id, created_at=self.clock.now()))
        self.sync()
        return self.get(investor_id)

    def set_frozen(self, investor_id: str, frozen: bool) -> Investor:
        """Freeze or unfreeze an investor, here and on-chain."""
        with self.db.transaction() as session:
            row = self._row(session, investor_id)
            row.frozen = frozen
            row.version += 1
        self.sync()
        return self.get(investor_id)

    def set_kyc_expiry(self, investor_id: str, kyc_expires_at: datetime) -> Investor:
        """Set when the investor's KYC expires, here and on-chain."""
        if kyc_expires_at.tzinfo is None:
            raise InvalidRequestError("KYC expiry must carry a timezone")
        if kyc_expires_at.timestamp() < 0:
            raise InvalidRequestError(f"KYC expiry {kyc_expires_at.isoformat()} is before 1970")
        with self.db.transaction() as session:
            row = self._row(session, investor_id)
            row.kyc_expires_at = kyc_expires_at
            row.version += 1
        self.sync()
        return self.get(investor_id)

    def get(self, investor_id: str) -> Investor:
        """Return the investor, or raise `UnknownInvestorError`."""
        with self.db.transaction() as session:
            return Investor.from_row(self._row(session, investor_id))

    def all(self) -> list[Investor]:
        with self.db.transaction() as session:
            return [
                Investor.from_row(r)
                for r in session.scalars(select(InvestorRow).order_by(InvestorRow.onchain_id))
            ]

    def sync(self) -> None:
        """Write investor records and wallets the registry does not have yet, through the outbox."""
        registrar = self.onchain.roles.registrar
        registry = self.onchain.registry
        with self.db.transaction() as session:
            stale = list(
                session.scalars(select(InvestorRow).where(InvestorRow.synced_version < InvestorRow.version))
            )
            work = [
                (r.id, r.onchain_id, r.version, r.jurisdiction, r.kyc_expires_at, r.accredited, r.frozen)
                for r in stale
            ]
            wallets = [
                (w.address, w.investor.onchain_id)
                for w in session.scalars(select(WalletRow).where(WalletRow.registered_on_chain.is_(False)))
            ]
        for investor_id, onchain_id, version, jurisdiction, expiry, accredited, frozen in work:
            self._send(
                f"investor:{investor_id}:v{version}",
                registry.set_investor,
                (onchain_id, numeric_code(jurisdiction), int(expiry.timestamp()), accredited),
                registrar,
            )
            if frozen or version > 1:
                self._send(
                    f"investor-frozen:{investor_id}:v{version}",
                    registry.set_investor_frozen,
                    (onchain_id, frozen),
                    registrar,
                )
            if self.solana is not None and version > 1:
                with self.db.transaction() as session:
                    solana_wallets = [
                        w.address
                        for w in session.scalars(
                            select(WalletRow).where(WalletRow.investor_id == investor_id)
                        )
                        if w.registered_on_chain and not w.address.startswith("0x")
                    ]
                for address in solana_wallets:
                    self._sync_solana_wallet(address, f"solana-standing:{address}:v{version}")
            with self.db.transaction() as session:
                row = session.get(InvestorRow, investor_id)
                assert row is not None
                row.synced_version = max(row.synced_version, version)
        for address, onchain_id in wallets:
            if address.startswith("0x"):
                self._send(f"wallet:{address}", registry.add_wallet, (onchain_id, address), registrar)
            else:
                self._sync_solana_wallet(address, f"solana-wallet:{address}")
            with self.db.transaction() as session:
                wallet = session.get(WalletRow, address)
                assert wallet is not None
                wallet.registered_on_chain = True

    def _parse_wallet(self, text: str) -> str:
        if self.solana is not None and isinstance(text, str) and not text.startswith("0x"):
            return self.solana.parse_wallet(text)
        return parse_address(text)

    def _sync_solana_wallet(self, address: str, purpose: str) -> None:
        """Bring `address`'s token accounts on Solana in line with its standing, one transaction per mint."""
        assert self.solana is not None
        with self.db.transaction() as session:
            wallet = session.get(WalletRow, address)
            assert wallet is not None
            investor = wallet.investor
            verified = (
                not investor.frozen
                and investor.kyc_expires_at > self.clock.now()
                and address.lower() not in self.sanctioned
            )
        for ticker in self.solana.tickers:
            call = self.solana.registration_call(ticker, address, verified=verified)
            outcome = self.solana.outbox.run(
                self.db,
                f"{purpose}:{ticker}",
                call,
                owner="identity-registry",
                now=self.clock.now,
                record=lambda session, outcome: None,
            )
            if outcome.failed:
                raise ComplianceError(f"Solana refused {purpose}:{ticker}: {outcome.error}")

    def _send(self, purpose: str, function: ContractFunction, args: tuple[object, ...], sender: str) -> None:
        try:
            outcome = self.onchain.outbox.run(
                self.db,
                purpose,
                function,
                args,
                sender=sender,
                owner="identity-registry",
                now=self.clock.now,
                record=lambda session, outcome: None,
            )
        except RevertError as exc:
            raise ComplianceError(f"the identity registry refused {purpose}: {exc}") from exc
        if outcome.failed:
            raise ComplianceError(f"the identity registry refused {purpose}: {outcome.error}")

    def _row(self, session: Session, investor_id: str) -> InvestorRow:
        row = session.get(InvestorRow, investor_id)
        if row is None:
            raise UnknownInvestorError(f"no investor {investor_id!r}")
        return row


def _enum(kind: type[E], value: E | str, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise InvalidRequestError(f"{what} {value!r} is not one of: {', '.join(kind)}") from None
