"""`receive`: the wire format against Python, k-of-n quorums, and refusals that leave the state as it was."""

from collections.abc import Callable
from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from tests.support.contracts import ONE_SHARE, events
from tests.support.contracts.bridge import (
    DOMAIN_SEPARATOR,
    REMOTE_EVM,
    REMOTE_POOL,
    SOLANA,
    SOLANA_POOL,
    STATUS_MINTED,
    Inbound,
    Message,
    Snapshot,
    attester_keys,
    by_address,
    digest,
    message_id,
    sign,
    signature,
    word,
)


def test_digest_and_id_match_python(funded: Any, inbound: Inbound, receiver: str) -> None:
    message = inbound(receiver, 3 * ONE_SHARE, nonce=9, salt=b"\x33" * 32)
    assert funded.domain_separator() == DOMAIN_SEPARATOR
    assert funded.digest(message.as_tuple()) == digest(message)
    assert funded.message_id(message.as_tuple()) == message_id(message)


def test_receive_mints_and_emits(
    funded: Any, token: Any, inbound: Inbound, deliver: Callable[[Message], bytes], receiver: str
) -> None:
    supply = token.totalSupply()
    id_ = deliver(inbound(receiver, 3 * ONE_SHARE))
    assert [e for e in events(funded) if e[0] != "Transfer"] == [
        (
            "Received",
            {"message_id": id_, "source_chain": REMOTE_EVM, "receiver": receiver, "amount": 3 * ONE_SHARE},
        )
    ]
    assert token.balanceOf(receiver) == 3 * ONE_SHARE
    assert token.totalSupply() == supply + 3 * ONE_SHARE
    assert funded.message_status(id_) == STATUS_MINTED


def test_solana_source_message(funded: Any, token: Any, signers: list[LocalAccount], receiver: str) -> None:
    message = Message(
        source_chain=SOLANA,
        source_pool=SOLANA_POOL,
        dest_chain=boa.env.evm.patch.chain_id,
        dest_pool=word(funded.address),
        nonce=0,
        sender=b"\x99" * 32,
        receiver=word(receiver),
        amount=ONE_SHARE,
        salt=b"\x42" * 32,
    )
    funded.receive(message.as_tuple(), sign(message, signers))
    assert token.balanceOf(receiver) == ONE_SHARE


@pytest.mark.parametrize("n", [1, 4, 7])
def test_quorum_k_of_n(
    n: int, make_pool: Callable[..., Any], funded: Any, token: Any, keys: list[LocalAccount], receiver: str
) -> None:
    k = n // 2 + 1
    pool = make_pool(token, keys[:n], k)
    message = Message(
        REMOTE_EVM,
        REMOTE_POOL,
        boa.env.evm.patch.chain_id,
        word(pool.address),
        1,
        word(receiver),
        word(receiver),
        ONE_SHARE,
    )
    if k > 1:
        with boa.reverts("bridge: below quorum"):
            pool.receive(message.as_tuple(), sign(message, keys[: k - 1]))
    pool.receive(message.as_tuple(), sign(message, keys[:k]))
    assert token.balanceOf(receiver) == ONE_SHARE
    assert (pool.threshold(), list(pool.attesters())) == (k, [key.address for key in keys[:n]])


def _refused(pool: Any, snapshot: Snapshot, reason: str, message: Message, signatures: list[bytes]) -> None:
    id_ = message_id(message)
    before = snapshot([], [id_])
    with boa.reverts(reason):
        pool.receive(message.as_tuple(), signatures)
    assert snapshot([], [id_]) == before


def test_below_quorum_is_refused(
    funded: Any, snapshot: Snapshot, inbound: Inbound, signers: list[LocalAccount], receiver: str
) -> None:
    message = inbound(receiver, ONE_SHARE)
    _refused(funded, snapshot, "bridge: below quorum", message, sign(message, signers[:2]))


def test_non_attester_signature_is_refused(
    funded: Any, snapshot: Snapshot, inbound: Inbound, signers: list[LocalAccount], receiver: str
) -> None:
    message = inbound(receiver, ONE_SHARE)
    outsider = attester_keys(9)[8]
    _refused(funded, snapshot, "bridge: not an attester", message, sign(message, [*signers[:2], outsider]))


def test_duplicate_signer_is_refused(
    funded: Any, snapshot: Snapshot, inbound: Inbound, signers: list[LocalAccount], receiver: str
) -> None:
    message = inbound(receiver, ONE_SHARE)
    first, second = by_address(signers[:2])
    twice = [signature(first, message), signature(second, message), signature(second, message)]
    _refused(funded, snapshot, "bridge: signers not ascending", message, twice)


def test_unsorted_signers_are_refused(
    funded: Any, snapshot: Snapshot, inbound: Inbound, signers: list[LocalAccount], receiver: str
) -> None:
    message = inbound(receiver, ONE_SHARE)
    _refused(funded, snapshot, "bridge: signers not ascending", message, sign(message, signers)[::-1])


def test_replay_is_refused(
    funded: Any,
    snapshot: Snapshot,
    inbound: Inbound,
    deliver: Callable[[Message], bytes],
    signers: list[LocalAccount],
    receiver: str,
) -> None:
    message = inbound(receiver, ONE_SHARE)
    deliver(message)
    _refused(funded, snapshot, "bridge: message already processed", message, sign(message, signers))


def test_wrong_destination_is_refused(
    funded: Any, snapshot: Snapshot, inbound: Inbound, signers: list[LocalAccount], receiver: str
) -> None:
    for reason, message in [
        ("bridge: wrong destination chain", inbound(receiver, ONE_SHARE, dest_chain=REMOTE_EVM)),
        ("bridge: wrong destination pool", inbound(receiver, ONE_SHARE, dest_pool=REMOTE_POOL)),
        ("bridge: unknown source", inbound(receiver, ONE_SHARE, source_pool=word(receiver))),
        ("bridge: unknown source", inbound(receiver, ONE_SHARE, source_chain=7)),
    ]:
        _refused(funded, snapshot, reason, message, sign(message, signers))


def test_forged_amount_fails_quorum(
    funded: Any, snapshot: Snapshot, inbound: Inbound, signers: list[LocalAccount], receiver: str
) -> None:
    message = inbound(receiver, ONE_SHARE)
    forged = message.but(amount=1_000 * ONE_SHARE)
    # The signatures recover other (random) addresses under the forged digest.
    _refused(funded, snapshot, "bridge: not an attester", forged, sign(message, signers))


def test_paused_pool_or_token_refuses(
    funded: Any,
    token: Any,
    snapshot: Snapshot,
    inbound: Inbound,
    signers: list[LocalAccount],
    pauser: str,
    receiver: str,
) -> None:
    message = inbound(receiver, ONE_SHARE)
    for paused in (funded, token):
        with boa.env.prank(pauser):
            paused.pause()
        _refused(funded, snapshot, "bridge: paused", message, sign(message, signers))
        with boa.env.prank(pauser):
            paused.unpause()
    funded.receive(message.as_tuple(), sign(message, signers))
    assert token.balanceOf(receiver) == ONE_SHARE


def test_set_attesters_is_admin_only_with_event(
    funded: Any, admin: str, non_owner: str, keys: list[LocalAccount]
) -> None:
    new = [key.address for key in keys[4:7]]
    with boa.env.prank(non_owner), boa.reverts("access_control: account is missing role"):
        funded.set_attesters(new, 2)
    with boa.env.prank(admin):
        for bad, threshold, reason in [
            (new, 0, "bridge: threshold out of range"),
            (new, 4, "bridge: threshold out of range"),
            ([*new, new[0]], 2, "bridge: duplicate attester"),
            ([*new, "0x" + "00" * 20], 2, "bridge: attester is the zero address"),
        ]:
            with boa.reverts(reason):
                funded.set_attesters(bad, threshold)
        funded.set_attesters(new, 2)
    assert events(funded) == [("AttestersSet", {"attesters": new, "threshold": 2})]
    assert not funded.is_attester(keys[0].address)
    assert funded.is_attester(keys[4].address)
    assert (list(funded.attesters()), funded.threshold()) == (new, 2)
