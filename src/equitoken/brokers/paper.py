"""A simulated broker whose orders, fills and account live in its own database.

It plays an outside party: its tables (prefix `paper_`) sit in a database of its own, created
with `create_all`, not in the platform's Alembic schema. A caller killed at any point finds
every order and fill again by constructing a new `PaperBroker` on the same URL.

Fill model (deterministic: the same orders and clock readings give the same fills):
- An order becomes eligible at `submitted_at + latency`, moved to the next regular-session open
  if that instant is outside the regular session (weekends, holidays, after a half day's 13:00
  close, overnight): such orders queue and fill at the next session's prices.
- From then on it has one *fill instant* every `fill_interval`; an instant at or after the
  session's close moves to the next session's open.
- At each instant the order fills its next *part*, at the price source's price at that instant
  moved `slippage_bps` against the taker (buys up, sells down, rounded against the taker).
  A market order fills in `fill_parts` parts; a limit order fills a part only at an instant
  where that slipped price is within its limit. Simplification: the limit is checked at the
  fill instants only, not between them, and a part never fills at a better price than the
  slipped quote (there is no order book to trade through).
- Part sizes split the quantity exactly in share units; the last part takes the remainder.
- A DAY order expires at its session's close with whatever filled; a GTC order stays.
- Fills are computed lazily, whenever the broker is asked (`submit`, `order`, `cancel`,
  `open_orders`, `positions`, `cash`), for every instant up to the clock's now.

Concurrency: every call is one transaction that first takes the broker's lock (`BEGIN
IMMEDIATE` on SQLite, `SELECT ... FOR UPDATE` of the account row elsewhere), so two brokers on
one database, in threads or processes, never fill an instant twice.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Dialect,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import RowMapping, make_url
from sqlalchemy.types import TypeDecorator

from equitoken.brokers.errors import (
    DuplicateClientOrderIdError,
    OrderRejectedError,
    UnknownOrderError,
)
from equitoken.brokers.orders import (
    BrokerOrder,
    Fill,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from equitoken.market.calendar import MarketCalendar, OutsideCalendarError
from equitoken.market.prices import NoPriceError, PriceSource
from equitoken.model.quantities import Price, Shares, Usd
from equitoken.model.time import Clock

DEFAULT_INITIAL_CASH = Usd.parse("10000000")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_OPEN = (OrderStatus.NEW.value, OrderStatus.PARTIALLY_FILLED.value)


class _UtcInstant(TypeDecorator[datetime]):
    """An aware datetime stored as integer microseconds since the epoch (exact, sortable, any backend)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored as an instant")
        return (value - _EPOCH) // _MICROSECOND

    def process_result_value(self, value: int | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _EPOCH + value * _MICROSECOND


metadata = MetaData()

paper_account = Table(
    "paper_account",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("cash", BigInteger, nullable=False),
)

paper_orders = Table(
    "paper_orders",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=True),
    Column("order_id", String(40), nullable=False, unique=True),
    Column("client_order_id", String(48), nullable=False, unique=True),
    Column("ticker", String(16), nullable=False),
    Column("side", String(8), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("type", String(8), nullable=False),
    Column("limit_price", BigInteger, nullable=True),
    Column("time_in_force", String(8), nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("reason", String(200), nullable=True),
    Column("submitted_at", _UtcInstant, nullable=False),
    # The terms the order was accepted under, so a broker restarted with other settings still
    # fills old orders exactly as it would have.
    Column("parts", Integer, nullable=False),
    Column("slippage_bps", Integer, nullable=False),
    Column("interval_us", BigInteger, nullable=False),
    Column("expires_at", _UtcInstant, nullable=True),
    # Progress: the next fill instant to evaluate and how many parts have filled.
    Column("next_at", _UtcInstant, nullable=False),
    Column("parts_filled", Integer, nullable=False),
)

paper_fills = Table(
    "paper_fills",
    metadata,
    Column("fill_id", String(60), primary_key=True),
    Column("order_number", Integer, ForeignKey("paper_orders.number"), nullable=False, index=True),
    Column("quantity", BigInteger, nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("at", _UtcInstant, nullable=False),
)

paper_positions = Table(
    "paper_positions",
    metadata,
    Column("ticker", String(16), primary_key=True),
    Column("quantity", BigInteger, nullable=False),
)


def part_quantities(quantity: Shares, parts: int) -> list[Shares]:
    """Split `quantity` into `parts` equal parts in share units, the last taking the remainder."""
    if parts < 1:
        raise ValueError(f"parts must be at least 1, not {parts}")
    each = quantity.units // parts
    return [Shares(each)] * (parts - 1) + [Shares(quantity.units - each * (parts - 1))]


def slipped_price(price: Price, side: OrderSide, slippage_bps: int) -> Price:
    """Return `price` moved `slippage_bps` against the taker: up for a buy, down for a sell."""
    return price.scaled_bps(slippage_bps if side is OrderSide.BUY else -slippage_bps)


class PaperBroker:
    """A simulated broker account filling orders from a price source on an exchange calendar."""

    def __init__(
        self,
        prices: PriceSource,
        calendar: MarketCalendar,
        clock: Clock,
        database_url: str,
        *,
        slippage_bps: int = 5,
        latency: timedelta = timedelta(seconds=1),
        fill_parts: int = 1,
        fill_interval: timedelta = timedelta(seconds=60),
        initial_cash: Usd = DEFAULT_INITIAL_CASH,
    ) -> None:
        if not 0 <= slippage_bps < 10_000:
            raise ValueError(f"slippage must be 0 to 9,999 basis points, not {slippage_bps}")
        if latency < timedelta(0):
            raise ValueError(f"latency must not be negative, not {latency}")
        if fill_parts < 1:
            raise ValueError(f"fill_parts must be at least 1, not {fill_parts}")
        if fill_interval <= timedelta(0):
            raise ValueError(f"fill_interval must be positive, not {fill_interval}")
        self._prices = prices
        self._calendar = calendar
        self._clock = clock
        self._slippage_bps = slippage_bps
        self._latency = latency
        self._fill_parts = fill_parts
        self._fill_interval = fill_interval
        self._engine = _engine(database_url)
        metadata.create_all(self._engine)
        with self._engine.begin() as connection:
            # The first broker on a database opens the account; later ones find it as it is.
            if connection.execute(select(paper_account.c.id)).first() is None:
                connection.execute(insert(paper_account).values(id=1, cash=initial_cash.units))

    def close(self) -> None:
        """Release the database connections (the state stays in the database)."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    # -- Broker -----------------------------------------------------------------------------

    def submit(self, request: OrderRequest) -> BrokerOrder:
        """Place the order, or return the order already placed under its client order id.

        Raise `DuplicateClientOrderIdError` if that id names a different order, and
        `OrderRejectedError` (storing nothing) for an unknown ticker, a sale of more shares
        than the account holds beyond its open sells, or a time outside the calendar.
        """
        with self._transaction() as connection:
            now = self._advance(connection)
            existing = self._load(connection, request.client_order_id)
            if existing is not None:
                if not existing.matches(request):
                    raise DuplicateClientOrderIdError(
                        f"client order id {request.client_order_id!r} already names order"
                        f" {existing.order_id} ({_describe(existing)}); use a new id for a new order"
                    )
                return existing
            self._check_acceptable(connection, request)
            try:
                eligible = self._calendar.next_open(now + self._latency)
                session = self._calendar.next_session(now + self._latency)
            except OutsideCalendarError as error:
                raise OrderRejectedError(f"order {request.client_order_id!r} rejected: {error}") from None
            number = connection.execute(
                insert(paper_orders).values(
                    order_id="",
                    client_order_id=request.client_order_id,
                    ticker=request.ticker,
                    side=request.side.value,
                    quantity=request.quantity.units,
                    type=request.type.value,
                    limit_price=None if request.limit_price is None else request.limit_price.units,
                    time_in_force=request.time_in_force.value,
                    status=OrderStatus.NEW.value,
                    reason=None,
                    submitted_at=now,
                    parts=min(self._fill_parts, request.quantity.units),
                    slippage_bps=self._slippage_bps,
                    interval_us=self._fill_interval // _MICROSECOND,
                    expires_at=session.close if request.time_in_force is TimeInForce.DAY else None,
                    next_at=eligible,
                    parts_filled=0,
                )
            ).inserted_primary_key
            assert number is not None
            # The id derives from the row number so a replayed simulation names orders the same way.
            connection.execute(
                update(paper_orders)
                .where(paper_orders.c.number == number[0])
                .values(order_id=f"paper-{number[0]:08d}")
            )
            self._advance(connection)
            order = self._load(connection, request.client_order_id)
            assert order is not None
            return order

    def order(self, client_order_id: str) -> BrokerOrder | None:
        """Return the order with its fills as of the clock's now, or None if the id was never used."""
        with self._transaction() as connection:
            self._advance(connection)
            return self._load(connection, client_order_id)

    def cancel(self, client_order_id: str) -> BrokerOrder:
        """Cancel what is not filled yet (fills up to now stay); return a final order unchanged."""
        with self._transaction() as connection:
            self._advance(connection)
            order = self._load(connection, client_order_id)
            if order is None:
                raise UnknownOrderError(f"no paper order has client order id {client_order_id!r}")
            if order.status.is_final:
                return order
            connection.execute(
                update(paper_orders)
                .where(paper_orders.c.client_order_id == client_order_id)
                .values(status=OrderStatus.CANCELED.value, reason="canceled at the client's request")
            )
            canceled = self._load(connection, client_order_id)
            assert canceled is not None
            return canceled

    def open_orders(self) -> list[BrokerOrder]:
        """Return every order that can still fill as of now, oldest first."""
        with self._transaction() as connection:
            self._advance(connection)
            rows = connection.execute(
                select(paper_orders).where(paper_orders.c.status.in_(_OPEN)).order_by(paper_orders.c.number)
            ).all()
            return [self._to_order(connection, row._mapping) for row in rows]

    # -- Paper account ----------------------------------------------------------------------

    def positions(self) -> dict[str, Shares]:
        """Return the shares held per ticker as of now (tickers with no shares left are omitted)."""
        with self._transaction() as connection:
            self._advance(connection)
            rows = connection.execute(
                select(paper_positions)
                .where(paper_positions.c.quantity != 0)
                .order_by(paper_positions.c.ticker)
            ).all()
            return {row.ticker: Shares(row.quantity) for row in rows}

    def cash(self) -> Usd:
        """Return the cash as of now: a buy pays its notional rounded up, a sell gets it rounded down."""
        with self._transaction() as connection:
            self._advance(connection)
            return Usd(connection.execute(select(paper_account.c.cash)).scalar_one())

    # -- internals --------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self._engine.begin() as connection:
            # On SQLite the IMMEDIATE begin already holds the write lock and FOR UPDATE is not
            # emitted; on PostgreSQL this row lock is what serialises brokers on one database.
            connection.execute(select(paper_account.c.id).where(paper_account.c.id == 1).with_for_update())
            yield connection

    def _check_acceptable(self, connection: Connection, request: OrderRequest) -> None:
        if request.ticker not in self._prices.tickers():
            raise OrderRejectedError(
                f"order {request.client_order_id!r} rejected: unknown ticker {request.ticker!r}"
            )
        if request.side is OrderSide.SELL:
            held = connection.execute(
                select(paper_positions.c.quantity).where(paper_positions.c.ticker == request.ticker)
            ).scalar_one_or_none()
            # Shares promised to open sells are not available again; the paper account never goes short.
            promised = sum(
                order.remaining.units
                for order in self._open_orders(connection)
                if order.ticker == request.ticker and order.side is OrderSide.SELL
            )
            available = Shares((held or 0) - promised)
            if request.quantity > available:
                raise OrderRejectedError(
                    f"order {request.client_order_id!r} rejected: sells {request.quantity} {request.ticker}"
                    f" but only {available} are held and not already being sold"
                )

    def _open_orders(self, connection: Connection) -> list[BrokerOrder]:
        rows = connection.execute(
            select(paper_orders).where(paper_orders.c.status.in_(_OPEN)).order_by(paper_orders.c.number)
        ).all()
        return [self._to_order(connection, row._mapping) for row in rows]

    def _advance(self, connection: Connection) -> datetime:
        now = self._clock.now()
        rows = connection.execute(
            select(paper_orders)
            .where(paper_orders.c.status.in_(_OPEN), paper_orders.c.next_at <= now)
            .order_by(paper_orders.c.number)
        ).all()
        # DAY orders past their close with no instant due also need expiring.
        expiring = connection.execute(
            select(paper_orders).where(
                paper_orders.c.status.in_(_OPEN),
                paper_orders.c.next_at > now,
                paper_orders.c.expires_at <= now,
            )
        ).all()
        for row in [*rows, *expiring]:
            self._advance_order(connection, row._mapping, now)
        return now

    def _advance_order(self, connection: Connection, row: RowMapping, now: datetime) -> None:
        side = OrderSide(row["side"])
        limit = None if row["limit_price"] is None else Price(row["limit_price"])
        parts = part_quantities(Shares(row["quantity"]), row["parts"])
        interval = row["interval_us"] * _MICROSECOND
        expires_at: datetime | None = row["expires_at"]
        next_at: datetime = row["next_at"]
        filled: int = row["parts_filled"]
        status = OrderStatus(row["status"])
        reason: str | None = row["reason"]
        cash_change = 0
        while not status.is_final:
            if expires_at is not None and next_at >= expires_at:
                if now >= expires_at:
                    status = OrderStatus.EXPIRED
                    reason = "day order expired at the session's close"
                break
            if next_at > now:
                break
            try:
                quote = self._prices.quote(row["ticker"], next_at)
            except NoPriceError as error:
                # Keep the order open at this instant: prices may appear later (a feed catching
                # up); the reason tells the caller why it is not filling.
                reason = str(error)
                break
            price = slipped_price(quote.price, side, row["slippage_bps"])
            if limit is None or (price <= limit if side is OrderSide.BUY else price >= limit):
                quantity = parts[filled]
                filled += 1
                connection.execute(
                    insert(paper_fills).values(
                        fill_id=f"{row['order_id']}-{filled}",
                        order_number=row["number"],
                        quantity=quantity.units,
                        price=price.units,
                        at=next_at,
                    )
                )
                self._move_position(
                    connection, row["ticker"], quantity if side is OrderSide.BUY else -quantity
                )
                notional = price.notional(quantity, round_up=side is OrderSide.BUY)
                cash_change += -notional.units if side is OrderSide.BUY else notional.units
                status = OrderStatus.FILLED if filled == len(parts) else OrderStatus.PARTIALLY_FILLED
                reason = None
            next_at = self._calendar.next_open(next_at + interval)
        connection.execute(
            update(paper_orders)
            .where(paper_orders.c.number == row["number"])
            .values(status=status.value, reason=reason, next_at=next_at, parts_filled=filled)
        )
        if cash_change:
            connection.execute(update(paper_account).values(cash=paper_account.c.cash + cash_change))

    def _move_position(self, connection: Connection, ticker: str, change: Shares) -> None:
        moved = connection.execute(
            update(paper_positions)
            .where(paper_positions.c.ticker == ticker)
            .values(quantity=paper_positions.c.quantity + change.units)
        ).rowcount
        if not moved:
            connection.execute(insert(paper_positions).values(ticker=ticker, quantity=change.units))

    def _load(self, connection: Connection, client_order_id: str) -> BrokerOrder | None:
        row = connection.execute(
            select(paper_orders).where(paper_orders.c.client_order_id == client_order_id)
        ).first()
        return None if row is None else self._to_order(connection, row._mapping)

    def _to_order(self, connection: Connection, row: RowMapping) -> BrokerOrder:
        fills = connection.execute(
            select(paper_fills).where(paper_fills.c.order_number == row["number"]).order_by(paper_fills.c.at)
        ).all()
        return BrokerOrder(
            order_id=row["order_id"],
            client_order_id=row["client_order_id"],
            ticker=row["ticker"],
            side=OrderSide(row["side"]),
            quantity=Shares(row["quantity"]),
            type=OrderType(row["type"]),
            limit_price=None if row["limit_price"] is None else Price(row["limit_price"]),
            time_in_force=TimeInForce(row["time_in_force"]),
            status=OrderStatus(row["status"]),
            fills=tuple(
                Fill(
                    fill_id=fill.fill_id, quantity=Shares(fill.quantity), price=Price(fill.price), at=fill.at
                )
                for fill in fills
            ),
            submitted_at=row["submitted_at"],
            reason=row["reason"],
        )


def _describe(order: BrokerOrder) -> str:
    limit = f" limit {order.limit_price}" if order.limit_price is not None else ""
    return f"{order.side} {order.quantity} {order.ticker} {order.type}{limit} {order.time_in_force}"


def _engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url)
    if url.database in (None, "", ":memory:"):
        # Each pooled connection would see its own empty in-memory database.
        raise ValueError(f"the paper broker needs a database file, not {database_url!r}")
    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    # pysqlite's own transaction handling begins lazily and in DEFERRED mode, so two brokers
    # could both read an order before either writes its fill. Take the write lock up front.
    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
