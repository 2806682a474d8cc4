"""`LendingClient` on the in-process chain: each action moves what it says once per key, and each bad
input is refused with its reason before anything is signed (no nonce used, no outbox row, no change)."""

from collections.abc import Callable, Iterator

import pytest
from tests.support.lending import INVESTOR, TOKEN, LendingWorld, build_world
from tests.support.venue_world import USDC

from equitoken.chain.evm.compiler import compile_contract
from equitoken.model.errors import InsufficientFundsError
from equitoken.model.quantities import Usd
from equitoken.model.token_amount import TokenAmount
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.lending.actions import LendingAction
from equitoken.venues.lending.errors import (
    CollateralTransferRefusedError,
    InsufficientLiquidityError,
    LendingAmountError,
    LendingError,
    LendingFundsError,
    MarketUnavailableError,
    UnhealthyPositionError,
    UnknownMarketError,
)


def tokens(whole: int) -> TokenAmount:
    return TokenAmount(whole * TOKEN, 8)


def dollars(whole: int) -> Usd:
    return Usd(whole * USDC)


@pytest.fixture(scope="module")
def world_once(tmp_path_factory: pytest.TempPathFactory) -> LendingWorld:
    world = build_world(tmp_path_factory.mktemp("lending-actions"), ["AAPL", "SPY", "MSTR"], interest=False)
    world.fund(world.lender, 10_000 * USDC)
    world.fund(world.borrower, 1_000 * USDC)
    for ticker in ("AAPL", "SPY", "MSTR"):
        world.mint(ticker, world.borrower, 10 * TOKEN)
    return world


@pytest.fixture
def world(world_once: LendingWorld) -> Iterator[LendingWorld]:
    yield from world_once.rewound()


@pytest.fixture
def borrowing(world: LendingWorld) -> LendingWorld:
    """The lender has supplied $10,000 and the borrower deposited 10 AAPLx ($2,000) and borrowed $500."""
    client = world.client
    client.supply(world.lender, "AAPL", dollars(10_000), key="lend")
    client.supply_collateral(world.borrower, "AAPL", tokens(10), key="deposit")
    client.borrow(world.borrower, "AAPL", dollars(500), key="borrow")
    return world


def refused(
    world: LendingWorld, wallet: str, error: type[Exception], match: str, action: Callable[[], object]
) -> None:
    """Assert that `action` raises `error` and sends nothing: no nonce, no row, no change of position."""
    nonce, rows = world.chain.nonce(wallet, "latest"), world.stored_rows()
    before = [world.reader.raw_position(t, wallet) for t in world.lending.markets]
    usdc = int(world.usdc.balanceOf(wallet))

    with pytest.raises(error, match=match):
        action()

    assert world.chain.nonce(wallet, "latest") == nonce
    assert world.stored_rows() == rows
    assert [world.reader.raw_position(t, wallet) for t in world.lending.markets] == before
    assert int(world.usdc.balanceOf(wallet)) == usdc


# ------------------------------------------------------------------------------------------ actions


def test_supply_lends_usdc_for_shares_once_per_key(world: LendingWorld) -> None:
    client = world.client

    first = client.supply(world.lender, "AAPL", dollars(4_000), key="lend-1")
    again = client.supply(world.lender, "AAPL", dollars(4_000), key="lend-1")

    assert (first.action, first.amount, first.shares, first.new) == (
        LendingAction.SUPPLY,
        dollars(4_000),
        4_000 * USDC * 10**6,
        True,
    )
    assert (again.tx_hash, again.amount, again.shares) == (first.tx_hash, first.amount, first.shares)
    assert not again.new
    assert world.usdc.balanceOf(world.lender) == 6_000 * USDC
    assert world.reader.position("AAPL", world.lender).supplied == dollars(4_000)
    assert world.usdc.balanceOf(world.lending.lending_market) == 4_000 * USDC


def test_withdraw_returns_part_then_all_of_the_supply(world: LendingWorld) -> None:
    client = world.client
    client.supply(world.lender, "AAPL", dollars(4_000), key="lend")

    part = client.withdraw(world.lender, "AAPL", dollars(1_500), key="out-1")
    rest = client.withdraw(world.lender, "AAPL", None, key="out-2")

    assert (part.amount, rest.amount) == (dollars(1_500), dollars(2_500))
    assert world.usdc.balanceOf(world.lender) == 10_000 * USDC
    assert world.reader.raw_position("AAPL", world.lender) == (0, 0, 0)


def test_collateral_goes_in_and_out(world: LendingWorld) -> None:
    client = world.client

    deposit = client.supply_collateral(world.borrower, "MSTR", tokens(4), key="in")
    part = client.withdraw_collateral(world.borrower, "MSTR", tokens(1), key="out-1")
    rest = client.withdraw_collateral(world.borrower, "MSTR", None, key="out-2")

    assert (deposit.amount, part.amount, rest.amount) == (tokens(4), tokens(1), tokens(3))
    assert (deposit.shares, rest.shares) == (0, 0)
    assert world.token("MSTR").balanceOf(world.borrower) == 10 * TOKEN
    assert world.reader.raw_position("MSTR", world.borrower) == (0, 0, 0)


def test_borrow_then_repay_part_and_the_rest_by_shares(borrowing: LendingWorld) -> None:
    world, client = borrowing, borrowing.client
    assert world.usdc.balanceOf(world.borrower) == 1_500 * USDC

    part = client.repay(world.borrower, "AAPL", dollars(200), key="repay-1")
    rest = client.repay(world.borrower, "AAPL", None, key="repay-2")

    assert (part.amount, rest.amount) == (dollars(200), dollars(300))
    assert world.reader.raw_position("AAPL", world.borrower) == (0, 0, 10 * TOKEN)
    assert world.usdc.balanceOf(world.borrower) == 1_000 * USDC
    view = world.reader.market("AAPL")
    assert (view.borrowed, view.supplied) == (Usd(0), dollars(10_000))


def test_repaying_exactly_the_debt_repays_it_by_shares(borrowing: LendingWorld) -> None:
    world = borrowing

    receipt = world.client.repay(world.borrower, "AAPL", dollars(500), key="repay")

    assert receipt.amount == dollars(500)
    assert receipt.shares == 500 * USDC * 10**6
    assert world.reader.raw_position("AAPL", world.borrower)[1] == 0


def test_a_closed_market_lends_to_the_lltv_less_the_cut(world: LendingWorld) -> None:
    client = world.client
    client.supply(world.lender, "SPY", dollars(10_000), key="lend")
    client.supply_collateral(world.borrower, "SPY", tokens(10), key="deposit")
    world.publish("SPY", 200, MarketStatus.CLOSED)

    # SPY: max LTV 73%, LLTV 75%; closed, 75% - 10 points = 65% of $2,000.
    refused(
        world,
        world.borrower,
        UnhealthyPositionError,
        r"beyond its borrow limit of 65\.00% \(the stock's market is closed",
        lambda: client.borrow(world.borrower, "SPY", dollars(1_400), key="big"),
    )
    assert client.borrow(world.borrower, "SPY", dollars(1_300), key="limit").amount == dollars(1_300)


# ---------------------------------------------------------------------------------------- refusals


def test_refuses_an_unknown_market_a_bad_key_and_a_foreign_wallet(world: LendingWorld) -> None:
    client = world.client
    stranger = "0x000000000000000000000000000000000000dEaD"

    refused(
        world,
        world.lender,
        UnknownMarketError,
        "no lending market for 'TSLA'",
        lambda: client.supply(world.lender, "TSLA", dollars(1), key="k"),
    )
    refused(
        world,
        world.lender,
        LendingError,
        "a request key has 1 to 64 characters",
        lambda: client.supply(world.lender, "AAPL", dollars(1), key="a:b"),
    )
    refused(
        world,
        world.lender,
        LendingError,
        "cannot sign for wallet",
        lambda: client.supply(stranger, "AAPL", dollars(1), key="k"),
    )


def test_refuses_amounts_that_are_not_positive(borrowing: LendingWorld) -> None:
    world, client = borrowing, borrowing.client
    wallet = world.borrower

    for action in (
        lambda: client.supply(wallet, "AAPL", Usd(0), key="k"),
        lambda: client.withdraw(world.lender, "AAPL", Usd(-1), key="k"),
        lambda: client.borrow(wallet, "AAPL", Usd(0), key="k"),
        lambda: client.repay(wallet, "AAPL", Usd(-5), key="k"),
        lambda: client.supply_collateral(wallet, "AAPL", TokenAmount(0, 8), key="k"),
        lambda: client.withdraw_collateral(wallet, "AAPL", TokenAmount(0, 8), key="k"),
    ):
        refused(world, wallet, LendingAmountError, "must be positive", action)
    refused(
        world,
        wallet,
        LendingAmountError,
        "has 8 decimals",
        lambda: client.supply_collateral(wallet, "AAPL", TokenAmount(10**6, 6), key="k"),
    )


def test_refuses_amounts_above_the_balance(world: LendingWorld) -> None:
    client = world.client

    refused(
        world,
        world.lender,
        LendingFundsError,
        "holds 10000 USDC, less than the 10000.000001",
        lambda: client.supply(world.lender, "AAPL", Usd(10_000 * USDC + 1), key="k"),
    )
    refused(
        world,
        world.borrower,
        InsufficientFundsError,
        "holds 10 AAPL tokens, less than the 11",
        lambda: client.supply_collateral(world.borrower, "AAPL", tokens(11), key="k"),
    )


def test_refuses_amounts_above_the_position(borrowing: LendingWorld) -> None:
    world, client = borrowing, borrowing.client

    refused(
        world,
        world.lender,
        LendingAmountError,
        "more than the 10000 .* has supplied",
        lambda: client.withdraw(world.lender, "AAPL", dollars(10_001), key="k"),
    )
    refused(
        world,
        world.borrower,
        LendingAmountError,
        "more than the 10 .* holds as collateral",
        lambda: client.withdraw_collateral(world.borrower, "AAPL", tokens(11), key="k"),
    )
    refused(
        world,
        world.borrower,
        LendingAmountError,
        "more than the 500 .* owes",
        lambda: client.repay(world.borrower, "AAPL", dollars(501), key="k"),
    )
    refused(
        world,
        world.lender,
        LendingAmountError,
        "owes nothing",
        lambda: client.repay(world.lender, "AAPL", None, key="k"),
    )
    refused(
        world,
        world.outsider,
        LendingAmountError,
        "has supplied nothing",
        lambda: client.withdraw(world.outsider, "AAPL", None, key="k"),
    )


def test_refuses_a_borrow_or_a_withdrawal_that_leaves_the_position_unhealthy(borrowing: LendingWorld) -> None:
    world, client = borrowing, borrowing.client

    # $2,000 of AAPLx at a 40% max LTV carries $800: $500 owed leaves $300.
    refused(
        world,
        world.borrower,
        UnhealthyPositionError,
        "carries at most 800 USDC",
        lambda: client.borrow(world.borrower, "AAPL", Usd(300 * USDC + 1), key="k"),
    )
    # Keeping $500 at 40% needs $1,250 of collateral: 6.25 AAPLx; 3.76 may go, not 3.80.
    refused(
        world,
        world.borrower,
        UnhealthyPositionError,
        "debt of 500 USDC",
        lambda: client.withdraw_collateral(world.borrower, "AAPL", TokenAmount(380_000_000, 8), key="k"),
    )
    assert client.withdraw_collateral(world.borrower, "AAPL", TokenAmount(375_000_000, 8), key="ok").new


def test_refuses_to_lend_or_return_more_than_the_market_holds(borrowing: LendingWorld) -> None:
    world, client = borrowing, borrowing.client
    world.mint("AAPL", world.other_borrower, 200 * TOKEN)
    client.supply_collateral(world.other_borrower, "AAPL", tokens(200), key="deposit")

    refused(
        world,
        world.other_borrower,
        InsufficientLiquidityError,
        "has 9500 USDC to lend",
        lambda: client.borrow(world.other_borrower, "AAPL", dollars(9_501), key="k"),
    )
    client.borrow(world.other_borrower, "AAPL", dollars(9_000), key="most")
    refused(
        world,
        world.lender,
        InsufficientLiquidityError,
        "has 500 USDC free",
        lambda: client.withdraw(world.lender, "AAPL", dollars(501), key="k"),
    )


def test_refuses_what_the_adapter_refuses(borrowing: LendingWorld) -> None:
    world, client = borrowing, borrowing.client
    world.publish("AAPL", 200, MarketStatus.HALTED)

    refused(
        world,
        world.borrower,
        MarketUnavailableError,
        "refuses to borrow now: guard: market halted",
        lambda: client.borrow(world.borrower, "AAPL", dollars(10), key="k"),
    )
    refused(
        world,
        world.borrower,
        MarketUnavailableError,
        "withdraw collateral now: guard: market halted",
        lambda: client.withdraw_collateral(world.borrower, "AAPL", tokens(1), key="k"),
    )
    # No price is needed to repay or to add collateral.
    assert client.repay(world.borrower, "AAPL", dollars(100), key="repay").new
    world.publish("AAPL", 200)
    world.attest("AAPL", -1)

    refused(
        world,
        world.borrower,
        MarketUnavailableError,
        "oracle: reserves below supply",
        lambda: client.borrow(world.borrower, "AAPL", dollars(10), key="k"),
    )


def test_refuses_collateral_its_token_would_not_move(world: LendingWorld) -> None:
    registry = world.chain.at(
        world.issuance.identity_registry, compile_contract("compliance/IdentityRegistry.vy")
    )
    registry.set_investor_frozen(INVESTOR, True, sender=world.roles.registrar)

    refused(
        world,
        world.borrower,
        CollateralTransferRefusedError,
        "refuses the deposit .*: sender is frozen",
        lambda: world.client.supply_collateral(world.borrower, "MSTR", tokens(1), key="k"),
    )
