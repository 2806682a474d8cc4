"""`PerpsClient` and `PerpsReader` on the in-process chain against the real `PerpVault` and `PerpMarket`:
each action moves exactly what `maths` says, once per key, and each bad input is refused with its reason
before anything is signed (no nonce used, no outbox row, nothing changed)."""

from collections.abc import Callable, Iterator

import pytest
from tests.support.perps import PerpsWorld, build_world
from tests.support.venue_world import PRICE, USDC

from equitoken.model.quantities import Price, Usd
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.perps import maths
from equitoken.venues.perps.errors import (
    InvalidTriggerError,
    MarketClosedError,
    PerpAmountError,
    PerpError,
    PerpFundsError,
    PerpLimitError,
    UnknownMarketError,
    UnknownPositionError,
)
from equitoken.venues.perps.parameters import WAD, PerpParameters
from equitoken.venues.perps.states import MarketState

CAPPED = PerpParameters(max_oi_long=20_000 * USDC, max_oi_short=20_000 * USDC)


def dollars(whole: float) -> Usd:
    return Usd(round(whole * USDC))


def price(whole: float) -> Price:
    return Price(round(whole * PRICE))


@pytest.fixture(scope="module")
def world_once(tmp_path_factory: pytest.TempPathFactory) -> PerpsWorld:
    world = build_world(
        tmp_path_factory.mktemp("perps-actions"), ["AAPL", "TSLA"], parameters={"TSLA": CAPPED}
    )
    world.fund(world.trader, 100_000 * USDC)
    world.fund(world.other_trader, 100_000 * USDC)
    return world


@pytest.fixture
def world(world_once: PerpsWorld) -> Iterator[PerpsWorld]:
    yield from world_once.rewound()


def open_long(world: PerpsWorld, margin: float = 1_000, leverage: int = 5, key: str = "open") -> int:
    receipt = world.client.open_position(
        world.trader, "AAPL", is_long=True, margin=dollars(margin), leverage=leverage, key=key
    )
    return receipt.id


def refused(
    world: PerpsWorld, wallet: str, error: type[Exception], match: str, action: Callable[[], object]
) -> None:
    """Assert that `action` raises `error` and sends nothing: no nonce, no row, no change."""
    reader = world.reader
    nonce, rows = world.chain.nonce(wallet, "latest"), world.stored_rows()
    before = (
        int(world.usdc.balanceOf(wallet)),
        [reader.open_positions(t) for t in world.perps.markets],
        [reader.pending_orders(t) for t in world.perps.markets],
        reader.lp_shares(wallet),
    )

    with pytest.raises(error, match=match):
        action()

    assert world.chain.nonce(wallet, "latest") == nonce
    assert world.stored_rows() == rows
    after = (
        int(world.usdc.balanceOf(wallet)),
        [reader.open_positions(t) for t in world.perps.markets],
        [reader.pending_orders(t) for t in world.perps.markets],
        reader.lp_shares(wallet),
    )
    assert after == before


# ----------------------------------------------------------------------------- exact numbers


def test_an_open_moves_exactly_what_maths_quotes(world: PerpsWorld) -> None:
    parameters = world.reader.parameters("AAPL")
    quote = maths.quote_open(200 * PRICE, True, 1_000 * USDC, 5 * WAD, 0, parameters)
    vault_before = world.reader.vault()

    receipt = world.client.open_position(
        world.trader, "AAPL", is_long=True, margin=dollars(1_000), leverage=5, key="open"
    )

    assert receipt.event["fee"] == quote.fee == 4 * USDC  # 8 bps of $5,000
    assert receipt.event["size"] == quote.size
    assert receipt.event["price"] == quote.fill
    assert receipt.event["margin"] == quote.margin
    raw = world.reader.raw_position("AAPL", receipt.id)
    assert (raw.size, raw.entry_price, raw.margin, raw.is_long) == (
        quote.size,
        quote.fill,
        quote.margin,
        True,
    )
    assert int(world.market("AAPL").position_reservation(receipt.id)) == quote.reservation
    assert world.usdc.balanceOf(world.trader) == 99_000 * USDC
    vault = world.reader.vault()
    assert vault.assets.units == vault_before.assets.units + quote.fee
    assert vault.reserved.units == quote.reservation == 996 * USDC * 9
    market = world.reader.market("AAPL")
    assert (market.long_size, market.short_size, market.skew) == (quote.size, 0, quote.size)
    assert market.long_usd.units == maths.notional(quote.size, quote.fill)


def test_a_partial_close_a_day_later_settles_pnl_funding_and_fee_as_maths_does(world: PerpsWorld) -> None:
    position_id = open_long(world)
    raw = world.reader.raw_position("AAPL", position_id)
    parameters = world.reader.parameters("AAPL")
    reservation = int(world.market("AAPL").position_reservation(position_id))
    close_at = raw.opened_at + 86_400
    world.chain.set_next_block_timestamp(close_at - 1)
    world.publish("AAPL", 210)
    world.chain.set_next_block_timestamp(close_at)
    third = raw.size // 3
    # Funding since the open: the rate was 0 with a flat book; the skew is the position's size since.
    rate = maths.funding_rate(0, raw.size, 86_400, parameters)
    accrued, _ = maths.accrue(0, 0, 0, rate, 86_400, 210 * PRICE)
    fill = maths.fill_price(210 * PRICE, False, third, raw.size, parameters)
    expected = maths.settle_close(
        third,
        raw.size,
        raw.margin,
        reservation,
        raw.entry_price,
        fill,
        True,
        accrued - raw.funding_entry,
        parameters,
    )
    balance = int(world.usdc.balanceOf(world.trader))

    receipt = world.client.close_position(world.trader, "AAPL", position_id, size=third, key="close")

    event = receipt.event
    assert (event["price"], event["pnl"], event["funding"], event["fee"], event["payout"]) == (
        fill,
        expected.pnl,
        expected.funding,
        expected.fee,
        expected.payout,
    )
    assert expected.funding > 0  # a long pays when the book is long
    assert expected.pnl > 0
    assert world.usdc.balanceOf(world.trader) == balance + expected.payout
    left = world.reader.raw_position("AAPL", position_id)
    assert (left.size, left.margin) == (raw.size - third, raw.margin - expected.margin_part)
    assert world.market("AAPL").funding_rate() == rate


def test_closing_everything_returns_margin_and_pnl_and_frees_the_vault(world: PerpsWorld) -> None:
    position_id = open_long(world)
    world.publish("AAPL", 190)

    receipt = world.client.close_position(world.trader, "AAPL", position_id, key="close")

    assert receipt.event["pnl"] < 0
    assert 0 < receipt.event["payout"] < 1_000 * USDC
    assert world.reader.positions(world.trader) == []
    vault = world.reader.vault()
    assert vault.reserved.units == 0
    assert world.reader.market("AAPL").long_size == 0


def test_the_same_key_sends_once(world: PerpsWorld) -> None:
    first = world.client.open_position(
        world.trader, "AAPL", is_long=False, margin=dollars(500), leverage=2, key="same"
    )
    again = world.client.open_position(
        world.trader, "AAPL", is_long=False, margin=dollars(500), leverage=2, key="same"
    )

    assert (first.new, again.new) == (True, False)
    assert first.tx_hash == again.tx_hash
    assert len(world.reader.positions(world.trader)) == 1


def test_add_margin_and_triggers(world: PerpsWorld) -> None:
    position_id = open_long(world)
    before = world.reader.position("AAPL", position_id)

    world.client.add_margin(world.trader, "AAPL", position_id, dollars(500), key="more")
    world.client.set_triggers(
        world.trader, "AAPL", position_id, take_profit=price(250), stop_loss=price(180), key="tp"
    )

    after = world.reader.position("AAPL", position_id)
    assert after.margin.units == before.margin.units + 500 * USDC
    assert after.leverage is not None
    assert before.leverage is not None
    assert after.leverage < before.leverage
    assert (after.take_profit, after.stop_loss) == (price(250), price(180))
    assert after.liquidation_price is not None
    assert before.liquidation_price is not None
    assert after.liquidation_price < before.liquidation_price
    assert world.reader.vault().reserved.units == (996 + 500) * USDC * 9


def test_the_view_matches_the_contract(world: PerpsWorld) -> None:
    position_id = open_long(world, leverage=10)
    world.wait(3_600)
    world.publish("AAPL", 195)
    market = world.market("AAPL")

    [view] = world.reader.positions(world.trader)

    assert view.id == position_id
    assert view.mark == price(195)
    assert view.funding == Usd(int(market.position_funding(position_id)))
    assert view.equity == Usd(int(market.equity(position_id)))
    # The contract's equity is margin + PnL - funding - close fee: the view's PnL is the contract's.
    assert view.pnl is not None
    assert view.close_fee is not None
    assert view.equity.units == view.margin.units + view.pnl.units - view.funding.units - view.close_fee.units
    assert view.funding.units >= 0  # a long pays a long book (a few units after an hour)
    parameters = world.reader.parameters("AAPL")
    raw = world.reader.raw_position("AAPL", position_id)
    assert view.equity.units == maths.equity(
        raw.margin, raw.size, raw.entry_price, 195 * PRICE, True, view.funding.units, parameters
    )
    assert view.liquidation_price is not None
    assert 180 * PRICE < view.liquidation_price.units < 190 * PRICE
    assert not view.liquidatable


def test_an_lp_deposits_and_withdraws_within_the_free_assets(world: PerpsWorld) -> None:
    world.fund(world.outsider, 10_000 * USDC)
    deposit = world.client.deposit(world.outsider, dollars(10_000), key="lp")
    assert deposit.id == world.reader.lp_shares(world.outsider) > 0
    assert world.reader.lp_assets(world.outsider).units in (10_000 * USDC - 1, 10_000 * USDC)

    world.client.withdraw(world.outsider, dollars(4_000), key="out")

    assert world.usdc.balanceOf(world.outsider) == 4_000 * USDC


# -------------------------------------------------------------------------- orders while closed


def test_requests_queue_while_closed_and_cancel_refunds(world: PerpsWorld) -> None:
    position_id = open_long(world)
    world.publish("AAPL", 200, MarketStatus.CLOSED)
    assert world.reader.mark("AAPL") == (200 * PRICE, MarketState.CLOSED)
    client = world.client

    opened = client.request_open(
        world.trader, "AAPL", is_long=False, margin=dollars(300), leverage=3, key="req-open"
    )
    closing = client.request_close(world.trader, "AAPL", position_id, key="req-close")

    orders = world.reader.orders(world.trader)
    assert [(o.id, o.kind) for o in orders] == [(opened.id, "open"), (closing.id, "close")]
    assert orders[0].margin == dollars(300)
    balance = int(world.usdc.balanceOf(world.trader))
    client.cancel_order(world.trader, "AAPL", opened.id, key="cancel")
    assert world.usdc.balanceOf(world.trader) == balance + 300 * USDC
    assert [o.id for o in world.reader.orders()] == [closing.id]


# --------------------------------------------------------------------------------- refusals


def test_bad_opens_are_refused_before_signing(world: PerpsWorld) -> None:
    client, trader = world.client, world.trader

    def opening(**change: object) -> Callable[[], object]:
        args: dict[str, object] = {"is_long": True, "margin": dollars(1_000), "leverage": 5, "key": "bad"}
        args.update(change)
        ticker = str(args.pop("ticker", "AAPL"))
        wallet = str(args.pop("wallet", trader))
        return lambda: client.open_position(wallet, ticker, **args)  # type: ignore[arg-type]

    refused(world, trader, PerpAmountError, r"leverage 11x is outside AAPL's 1x to 10x", opening(leverage=11))
    refused(world, trader, PerpAmountError, "leverage 0.5x", opening(leverage=0.5))
    refused(world, trader, PerpAmountError, "below AAPL's minimum of 10", opening(margin=dollars(9)))
    refused(world, trader, PerpAmountError, "must be positive", opening(margin=dollars(0)))
    refused(world, trader, PerpFundsError, "less than the 200000", opening(margin=dollars(200_000)))
    refused(world, trader, PerpLimitError, "above the acceptable price", opening(acceptable_price=price(200)))
    refused(world, trader, InvalidTriggerError, "take-profit must be above", opening(take_profit=price(199)))
    refused(
        world,
        trader,
        InvalidTriggerError,
        "stop-loss must be above",
        opening(is_long=False, stop_loss=price(150)),
    )
    refused(
        world,
        trader,
        PerpLimitError,
        "TSLA's long open interest would reach",
        opening(ticker="TSLA", margin=dollars(2_500), leverage=10),
    )
    refused(world, trader, UnknownMarketError, "no perpetual market for 'NVDA'", opening(ticker="NVDA"))
    refused(world, trader, PerpError, "a request key", opening(key="a:b"))
    refused(
        world,
        world.outsider,
        PerpError,
        "cannot sign for wallet",
        opening(wallet="0x000000000000000000000000000000000000dEaD"),
    )


def test_an_open_the_vault_cannot_back_is_refused(world: PerpsWorld) -> None:
    world.fund(world.trader, 200_000 * USDC)
    free = world.reader.vault().free.units

    refused(
        world,
        world.trader,
        PerpLimitError,
        "not enough to back this position's profit cap",
        lambda: world.client.open_position(
            world.trader, "AAPL", is_long=True, margin=Usd(free // 9 + 100 * USDC), leverage=1, key="big"
        ),
    )


def test_nothing_trades_while_closed_or_halted(world: PerpsWorld) -> None:
    position_id = open_long(world)
    client, trader = world.client, world.trader
    world.publish("AAPL", 200, MarketStatus.CLOSED)

    refused(
        world,
        trader,
        MarketClosedError,
        "request one instead",
        lambda: client.open_position(trader, "AAPL", is_long=True, margin=dollars(100), leverage=2, key="x"),
    )
    refused(
        world,
        trader,
        MarketClosedError,
        "it is closed",
        lambda: client.close_position(trader, "AAPL", position_id, key="x"),
    )
    world.publish("AAPL", 200, MarketStatus.HALTED)
    refused(
        world,
        trader,
        MarketClosedError,
        "AAPL is halted",
        lambda: client.add_margin(trader, "AAPL", position_id, dollars(10), key="x"),
    )
    refused(
        world,
        trader,
        MarketClosedError,
        "it is halted",
        lambda: client.request_open(trader, "AAPL", is_long=True, margin=dollars(100), leverage=2, key="x"),
    )


def test_bad_position_actions_are_refused(world: PerpsWorld) -> None:
    position_id = open_long(world)
    client, trader, other = world.client, world.trader, world.other_trader
    size = world.reader.raw_position("AAPL", position_id).size

    refused(
        world,
        other,
        UnknownPositionError,
        "is not",
        lambda: client.close_position(other, "AAPL", position_id, key="x"),
    )
    refused(
        world,
        trader,
        UnknownPositionError,
        "no open position 9",
        lambda: client.close_position(trader, "AAPL", 9, key="x"),
    )
    refused(
        world,
        trader,
        PerpAmountError,
        "more than the position's",
        lambda: client.close_position(trader, "AAPL", position_id, size=size + 1, key="x"),
    )
    refused(
        world,
        trader,
        PerpAmountError,
        "positive number",
        lambda: client.close_position(trader, "AAPL", position_id, size=0, key="x"),
    )
    refused(
        world,
        trader,
        PerpLimitError,
        "below the acceptable price",
        lambda: client.close_position(trader, "AAPL", position_id, acceptable_price=price(200), key="x"),
    )
    refused(
        world,
        trader,
        PerpAmountError,
        "must be positive",
        lambda: client.add_margin(trader, "AAPL", position_id, dollars(0), key="x"),
    )
    refused(
        world,
        other,
        UnknownPositionError,
        "is not",
        lambda: client.add_margin(other, "AAPL", position_id, dollars(10), key="x"),
    )
    refused(
        world,
        trader,
        InvalidTriggerError,
        "stop-loss must be below",
        lambda: client.set_triggers(
            trader, "AAPL", position_id, take_profit=None, stop_loss=price(250), key="x"
        ),
    )
    refused(
        world,
        trader,
        MarketClosedError,
        "trade it directly",
        lambda: client.request_close(trader, "AAPL", position_id, key="x"),
    )
    refused(
        world,
        trader,
        MarketClosedError,
        "only while the stock's market is closed",
        lambda: client.request_open(trader, "AAPL", is_long=True, margin=dollars(100), leverage=2, key="x"),
    )
    refused(
        world,
        trader,
        UnknownPositionError,
        "no pending order 1",
        lambda: client.cancel_order(trader, "AAPL", 1, key="x"),
    )


def test_another_wallets_order_cannot_be_cancelled(world: PerpsWorld) -> None:
    world.publish("AAPL", 200, MarketStatus.CLOSED)
    order = world.client.request_open(
        world.trader, "AAPL", is_long=True, margin=dollars(100), leverage=2, key="req"
    )

    refused(
        world,
        world.other_trader,
        UnknownPositionError,
        "is not",
        lambda: world.client.cancel_order(world.other_trader, "AAPL", order.id, key="x"),
    )


def test_bad_vault_actions_are_refused(world: PerpsWorld) -> None:
    client, lp, outsider = world.client, world.lp, world.outsider
    open_long(world)

    refused(
        world,
        outsider,
        PerpAmountError,
        "must be positive",
        lambda: client.deposit(outsider, dollars(0), key="x"),
    )
    refused(
        world,
        outsider,
        PerpFundsError,
        "less than the 10",
        lambda: client.deposit(outsider, dollars(10), key="x"),
    )
    refused(
        world,
        outsider,
        PerpFundsError,
        "worth 0 USDC",
        lambda: client.withdraw(outsider, dollars(1), key="x"),
    )
    refused(
        world,
        lp,
        PerpLimitError,
        "the rest backs open positions",
        lambda: client.withdraw(lp, dollars(999_000), key="x"),
    )
