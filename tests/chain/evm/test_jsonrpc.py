"""JsonRpcChain against a real anvil: what only the HTTP path has (transport failures, resyncing
nonces with another client, a node that stops mining). The shared behaviour is in test_evm_chain.py."""

import json
import threading
from typing import Any

import httpx
import pytest

from equitoken.chain.errors import TransactionTimeoutError
from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.jsonrpc import JsonRpcChain, RpcUnavailableError

pytestmark = pytest.mark.anvil


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


def test_unreachable_node_is_reported_after_retries(anvil_node: AnvilNode) -> None:
    with AnvilNode() as node:
        url = node.url
    options: dict[str, Any] = {"retries": 1, "retry_backoff": 0.01, "timeout": 1.0}

    with JsonRpcChain(url, **options) as gone, pytest.raises(RpcUnavailableError, match="after 2 attempts"):
        gone.block_number()
