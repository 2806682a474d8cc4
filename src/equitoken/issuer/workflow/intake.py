"""Accept a mint or redeem request: validate everything, quote it, and record it once per idempotency key.

Every check runs before anything is written, so a refused request changes nothing.
"""

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from equitoken.issuer.chains import TokenChain, by_id
from equitoken.issuer.config import IssuerConfig
from equitoken.issuer.errors import (
    ComplianceError,
    IdempotencyConflictError,
    InvalidRequestError,
    LimitExceededError,
    MarketDataError,
    UnknownInvestorError,
)
from equitoken.issuer.investors import InvestorCategory, KycStatus
from equitoken.issuer.onchain import IssuerChain, parse_address
from equitoken.issuer.workflow.states import RequestKind, RequestState
from equitoken.market.prices import NoPriceError, PriceSource
from equitoken.model.errors import InsufficientFundsError
from equitoken.model.ids import new_request_id
from equitoken.model.instrument import Instrument, UnknownInstrumentError
from equitoken.model.quantities import InvalidAmountError, Price, Shares, Usd
from equitoken.model.time import Clock
from equitoken.model.token_amount import TokenAmount
from equitoken.store.database import Database
from equitoken.store.schema import InvestorRow, RequestEventRow, RequestRow, WalletRow

_CENT = 10 ** (Price.DECIMALS - 2)


@dataclass(frozen=True)
class Quote:
    """What a request will cost or pay, at the reference price."""

    price: Price
    quantity: Shares
    notional: Usd
    fee: Usd
    escrow: Usd


class Intake:
    """Validate, quote and record requests."""

    def __init__(
        self,
        database: Database,
        onchain: IssuerChain,
        prices: PriceSource,
        clock: Clock,
        config: IssuerConfig,
        instruments: Mapping[str, Instrument],
        chains: Sequence[TokenChain] = (),
    ) -> None:
        self.db = database
        self.onchain = onchain
        self.chains = by_id(chains or [onchain])
        self.prices = prices
        self.clock = clock
        self.config = config
        self.instruments = instruments

    def submit(
        self,
        kind: RequestKind,
        investor_id: str,
        wallet: str,
        ticker: str,
        quantity: str | Decimal | Shares,
        idempotency_key: str,
        limit_price: str | Decimal | Price | None = None,
        *,
        chain_id: int | None = None,
        payment_wallet: str | None = None,
    ) -> str:
        """Record a request and return its id; the same key with the same request returns the same id.

        The tokens are minted to or burned from `wallet` on chain `chain_id` (the settlement chain
        if None). USDC is paid from and to `payment_wallet` on the settlement chain: `wallet` itself
        there, and required for a request on another chain. A redemption may carry `limit_price`:
        the broker then sells no lower, and what has not sold by the request's expiry is returned as
        tokens.
        """
        key = idempotency_key.strip() if isinstance(idempotency_key, str) else ""
        if not 0 < len(key) <= 128:
            raise InvalidRequestError("idempotency key must have 1 to 128 characters")
        chain = self._chain(chain_id)
        instrument = self._instrument(ticker, chain)
        shares, tokens = self._quantity(kind, quantity, instrument, chain)
        limit = self._limit_price(kind, limit_price)
        address = chain.parse_wallet(wallet)
        payer = self._payment_wallet(chain, address, payment_wallet)
        with self.db.transaction() as session:
            previous = session.scalars(
                select(RequestRow).where(RequestRow.idempotency_key == key)
            ).one_or_none()
            if previous is not None:
                asked = (kind, investor_id, address, payer, chain.chain_id, instrument.ticker, shares, limit)
                return self._replayed(previous, *asked)
            investor = self._eligible_investor(session, investor_id, address)
            if payer != address:
                self._eligible_investor(session, investor_id, payer)
            quote = self.quote(kind, instrument, shares)
            self._check_limits(session, investor.id, quote)
            self._check_funds(kind, instrument, chain, address, payer, tokens, quote)
            now = self.clock.now()
            request = RequestRow(
                id=new_request_id(),
                idempotency_key=key,
                kind=kind,
                investor_id=investor.id,
                wallet=address,
                payment_wallet=None if payer == address else payer,
                ticker=instrument.ticker,
                chain_id=chain.chain_id,
                quantity=shares.units,
                token_amount=tokens,
                state=RequestState.ACCEPTED,
                quote_price=quote.price.units,
                limit_price=None if limit is None else limit.units,
                escrow_usd=quote.escrow.units,
                fee_flat_usd=self.config.fees_for(instrument.ticker).flat.units,
                fee_bps=self.config.fees_for(instrument.ticker).bps,
                notional_usd=quote.notional.units,
                created_at=now,
                updated_at=now,
                expires_at=now + self.config.request_ttl,
            )
            session.add(request)
            try:
                session.flush()
            except IntegrityError as exc:
                if "idempotency_key" not in str(exc.orig):
                    raise
                raise IdempotencyConflictError(
                    f"idempotency key {key!r} was used concurrently; retry"
                ) from None
            session.add(
                RequestEventRow(
                    request_id=request.id,
                    at=now,
                    from_state=None,
                    to_state=RequestState.ACCEPTED,
                    reason=f"{kind} {shares} {instrument.ticker} at about {quote.price} USD"
                    + ("" if limit is None else f", sold no lower than {limit} USD")
                    + f"; escrow {quote.escrow} USDC",
                )
            )
            return request.id

    def quote(self, kind: RequestKind, instrument: Instrument, shares: Shares) -> Quote:
        """Price `shares` of `instrument` now: the notional, the fee, and for a mint the escrow to pay."""
        instrument.require_market_data("a market quote")
        try:
            price = self.prices.quote(instrument.ticker, self.clock.now()).price
        except NoPriceError as exc:
            raise MarketDataError(f"no price for {instrument.ticker}: {exc}") from None
        fees = self.config.fees_for(instrument.ticker)
        notional = price.notional(shares, round_up=True)
        if kind is RequestKind.MINT:
            # The buy order is a limit at the buffered price: escrow covers its worst fill and fee.
            worst = price.scaled_bps(self.config.price_buffer_bps).notional(shares, round_up=True)
            return Quote(price, shares, notional, fees.fee(worst), worst + fees.fee(worst))
        return Quote(price, shares, notional, fees.fee(notional), Usd.zero())

    def _chain(self, chain_id: int | None) -> TokenChain:
        if chain_id is None:
            return self.chains[self.onchain.chain_id]
        if isinstance(chain_id, int) and not isinstance(chain_id, bool) and chain_id in self.chains:
            return self.chains[chain_id]
        known = ", ".join(f"{c.chain_id} ({c.family})" for c in self.chains.values())
        raise InvalidRequestError(f"unknown chain {chain_id!r}; this issuer issues on {known}")

    def _payment_wallet(self, chain: TokenChain, wallet: str, payment_wallet: str | None) -> str:
        """Return the settlement chain's wallet that pays and is paid for a request of `wallet`."""
        if chain.chain_id == self.onchain.chain_id:
            if payment_wallet is not None and parse_address(payment_wallet) != wallet:
                raise InvalidRequestError(
                    f"payment wallet {payment_wallet} differs from wallet {wallet}: on the settlement "
                    "chain the wallet that holds the tokens pays and is paid"
                )
            return wallet
        if payment_wallet is None:
            raise InvalidRequestError(
                f"a request on chain {chain.chain_id} ({chain.family}) needs a payment wallet on the "
                f"settlement chain {self.onchain.chain_id}, which pays and is paid in USDC"
            )
        return parse_address(payment_wallet)

    def _instrument(self, ticker: str, chain: TokenChain) -> Instrument:
        symbol = ticker.strip().upper() if isinstance(ticker, str) else ""
        if symbol in self.instruments and symbol in chain.tickers:
            instrument = self.instruments[symbol]
            instrument.require_market_data("a mint or redemption through the broker")
            return instrument
        close = difflib.get_close_matches(symbol, chain.tickers, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        where = "" if chain.chain_id == self.onchain.chain_id else f" on chain {chain.chain_id}"
        raise UnknownInstrumentError(f"unknown instrument {ticker!r}{where}{hint}")

    def _quantity(
        self, kind: RequestKind, quantity: str | Decimal | Shares, instrument: Instrument, chain: TokenChain
    ) -> tuple[Shares, int]:
        """Return the shares asked for and the raw token units they stand for under today's multiplier.

        A mint expects the units its shares fully back (rounded down); a redemption takes the units
        that stand for at least its shares (rounded up), so custody always covers what stays out.
        """
        try:
            shares = quantity if isinstance(quantity, Shares) else Shares.parse(quantity)
        except InvalidAmountError as exc:
            raise InvalidRequestError(str(exc)) from None
        if shares.units <= 0:
            raise InvalidRequestError(f"quantity must be positive, got {shares}")
        decimals = instrument.token_decimals
        if shares.units % Shares.token_step(decimals):
            raise InvalidRequestError(
                f"quantity {shares} has more decimals than the {instrument.token_symbol} token's {decimals}"
            )
        multiplier = chain.multiplier(instrument.ticker)
        tokens = TokenAmount.for_shares(shares, decimals, multiplier, round_up=kind == RequestKind.REDEEM).raw
        if tokens == 0:
            raise InvalidRequestError(
                f"quantity {shares} is less than one {instrument.token_symbol} unit stands for "
                f"({TokenAmount(1, decimals).shares(multiplier)} shares under the current multiplier)"
            )
        return shares, tokens

    def _limit_price(self, kind: RequestKind, limit_price: str | Decimal | Price | None) -> Price | None:
        if limit_price is None:
            return None
        if kind is RequestKind.MINT:
            raise InvalidRequestError(
                "a limit price is for redemptions: a mint buys at most at its quote plus the price buffer"
            )
        try:
            price = limit_price if isinstance(limit_price, Price) else Price.parse(limit_price)
        except InvalidAmountError as exc:
            raise InvalidRequestError(f"limit price: {exc}") from None
        if price.units <= 0:
            raise InvalidRequestError(f"limit price must be positive, got {price}")
        if price.units % _CENT:
            raise InvalidRequestError(f"limit price {price} is not a whole cent, which brokers require")
        return price

    def _replayed(
        self,
        previous: RequestRow,
        kind: RequestKind,
        investor_id: str,
        wallet: str,
        payer: str,
        chain_id: int,
        ticker: str,
        shares: Shares,
        limit: Price | None,
    ) -> str:
        same = (
            previous.kind,
            previous.investor_id,
            previous.wallet,
            previous.payment_wallet or previous.wallet,
            previous.chain_id,
            previous.ticker,
            previous.quantity,
            previous.limit_price,
        ) == (
            kind,
            investor_id,
            wallet,
            payer,
            chain_id,
            ticker,
            shares.units,
            None if limit is None else limit.units,
        )
        if not same:
            raise IdempotencyConflictError(
                f"idempotency key {previous.idempotency_key!r} was used for a different request "
                f"({previous.id})"
            )
        return previous.id

    def _eligible_investor(self, session: Session, investor_id: str, wallet: str) -> InvestorRow:
        investor = session.get(InvestorRow, investor_id)
        if investor is None:
            raise UnknownInvestorError(f"no investor {investor_id!r}")
        if investor.category != InvestorCategory.AUTHORISED_PARTICIPANT:
            raise ComplianceError(
                f"investor {investor_id} is {investor.category}: only authorised participants mint and redeem"
            )
        if investor.kyc_status != KycStatus.APPROVED:
            raise ComplianceError(f"investor {investor_id} KYC is {investor.kyc_status}, not approved")
        if investor.kyc_expires_at <= self.clock.now():
            raise ComplianceError(f"investor {investor_id} KYC expired on {investor.kyc_expires_at:%Y-%m-%d}")
        if investor.frozen:
            raise ComplianceError(f"investor {investor_id} is frozen")
        if investor.jurisdiction in self.config.blocked_jurisdictions:
            raise ComplianceError(f"jurisdiction {investor.jurisdiction} is blocked by this issuer")
        bound = session.get(WalletRow, wallet)
        if bound is None or bound.investor_id != investor.id:
            raise ComplianceError(f"wallet {wallet} is not bound to investor {investor_id}")
        if not bound.registered_on_chain:
            raise ComplianceError(f"wallet {wallet} is not yet in the on-chain identity registry")
        listed = wallet.lower() in {w.lower() for w in self.config.sanctioned_wallets}
        # The sanctions list contract holds EVM addresses; a Solana wallet is checked against the list
        # the issuer keeps (the one its sanctions updates freeze accounts from).
        if listed or (wallet.startswith("0x") and self.onchain.sanctions.isSanctioned(wallet)):
            raise ComplianceError(f"wallet {wallet} is sanctioned")
        return investor

    def _check_limits(self, session: Session, investor_id: str, quote: Quote) -> None:
        if quote.notional < self.config.min_order:
            raise LimitExceededError(
                f"order of {quote.notional} USD is below the minimum of {self.config.min_order} USD"
            )
        if quote.notional > self.config.max_order:
            raise LimitExceededError(
                f"order of {quote.notional} USD is above the maximum of {self.config.max_order} USD"
            )
        since = self.clock.now() - timedelta(days=1)
        used = Usd(
            int(
                session.scalar(
                    select(func.coalesce(func.sum(RequestRow.notional_usd), 0)).where(
                        RequestRow.investor_id == investor_id,
                        RequestRow.created_at > since,
                        RequestRow.state.not_in([RequestState.FAILED, RequestState.CANCELLED]),
                    )
                )
                or 0
            )
        )
        limit = self.config.daily_limit_per_investor
        if used + quote.notional > limit:
            raise LimitExceededError(
                f"order of {quote.notional} USD would take investor {investor_id} over its 24-hour limit of "
                f"{limit} USD ({used} USD used)"
            )

    def _check_funds(
        self,
        kind: RequestKind,
        instrument: Instrument,
        chain: TokenChain,
        wallet: str,
        payer: str,
        tokens: int,
        quote: Quote,
    ) -> None:
        if kind is RequestKind.MINT:
            usdc = self.onchain.usdc
            operator = self.onchain.roles.operator
            balance, allowance = Usd(usdc.balanceOf(payer)), Usd(usdc.allowance(payer, operator))
            if balance < quote.escrow:
                raise InsufficientFundsError(
                    f"insufficient payment: wallet {payer} holds {balance} USDC, "
                    f"the mint needs {quote.escrow} USDC"
                )
            if allowance < quote.escrow:
                raise InsufficientFundsError(
                    f"insufficient payment: wallet {payer} approved {allowance} USDC "
                    f"to the issuer {operator}, "
                    f"the mint needs {quote.escrow} USDC"
                )
            return
        shortfall = chain.redemption_shortfall(instrument.ticker, wallet, tokens)
        if shortfall is not None:
            raise InsufficientFundsError(shortfall)
