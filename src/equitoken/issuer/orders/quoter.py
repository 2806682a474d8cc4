"""Fee quotes for the order processor: the issuer checks an order, prices its fee and signs a quote the
processor accepts once, before its deadline.

The fee is the issuer's schedule (a flat fee plus basis points) on the order's notional: the USDC to
spend for a market buy, quantity x limit for a limit order, quantity x the last price for a market
sell. A quote binds the whole order, so the checks here are the ones the processor cannot make:
whether the issuer serves the ticker and the time in force, whether the order is large enough to be
worth filling, whether a seller holds the tokens. What the processor checks itself (the recipient's
compliance, the nonce, the deadline) is checked here too, so a refusal comes before the requester pays
for a transaction.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from eth_account.signers.local import LocalAccount

from equitoken.chain.evm.contract import Contract
from equitoken.issuer.config import FeeSchedule
from equitoken.issuer.errors import ComplianceError, InvalidRequestError, MarketDataError
from equitoken.issuer.onchain import IssuerChain
from equitoken.issuer.orders.terms import (
    FeeQuote,
    ProcessorOrder,
    ProcessorOrderType,
    ProcessorTimeInForce,
    SignedFeeQuote,
    sign_fee_quote,
)
from equitoken.market.prices import NoPriceError, PriceSource
from equitoken.model.instrument import Instrument
from equitoken.model.multiplier import MULTIPLIER_ONE
from equitoken.model.quantities import InvalidAmountError, Price, Shares, Usd
from equitoken.model.time import Clock
from equitoken.model.token_amount import TokenAmount

DEFAULT_QUOTE_TTL_SECONDS = 600
MIN_NOTIONAL = Usd.parse("1")
_PRICE_TO_USDC: int = 10 ** (Price.DECIMALS - Usd.DECIMALS)


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


@dataclass(frozen=True)
class OrderAsk:
    """What a requester asks for, in the issuer's value types: `quantity` in shares for sells and limit
    buys, `spend` in USD for a market buy, `limit` per share for a limit order."""

    ticker: str
    side: Side
    order_type: ProcessorOrderType
    time_in_force: ProcessorTimeInForce
    quantity: Shares | None = None
    spend: Usd | None = None
    limit: Price | None = None


def limit_per_token(limit: Price, multiplier: int, *, round_up: bool) -> int:
    """Return a per-share limit as the processor's USDC raw units per whole token under `multiplier`."""
    exact = limit.units * multiplier
    scale = MULTIPLIER_ONE * _PRICE_TO_USDC
    return -(-exact // scale) if round_up else exact // scale


def limit_per_share(limit_raw: int, multiplier: int, *, round_up: bool) -> Price:
    """Return the processor's per-token limit (USDC raw units) as a price per share."""
    exact = limit_raw * _PRICE_TO_USDC * MULTIPLIER_ONE
    return Price(-(-exact // multiplier) if round_up else exact // multiplier)


class FeeQuoter:
    """Check orders and sign their fee quotes for one processor."""

    def __init__(
        self,
        onchain: IssuerChain,
        processor: Contract,
        signer: LocalAccount,
        instruments: Mapping[str, Instrument],
        prices: PriceSource,
        clock: Clock,
        fees: FeeSchedule,
        *,
        ttl_seconds: int = DEFAULT_QUOTE_TTL_SECONDS,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"a quote must live a positive number of seconds, not {ttl_seconds}")
        self.onchain = onchain
        self.processor = processor
        self.signer = signer
        self.instruments = instruments
        self.prices = prices
        self.clock = clock
        self.fees = fees
        self.ttl_seconds = ttl_seconds

    def quote(self, requester: str, ask: OrderAsk, *, recipient: str | None = None) -> SignedFeeQuote:
        """Return a signed fee quote for `requester`'s order `ask`, delivered to `recipient` (the
        requester's own wallet unless named); refuse, naming why, an order the issuer will not fill."""
        requester = self.onchain.parse_wallet(requester)
        recipient = self.onchain.parse_wallet(recipient) if recipient is not None else requester
        if ask.ticker not in self.instruments or ask.ticker not in self.onchain.tickers:
            raise InvalidRequestError(f"the order processor does not serve {ask.ticker!r}")
        self.instruments[ask.ticker].require_market_data("an order filled at the market through the broker")
        order = self._order(ask, recipient)
        notional = self._notional(ask)
        if notional < MIN_NOTIONAL:
            raise InvalidRequestError(
                f"an order of {notional} USD is below the minimum of {MIN_NOTIONAL} USD"
            )
        token = self.onchain.token(ask.ticker)
        if ask.side is Side.SELL:
            held = TokenAmount(int(token.balanceOf(requester)), self._decimals(ask))
            if held.raw < order.asset_quantity:
                wanted = TokenAmount(order.asset_quantity, held.decimals)
                raise InvalidRequestError(
                    f"{requester} holds {held} {ask.ticker} tokens, fewer than {wanted} to sell"
                )
        else:
            code, reason = token.can_transfer(self.processor.address, recipient, 0)
            if int(code) != 0:
                raise ComplianceError(f"{recipient} may not receive {ask.ticker}: {reason}")
        deadline = self.onchain.observation_time(self.clock.now()) + self.ttl_seconds
        quote = FeeQuote(
            int(self.processor.nonces(requester)), requester, self.fees.fee(notional).units, deadline
        )
        return sign_fee_quote(self.signer, self.onchain.chain_id, self.processor.address, order, quote)

    def _decimals(self, ask: OrderAsk) -> int:
        return self.instruments[ask.ticker].token_decimals

    def _order(self, ask: OrderAsk, recipient: str) -> ProcessorOrder:
        if ask.time_in_force is ProcessorTimeInForce.FOK:
            raise InvalidRequestError(
                "fill-or-kill is not offered: the broker may fill an order in parts, and the processor "
                "takes a fill-or-kill order only in one fill"
            )
        market = ask.order_type is ProcessorOrderType.MARKET
        if market and ask.limit is not None:
            raise InvalidRequestError("a market order takes no limit price")
        if not market and (ask.limit is None or ask.limit.units <= 0):
            raise InvalidRequestError("a limit order needs a positive limit price")
        multiplier = self.onchain.multiplier(ask.ticker)
        token = self.onchain.deployment.instrument(ask.ticker).token
        sell = ask.side is Side.SELL
        limit = 0 if ask.limit is None else limit_per_token(ask.limit, multiplier, round_up=sell)
        if not market and limit == 0:
            raise InvalidRequestError(f"a limit of {ask.limit} per share is below one USDC unit per token")
        if market and not sell:
            if ask.quantity is not None or ask.spend is None or ask.spend.units <= 0:
                raise InvalidRequestError("a market buy names the USD to spend, and no quantity")
            return ProcessorOrder(
                recipient, token, False, ask.order_type, 0, ask.spend.units, 0, ask.time_in_force
            )
        if ask.spend is not None or ask.quantity is None or ask.quantity.units <= 0:
            raise InvalidRequestError(
                f"a {ask.order_type.name.lower()} {ask.side} names a positive quantity of shares"
            )
        decimals = self._decimals(ask)
        try:
            tokens = TokenAmount.for_shares(ask.quantity, decimals, multiplier).raw
        except InvalidAmountError:
            tokens = 0
        if tokens == 0 or TokenAmount(tokens, decimals).shares(multiplier) != ask.quantity:
            raise InvalidRequestError(
                f"{ask.quantity} shares is not a whole number of {ask.ticker} token units "
                f"({decimals} decimals)"
            )
        return ProcessorOrder(recipient, token, sell, ask.order_type, tokens, 0, limit, ask.time_in_force)

    def _notional(self, ask: OrderAsk) -> Usd:
        if ask.spend is not None:
            return ask.spend
        assert ask.quantity is not None
        if ask.limit is not None:
            return ask.limit.notional(ask.quantity, round_up=False)
        try:
            price = self.prices.quote(ask.ticker, self.clock.now()).price
        except NoPriceError as error:
            raise MarketDataError(str(error)) from error
        return price.notional(ask.quantity, round_up=False)
