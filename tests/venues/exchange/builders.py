"""Rules and orders for the exchange tests: $0.01 ticks, lots of 10^-4 share of a 9-decimal token."""

from equitoken.model.quantities import Price
from equitoken.venues.exchange.orders import OrderType, Side, Submit, TimeInForce
from equitoken.venues.exchange.rules import BookRules, InstrumentSpec, SelfTradePrevention

SHARE = 10**9
LOT = 100_000
CENT = Price(1_000_000)
INSTRUMENT = InstrumentSpec("AAPL", 9, CENT, LOT)


def rules(
    stp: SelfTradePrevention = SelfTradePrevention.CANCEL_RESTING,
    maker_fee_bps: int = 2,
    taker_fee_bps: int = 5,
) -> BookRules:
    """Return book rules with $1 minimum notional and the given STP mode and fees."""
    return BookRules(INSTRUMENT, maker_fee_bps, taker_fee_bps, self_trade_prevention=stp)


def limit(
    account: int,
    side: Side,
    price: int,
    quantity: int,
    time_in_force: TimeInForce = TimeInForce.GTC,
    *,
    post_only: bool = False,
    client_order_id: str = "",
) -> Submit:
    """Return a limit order of `quantity` token units at `price` ticks."""
    return Submit(
        account,
        client_order_id or f"{account}-{side.name}-{price}",
        side,
        OrderType.LIMIT,
        price,
        quantity,
        time_in_force,
        post_only,
    )


def market(account: int, side: Side, quantity: int, time_in_force: TimeInForce = TimeInForce.IOC) -> Submit:
    """Return a market order of `quantity` token units."""
    return Submit(
        account, f"{account}-{side.name}-market", side, OrderType.MARKET, 0, quantity, time_in_force
    )
