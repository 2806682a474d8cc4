"""Held inbound messages: the token refuses the receiver (or the EVM sender is sanctioned), nothing is minted,
and the compliance agent releases the tokens or returns them to the source chain."""

from collections.abc import Callable
from typing import Any

import boa
import pytest
from tests.support.contracts import ONE_SHARE, events
from tests.support.contracts.bridge import (
    REMOTE_EVM,
    REMOTE_POOL,
    STATUS_HELD,
    STATUS_RELEASED,
    STATUS_RETURNED,
    Inbound,
    Message,
    Snapshot,
    message_id,
    sent_message,
    word,
)

RECEIVER_SANCTIONED, SENDER_SANCTIONED, RECEIVER_FROZEN, INVALID_RECEIVER = 3, 2, 6, 18


@pytest.fixture
def held(
    funded: Any,
    token: Any,
    sanctions_list: Any,
    admin: str,
    inbound: Inbound,
    deliver: Callable[[Message], bytes],
    receiver: str,
    spender: str,
) -> tuple[bytes, Message]:
    """A message from `spender` to `receiver`, who was sanctioned after the send."""
    with boa.env.prank(admin):
        sanctions_list.addToSanctionsList([receiver])
    message = inbound(receiver, 2 * ONE_SHARE, sender=spender)
    return deliver(message), message


def test_sanctioned_receiver_is_held(
    held: tuple[bytes, Message], funded: Any, token: Any, receiver: str, spender: str
) -> None:
    id_, _ = held
    assert events(funded) == [
        (
            "Held",
            {"message_id": id_, "receiver": receiver, "amount": 2 * ONE_SHARE, "code": RECEIVER_SANCTIONED},
        )
    ]
    assert token.balanceOf(receiver) == 0
    assert funded.message_status(id_) == STATUS_HELD
    assert tuple(funded.held(id_)) == (receiver, word(spender), REMOTE_EVM, 2 * ONE_SHARE)


@pytest.mark.parametrize("case", ["frozen receiver", "sanctioned sender", "not an address"])
def test_other_refusals_are_held(
    case: str,
    funded: Any,
    token: Any,
    sanctions_list: Any,
    admin: str,
    compliance_agent: str,
    inbound: Inbound,
    deliver: Callable[[Message], bytes],
    receiver: str,
    spender: str,
) -> None:
    supply = token.totalSupply()
    message = inbound(receiver, ONE_SHARE, sender=spender)
    code = {"frozen receiver": RECEIVER_FROZEN, "sanctioned sender": SENDER_SANCTIONED}.get(
        case, INVALID_RECEIVER
    )
    if case == "frozen receiver":
        with boa.env.prank(compliance_agent):
            token.set_address_frozen(receiver, True)
    elif case == "sanctioned sender":
        with boa.env.prank(admin):
            sanctions_list.addToSanctionsList([spender])
    else:
        message = message.but(receiver=b"\x01" * 32)
    id_ = deliver(message)
    assert events(funded)[-1][1]["code"] == code
    assert (funded.message_status(id_), token.totalSupply(), token.balanceOf(receiver)) == (
        STATUS_HELD,
        supply,
        0,
    )


def test_release_by_the_compliance_agent(
    held: tuple[bytes, Message], funded: Any, token: Any, compliance_agent: str, holder: str
) -> None:
    id_, _ = held
    with boa.env.prank(compliance_agent):
        funded.release(id_, holder)
    assert [e for e in events(funded) if e[0] != "Transfer"] == [
        ("Released", {"message_id": id_, "to": holder, "amount": 2 * ONE_SHARE, "agent": compliance_agent})
    ]
    assert funded.message_status(id_) == STATUS_RELEASED
    with boa.env.prank(compliance_agent), boa.reverts("bridge: message not held"):
        funded.release(id_, holder)


def test_release_refused_for_others_and_to_a_sanctioned_address(
    held: tuple[bytes, Message],
    funded: Any,
    snapshot: Snapshot,
    compliance_agent: str,
    non_owner: str,
    receiver: str,
) -> None:
    id_, _ = held
    before = snapshot([receiver], [id_])
    with boa.env.prank(non_owner), boa.reverts("access_control: account is missing role"):
        funded.release(id_, non_owner)
    with boa.env.prank(compliance_agent), boa.reverts("receiver is sanctioned"):
        funded.release(id_, receiver)
    with boa.env.prank(compliance_agent), boa.reverts("bridge: message not held"):
        funded.release(b"\x01" * 32, receiver)
    with boa.env.prank(non_owner), boa.reverts("access_control: account is missing role"):
        funded.return_held(id_)
    assert snapshot([receiver], [id_]) == before


def test_return_held_sends_back_to_the_sender(
    held: tuple[bytes, Message], funded: Any, token: Any, compliance_agent: str, spender: str
) -> None:
    id_, _ = held
    supply, nonce = token.totalSupply(), funded.nonce()
    with boa.env.prank(compliance_agent):
        new_id = funded.return_held(id_)
    logs = funded.get_logs()
    sent = logs[0]
    back = sent_message(funded, sent)
    assert back == Message(
        source_chain=boa.env.evm.patch.chain_id,
        source_pool=word(funded.address),
        dest_chain=REMOTE_EVM,
        dest_pool=REMOTE_POOL,
        nonce=nonce + 1,
        sender=word(funded.address),
        receiver=word(spender),
        amount=2 * ONE_SHARE,
    )
    assert new_id == sent.message_id == message_id(back)
    assert events(funded)[1] == (
        "Returned",
        {"message_id": id_, "new_message_id": new_id, "agent": compliance_agent},
    )
    assert (funded.message_status(id_), token.totalSupply(), funded.nonce()) == (
        STATUS_RETURNED,
        supply,
        nonce + 1,
    )
    with boa.env.prank(compliance_agent), boa.reverts("bridge: message not held"):
        funded.return_held(id_)
