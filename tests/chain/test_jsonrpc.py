"""JsonRpcChain against a real anvil: deploy, calls, transactions, logs, reverts, nonces, bad input."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from equitoken.chain.anvil import AnvilNode
from equitoken.chain.artifacts import Artifact
from equitoken.chain.jsonrpc import (
    AbiError,
    Contract,
    JsonRpcChain,
    Receipt,
    RevertError,
    RpcUnavailableError,
    TransactionTimeoutError,
    UnknownFunctionError,
    UnknownSignerError,
)

pytestmark = pytest.mark.anvil

_NOT_OWNER = "ownable: caller is not the owner"


# -- reads


def test_chain_facts(chain: JsonRpcChain) -> None:
    assert chain.chain_id == 31337
    assert chain.block_number() >= 0
    assert chain.timestamp() > 1_700_000_000
    assert len(chain.accounts) == 10


def test_deploy_places_the_runtime_code(
    chain: JsonRpcChain, sanctions_artifact: Artifact, owner: str
) -> None:
    receipt = chain.deploy_with_receipt(sanctions_artifact, sender=owner)

    assert receipt.succeeded
    assert receipt.contract_address is not None
    assert chain.code(receipt.contract_address) == sanctions_artifact.runtime_bytecode
    assert chain.at(receipt.contract_address, sanctions_artifact).owner() == owner


def test_call_by_abi_item_and_by_name(chain: JsonRpcChain, sanctions: Contract, sanctioned: str) -> None:
    item = next(i for i in sanctions.abi if i.get("name") == "isSanctioned")

    assert chain.call(sanctions.address, item, [sanctioned]) is False
    assert chain.call(sanctions.address, "isSanctioned", [sanctioned], abi=sanctions.abi) is False


# -- transactions and logs


def test_send_changes_state_and_returns_a_receipt_with_logs(
    chain: JsonRpcChain, sanctions: Contract, owner: str, sanctioned: str
) -> None:
    receipt = chain.send(
        sanctions.address, "addToSanctionsList", [[sanctioned]], sender=owner, abi=sanctions.abi
    )

    assert isinstance(receipt, Receipt)
    assert receipt.status == 1
    assert receipt.sender == owner
    assert receipt.to == sanctions.address
    assert 21_000 < receipt.gas_used < 100_000
    assert sanctions.isSanctioned(sanctioned) is True
    [event] = sanctions.decode_logs(receipt)
    assert (event.name, event.args) == ("SanctionedAddressesAdded", {"addrs": [sanctioned]})
    assert event.tx_hash == receipt.tx_hash


def test_get_logs_filters_by_contract_event_and_blocks(
    chain: JsonRpcChain, sanctions: Contract, owner: str, sanctioned: str, non_owner: str
) -> None:
    first = sanctions.addToSanctionsList([sanctioned], sender=owner)
    second = sanctions.addToSanctionsList([non_owner, sanctioned], sender=owner)
    sanctions.removeFromSanctionsList([sanctioned], sender=owner)

    added = sanctions.get_logs("SanctionedAddressesAdded")
    only_second = sanctions.get_logs("SanctionedAddressesAdded", from_block=second.block_number)
    removed = sanctions.get_logs("SanctionedAddressesRemoved", from_block=first.block_number)

    assert [e.args["addrs"] for e in added] == [[sanctioned], [non_owner, sanctioned]]
    assert [e.block_number for e in only_second] == [second.block_number]
    assert [e.args["addrs"] for e in removed] == [[sanctioned]]
    assert all(e.address == sanctions.address for e in added + removed)


def test_two_step_ownership_transfer(sanctions: Contract, owner: str, non_owner: str) -> None:
    sanctions.transfer_ownership(non_owner, sender=owner)
    assert sanctions.pending_owner() == non_owner

    sanctions.accept_ownership(sender=non_owner)

    assert sanctions.owner() == non_owner
    [started] = sanctions.get_logs("OwnershipTransferStarted")
    assert started.args == {"previous_owner": owner, "new_owner": non_owner}


def test_signed_transaction_can_be_built_and_broadcast_by_hand(
    chain: JsonRpcChain, sanctions: Contract, owner: str, sanctioned: str
) -> None:
    data = sanctions.addToSanctionsList.encode([sanctioned])
    tx = chain.build_transaction(sanctions.address, data, sender=owner)
    signed = chain.sign(tx, sender=owner, nonce=chain.nonce(owner))

    tx_hash = chain.send_raw(signed.raw)
    receipt = chain.wait_for_receipt(tx_hash)

    assert tx_hash == signed.tx_hash
    assert receipt.succeeded
    assert receipt.gas_used < tx["gas"]
    # The chain's own nonce counter notices the hand-sent transaction and resyncs.
    assert sanctions.removeFromSanctionsList([sanctioned], sender=owner).succeeded


# -- reverts


def test_revert_reason_is_decoded_before_sending(
    chain: JsonRpcChain, sanctions: Contract, non_owner: str, sanctioned: str
) -> None:
    nonce_before = chain.nonce(non_owner)

    with pytest.raises(RevertError, match=f"addToSanctionsList reverted: {_NOT_OWNER}") as caught:
        sanctions.addToSanctionsList([sanctioned], sender=non_owner)

    assert caught.value.reason == _NOT_OWNER
    assert caught.value.code == "reverted"
    assert caught.value.tx_hash is None
    assert chain.nonce(non_owner) == nonce_before


def test_revert_of_a_mined_transaction_is_decoded_by_replay(
    chain: JsonRpcChain, sanctions: Contract, non_owner: str, sanctioned: str
) -> None:
    nonce_before = chain.nonce(non_owner)

    with pytest.raises(RevertError) as caught:
        # An explicit gas limit skips estimation, so the transaction is mined and reverts on chain.
        sanctions.addToSanctionsList([sanctioned], sender=non_owner, gas=200_000)

    error = caught.value
    assert error.reason == _NOT_OWNER
    assert error.receipt is not None
    assert error.receipt.status == 0
    assert error.tx_hash == error.receipt.tx_hash
    assert chain.nonce(non_owner) == nonce_before + 1


def test_out_of_gas_is_reported(
    chain: JsonRpcChain, sanctions: Contract, owner: str, sanctioned: str
) -> None:
    with pytest.raises(RevertError, match="out of gas"):
        sanctions.addToSanctionsList([sanctioned], sender=owner, gas=30_000)


def test_view_call_revert_is_decoded(sanctions: Contract, owner: str) -> None:
    with pytest.raises(RevertError, match=_NOT_OWNER):
        sanctions.addToSanctionsList.call([owner], sender=sanctions.address)


# -- nonces


def test_concurrent_sends_from_one_sender_use_consecutive_nonces(
    chain: JsonRpcChain, sanctions: Contract, owner: str
) -> None:
    start = chain.nonce(owner)
    targets = chain.accounts[3:9]

    with ThreadPoolExecutor(max_workers=6) as pool:
        receipts = list(pool.map(lambda a: sanctions.addToSanctionsList([a], sender=owner), targets * 2))

    assert all(r.succeeded for r in receipts)
    assert len({r.tx_hash for r in receipts}) == 12
    assert chain.nonce(owner) == start + 12
    assert all(sanctions.isSanctioned(a) for a in targets)


def test_concurrent_sends_from_several_senders(chain: JsonRpcChain, sanctions_artifact: Artifact) -> None:
    senders = chain.accounts[5:9]
    before = {s: chain.nonce(s) for s in senders}

    with ThreadPoolExecutor(max_workers=4) as pool:
        addresses = list(pool.map(lambda s: chain.deploy(sanctions_artifact, sender=s), senders * 2))

    assert len(set(addresses)) == 8
    assert all(chain.nonce(s) == before[s] + 2 for s in senders)


def test_nonce_resyncs_when_another_client_used_the_account(
    anvil_node: AnvilNode, chain: JsonRpcChain, sanctions: Contract, owner: str, sanctioned: str
) -> None:
    sanctions.addToSanctionsList([sanctioned], sender=owner)  # the shared chain now caches a nonce
    with anvil_node.chain() as other:
        other.at(sanctions.address, sanctions.abi).removeFromSanctionsList([sanctioned], sender=owner)

    receipt = sanctions.addToSanctionsList([sanctioned], sender=owner)

    assert receipt.succeeded
    assert sanctions.isSanctioned(sanctioned) is True


class _DropFirstBroadcastReply(httpx.BaseTransport):
    """Forward requests to the node, but lose the reply to the first broadcast, as a flaky network would."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.broadcasts: list[str] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if b"eth_sendRawTransaction" in request.content:
            with self._lock:
                self.broadcasts.append(json.loads(request.content)["params"][0])
                if len(self.broadcasts) == 1:
                    response.read()
                    raise httpx.ReadTimeout("reply lost", request=request)
        return response


def test_lost_broadcast_reply_resends_the_same_transaction(
    anvil_node: AnvilNode, sanctions: Contract, owner: str, sanctioned: str
) -> None:
    transport = _DropFirstBroadcastReply()
    with JsonRpcChain(anvil_node.url, anvil_node.signers(), transport=transport, retry_backoff=0.01) as flaky:
        start = flaky.nonce(owner)

        receipt = flaky.at(sanctions.address, sanctions.abi).addToSanctionsList([sanctioned], sender=owner)

        assert receipt.succeeded
        assert len(transport.broadcasts) == 2
        assert transport.broadcasts[0] == transport.broadcasts[1]
        assert flaky.nonce(owner) == start + 1


def test_receipt_timeout_names_the_transaction(fresh_node: AnvilNode) -> None:
    with fresh_node.chain() as chain:
        sender, receiver = chain.accounts[:2]
        chain.set_automine(False)

        with pytest.raises(TransactionTimeoutError) as caught:
            chain.transact(receiver, b"", sender=sender, value=1, timeout=0.3)

        chain.mine()
        assert chain.wait_for_receipt(caught.value.tx_hash).succeeded


# -- anvil helpers


def test_time_travel_and_balances(fresh_node: AnvilNode) -> None:
    with fresh_node.chain() as chain:
        holder = chain.accounts[0]
        start = chain.timestamp()

        chain.increase_time(3_600)
        chain.mine()
        after_hour = chain.timestamp()
        chain.set_next_block_timestamp(after_hour + 86_400)
        chain.mine()
        chain.set_balance(holder, 123)

        assert after_hour >= start + 3_600
        assert chain.timestamp() == after_hour + 86_400
        assert chain.balance(holder) == 123


def test_snapshot_and_revert(chain: JsonRpcChain, sanctions: Contract, owner: str, sanctioned: str) -> None:
    snapshot = chain.snapshot()
    sanctions.addToSanctionsList([sanctioned], sender=owner)

    assert chain.revert_to(snapshot) is True
    assert sanctions.isSanctioned(sanctioned) is False
    assert sanctions.removeFromSanctionsList([sanctioned], sender=owner).succeeded


# -- bad input


def test_unknown_function_is_named(sanctions: Contract) -> None:
    with pytest.raises(
        UnknownFunctionError, match=r"SanctionsList has no function 'mint'; it has: .*isSanctioned"
    ):
        sanctions.mint(1)


def test_unknown_function_by_name(chain: JsonRpcChain, sanctions: Contract, owner: str) -> None:
    with pytest.raises(AbiError, match="no function 'mint'"):
        chain.send(sanctions.address, "mint", [1], sender=owner, abi=sanctions.abi)


def test_wrong_argument_count_shows_the_signature(sanctions: Contract, owner: str) -> None:
    with pytest.raises(AbiError, match=r"isSanctioned takes isSanctioned\(address\), got 2 arguments"):
        sanctions.isSanctioned(owner, owner)


def test_badly_typed_argument_is_named(sanctions: Contract, owner: str) -> None:
    with pytest.raises(AbiError, match="addrs must be address"):
        sanctions.addToSanctionsList(["not an address"], sender=owner)


def test_unknown_sender_is_named(sanctions: Contract, sanctioned: str) -> None:
    stranger = "0x000000000000000000000000000000000000dEaD"

    with pytest.raises(UnknownSignerError, match=f"no signer registered for {stranger}"):
        sanctions.addToSanctionsList([sanctioned], sender=stranger)


def test_state_change_without_sender_says_how(sanctions: Contract, sanctioned: str) -> None:
    with pytest.raises(AbiError, match="addToSanctionsList changes state: pass sender="):
        sanctions.addToSanctionsList([sanctioned])


def test_constructor_arguments_are_checked(
    chain: JsonRpcChain, sanctions_artifact: Artifact, owner: str
) -> None:
    with pytest.raises(AbiError, match="SanctionsList constructor takes 0 arguments"):
        chain.deploy(sanctions_artifact, owner, sender=owner)


def test_call_to_an_account_without_code_explains(chain: JsonRpcChain, sanctions_artifact: Artifact) -> None:
    empty = chain.at(chain.accounts[9], sanctions_artifact)

    with pytest.raises(AbiError, match="cannot decode the result of owner"):
        empty.owner()


def test_unreachable_node_is_reported_after_retries(anvil_node: AnvilNode) -> None:
    with AnvilNode() as node:
        url = node.url
    options: dict[str, Any] = {"retries": 1, "retry_backoff": 0.01, "timeout": 1.0}

    with JsonRpcChain(url, **options) as gone, pytest.raises(RpcUnavailableError, match="after 2 attempts"):
        gone.block_number()
