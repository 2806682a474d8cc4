"""Attestation issuance as one object: the quote desk, the hedger and the backing report over one EVM
chain's minters, wired from the parts the platform already has."""

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from equitoken.brokers.broker import Broker
from equitoken.durable.outboxed import Outboxed
from equitoken.issuer.attestation.backing import BackingReport, backing_report
from equitoken.issuer.attestation.config import AttestationConfig
from equitoken.issuer.attestation.deployment import MinterDeployment, minter_at
from equitoken.issuer.attestation.desk import QuoteDesk
from equitoken.issuer.attestation.errors import UnknownTickerError
from equitoken.issuer.attestation.hedger import Hedger
from equitoken.issuer.attestation.quotes import Side, SignedQuote
from equitoken.issuer.attestation.states import HedgeKind, HedgeState
from equitoken.issuer.chains import TokenChain
from equitoken.issuer.errors import InvalidRequestError, IssuerError, UnknownRequestError
from equitoken.issuer.onchain import IssuerChain, parse_address
from equitoken.market.calendar import MarketCalendar
from equitoken.market.prices import PriceSource
from equitoken.model.instrument import Instrument
from equitoken.model.quantities import Shares, Usd
from equitoken.model.time import Clock
from equitoken.store.database import Database
from equitoken.store.schema import AttestationQuoteEventRow, AttestationQuoteRow


@dataclass(frozen=True)
class QuoteView:
    """A quote (or restock) and its hedge as an operator reads them."""

    id: str
    kind: HedgeKind
    ticker: str
    wallet: str
    shares: Shares
    quantity: int
    price: Usd
    notional: Usd
    expiry: int
    state: HedgeState
    filled: Shares
    filled_usd: Usd
    reason: str | None
    events: tuple[tuple[str | None, str, str], ...]


class AttestationIssuer:
    """Quote, hedge and report attestation mints and redemptions of the tokens `minters` serve."""

    def __init__(
        self,
        database: Database,
        onchain: IssuerChain,
        minters: MinterDeployment,
        broker: Broker,
        prices: PriceSource,
        clock: Clock,
        calendar: MarketCalendar,
        config: AttestationConfig,
        instruments: Sequence[Instrument],
        chains: Sequence[TokenChain] = (),
        *,
        entropy: Callable[[int], bytes] = os.urandom,
    ) -> None:
        by_ticker = {i.ticker: i for i in instruments}
        self.db = database
        self.onchain = onchain
        self.minters = minters
        self.prices = prices
        self.clock = clock
        self.config = config
        self.instruments = by_ticker
        self.chains: tuple[TokenChain, ...] = tuple(chains) or (onchain,)
        self.desk = QuoteDesk(
            database,
            onchain,
            minters,
            prices,
            clock,
            calendar,
            config,
            by_ticker,
            self.chains,
            entropy=entropy,
        )
        self.hedger = Hedger(database, onchain, minters, broker, clock, by_ticker, self.chains)

    def quote(
        self, user: str, ticker: str, side: Side | str, quantity: str | Decimal | Shares
    ) -> SignedQuote:
        """Sign a quote for `user` to mint (buy) or redeem (sell) `quantity` shares of `ticker` now."""
        return self.desk.quote(user, ticker, side, quantity)

    def restock(self, ticker: str, quantity: str | Decimal | Shares | None = None) -> str | None:
        """Buy shares for the inventory of `ticker` (to its target if no quantity); return the id."""
        return self.desk.restock(ticker, quantity)

    def process(self) -> int:
        """Take every open quote as far as it can go now; return how many steps were taken."""
        return self.hedger.process()

    def report(self) -> BackingReport:
        """Return custody, tokens outstanding, inventory and open hedges of every ticker."""
        return backing_report(
            self.db,
            self.chains,
            self.instruments,
            [t for t in self.minters.minters if t in self.instruments],
            self.config.inventory_target,
            self.prices,
            self.clock.now(),
        )

    def view(self, quote_id: str) -> QuoteView:
        """Return the quote `quote_id` with its audit trail."""
        with self.db.transaction() as session:
            row = session.get(AttestationQuoteRow, quote_id)
            if row is None:
                raise UnknownRequestError(f"no attestation quote {quote_id!r}")
            events = tuple(
                (e.from_state, e.to_state, e.reason)
                for e in session.scalars(
                    select(AttestationQuoteEventRow)
                    .where(AttestationQuoteEventRow.quote_id == quote_id)
                    .order_by(AttestationQuoteEventRow.id)
                )
            )
            return QuoteView(
                id=row.id,
                kind=HedgeKind(row.kind),
                ticker=row.ticker,
                wallet=row.wallet,
                shares=Shares(row.shares),
                quantity=row.quantity,
                price=Usd(row.price),
                notional=Usd(row.notional_usd),
                expiry=row.expiry,
                state=HedgeState(row.state),
                filled=Shares(row.filled_shares),
                filled_usd=Usd(row.filled_usd),
                reason=row.reason,
                events=events,
            )

    def open_quotes(self) -> list[str]:
        """Return the ids of the quotes and restocks not ended."""
        with self.db.transaction() as session:
            return self.hedger.open_ids(session)


@dataclass(frozen=True)
class Traded:
    """A mint or redemption the platform made for a custodied wallet, as its receipt logged it."""

    attestation_id: str
    ticker: str
    side: Side
    quantity: int
    usd_amount: int
    tx_hash: str


class AttestationTransactionError(IssuerError):
    """The chain refused or reverted the mint or redemption; its reason is in the message."""

    code = "attestation_transaction"


UNLIMITED = 2**256 - 1


def trade(
    attestation: AttestationIssuer,
    wallet: str,
    ticker: str,
    side: Side | str,
    quantity: str | Shares,
    *,
    key: str,
) -> Traded:
    """Quote for `wallet`, whose key the platform holds, and use the quote at once: the minter is approved
    for the wallet's USDC and tokens, then mints or redeems, each once per request `key` through the
    outbox; a retry with the same key returns the first call's outcome and signs no second quote."""
    onchain = attestation.onchain
    sent = Outboxed(
        "attestation",
        onchain.chain,
        attestation.db,
        onchain.outbox,
        attestation.clock,
        InvalidRequestError,
        AttestationTransactionError,
    )
    sender = sent.sender(parse_address(wallet), key)
    if ticker not in attestation.minters.minters:
        raise UnknownTickerError(f"{ticker!r} has no attestation minter on chain {onchain.chain_id}")
    minter = minter_at(onchain.chain, attestation.minters.minter(ticker), ticker)
    purpose = sent.purpose(sender, ticker, "trade", key)
    if sent.stored(purpose):
        outcome = sent.run(purpose, minter.mint_with_attestation, (), sender, "trade")
    else:
        signed = attestation.quote(sender, ticker, side, quantity)
        buy = signed.quote.side is Side.BUY
        # Approved without limit, once: a retried request's new quote may cost a little more.
        sent.approve(f"{purpose}:usdc", onchain.usdc, minter.address, UNLIMITED, sender, "payment")
        if not buy:
            token = onchain.token(ticker)
            sent.approve(
                f"{purpose}:token", token, minter.address, signed.quote.quantity, sender, "redemption"
            )
        call = minter.mint_with_attestation if buy else minter.redeem_with_attestation
        arguments = (signed.quote.as_tuple(), signed.signature)
        outcome = sent.run(purpose, call, arguments, sender, "mint" if buy else "redemption")
    receipt = sent.mined(outcome)
    event = next(
        e for e in minter.decode_logs(receipt) if e.name in ("AttestationMinted", "AttestationRedeemed")
    )
    return Traded(
        "0x" + bytes(event.args["attestation_id"]).hex(),
        ticker,
        Side(int(event.args["side"])),
        int(event.args["quantity"]),
        int(event.args["usd_amount"]),
        outcome.tx_hash,
    )
