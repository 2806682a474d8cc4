"""PerpVault: LP flows limited to free assets, market-only reserve/release/pay, market registry."""

from typing import Any

import boa
from tests.support.contracts.perps import LP_ASSETS, USDC, WAD


def test_vault_metadata(vault: Any, usdc: Any) -> None:
    assert (vault.name(), vault.symbol(), vault.decimals(), vault.asset()) == (
        "Equitoken Perp LP",
        "eqPLP",
        12,
        usdc.address,
    )


def test_only_markets(funded: Any, vault: Any, non_owner: str, admin: str) -> None:
    for name, args in (("reserve", (1,)), ("release", (1,)), ("pay", (non_owner, 1))):
        with boa.env.prank(non_owner), boa.reverts("vault: not a market"):
            getattr(vault, name)(*args)
    with boa.env.prank(non_owner), boa.reverts("ownable: caller is not the owner"):
        vault.add_market(non_owner)
    with boa.env.prank(admin):
        vault.add_market(non_owner)
    with boa.env.prank(non_owner):
        vault.reserve(LP_ASSETS)
        with boa.reverts("vault: insufficient liquidity"):
            vault.reserve(1)
    with boa.env.prank(admin), boa.reverts("vault: market has reservations"):
        vault.remove_market(non_owner)


def test_lp_cannot_withdraw_reserved(funded: Any, vault: Any, lp: str, trader: str) -> None:
    with boa.env.prank(trader):
        funded.open_position(True, 10_000 * USDC, 5 * WAD, 0, 0, 0)
    free = vault.free_assets()
    assert free == vault.totalAssets() - vault.reserved()
    assert vault.maxWithdraw(lp) == free
    with boa.env.prank(lp), boa.reverts("vault: insufficient liquidity"):
        vault.withdraw(free + 1, lp, lp)
    with boa.env.prank(lp):
        vault.withdraw(free, lp, lp)
    assert vault.totalAssets() == vault.reserved()
    assert vault.maxRedeem(lp) == 0
