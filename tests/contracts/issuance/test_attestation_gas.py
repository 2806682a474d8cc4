"""Gas of an attestation mint and redemption as whole cold transactions (calldata not counted), on an open
token whose user has minted before, measured with the bridge's `cold_gas` convention."""

from typing import Any

import pytest
from tests.support.contracts import ONE_SHARE, OPEN, TokenFactory, actor
from tests.support.contracts.attestation import SELL, USDC, World, deploy_world
from tests.support.contracts.bridge import cold_gas

MINT_GAS, REDEEM_GAS = 160_000, 155_000  # measured 146,174 and 140,060


@pytest.fixture(scope="module")
def world(deploy_token: TokenFactory, reserve_feed: Any, admin: str, attester: str) -> World:
    return deploy_world(deploy_token, reserve_feed, admin, attester, actor("treasury"), OPEN)


def test_gas_bounds(world: World) -> None:
    user = actor("verified_user")
    world.fund(user, dollars=10_000 * USDC, shares=ONE_SHARE)
    world.mint(world.quote(user, ONE_SHARE))  # the user's usage and the token's are not empty
    mint = world.quote(user, ONE_SHARE)
    mint_gas = cold_gas(world.minter, lambda: world.mint(mint))
    redeem = world.quote(user, ONE_SHARE, SELL)
    redeem_gas = cold_gas(world.minter, lambda: world.redeem(redeem))
    assert mint_gas < MINT_GAS
    assert redeem_gas < REDEEM_GAS
