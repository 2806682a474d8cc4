"""Local and shared decimals (an 18-decimal token: scale 10**10; 8 decimals: scale 1), dust, and the
secure-mint gate on `receive`."""

from collections.abc import Callable
from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from tests.support.contracts import ONE_SHARE, TokenFactory, attest
from tests.support.contracts.bridge import (
    REMOTE_EVM,
    REMOTE_POOL,
    STATUS_MINTED,
    Inbound,
    Message,
    Snapshot,
    message_id,
    sign,
    word,
)

SCALE_18 = 10**10


@pytest.fixture(scope="module")
def feed18(reserve_feed_deployer: Any, admin: str, attester: str) -> Any:
    with boa.env.prank(admin):
        feed = reserve_feed_deployer.deploy(18, "AAPLx reserves, 18 decimals")
        feed.grantRole(feed.UPDATER_ROLE(), attester)
    return feed


@pytest.fixture(scope="module")
def token18(deploy_token: TokenFactory, feed18: Any) -> Any:
    return deploy_token(decimals_=18, reserve_feed_address=feed18.address)


@pytest.fixture(scope="module")
def pool18(
    make_pool: Callable[..., Any],
    token18: Any,
    feed18: Any,
    keys: list[LocalAccount],
    attester: str,
    minter: str,
    holder: str,
) -> Any:
    pool = make_pool(token18, keys[:1], 1)
    attest(feed18, attester, 10**30)
    with boa.env.prank(minter):
        token18.mint(holder, 10 * 10**18)
    with boa.env.prank(holder):
        token18.approve(pool.address, 2**256 - 1)
    return pool


def test_scales(funded: Any, pool18: Any) -> None:
    assert (funded.scale(), pool18.scale()) == (1, SCALE_18)


def test_send_18_decimals_emits_shared_amount(pool18: Any, token18: Any, holder: str) -> None:
    with boa.env.prank(holder):
        pool18.send(REMOTE_EVM, word(holder), 3 * 10**18 + 7 * SCALE_18, 0)
    assert pool18.get_logs()[-1].amount == 3 * ONE_SHARE + 7
    assert token18.balanceOf(holder) == 7 * 10**18 - 7 * SCALE_18


def test_dust_is_refused_and_nothing_burned(pool18: Any, token18: Any, holder: str) -> None:
    before = (token18.balanceOf(holder), token18.totalSupply(), pool18.nonce())
    with boa.env.prank(holder), boa.reverts("bridge: amount has dust below 8 decimals"):
        pool18.send(REMOTE_EVM, word(holder), 10**18 + 1, 0)
    assert (token18.balanceOf(holder), token18.totalSupply(), pool18.nonce()) == before


def test_receive_18_decimals_mints_scaled(
    pool18: Any, token18: Any, keys: list[LocalAccount], receiver: str
) -> None:
    message = Message(
        REMOTE_EVM,
        REMOTE_POOL,
        boa.env.evm.patch.chain_id,
        word(pool18.address),
        1,
        word(receiver),
        word(receiver),
        5 * ONE_SHARE + 1,
    )
    pool18.receive(message.as_tuple(), sign(message, keys[:1]))
    assert token18.balanceOf(receiver) == (5 * ONE_SHARE + 1) * SCALE_18


def test_secure_mint_gate(
    funded: Any,
    token: Any,
    reserve_feed: Any,
    attester: str,
    inbound: Inbound,
    signers: list[LocalAccount],
    receiver: str,
    snapshot: Snapshot,
) -> None:
    attest(reserve_feed, attester, token.totalSupply() + ONE_SHARE)
    message = inbound(receiver, 2 * ONE_SHARE)
    before = snapshot([receiver], [message_id(message)])
    with boa.reverts("secure mint: supply would exceed reserves"):
        funded.receive(message.as_tuple(), sign(message, signers))
    assert snapshot([receiver], [message_id(message)]) == before
    attest(reserve_feed, attester, token.totalSupply() + 2 * ONE_SHARE)  # the issuer raises the reserves
    funded.receive(message.as_tuple(), sign(message, signers))  # and the relayer retries
    assert (token.balanceOf(receiver), funded.message_status(message_id(message))) == (
        2 * ONE_SHARE,
        STATUS_MINTED,
    )


def test_token_with_fewer_than_8_decimals_is_refused(deploy_token: TokenFactory, admin: str) -> None:
    from tests.support.contracts.bridge import pool_deployer

    token6 = deploy_token(decimals_=6)
    with boa.env.prank(admin), boa.reverts("bridge: token has fewer than 8 decimals"):
        pool_deployer().deploy(token6.address, [admin], 1)
