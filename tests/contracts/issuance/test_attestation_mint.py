"""Attestation mints and redemptions: the happy paths move exactly the quoted USDC and tokens, and every
refusal (quote, caller, signature, compliance, oracle, reserves, pause) leaves every balance, used id and
rate limit as it was."""

from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from tests.support.contracts import ONE_SHARE, OPEN, PERMISSIONED, TokenFactory, actor, events, register
from tests.support.contracts.attestation import (
    BUY,
    CLOSED_STATUS,
    HALTED_STATUS,
    MAX_AGE,
    MAX_TTL,
    QUOTE_PRICE,
    SELL,
    USDC,
    World,
    deploy_world,
    quote_digest,
    signer_key,
)


@pytest.fixture(scope="module")
def treasury() -> str:
    return actor("treasury")


@pytest.fixture(scope="module")
def user() -> str:
    return actor("verified_user")


@pytest.fixture(scope="module")
def world(
    deploy_token: TokenFactory, reserve_feed: Any, admin: str, attester: str, treasury: str, user: str
) -> World:
    w = deploy_world(deploy_token, reserve_feed, admin, attester, treasury, OPEN)
    w.fund(user, dollars=10_000 * USDC, shares=10 * ONE_SHARE)
    return w


@pytest.fixture(scope="module")
def kyc_world(
    deploy_token: TokenFactory,
    reserve_feed: Any,
    registry: Any,
    registrar: str,
    admin: str,
    attester: str,
    treasury: str,
    user: str,
) -> World:
    register(registry, registrar, 1, user)
    w = deploy_world(deploy_token, reserve_feed, admin, attester, treasury, PERMISSIONED)
    w.fund(user, dollars=10_000 * USDC)
    return w


def refused(world: World, action: Any, reason: str, *users: str) -> None:
    """Assert `action` reverts with `reason` and changes no balance, usage or id."""
    before = world.snapshot(*users)
    with boa.reverts(reason):
        action()
    assert world.snapshot(*users) == before


# ----------------------------------------------------------------------------------- happy paths


def test_mint_moves_exactly_the_notional_and_the_quantity(world: World, user: str, treasury: str) -> None:
    quote = world.quote(user, 3 * ONE_SHARE + 1)  # 3.00000001 shares at 200 USD
    usdc_user, usdc_treasury = world.usdc.balanceOf(user), world.usdc.balanceOf(treasury)
    tokens, supply = world.token.balanceOf(user), world.token.totalSupply()

    world.mint(quote)
    minted = [args for name, args in events(world.minter) if name == "AttestationMinted"]

    notional = 600 * USDC + 2  # 200e6 * 300000001 / 1e8 = 600000002 exactly
    assert world.usdc.balanceOf(user) == usdc_user - notional
    assert world.usdc.balanceOf(treasury) == usdc_treasury + notional
    assert world.token.balanceOf(user) == tokens + quote.quantity
    assert world.token.totalSupply() == supply + quote.quantity
    assert world.minter.attestation_used(quote.attestation_id)
    assert world.minter.available_for_user(user) == world.minter.user_rate_limit()[0] - notional
    assert minted == [
        {
            "attestation_id": quote.attestation_id,
            "user": user,
            "token": quote.token,
            "chain_id": quote.chain_id,
            "price": QUOTE_PRICE,
            "quantity": quote.quantity,
            "side": BUY,
            "expiry": quote.expiry,
            "usd_amount": notional,
            "oracle_price": QUOTE_PRICE,
            "treasury": treasury,
        }
    ]


def test_buy_rounds_up_and_sell_rounds_down(world: World) -> None:
    assert world.minter.usd_notional(QUOTE_PRICE + 1, ONE_SHARE // 3, BUY) == 66_666_667
    assert world.minter.usd_notional(QUOTE_PRICE + 1, ONE_SHARE // 3, SELL) == 66_666_666


def test_redeem_burns_the_quantity_and_pays_the_notional(world: World, user: str, treasury: str) -> None:
    quote = world.quote(user, ONE_SHARE // 3, SELL, price=QUOTE_PRICE + 1)
    usdc_user, usdc_treasury = world.usdc.balanceOf(user), world.usdc.balanceOf(treasury)
    tokens, supply = world.token.balanceOf(user), world.token.totalSupply()

    world.redeem(quote)
    redeemed = [args for name, args in events(world.minter) if name == "AttestationRedeemed"]

    notional = 66_666_666  # floor(200000001 * 33333333 / 1e8)
    assert world.usdc.balanceOf(user) == usdc_user + notional
    assert world.usdc.balanceOf(treasury) == usdc_treasury - notional
    assert world.token.balanceOf(user) == tokens - quote.quantity
    assert world.token.totalSupply() == supply - quote.quantity
    assert world.minter.attestation_used(quote.attestation_id)
    assert len(redeemed) == 1
    assert redeemed[0]["usd_amount"] == notional
    assert redeemed[0]["side"] == SELL
    assert redeemed[0]["treasury"] == treasury


def test_views(world: World, user: str, treasury: str) -> None:
    domain = world.minter.eip712Domain()
    assert domain[1:5] == (
        "Equitoken AttestationMinter",
        "1",
        boa.env.evm.patch.chain_id,
        world.minter.address,
    )
    assert world.minter.signer() == world.signer.address
    assert world.minter.treasury() == treasury
    assert world.minter.max_ttl() == MAX_TTL
    assert world.minter.token() == world.token.address
    assert world.minter.oracle_price_usdc() == QUOTE_PRICE
    quote = world.quote(user, ONE_SHARE)
    assert world.minter.quote_digest(quote.as_tuple()) == quote_digest(quote, world.minter)


# ------------------------------------------------------------------------------- quote refusals


def test_replayed_attestation_id_is_refused(world: World, user: str) -> None:
    quote = world.quote(user, ONE_SHARE)
    signature = world.sign(quote)
    world.mint(quote, signature)
    refused(world, lambda: world.mint(quote, signature), "attestation: id already used", user)


def test_replay_across_sides_is_refused(world: World, user: str) -> None:
    buy = world.quote(user, ONE_SHARE)
    world.mint(buy)
    sell = world.quote(user, ONE_SHARE, SELL, attestation_id=buy.attestation_id)
    refused(world, lambda: world.redeem(sell), "attestation: id already used", user)


def test_expired_quote_is_refused(world: World, user: str) -> None:
    quote = world.quote(user, ONE_SHARE)
    boa.env.time_travel(seconds=61)
    refused(world, lambda: world.mint(quote), "attestation: quote expired", user)
    assert not world.minter.attestation_used(quote.attestation_id)


def test_quote_living_longer_than_max_ttl_is_refused(world: World, user: str) -> None:
    now = boa.env.evm.patch.timestamp
    too_long = world.quote(user, ONE_SHARE, expiry=now + MAX_TTL + 1)
    refused(world, lambda: world.mint(too_long), "attestation: quote lives too long", user)
    world.mint(world.quote(user, ONE_SHARE, expiry=now + MAX_TTL))


def test_wrong_chain_is_refused(world: World, user: str) -> None:
    quote = world.quote(user, ONE_SHARE, chain_id=boa.env.evm.patch.chain_id + 1)
    refused(world, lambda: world.mint(quote), "attestation: wrong chain", user)


def test_caller_other_than_the_user_is_refused(world: World, user: str, non_owner: str) -> None:
    world.fund(non_owner, dollars=1_000 * USDC)
    quote = world.quote(user, ONE_SHARE)
    refused(
        world,
        lambda: world.mint(quote, sender=non_owner),
        "attestation: caller is not the user",
        user,
        non_owner,
    )


def test_forged_signature_is_refused(world: World, user: str) -> None:
    quote = world.quote(user, ONE_SHARE)
    signature = world.sign(quote)
    cheaper = world.quote(user, ONE_SHARE, price=QUOTE_PRICE - USDC, attestation_id=quote.attestation_id)
    refused(world, lambda: world.mint(cheaper, signature), "attestation: invalid signature", user)
    garbage = bytes(65)
    refused(world, lambda: world.mint(quote, garbage), "ecdsa: invalid signature", user)


def test_signature_of_a_non_signer_is_refused(world: World, user: str) -> None:
    impostor: LocalAccount = signer_key("impostor")
    quote = world.quote(user, ONE_SHARE)
    refused(
        world, lambda: world.mint(quote, world.sign(quote, impostor)), "attestation: invalid signature", user
    )


def test_side_mismatch_is_refused(world: World, user: str) -> None:
    sell = world.quote(user, ONE_SHARE, SELL)
    refused(world, lambda: world.mint(sell), "attestation: wrong side", user)
    buy = world.quote(user, ONE_SHARE, BUY)
    refused(world, lambda: world.redeem(buy), "attestation: wrong side", user)


def test_quote_for_another_token_is_refused(world: World, user: str) -> None:
    quote = world.quote(user, ONE_SHARE, token=str(world.usdc.address))
    refused(world, lambda: world.mint(quote), "minter: quote for another token", user)


def test_rotated_signer_invalidates_old_quotes(world: World, user: str, admin: str) -> None:
    quote = world.quote(user, ONE_SHARE)
    signature = world.sign(quote)
    new_signer = signer_key("rotated signer")
    with boa.env.prank(admin):
        world.minter.set_signer(new_signer.address)
    assert events(world.minter) == [("SignerSet", {"signer": new_signer.address, "admin": admin})]
    refused(world, lambda: world.mint(quote, signature), "attestation: invalid signature", user)
    world.mint(quote, world.sign(quote, new_signer))


# --------------------------------------------------------------------------- compliance refusals


def test_unverified_user_on_a_permissioned_token_is_refused(kyc_world: World, non_owner: str) -> None:
    kyc_world.fund(non_owner, dollars=1_000 * USDC)
    quote = kyc_world.quote(non_owner, ONE_SHARE)
    refused(
        kyc_world,
        lambda: kyc_world.mint(quote),
        "minter: user refused: receiver is not a verified investor",
        non_owner,
    )


def test_verified_user_on_a_permissioned_token_mints(kyc_world: World, user: str) -> None:
    kyc_world.mint(kyc_world.quote(user, ONE_SHARE))
    assert kyc_world.token.balanceOf(user) == ONE_SHARE


def test_sanctioned_user_is_refused(kyc_world: World, user: str, sanctions_list: Any, admin: str) -> None:
    with boa.env.prank(admin):
        sanctions_list.addToSanctionsList([user])
    quote = kyc_world.quote(user, ONE_SHARE)
    refused(kyc_world, lambda: kyc_world.mint(quote), "minter: user refused: receiver is sanctioned", user)


# ------------------------------------------------------------------------------ oracle refusals


def test_quote_too_far_from_the_oracle_is_refused(world: World, user: str) -> None:
    too_high = world.quote(user, ONE_SHARE, price=QUOTE_PRICE * 10_100 // 10_000 + 1)
    refused(world, lambda: world.mint(too_high), "minter: price too far from oracle", user)
    too_low = world.quote(user, ONE_SHARE, SELL, price=QUOTE_PRICE * 9_900 // 10_000 - 1)
    refused(world, lambda: world.redeem(too_low), "minter: price too far from oracle", user)
    world.mint(world.quote(user, ONE_SHARE, price=QUOTE_PRICE * 10_100 // 10_000))  # the edge passes


def test_stale_oracle_is_refused(world: World, user: str) -> None:
    boa.env.time_travel(seconds=MAX_AGE + 1)
    world.reserves_for(10 * ONE_SHARE)
    refused(world, lambda: world.mint(world.quote(user, ONE_SHARE)), "guard: stale price", user)


def test_halted_oracle_is_refused(world: World, user: str) -> None:
    world.publish(HALTED_STATUS)
    refused(world, lambda: world.mint(world.quote(user, ONE_SHARE)), "guard: market halted", user)


# ------------------------------------------------------------------------- reserves and pause


def test_mint_beyond_reserves_is_refused(world: World, user: str) -> None:
    world.reserves_for(ONE_SHARE - 1)
    refused(
        world,
        lambda: world.mint(world.quote(user, ONE_SHARE)),
        "secure mint: supply would exceed reserves",
        user,
    )


def test_pause_stops_both_flows(world: World, user: str, admin: str, pauser: str) -> None:
    with boa.env.prank(admin):
        world.minter.grantRole(world.minter.PAUSER_ROLE(), pauser)
    with boa.env.prank(user), boa.reverts("access_control: account is missing role"):
        world.minter.pause()
    with boa.env.prank(pauser):
        world.minter.pause()
    refused(world, lambda: world.mint(world.quote(user, ONE_SHARE)), "pausable: contract is paused", user)
    refused(
        world, lambda: world.redeem(world.quote(user, ONE_SHARE, SELL)), "pausable: contract is paused", user
    )
    with boa.env.prank(pauser):
        world.minter.unpause()
    world.mint(world.quote(user, ONE_SHARE))


def test_paused_token_refuses_the_user(world: World, user: str, pauser: str) -> None:
    with boa.env.prank(pauser):
        world.token.pause()
    refused(
        world, lambda: world.mint(world.quote(user, ONE_SHARE)), "minter: user refused: token is paused", user
    )


# ------------------------------------------------------------------------ redemption refusals


def test_redeeming_more_than_the_balance_is_refused(world: World, user: str) -> None:
    quote = world.quote(user, world.token.balanceOf(user) + 1, SELL)
    refused(world, lambda: world.redeem(quote), "amount exceeds the balance", user)


def test_redeeming_without_allowance_is_refused(world: World, user: str) -> None:
    with boa.env.prank(user):
        world.token.approve(world.minter.address, 0)
    quote = world.quote(user, ONE_SHARE, SELL)
    refused(world, lambda: world.redeem(quote), "erc20: insufficient allowance", user)


def test_redeeming_when_the_treasury_withdrew_its_approval_is_refused(
    world: World, user: str, treasury: str
) -> None:
    with boa.env.prank(treasury):
        world.usdc.approve(world.minter.address, 0)
    quote = world.quote(user, ONE_SHARE, SELL)
    refused(world, lambda: world.redeem(quote), "erc20: insufficient allowance", user)


def test_a_closed_market_still_prices_quotes(world: World, user: str) -> None:
    world.publish(CLOSED_STATUS)
    world.mint(world.quote(user, ONE_SHARE))
    world.redeem(world.quote(user, ONE_SHARE, SELL))
