"""Block headers and the block hash on logs, on both chains: what an indexer needs to notice a reorg."""

import itertools

import pytest

from equitoken.chain.errors import ChainError
from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.chain import EvmChain


def test_headers_link_each_block_to_its_parent(fresh_chain: EvmChain) -> None:
    fresh_chain.mine(3)
    latest = fresh_chain.block_header()

    headers = [fresh_chain.block_header(n) for n in range(latest.number + 1)]

    assert headers[-1] == latest
    assert all(child.parent_hash == parent.hash for parent, child in itertools.pairwise(headers))
    assert len({h.hash for h in headers}) == len(headers)
    assert [h.timestamp for h in headers] == [fresh_chain.timestamp(n) for n in range(latest.number + 1)]


def test_logs_carry_the_hash_of_their_block(fresh_chain: EvmChain, sanctions_artifact: Artifact) -> None:
    owner, listed = fresh_chain.accounts[:2]
    sanctions = fresh_chain.deploy_contract(sanctions_artifact, sender=owner)

    receipt = sanctions.addToSanctionsList([listed], sender=owner)

    block_hash = fresh_chain.block_header(receipt.block_number).hash
    assert receipt.logs
    assert {log.block_hash for log in receipt.logs} == {block_hash}
    fetched = fresh_chain.get_raw_logs(sanctions.address, (), receipt.block_number, receipt.block_number)
    assert fetched
    assert {log.block_hash for log in fetched} == {block_hash}


def test_a_reverted_and_remined_height_gets_a_new_hash(fresh_chain: EvmChain) -> None:
    owner, other = fresh_chain.accounts[:2]
    base = fresh_chain.block_number()
    snapshot = fresh_chain.snapshot()
    fresh_chain.transact(other, b"", sender=owner, value=1)
    first = fresh_chain.block_header(base + 1)

    fresh_chain.revert_to(snapshot)
    fresh_chain.transact(other, b"", sender=owner, value=2)
    second = fresh_chain.block_header(base + 1)

    assert second.number == first.number
    assert second.hash != first.hash
    assert second.parent_hash == first.parent_hash == fresh_chain.block_header(base).hash


def test_a_block_beyond_the_head_is_refused(fresh_chain: EvmChain) -> None:
    beyond = fresh_chain.block_number() + 5

    with pytest.raises(ChainError, match="no block"):
        fresh_chain.block_header(beyond)
