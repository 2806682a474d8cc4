"""A round trip between two real pools: AAPLx (8 decimals) on chain A -> AAPLx (18 decimals) on chain B -> A.

One boa env is one chain, so both pools live in it and the test switches `chain.id` with
`boa.env.evm.patch.chain_id` between the two sides (the patch is not journaled by the anchor of
titanoboa's pytest plugin, so the `chains` fixture restores it itself). The relayer's part is
`sent_message` (rebuild the message from `Sent`) plus `sign`.
"""

from collections.abc import Callable, Iterator
from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from tests.support.contracts import ONE_SHARE, TokenFactory, attest
from tests.support.contracts.bridge import HOLDING, sent_message, sign, word

CHAIN_A, CHAIN_B = 1_001, 1_002


@pytest.fixture
def chains() -> Iterator[None]:
    saved = boa.env.evm.patch.chain_id
    boa.env.evm.patch.chain_id = CHAIN_A
    try:
        yield
    finally:
        boa.env.evm.patch.chain_id = saved


@pytest.fixture(scope="module")
def side_b(
    reserve_feed_deployer: Any,
    deploy_token: TokenFactory,
    make_pool: Callable[..., Any],
    keys: list[LocalAccount],
    admin: str,
    attester: str,
) -> tuple[Any, Any]:
    with boa.env.prank(admin):
        feed = reserve_feed_deployer.deploy(18, "AAPLx reserves on B")
        feed.grantRole(feed.UPDATER_ROLE(), attester)
    attest(feed, attester, 10**30)
    token = deploy_token(decimals_=18, reserve_feed_address=feed.address)
    return token, make_pool(token, keys[:4], 3)


def test_round_trip(
    chains: None,
    funded: Any,
    token: Any,
    side_b: tuple[Any, Any],
    signers: list[LocalAccount],
    admin: str,
    holder: str,
    receiver: str,
) -> None:
    token_b, pool_b = side_b
    with boa.env.prank(admin):
        funded.set_remote(CHAIN_B, word(pool_b.address), True)
        pool_b.set_remote(CHAIN_A, word(funded.address), True)

    # A -> B: burn 4 shares on A, mint 4 * 10**18 on B.
    with boa.env.prank(holder):
        funded.send(CHAIN_B, word(receiver), 4 * ONE_SHARE, 0)
    out = sent_message(funded, funded.get_logs()[-1])
    boa.env.evm.patch.chain_id = CHAIN_B
    pool_b.receive(out.as_tuple(), sign(out, signers))
    assert (token.balanceOf(holder), token_b.balanceOf(receiver)) == (HOLDING - 4 * ONE_SHARE, 4 * 10**18)

    # B -> A: burn 1.5 shares on B, mint 1.5 shares back to the holder on A.
    with boa.env.prank(receiver):
        token_b.approve(pool_b.address, 2**256 - 1)
        pool_b.send(CHAIN_A, word(holder), 15 * 10**17, 0)
    back = sent_message(pool_b, pool_b.get_logs()[-1])
    assert back.amount == 15 * ONE_SHARE // 10
    boa.env.evm.patch.chain_id = CHAIN_A
    with boa.reverts("bridge: wrong destination pool"):
        pool_b.receive(back.as_tuple(), sign(back, signers))  # the message names A's pool
    funded.receive(back.as_tuple(), sign(back, signers))
    assert token.balanceOf(holder) == HOLDING - 4 * ONE_SHARE + 15 * ONE_SHARE // 10
    assert token_b.balanceOf(receiver) == 25 * 10**17
