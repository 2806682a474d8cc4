"""`send`: the burn, the `Sent` message, and every refusal leaving the state as it was."""

from typing import Any

import boa
from tests.support.contracts import ONE_SHARE, events
from tests.support.contracts.bridge import (
    HOLDING,
    REMOTE_EVM,
    REMOTE_POOL,
    SOLANA,
    SOLANA_POOL,
    Message,
    Snapshot,
    message_id,
    sent_message,
    word,
)


def test_send_burns_and_emits_the_message(funded: Any, token: Any, holder: str, receiver: str) -> None:
    pool = funded
    with boa.env.prank(holder):
        returned = pool.send(REMOTE_EVM, word(receiver), 5 * ONE_SHARE, 5 * ONE_SHARE)
    [(_, sent)] = [e for e in events(pool) if e[0] == "Sent"]

    expected = Message(
        source_chain=boa.env.evm.patch.chain_id,
        source_pool=word(pool.address),
        dest_chain=REMOTE_EVM,
        dest_pool=REMOTE_POOL,
        nonce=1,
        sender=word(holder),
        receiver=word(receiver),
        amount=5 * ONE_SHARE,
    )
    assert sent == {
        "message_id": message_id(expected),
        "dest_chain": REMOTE_EVM,
        "sender": holder,
        "nonce": 1,
        "receiver": word(receiver),
        "amount": 5 * ONE_SHARE,
        "dest_pool": REMOTE_POOL,
    }
    assert returned == message_id(expected) == pool.message_id(expected.as_tuple())
    assert token.balanceOf(holder) == HOLDING - 5 * ONE_SHARE
    assert token.totalSupply() == HOLDING - 5 * ONE_SHARE
    assert pool.nonce() == 1


def test_nonces_count_up_across_remotes(funded: Any, holder: str) -> None:
    pool = funded
    with boa.env.prank(holder):
        pool.send(REMOTE_EVM, word(holder), ONE_SHARE, 0)
        pool.send(SOLANA, b"\x07" * 32, ONE_SHARE, 0)
    sent = pool.get_logs()[-1]
    assert (sent.nonce, sent.dest_pool, pool.nonce()) == (2, SOLANA_POOL, 2)
    assert sent_message(pool, sent).receiver == b"\x07" * 32


def test_solana_receiver_is_any_32_bytes(funded: Any, holder: str) -> None:
    with boa.env.prank(holder):
        funded.send(SOLANA, b"\xff" * 32, ONE_SHARE, 0)
    assert funded.get_logs()[-1].receiver == b"\xff" * 32


def _refused(
    pool: Any, snapshot: Snapshot, accounts: list[str], sender: str, reason: str, *args: Any
) -> None:
    before = snapshot(accounts)
    with boa.env.prank(sender), boa.reverts(reason):
        pool.send(*args)
    assert snapshot(accounts) == before


def test_zero_amount_is_refused(funded: Any, snapshot: Snapshot, holder: str, receiver: str) -> None:
    # An 8-decimal token has no dust; the dust refusal is in test_decimals.py.
    _refused(funded, snapshot, [holder], holder, "bridge: amount is zero", REMOTE_EVM, word(receiver), 0, 0)


def test_min_received_above_amount_is_refused(
    funded: Any, snapshot: Snapshot, holder: str, receiver: str
) -> None:
    _refused(
        funded,
        snapshot,
        [holder],
        holder,
        "bridge: below min_received",
        REMOTE_EVM,
        word(receiver),
        ONE_SHARE,
        ONE_SHARE + 1,
    )


def test_unknown_remote_is_refused(funded: Any, snapshot: Snapshot, holder: str, receiver: str) -> None:
    _refused(funded, snapshot, [holder], holder, "bridge: unknown remote", 7, word(receiver), ONE_SHARE, 0)


def test_disabled_remote_is_refused(funded: Any, admin: str, snapshot: Snapshot, holder: str) -> None:
    with boa.env.prank(admin):
        funded.set_remote(REMOTE_EVM, b"\x00" * 32, True)
    _refused(
        funded, snapshot, [holder], holder, "bridge: unknown remote", REMOTE_EVM, word(holder), ONE_SHARE, 0
    )


def test_receiver_must_be_an_address_on_evm_remotes(funded: Any, snapshot: Snapshot, holder: str) -> None:
    _refused(
        funded, snapshot, [holder], holder, "bridge: receiver is zero", REMOTE_EVM, b"\x00" * 32, ONE_SHARE, 0
    )
    _refused(
        funded,
        snapshot,
        [holder],
        holder,
        "bridge: receiver is not an EVM address",
        REMOTE_EVM,
        b"\x01" * 32,
        ONE_SHARE,
        0,
    )


def test_sanctioned_receiver_is_refused_on_evm_remotes(
    funded: Any, snapshot: Snapshot, sanctions_list: Any, admin: str, holder: str, receiver: str
) -> None:
    with boa.env.prank(admin):
        sanctions_list.addToSanctionsList([receiver])
    _refused(
        funded, snapshot, [holder], holder, "receiver is sanctioned", REMOTE_EVM, word(receiver), ONE_SHARE, 0
    )


def test_frozen_receiver_is_refused_on_evm_remotes(
    funded: Any, token: Any, snapshot: Snapshot, compliance_agent: str, holder: str, receiver: str
) -> None:
    with boa.env.prank(compliance_agent):
        token.set_address_frozen(receiver, True)
    _refused(
        funded, snapshot, [holder], holder, "receiver is frozen", REMOTE_EVM, word(receiver), ONE_SHARE, 0
    )


def test_frozen_sender_gets_the_tokens_reason(
    funded: Any, token: Any, snapshot: Snapshot, compliance_agent: str, holder: str
) -> None:
    with boa.env.prank(compliance_agent):
        token.set_address_frozen(holder, True)
    _refused(funded, snapshot, [holder], holder, "sender is frozen", SOLANA, b"\x07" * 32, ONE_SHARE, 0)
    _refused(funded, snapshot, [holder], holder, "sender is frozen", REMOTE_EVM, word(holder), ONE_SHARE, 0)


def test_sanctioned_sender_gets_the_tokens_reason(
    funded: Any, snapshot: Snapshot, sanctions_list: Any, admin: str, holder: str
) -> None:
    with boa.env.prank(admin):
        sanctions_list.addToSanctionsList([holder])
    _refused(funded, snapshot, [holder], holder, "sender is sanctioned", SOLANA, b"\x07" * 32, ONE_SHARE, 0)


def test_paused_pool_refuses(funded: Any, snapshot: Snapshot, pauser: str, holder: str) -> None:
    with boa.env.prank(pauser):
        funded.pause()
    _refused(
        funded, snapshot, [holder], holder, "pausable: contract is paused", SOLANA, b"\x07" * 32, ONE_SHARE, 0
    )
    with boa.env.prank(pauser):
        funded.unpause()
    with boa.env.prank(holder):
        funded.send(SOLANA, b"\x07" * 32, ONE_SHARE, 0)


def test_paused_token_refuses(funded: Any, token: Any, snapshot: Snapshot, pauser: str, holder: str) -> None:
    with boa.env.prank(pauser):
        token.pause()
    _refused(funded, snapshot, [holder], holder, "token is paused", SOLANA, b"\x07" * 32, ONE_SHARE, 0)
    _refused(funded, snapshot, [holder], holder, "token is paused", REMOTE_EVM, word(holder), ONE_SHARE, 0)


def test_only_a_pauser_pauses(funded: Any, non_owner: str) -> None:
    with boa.env.prank(non_owner), boa.reverts("access_control: account is missing role"):
        funded.pause()


def test_set_remote_is_admin_only_with_event(funded: Any, admin: str, non_owner: str) -> None:
    with boa.env.prank(non_owner), boa.reverts("access_control: account is missing role"):
        funded.set_remote(7, b"\x01" * 32, False)
    with boa.env.prank(admin), boa.reverts("bridge: pool is not an EVM address"):
        funded.set_remote(7, b"\x01" * 32, True)
    with boa.env.prank(admin):
        funded.set_remote(7, b"\x01" * 32, False)
    assert events(funded) == [("RemoteSet", {"chain_id": 7, "pool": b"\x01" * 32, "is_evm": False})]
    assert (funded.remote_pool(7), funded.remote_is_evm(7)) == (b"\x01" * 32, False)
