"""Fee quotes: a signed quote the processor accepts, and every order the issuer will not fill refused
with a reason before the requester pays for a transaction, changing nothing."""

from pathlib import Path

import pytest
from tests.support.order_processor import ProcessorWorld, limit_buy, market_buy, market_sell, processor_world
from tests.support.platform import build_platform

from equitoken.chain.evm.chain import EvmChain
from equitoken.issuer.errors import ComplianceError, InvalidRequestError
from equitoken.issuer.orders.quoter import OrderAsk, Side
from equitoken.issuer.orders.terms import ProcessorOrderType, ProcessorTimeInForce
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Price, Shares, Usd
from equitoken.store.database import Database

pytestmark = [
    pytest.mark.parametrize("database", ["sqlite"], indirect=True),
    pytest.mark.parametrize("evm_chain", ["inproc"], indirect=True),
]
GTC, LIMIT, MARKET = ProcessorTimeInForce.GTC, ProcessorOrderType.LIMIT, ProcessorOrderType.MARKET


@pytest.fixture
def world(
    evm_chain: EvmChain,
    database: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> ProcessorWorld:
    return processor_world(build_platform(evm_chain, database, prices, calendar, tmp_path), prices)


def test_a_quote_prices_the_fee_on_the_notional_and_binds_the_requester_and_deadline(
    world: ProcessorWorld,
) -> None:
    platform = world.platform
    signed = world.quoter.quote(platform.wallet, limit_buy("AAPL", "2", "250"))

    # $1 flat + 10 bps of 2 x $250
    assert signed.quote.fee == 1_000_000 + 500_000
    assert signed.quote.requester == platform.wallet
    assert signed.quote.nonce == 0
    assert signed.quote.deadline == platform.onchain.observation_time(platform.clock.now()) + 600
    assert signed.order.asset_quantity == 2 * 10**8
    assert signed.order.limit_price == 250 * 10**6
    world.place(limit_buy("AAPL", "2", "250"))
    assert int(world.processor.nonces(platform.wallet)) == 1


@pytest.mark.parametrize(
    ("ask", "error", "says"),
    [
        (limit_buy("ZZZZ", "1", "100"), InvalidRequestError, "does not serve 'ZZZZ'"),
        (limit_buy("AAPL", "1", "100", ProcessorTimeInForce.FOK), InvalidRequestError, "fill-or-kill"),
        (
            OrderAsk("AAPL", Side.BUY, MARKET, GTC, spend=Usd.parse("10"), limit=Price.parse("1")),
            InvalidRequestError,
            "no limit price",
        ),
        (
            OrderAsk("AAPL", Side.BUY, LIMIT, GTC, quantity=Shares.parse("1")),
            InvalidRequestError,
            "positive limit price",
        ),
        (
            OrderAsk("AAPL", Side.BUY, MARKET, GTC, quantity=Shares.parse("1")),
            InvalidRequestError,
            "USD to spend",
        ),
        (
            OrderAsk("AAPL", Side.SELL, MARKET, GTC, spend=Usd.parse("5")),
            InvalidRequestError,
            "positive quantity",
        ),
        (limit_buy("AAPL", "0", "100"), InvalidRequestError, "positive quantity"),
        (
            limit_buy("AAPL", "0.000000001", "100"),
            InvalidRequestError,
            "not a whole number of AAPL token units",
        ),
        (market_buy("AAPL", "0.5"), InvalidRequestError, "below the minimum"),
        (market_sell("AAPL", "1"), InvalidRequestError, "fewer than 1 to sell"),
    ],
)
def test_an_order_the_issuer_will_not_fill_is_refused_and_nothing_changes(
    world: ProcessorWorld, ask: OrderAsk, error: type[Exception], says: str
) -> None:
    nonce, next_id = int(world.processor.nonces(world.platform.wallet)), int(world.processor.next_order_id())
    with pytest.raises(error, match=says):
        world.quoter.quote(world.platform.wallet, ask)
    assert int(world.processor.nonces(world.platform.wallet)) == nonce
    assert int(world.processor.next_order_id()) == next_id
    assert world.operator.process() == 0
    assert world.operator.orders() == []


def test_a_buy_for_a_wallet_the_token_refuses_is_refused(world: ProcessorWorld) -> None:
    # MSTRx admits verified holders only; the other wallet is nobody's.
    with pytest.raises(ComplianceError, match="may not receive MSTR"):
        world.quoter.quote(
            world.platform.wallet, limit_buy("MSTR", "1", "500"), recipient=world.platform.other_wallet
        )
    assert world.quoter.quote(world.platform.wallet, limit_buy("MSTR", "1", "500")).quote.nonce == 0


def test_a_malformed_wallet_is_refused(world: ProcessorWorld) -> None:
    with pytest.raises(InvalidRequestError):
        world.quoter.quote("0x1234", limit_buy("AAPL", "1", "100"))
