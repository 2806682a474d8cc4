"""What the processor refuses, each refusal leaving every balance, supply, nonce and order as it was:
bad quotes, malformed orders, recipients the token refuses, fills past the order or its limit, a
partial fill of a fill-or-kill, callers without the role, new orders while paused, and mints the
reserves do not cover."""

from dataclasses import replace
from typing import Any

import boa
import pytest
from eth_account import Account
from tests.support.contracts import RESTRICTED, TokenFactory, attest, register
from tests.support.contracts.issuance import (
    FOK,
    LIMIT,
    PRICE,
    SHARE,
    USDC,
    Desk,
    Order,
    deadline,
    limit_buy,
    limit_sell,
    market_buy,
    market_sell,
    sign_quote,
)

from .conftest import BUYER, SELLER

MISSING_ROLE = "access_control: account is missing role"


def _refused(desk: Desk, requester: str, order: Order, quote: Any, signature: bytes, reason: str) -> None:
    before = desk.snapshot(requester)
    with boa.env.prank(requester), boa.reverts(reason):
        desk.processor.create_order(order, quote, signature)
    assert desk.snapshot(requester) == before


# ------------------------------------------------------------------------------------ fee quotes


def test_an_expired_quote_is_refused(desk: Desk, token: Any, buyer: str) -> None:
    order = market_buy(token, buyer, 100 * USDC)
    quote, signature = desk.quote(buyer, order, USDC, until=deadline(60))
    boa.env.time_travel(seconds=61)

    _refused(desk, buyer, order, quote, signature, "orders: quote expired")


def test_a_quote_for_another_requester_is_refused(desk: Desk, token: Any, buyer: str, seller: str) -> None:
    order = market_buy(token, buyer, 100 * USDC)
    quote, signature = desk.quote(buyer, order, USDC)

    _refused(desk, seller, order, quote, signature, "orders: quote is for another requester")


def test_a_quote_is_used_once(desk: Desk, token: Any, buyer: str) -> None:
    order = market_buy(token, buyer, 100 * USDC)
    quote, signature = desk.quote(buyer, order, USDC)
    desk.create(buyer, order, quote, signature)

    _refused(desk, buyer, order, quote, signature, "orders: quote nonce used or out of order")


def test_a_quote_for_a_later_nonce_is_refused(desk: Desk, token: Any, buyer: str) -> None:
    order = market_buy(token, buyer, 100 * USDC)
    quote, signature = desk.quote(buyer, order, USDC, nonce=1)

    _refused(desk, buyer, order, quote, signature, "orders: quote nonce used or out of order")


def test_a_quote_signed_by_another_key_is_refused(desk: Desk, processor: Any, token: Any, buyer: str) -> None:
    order = market_buy(token, buyer, 100 * USDC)
    forger = Account.from_key(b"\x33" * 32)
    until = deadline()
    signature = sign_quote(processor, forger, order, buyer, 0, USDC, until)

    _refused(desk, buyer, order, (0, buyer, USDC, until), signature, "orders: bad quote signature")


@pytest.mark.parametrize("change", ["fee", "order"])
def test_a_quote_changed_after_signing_is_refused(desk: Desk, token: Any, buyer: str, change: str) -> None:
    order = market_buy(token, buyer, 100 * USDC)
    quote, signature = desk.quote(buyer, order, 5 * USDC)
    if change == "fee":
        quote = (quote[0], quote[1], USDC, quote[3])
    else:
        order = market_buy(token, buyer, 10_000 * USDC)

    _refused(desk, buyer, order, quote, signature, "orders: bad quote signature")


def test_quotes_of_a_replaced_fee_signer_are_refused(
    desk: Desk, processor: Any, token: Any, buyer: str, admin: str, operator: str
) -> None:
    order = market_buy(token, buyer, 100 * USDC)
    quote, signature = desk.quote(buyer, order, USDC)
    with boa.env.prank(operator), boa.reverts(MISSING_ROLE):
        processor.set_fee_signer(operator)

    with boa.env.prank(admin):
        processor.set_fee_signer(Account.from_key(b"\x44" * 32).address)

    _refused(desk, buyer, order, quote, signature, "orders: bad quote signature")


# --------------------------------------------------------------------------------- the order itself


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        (5, 0, "orders: quantity is zero"),
        (4, SHARE, "orders: market buy takes a payment quantity"),
        (3, 2, "orders: unknown order type"),
        (7, 4, "orders: unknown time in force"),
        (6, PRICE, "orders: market order with a limit price"),
        (0, "0x0000000000000000000000000000000000000000", "orders: recipient is the zero address"),
    ],
)
def test_a_malformed_order_is_refused(
    desk: Desk, token: Any, buyer: str, field: int, value: Any, reason: str
) -> None:
    order = list(market_buy(token, buyer, 100 * USDC))
    order[field] = value
    bad: Order = tuple(order)  # type: ignore[assignment]
    quote, signature = desk.quote(buyer, bad, USDC)

    _refused(desk, buyer, bad, quote, signature, reason)


def test_a_limit_order_needs_a_price_and_a_quantity(desk: Desk, token: Any, buyer: str) -> None:
    for order, reason in [
        (limit_buy(token, buyer, SHARE, 0), "orders: limit price is zero"),
        (limit_sell(token, buyer, 0), "orders: quantity is zero"),
        (
            (buyer, token.address, False, LIMIT, SHARE, USDC, PRICE, 0),
            "orders: order takes an asset quantity",
        ),
    ]:
        quote, signature = desk.quote(buyer, order, 0)
        _refused(desk, buyer, order, quote, signature, reason)


def test_an_unverified_recipient_of_a_permissioned_token_is_refused_at_create(
    desk: Desk, processor: Any, permissioned: Any, registry: Any, registrar: str, buyer: str
) -> None:
    order = market_buy(permissioned, buyer, 100 * USDC)
    quote, signature = desk.quote(buyer, order, USDC)
    _refused(desk, buyer, order, quote, signature, "receiver is not a verified investor")

    register(registry, registrar, BUYER, buyer)
    order_id = desk.create(buyer, order, quote, signature)
    desk.fill(order_id, SHARE // 2, 100 * USDC)

    assert permissioned.balanceOf(buyer) == SHARE // 2


def test_a_sell_of_a_permissioned_token_escrows_it_with_the_verified_processor(
    desk: Desk, processor: Any, permissioned: Any, registry: Any, registrar: str, seller: str
) -> None:
    register(registry, registrar, SELLER, seller)
    order_id = desk.place(seller, market_buy(permissioned, seller, 200 * USDC), 0)
    desk.fill(order_id, SHARE, 200 * USDC)
    sell = desk.place(seller, market_sell(permissioned, seller, SHARE), 0)
    assert processor.escrowed(sell) == (0, SHARE)

    desk.fill(sell, SHARE, 201 * USDC)

    assert permissioned.balanceOf(seller) == 0
    assert permissioned.totalSupply() == 0


# -------------------------------------------------------------------------------------------- fills


def test_fills_never_exceed_the_order(
    desk: Desk, processor: Any, token: Any, buyer: str, operator: str
) -> None:
    market = desk.place(buyer, market_buy(token, buyer, 100 * USDC), 0)
    limit = desk.place(buyer, limit_buy(token, buyer, SHARE), 0)
    desk.fill(limit, SHARE // 2, 100 * USDC)
    before = desk.snapshot(buyer)

    with boa.env.prank(operator):
        with boa.reverts("orders: fill exceeds the order"):
            processor.fill_order(market, SHARE, 100 * USDC + 1)
        with boa.reverts("orders: fill exceeds the order"):
            processor.fill_order(limit, SHARE // 2 + 1, 1)
        with boa.reverts("orders: fill is zero"):
            processor.fill_order(limit, 0, 1)
        with boa.reverts("orders: fill is zero"):
            processor.fill_order(limit, 1, 0)

    assert desk.snapshot(buyer) == before


def test_a_limit_buy_is_never_filled_above_its_limit(
    desk: Desk, processor: Any, token: Any, buyer: str, operator: str
) -> None:
    order_id = desk.place(buyer, limit_buy(token, buyer, 2 * SHARE, PRICE), USDC)
    before = desk.snapshot(buyer)

    with boa.env.prank(operator), boa.reverts("orders: fill above the limit"):
        processor.fill_order(order_id, SHARE, 200 * USDC + 1)
    assert desk.snapshot(buyer) == before

    desk.fill(order_id, SHARE, 200 * USDC)


def test_a_limit_sell_is_never_filled_below_its_limit(
    desk: Desk, processor: Any, token: Any, seller: str, operator: str
) -> None:
    order_id = desk.place(seller, limit_sell(token, seller, 2 * SHARE, PRICE), USDC)
    before = desk.snapshot(seller, operator)

    with boa.env.prank(operator), boa.reverts("orders: fill below the limit"):
        processor.fill_order(order_id, SHARE, 200 * USDC - 1)
    assert desk.snapshot(seller, operator) == before

    desk.fill(order_id, SHARE, 200 * USDC)


def test_fill_or_kill_takes_one_whole_fill(
    desk: Desk, processor: Any, token: Any, buyer: str, operator: str
) -> None:
    order_id = desk.place(buyer, limit_buy(token, buyer, 2 * SHARE, PRICE, FOK), USDC)
    before = desk.snapshot(buyer)

    with boa.env.prank(operator), boa.reverts("orders: fill-or-kill needs one whole fill"):
        processor.fill_order(order_id, SHARE, 200 * USDC)
    assert desk.snapshot(buyer) == before

    desk.fill(order_id, 2 * SHARE, 400 * USDC)
    assert token.balanceOf(buyer) == 2 * SHARE


def test_only_an_operator_may_fill(
    desk: Desk, processor: Any, token: Any, buyer: str, non_owner: str
) -> None:
    order_id = desk.place(buyer, market_buy(token, buyer, 100 * USDC), 0)
    before = desk.snapshot(buyer)

    for account in (buyer, non_owner):
        with boa.env.prank(account), boa.reverts(MISSING_ROLE):
            processor.fill_order(order_id, SHARE, 100 * USDC)

    assert desk.snapshot(buyer) == before


def test_a_fill_the_reserves_do_not_cover_reverts_and_changes_nothing(
    desk: Desk, processor: Any, token: Any, buyer: str, operator: str, reserve_feed: Any, attester: str
) -> None:
    order_id = desk.place(buyer, market_buy(token, buyer, 1_000 * USDC), USDC)
    attest(reserve_feed, attester, token.totalSupply() + SHARE)
    before = desk.snapshot(buyer)

    with boa.env.prank(operator), boa.reverts("secure mint: supply would exceed reserves"):
        processor.fill_order(order_id, SHARE + 1, 200 * USDC)

    assert desk.snapshot(buyer) == before
    desk.fill(order_id, SHARE, 200 * USDC)


# ------------------------------------------------------------------------------------------- pause


def test_pausing_stops_new_orders_only(
    desk: Desk, processor: Any, token: Any, buyer: str, pauser: str, non_owner: str
) -> None:
    order_id = desk.place(buyer, market_buy(token, buyer, 100 * USDC), 0)
    with boa.env.prank(non_owner), boa.reverts("orders: not a pauser"):
        processor.pause()
    with boa.env.prank(pauser):
        processor.pause()
    order = market_buy(token, buyer, 100 * USDC)
    quote, signature = desk.quote(buyer, order, 0)

    _refused(desk, buyer, order, quote, signature, "pausable: contract is paused")

    desk.fill(order_id, SHARE // 4, 50 * USDC)
    desk.cancel(order_id)
    with boa.env.prank(pauser):
        processor.unpause()
    desk.create(buyer, order, quote, signature)


def test_a_restricted_token_serves_orders_only_once_the_processor_is_its_operator(
    desk: Desk,
    deploy_token: TokenFactory,
    processor: Any,
    registry: Any,
    registrar: str,
    buyer: str,
    admin: str,
) -> None:
    restricted = deploy_token(RESTRICTED)
    with boa.env.prank(admin):
        restricted.grantRole(restricted.MINTER_ROLE(), processor.address)
    register(registry, registrar, BUYER, buyer)
    desk = replace(desk, tokens=[*desk.tokens, restricted])
    order = market_buy(restricted, buyer, 100 * USDC)
    quote, signature = desk.quote(buyer, order, USDC)
    _refused(desk, buyer, order, quote, signature, "only an operator may move restricted tokens")

    with boa.env.prank(admin):
        restricted.grantRole(restricted.OPERATOR_ROLE(), processor.address)
    order_id = desk.create(buyer, order, quote, signature)
    desk.fill(order_id, SHARE // 2, 100 * USDC)

    assert restricted.balanceOf(buyer) == SHARE // 2
