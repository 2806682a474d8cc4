"""Holders on Solana in the same liabilities tree as EVM holders: their leaves commit to the 32 bytes
of the address, their proofs verify from JSON alone, and a bad or altered address is named."""

import json
from dataclasses import replace

import pytest
from solders.keypair import Keypair

from equitoken.model.holders import HolderBalance
from equitoken.proofs.errors import InvalidHolderBalanceError, InvalidProofError
from equitoken.proofs.inclusion import InclusionProof, verify
from equitoken.proofs.merkle_sum import MerkleSumTree

SECRET = b"issuer nonce secret, 32 bytes ok"
EVM, SOLANA = 31337, 7565166
SOLANA_HOLDERS = [str(Keypair.from_seed(bytes([n]) * 32).pubkey()) for n in range(1, 4)]
EVM_HOLDER = "0x" + "ab" * 20


@pytest.fixture(scope="module")
def tree() -> MerkleSumTree:
    balances = [HolderBalance(EVM, EVM_HOLDER, 500)]
    balances += [HolderBalance(SOLANA, h, 100 * (n + 1)) for n, h in enumerate(SOLANA_HOLDERS)]
    return MerkleSumTree.build("AAPL", balances, SECRET)


def test_a_solana_holder_proves_its_balance_in_the_tree_of_both_chains(tree: MerkleSumTree) -> None:
    assert (tree.leaf_count, tree.total) == (4, 500 + 100 + 200 + 300)
    for n, holder in enumerate(SOLANA_HOLDERS):
        proof = InclusionProof.from_json(InclusionProof.of(tree, SOLANA, holder).to_json())
        verified = verify(proof, tree.root_hex)
        assert (verified.chain_id, verified.holder, verified.balance) == (SOLANA, holder, 100 * (n + 1))
    assert verify(InclusionProof.of(tree, EVM, EVM_HOLDER), tree.root_hex).balance == 500


def test_the_same_address_on_another_chain_is_another_holder(tree: MerkleSumTree) -> None:
    proof = InclusionProof.of(tree, SOLANA, SOLANA_HOLDERS[0])
    with pytest.raises(InvalidProofError, match="does not lead to the published root"):
        verify(replace(proof, holder=SOLANA_HOLDERS[1]), tree.root_hex)
    with pytest.raises(InvalidProofError, match="does not lead to the published root"):
        verify(replace(proof, chain_id=EVM), tree.root_hex)


@pytest.mark.parametrize(
    "holder",
    [
        "not base58 0OIl",
        "1" * 44,  # 44 zero bytes, not 32
        "1" + SOLANA_HOLDERS[0],  # a leading "1" adds a zero byte: another spelling, refused
    ],
)
def test_a_bad_solana_holder_is_named(holder: str) -> None:
    with pytest.raises(InvalidHolderBalanceError, match="nor a base58 32-byte Solana address"):
        MerkleSumTree.build("AAPL", [HolderBalance(SOLANA, holder, 1)], SECRET)


def test_a_proof_whose_holder_is_no_address_is_refused(tree: MerkleSumTree) -> None:
    document = json.loads(InclusionProof.of(tree, SOLANA, SOLANA_HOLDERS[2]).to_json())
    document["holder"] = "solana-wallet"
    with pytest.raises(InvalidProofError, match="nor a base58 32-byte Solana address"):
        InclusionProof.from_json(json.dumps(document))
