"""The quote desk: sign a quote for a verified user to mint or redeem at once, or refuse, saying why.

A quote is signed only if the chain would accept it now and the issuer can stand behind it:
- issuance is open: the regular session of the exchange calendar (holidays closed, half days close
  early), not merely a weekday; the quote expires by the session's close;
- the ticker has a minter and it is not paused, the user is one the token accepts (its
  `can_transfer` pre-check), the quantity is a positive whole number of token steps worth at least
  the desk's minimum, and the user holds the USDC a mint costs or the tokens a redemption burns;
- the price (the market price the broker fills at, moved by the spread against the user) lies in the
  minter's band around its guarded oracle price;
- a mint fits the unissued inventory (custody that backs no token, as the ledger and the reserve feed
  both see it) less what open quotes promised; a redemption fits the treasury's USDC;
- the USD notional fits both rate limits as the minter reports them now, less open quotes.
Each refusal raises a `QuoteRefusedError` and stores and signs nothing. A signed quote is stored as
a `quoted` row in the same transaction that checks what open quotes promised, for the hedger.
"""

import os
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.contract import Contract
from equitoken.issuer.attestation.config import AttestationConfig
from equitoken.issuer.attestation.deployment import MinterDeployment, minter_at
from equitoken.issuer.attestation.errors import (
    InsufficientBalanceError,
    InvalidQuantityError,
    InventoryExhaustedError,
    MinterPausedError,
    OutsideIssuanceHoursError,
    PriceOutOfBandError,
    RateLimitedError,
    TreasuryShortError,
    UnknownTickerError,
    UserNotAcceptedError,
)
from equitoken.issuer.attestation.quotes import Quote, Side, SignedQuote, sign_quote
from equitoken.issuer.attestation.states import HedgeKind, HedgeState
from equitoken.issuer.chains import TokenChain, allotment, outstanding
from equitoken.issuer.custody import CustodyLedger, surplus_account
from equitoken.issuer.errors import InvalidRequestError
from equitoken.issuer.onchain import IssuerChain, parse_address
from equitoken.market.calendar import NEW_YORK, MarketCalendar, OutsideCalendarError
from equitoken.market.prices import NoPriceError, PriceSource
from equitoken.model.instrument import Instrument
from equitoken.model.multiplier import MULTIPLIER_ONE
from equitoken.model.quantities import InvalidAmountError, Shares, Usd
from equitoken.model.time import Clock
from equitoken.model.token_amount import TokenAmount
from equitoken.store.database import Database
from equitoken.store.schema import AttestationQuoteEventRow, AttestationQuoteRow

_BPS = 10_000
# A share price (10^-8 dollar) in USDC's 10^-6.
_PRICE_TO_USDC = 10 ** (8 - 6)


def parse_side(side: Side | str) -> Side:
    """Return `side` as a quote side: "buy"/"mint" or "sell"/"redeem"; raise InvalidRequestError."""
    if isinstance(side, Side):
        return side
    names = {"buy": Side.BUY, "mint": Side.BUY, "sell": Side.SELL, "redeem": Side.SELL}
    if not isinstance(side, str) or side.lower() not in names:
        raise InvalidRequestError(f"side {side!r} is not one of buy (mint) or sell (redeem)")
    return names[side.lower()]


class QuoteDesk:
    """Sign attestation quotes on one EVM chain's minters, or refuse them."""

    def __init__(
        self,
        database: Database,
        onchain: IssuerChain,
        minters: MinterDeployment,
        prices: PriceSource,
        clock: Clock,
        calendar: MarketCalendar,
        config: AttestationConfig,
        instruments: Mapping[str, Instrument],
        chains: Sequence[TokenChain] = (),
        *,
        entropy: Callable[[int], bytes] = os.urandom,
    ) -> None:
        if minters.chain_id != onchain.chain_id:
            raise ValueError(
                f"the minters are on chain {minters.chain_id}, the issuer's chain is {onchain.chain_id}"
            )
        self.db = database
        self.onchain = onchain
        self.minters = minters
        self.prices = prices
        self.clock = clock
        self.calendar = calendar
        self.config = config
        self.instruments = instruments
        self.chains: tuple[TokenChain, ...] = tuple(chains) or (onchain,)
        self.ledger = CustodyLedger()
        # Attestation and restock ids: random bytes (a seeded source replays the same ids, for a
        # reproducible replay such as `equitoken compare`).
        self.entropy = entropy

    # -- the public entry points

    def quote(
        self, user: str, ticker: str, side: Side | str, quantity: str | Decimal | Shares
    ) -> SignedQuote:
        """Sign a quote for `user` to mint (buy) or redeem (sell) `quantity` shares of `ticker` now."""
        wallet = parse_address(user)
        side = parse_side(side)
        instrument = self._instrument(ticker)
        shares = _shares(quantity)
        now = self.clock.now()
        close = self._session_close(now)
        minter = minter_at(self.onchain.chain, self.minters.minter(ticker), ticker)
        multiplier = self.onchain.multiplier(ticker)
        try:
            tokens = TokenAmount.for_shares(shares, instrument.token_decimals, multiplier).raw
        except InvalidAmountError:
            raise InvalidQuantityError(
                f"{shares} shares is not a whole number of {ticker} token steps "
                f"({instrument.token_decimals} decimals): dust cannot be quoted"
            ) from None
        if tokens == 0:
            raise InvalidQuantityError(f"{shares} shares of {ticker} is less than one token unit")
        if minter.paused():
            raise MinterPausedError(f"the {ticker} attestation minter is paused: no quote can be used now")
        self._require_accepted(minter, ticker, wallet)
        price = self._price(ticker, side, multiplier, now)
        self._require_in_band(minter, ticker, price)
        notional = Usd(int(minter.usd_notional(price, tokens, int(side))))
        if notional < self.config.min_notional:
            raise InvalidQuantityError(
                f"{shares} {ticker} is worth {notional} USDC, under the desk's minimum of "
                f"{self.config.min_notional} USDC"
            )
        self._require_balance(wallet, ticker, side, tokens, notional)
        ttl = min(int(self.config.quote_ttl.total_seconds()), int(minter.max_ttl()))
        # From the next block's time, which may run ahead of the clock (one second per block at least).
        start = max(int(now.timestamp()), self.onchain.chain.timestamp() + 1)
        expiry = min(start + ttl, int(close.timestamp()))
        chain_room = self._chain_room(minter, wallet, ticker, side, instrument.token_decimals, multiplier)
        # Quotes used on-chain that the hedger has not seen yet: the chain's figures count them already.
        used = self._used_quotes(minter, ticker)
        quote = Quote(
            chain_id=self.onchain.chain_id,
            attestation_id=self.entropy(32),
            user=wallet,
            token=self.onchain.deployment.instrument(ticker).token,
            price=price,
            quantity=tokens,
            side=side,
            expiry=expiry,
        )
        signed = sign_quote(quote, minter.address, self.onchain.chain.signers.get(self.minters.signer))
        with self.db.transaction() as session:
            self._require_room(session, chain_room, used, wallet, ticker, side, shares, notional)
            kind = HedgeKind.MINT if side is Side.BUY else HedgeKind.REDEEM
            row = AttestationQuoteRow(
                id=quote.id_hex,
                kind=kind.value,
                ticker=ticker,
                chain_id=quote.chain_id,
                minter=minter.address,
                wallet=wallet,
                price=price,
                quantity=tokens,
                expiry=expiry,
                notional_usd=notional.units,
                signature="0x" + signed.signature.hex(),
                shares=shares.units,
                filled_shares=0,
                filled_usd=0,
                state=HedgeState.QUOTED.value,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()  # the row before its event, which refers to it
            session.add(
                AttestationQuoteEventRow(
                    quote_id=row.id,
                    at=now,
                    from_state=None,
                    to_state=HedgeState.QUOTED.value,
                    reason=f"{kind} of {shares} {ticker} quoted to {wallet} at {Usd(price)} USDC a token "
                    f"for {notional} USDC, good until {expiry}",
                )
            )
        return signed

    def restock(self, ticker: str, quantity: str | Decimal | Shares | None = None) -> str | None:
        """Buy shares for `ticker`'s inventory: `quantity`, or what brings it to its target once the
        open hedges land; return the restock's id, or None if the inventory needs nothing."""
        self._instrument(ticker)
        now = self.clock.now()
        with self.db.transaction() as session:
            if quantity is None:
                target = self.config.inventory_target.get(ticker, Shares.zero())
                planned = self.ledger_inventory(session, ticker) + self.pending_hedge(session, ticker)
                shares = target - planned
                if shares.units <= 0:
                    return None
            else:
                shares = _shares(quantity)
            restock_id = f"restock-{self.entropy(16).hex()}"
            session.add(
                AttestationQuoteRow(
                    id=restock_id,
                    kind=HedgeKind.RESTOCK.value,
                    ticker=ticker,
                    chain_id=self.onchain.chain_id,
                    minter=self.minters.minter(ticker),
                    wallet=self.onchain.roles.operator,
                    price=0,
                    quantity=0,
                    expiry=0,
                    notional_usd=0,
                    signature="",
                    shares=shares.units,
                    filled_shares=0,
                    filled_usd=0,
                    state=HedgeState.EXECUTED.value,
                    created_at=now,
                    updated_at=now,
                )
            )
            session.flush()
            session.add(
                AttestationQuoteEventRow(
                    quote_id=restock_id,
                    at=now,
                    from_state=None,
                    to_state=HedgeState.EXECUTED.value,
                    reason=f"restock of {shares} {ticker} for the attestation inventory",
                )
            )
        return restock_id

    # -- what the report and restock share

    def ledger_inventory(self, session: Session, ticker: str) -> Shares:
        """Return the issuer's own shares of `ticker` in custody, as the ledger books them."""
        return Shares(-self.ledger.balance(session, surplus_account(ticker), ticker))

    def pending_hedge(self, session: Session, ticker: str) -> Shares:
        """Return the shares open hedges of `ticker` will still add to the inventory (sells negative)."""
        total = 0
        rows = session.execute(
            select(
                AttestationQuoteRow.kind, AttestationQuoteRow.shares, AttestationQuoteRow.filled_shares
            ).where(
                AttestationQuoteRow.ticker == ticker,
                AttestationQuoteRow.state.in_([HedgeState.EXECUTED.value, HedgeState.HEDGING.value]),
            )
        )
        for kind, quoted, filled in rows:
            sign = -1 if kind == HedgeKind.REDEEM else 1
            total += sign * (quoted - filled)
        return Shares(total)

    # -- the checks

    def _instrument(self, ticker: str) -> Instrument:
        if (
            not isinstance(ticker, str)
            or ticker not in self.minters.minters
            or ticker not in self.instruments
        ):
            offered = ", ".join(sorted(t for t in self.minters.minters if t in self.instruments))
            raise UnknownTickerError(f"no attestation minter for ticker {ticker!r}; offered: {offered}")
        return self.instruments[ticker]

    def _session_close(self, now: datetime) -> datetime:
        try:
            if self.calendar.is_open(now):
                return self.calendar.next_session(now).close
            opening = self.calendar.next_open(now)
        except OutsideCalendarError as error:
            raise OutsideIssuanceHoursError(f"issuance is closed: {error}") from None
        local = opening.astimezone(NEW_YORK)
        raise OutsideIssuanceHoursError(
            f"issuance is closed at {now.astimezone(NEW_YORK):%Y-%m-%d %H:%M} New York time "
            f"(it follows the {self.calendar.exchange} regular session, holidays and early closes "
            f"included); it opens next at {local:%Y-%m-%d %H:%M} New York time ({opening.isoformat()})"
        )

    def _require_accepted(self, minter: Contract, ticker: str, wallet: str) -> None:
        # The minter's own pre-check: a transfer from the minter to the user (KYC, sanctions, freezes).
        code, reason = self.onchain.token(ticker).can_transfer(minter.address, wallet, 0)
        if int(code) != 0:
            raise UserNotAcceptedError(
                f"the {ticker} token does not accept {wallet}: {reason} (code {int(code)})"
            )

    def _require_balance(self, wallet: str, ticker: str, side: Side, tokens: int, notional: Usd) -> None:
        # What the user must hold for the call to go through (the allowance may follow the quote).
        if side is Side.BUY:
            held = Usd(int(self.onchain.usdc.balanceOf(wallet)))
            if held < notional:
                raise InsufficientBalanceError(f"{wallet} holds {held} USDC, the mint costs {notional} USDC")
            return
        units = self.onchain.balance(ticker, wallet)
        if units < tokens:
            raise InsufficientBalanceError(
                f"{wallet} holds {units} {ticker} token units, the redemption needs {tokens}"
            )

    def _price(self, ticker: str, side: Side, multiplier: int, now: datetime) -> int:
        try:
            market = self.prices.quote(ticker, now).price
        except NoPriceError as error:
            raise PriceOutOfBandError(f"no market price to quote {ticker} at: {error}") from None
        spread = self.config.spread_bps if side is Side.BUY else -self.config.spread_bps
        share_price = market.scaled_bps(spread)
        exact = share_price.units * multiplier
        scale = MULTIPLIER_ONE * _PRICE_TO_USDC
        # USDC per whole token, rounded for the issuer: up when the user buys, down when it sells.
        return -(-exact // scale) if side is Side.BUY else exact // scale

    def _require_in_band(self, minter: Contract, ticker: str, price: int) -> None:
        try:
            # Read as the next block sees it: the block the user's call lands in.
            oracle = int(minter.oracle_price_usdc.call(block="pending"))
        except RevertError as error:
            raise PriceOutOfBandError(f"the {ticker} oracle has no usable price now: {error}") from None
        band = int(minter.max_deviation_bps())
        if abs(price - oracle) * _BPS > band * oracle:
            raise PriceOutOfBandError(
                f"the {ticker} quote price {Usd(price)} USDC is more than {band} bps from the oracle's "
                f"{Usd(oracle)} USDC; the minter would refuse it"
            )

    def _chain_room(
        self, minter: Contract, wallet: str, ticker: str, side: Side, decimals: int, multiplier: int
    ) -> tuple[Shares, Usd, Usd, Usd]:
        """Read what the chain allows now: the inventory a mint may draw (or the treasury's USDC for a
        redemption), the user's and the token's rate limits."""
        if side is Side.BUY:
            with self.db.transaction() as session:
                backing = Shares(self.ledger.backing(session, ticker))
                allotted = allotment(
                    session, backing, list(self.chains), self.onchain.chain_id, ticker, decimals
                )
            issued = outstanding(self.onchain, ticker, decimals)
            # The token's gate reads the reserve feed, not the ledger: a mint needs room in both.
            reserve = 0
            if self.onchain.reserve_observed_at(ticker) is not None:
                reserve = max(int(self.onchain.reserve_feed(ticker).latestRoundData()[1]), 0)
            attested = TokenAmount(reserve, decimals).shares(multiplier)
            room = Shares(min(allotted.units, attested.units) - issued.units)
            cash = Usd.zero()
        else:
            room = Shares.zero()
            cash = Usd(int(self.onchain.usdc.balanceOf(self.onchain.roles.operator)))
        user = Usd(int(minter.available_for_user.call(wallet, block="pending")))
        token = Usd(int(minter.available_for_token.call(block="pending")))
        return (room, cash, user, token)

    def _used_quotes(self, minter: Contract, ticker: str) -> list[str]:
        now = int(self.clock.now().timestamp())
        with self.db.transaction() as session:
            quoted = list(
                session.scalars(
                    select(AttestationQuoteRow.id).where(
                        AttestationQuoteRow.ticker == ticker,
                        AttestationQuoteRow.state == HedgeState.QUOTED.value,
                        AttestationQuoteRow.expiry >= now,
                    )
                )
            )
        return [q for q in quoted if minter.attestation_used(bytes.fromhex(q.removeprefix("0x")))]

    def _require_room(
        self,
        session: Session,
        chain_room: tuple[Shares, Usd, Usd, Usd],
        used: list[str],
        wallet: str,
        ticker: str,
        side: Side,
        shares: Shares,
        notional: Usd,
    ) -> None:
        room, cash, user_room, token_room = chain_room
        now = int(self.clock.now().timestamp())
        open_quotes = (
            AttestationQuoteRow.ticker == ticker,
            AttestationQuoteRow.state == HedgeState.QUOTED.value,
            AttestationQuoteRow.expiry >= now,
            AttestationQuoteRow.id.not_in(used),
        )

        def promised(column: InstrumentedAttribute[int], *where: ColumnElement[bool]) -> int:
            return int(
                session.scalar(select(func.coalesce(func.sum(column), 0)).where(*open_quotes, *where)) or 0
            )

        if side is Side.BUY:
            held = promised(AttestationQuoteRow.shares, AttestationQuoteRow.kind == HedgeKind.MINT.value)
            available = Shares(max(room.units - held, 0))
            if shares > available:
                raise InventoryExhaustedError(
                    f"a mint of {shares} {ticker} exceeds the unissued inventory: {available} shares "
                    f"available now ({Shares(held)} promised to open quotes)"
                )
        else:
            owed = promised(
                AttestationQuoteRow.notional_usd, AttestationQuoteRow.kind == HedgeKind.REDEEM.value
            )
            if notional.units > cash.units - owed:
                raise TreasuryShortError(
                    f"a redemption paying {notional} USDC exceeds the treasury's "
                    f"{Usd(max(cash.units - owed, 0))} USDC not promised to open quotes"
                )
        user_owed = promised(AttestationQuoteRow.notional_usd, AttestationQuoteRow.wallet == wallet)
        token_owed = promised(AttestationQuoteRow.notional_usd)
        for which, limit, owed in (("user", user_room, user_owed), ("token", token_room, token_owed)):
            available_usd = Usd(max(limit.units - owed, 0))
            if notional > available_usd:
                raise RateLimitedError(
                    f"{notional} USDC exceeds the {which} rate limit: {available_usd} USDC available now "
                    f"({Usd(owed)} USDC promised to open quotes); it frees up as the limit decays"
                )


def _shares(quantity: str | Decimal | Shares) -> Shares:
    if isinstance(quantity, Shares):
        shares = quantity
    else:
        try:
            shares = Shares.parse(quantity)
        except InvalidAmountError as error:
            raise InvalidQuantityError(str(error)) from None
    if shares.units <= 0:
        raise InvalidQuantityError(f"quantity must be positive, not {shares} shares")
    return shares
