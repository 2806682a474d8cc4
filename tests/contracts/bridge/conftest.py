"""The bridge pool of the 8-decimal AAPLx token, its attesters and two fake remotes.

One boa env is one chain, so the remote side is simulated: ``REMOTE_EVM`` and ``SOLANA`` are
registered with made-up pool words, and inbound messages are built by hand and signed by the
attester keys (``tests.support.contracts.bridge``). The round trip between two real pools lives in
``test_round_trip.py``.
"""

from collections.abc import Callable, Sequence
from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from tests.support.contracts import TokenFactory, attest, mint
from tests.support.contracts.bridge import (
    HOLDING,
    REMOTE_EVM,
    REMOTE_POOL,
    RESERVES,
    SOLANA,
    SOLANA_POOL,
    Inbound,
    Message,
    Snapshot,
    attester_keys,
    deploy_pool,
    message_id,
    sign,
    word,
)


@pytest.fixture(scope="module")
def keys() -> list[LocalAccount]:
    """Seven attester keys; the default pool trusts the first four, three of them needed."""
    return attester_keys(7)


@pytest.fixture(scope="module")
def token(deploy_token: TokenFactory) -> Any:
    return deploy_token()


@pytest.fixture(scope="module")
def make_pool(admin: str, pauser: str, compliance_agent: str) -> Callable[..., Any]:
    """Deploy a pool for a token, with roles granted and both fake remotes registered."""

    def make(token: Any, attesters: Sequence[LocalAccount], threshold: int) -> Any:
        pool = deploy_pool(token, admin, [key.address for key in attesters], threshold)
        with boa.env.prank(admin):
            pool.grantRole(pool.PAUSER_ROLE(), pauser)
            pool.grantRole(pool.COMPLIANCE_AGENT_ROLE(), compliance_agent)
            pool.set_remote(REMOTE_EVM, REMOTE_POOL, True)
            pool.set_remote(SOLANA, SOLANA_POOL, False)
        return pool

    return make


@pytest.fixture(scope="module")
def pool(make_pool: Callable[..., Any], token: Any, keys: list[LocalAccount]) -> Any:
    return make_pool(token, keys[:4], 3)


@pytest.fixture(scope="module")
def signers(keys: list[LocalAccount]) -> list[LocalAccount]:
    """A quorum of the default pool: three of its four attesters."""
    return keys[:3]


@pytest.fixture(scope="module")
def funded(pool: Any, token: Any, reserve_feed: Any, attester: str, minter: str, holder: str) -> Any:
    """The default pool with `holder` owning `HOLDING` tokens it approved to the pool, and ample reserves."""
    mint(token, reserve_feed, attester, minter, holder, HOLDING)
    attest(reserve_feed, attester, RESERVES)
    with boa.env.prank(holder):
        token.approve(pool.address, 2**256 - 1)
    return pool


@pytest.fixture(scope="module")
def inbound(funded: Any) -> Inbound:
    """Build a message from the fake EVM remote to the default pool."""

    def build(
        receiver: str, amount: int, *, nonce: int = 1, sender: str | None = None, **changes: Any
    ) -> Message:
        message = Message(
            source_chain=REMOTE_EVM,
            source_pool=REMOTE_POOL,
            dest_chain=boa.env.evm.patch.chain_id,
            dest_pool=word(funded.address),
            nonce=nonce,
            sender=word(sender or receiver),
            receiver=word(receiver),
            amount=amount,
        )
        return message.but(**changes)

    return build


@pytest.fixture(scope="module")
def deliver(funded: Any, signers: list[LocalAccount]) -> Callable[[Message], bytes]:
    """Receive `message` on the default pool with a quorum's signatures; return its id."""

    def run(message: Message) -> bytes:
        funded.receive(message.as_tuple(), sign(message, signers))
        return message_id(message)

    return run


@pytest.fixture(scope="module")
def snapshot(token: Any, funded: Any) -> Snapshot:
    """Everything a refused call must leave unchanged: balances, supply, nonce, buckets, statuses."""

    def take(accounts: Sequence[str] = (), ids: Sequence[bytes] = ()) -> tuple[Any, ...]:
        return (
            tuple(token.balanceOf(account) for account in accounts),
            token.totalSupply(),
            funded.nonce(),
            tuple(tuple(funded.outbound_bucket(chain)) for chain in (REMOTE_EVM, SOLANA)),
            tuple(tuple(funded.inbound_bucket(chain)) for chain in (REMOTE_EVM, SOLANA)),
            tuple(funded.message_status(i) for i in ids),
        )

    return take
