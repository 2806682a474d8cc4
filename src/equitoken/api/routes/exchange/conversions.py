"""What the exchange's routes share: the book's integers to and from the API's decimal strings (prices
in dollars, quantities in shares, amounts in USDC), and the schemas its answers are shaped into."""

from equitoken.api.problems import ProblemError
from equitoken.api.schemas import (
    ExchangeDepositOut,
    ExchangeFillOut,
    ExchangeLevelOut,
    ExchangeOrderOut,
    ExchangeOutcomeOut,
    ExchangeStatus,
    ExchangeTradeOut,
    ExchangeWithdrawalOut,
)
from equitoken.model.instrument import UnknownInstrumentError
from equitoken.model.quantities import InvalidAmountError, Price, Shares, Usd
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.exchange.accounts import USDC, UnknownAssetError
from equitoken.venues.exchange.book import DepthLevel, OpenOrder
from equitoken.venues.exchange.engine import Outcome
from equitoken.venues.exchange.events import Accepted, Amended, Cancelled, Filled
from equitoken.venues.exchange.funding import (
    Deposit,
    Withdrawal,
)
from equitoken.venues.exchange.orders import Side
from equitoken.venues.exchange.rules import BookRules
from equitoken.venues.exchange.venue import (
    ExchangeVenue,
    RecentTrade,
)


def status_name(market_status: MarketStatus) -> ExchangeStatus:
    name: ExchangeStatus = market_status.name.lower()  # type: ignore[assignment]
    return name


def dollars(rules: BookRules, ticks: int) -> str:
    return str(Price(ticks * rules.instrument.tick.units))


def shares(rules: BookRules, units: int) -> str:
    return str(Shares(units * Shares.token_step(rules.instrument.token_decimals)))


def usdc(units: int) -> str:
    return str(Usd(units))


def asset_amount(venue: ExchangeVenue, asset: str, units: int) -> str:
    return usdc(units) if asset == USDC else shares(venue.rules(asset), units)


def asset_units(venue: ExchangeVenue, asset: str, text: str) -> int:
    """Return `text` (dollars for USDC, shares for a token) in the asset's smallest units, exactly."""
    if asset == USDC:
        try:
            return Usd.parse(text).units
        except InvalidAmountError:
            raise ProblemError(
                422, "invalid_amount", f"amount {text} has more decimals than USDC's 6"
            ) from None
    try:
        rules = venue.rules(asset)
    except UnknownInstrumentError:
        raise ProblemError(
            422,
            UnknownAssetError.code,
            f"asset {asset!r} is not {USDC} or one of {', '.join(venue.tickers())}",
        ) from None
    step = Shares.token_step(rules.instrument.token_decimals)
    try:
        units = Shares.parse(text).units
    except InvalidAmountError:
        units = -1
    if units < 0 or units % step:
        raise ProblemError(
            422,
            "invalid_amount",
            f"amount {text} is not a whole number of {asset}'s units of {shares(rules, 1)} shares",
        )
    return units // step


def ticks(rules: BookRules, text: str) -> int:
    tick = rules.instrument.tick
    try:
        units = Price.parse(text).units
    except InvalidAmountError:
        units = -1
    if units < 0 or units % tick.units:
        raise ProblemError(422, "off_tick", f"price {text} is not a whole number of ticks of ${tick}")
    return units // tick.units


def token_units(rules: BookRules, text: str) -> int:
    step = Shares.token_step(rules.instrument.token_decimals)
    lot = rules.instrument.lot
    try:
        units = Shares.parse(text).units
    except InvalidAmountError:
        units = -1
    if units < 0 or units % (step * lot):
        raise ProblemError(
            422, "off_lot", f"quantity {text} is not a whole number of lots of {shares(rules, lot)} shares"
        )
    return units // step


def levels_out(rules: BookRules, levels: list[DepthLevel]) -> list[ExchangeLevelOut]:
    return [
        ExchangeLevelOut(
            price=dollars(rules, lv.price), quantity=shares(rules, lv.quantity), orders=lv.orders
        )
        for lv in levels
    ]


def order_out(rules: BookRules, ticker: str, order: OpenOrder) -> ExchangeOrderOut:
    return ExchangeOrderOut(
        ticker=ticker,
        order_id=order.order_id,
        client_order_id=order.client_order_id,
        side="buy" if order.side == Side.BUY else "sell",
        price=dollars(rules, order.price),
        quantity=shares(rules, order.quantity),
    )


def trade_out(rules: BookRules, recent: RecentTrade) -> ExchangeTradeOut:
    fill = recent.trade.fill
    return ExchangeTradeOut(
        trade_id=recent.trade.trade_id,
        price=dollars(rules, fill.price),
        quantity=shares(rules, fill.quantity),
        taker_side="buy" if fill.taker_side == Side.BUY else "sell",
        status=status_name(recent.trade.status),
        at=recent.at,
    )


def outcome_out(rules: BookRules, ticker: str, order_id: int, outcome: Outcome) -> ExchangeOutcomeOut:
    fills: list[ExchangeFillOut] = []
    open_quantity = 0
    state = "resting"
    for event in outcome.events:
        if isinstance(event, Accepted):
            open_quantity = event.quantity
        elif isinstance(event, Filled) and order_id in (event.maker_order_id, event.taker_order_id):
            taker = event.taker_order_id == order_id
            open_quantity -= event.quantity
            fills.append(
                ExchangeFillOut(
                    trade_id=f"{ticker}-{event.maker_order_id}-{event.taker_order_id}",
                    order_id=order_id,
                    role="taker" if taker else "maker",
                    price=dollars(rules, event.price),
                    quantity=shares(rules, event.quantity),
                    fee=usdc(event.taker_fee if taker else event.maker_fee),
                )
            )
        elif isinstance(event, Cancelled) and event.order_id == order_id:
            open_quantity, state = 0, "cancelled"
        elif isinstance(event, Amended):
            open_quantity, state = event.quantity, "amended"
    if state == "resting" and not open_quantity:
        state = "filled"
    return ExchangeOutcomeOut(
        ticker=ticker,
        order_id=order_id,
        state=state,  # type: ignore[arg-type]
        open_quantity=shares(rules, open_quantity),
        fills=fills,
    )


def placed_out(
    venue: ExchangeVenue, rules: BookRules, ticker: str, account: int, order_id: int
) -> ExchangeOutcomeOut:
    """Return an order placed earlier as it stands now: resting with its open quantity, or closed."""
    for order in venue.open_orders(account, ticker)[ticker]:
        if order.order_id == order_id:
            return ExchangeOutcomeOut(
                ticker=ticker,
                order_id=order_id,
                state="resting",
                open_quantity=shares(rules, order.quantity),
                fills=[],
            )
    return ExchangeOutcomeOut(
        ticker=ticker, order_id=order_id, state="closed", open_quantity=shares(rules, 0), fills=[]
    )


def deposit_out(venue: ExchangeVenue, deposit: Deposit) -> ExchangeDepositOut:
    return ExchangeDepositOut(
        deposit_id=deposit.deposit_id,
        asset=deposit.asset,
        amount=asset_amount(venue, deposit.asset, deposit.amount),
        sender=deposit.sender,
        tx_hash=deposit.tx_hash,
        block_number=deposit.block_number,
    )


def withdrawal_out(venue: ExchangeVenue, withdrawal: Withdrawal) -> ExchangeWithdrawalOut:
    return ExchangeWithdrawalOut(
        withdrawal_id=withdrawal.id,
        asset=withdrawal.asset,
        amount=asset_amount(venue, withdrawal.asset, withdrawal.amount),
        destination=withdrawal.destination,
        status=withdrawal.status.value,
        tx_hash=withdrawal.tx_hash,
        reason=withdrawal.reason,
        created_at=withdrawal.created_at,
        updated_at=withdrawal.updated_at,
    )
