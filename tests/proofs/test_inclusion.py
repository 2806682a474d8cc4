"""Inclusion proofs: a genuine proof verifies from its JSON alone; any alteration is named."""

import json
from collections.abc import Callable
from dataclasses import replace

import pytest

from equitoken.model.holders import HolderBalance
from equitoken.proofs.commitments import BALANCE_LIMIT, PADDING_HASH
from equitoken.proofs.errors import InvalidProofError
from equitoken.proofs.inclusion import InclusionProof, verify
from equitoken.proofs.merkle_sum import MerkleSumTree, PathStep

SECRET = b"issuer nonce secret, 32 bytes ok"
CHAIN = 31337
HOLDERS = ["0x" + f"{n:040x}" for n in range(1, 6)]  # five holders: odd levels get padding
NOT_THE_ROOT = "does not lead to the published root"


@pytest.fixture(scope="module")
def tree() -> MerkleSumTree:
    return MerkleSumTree.build(
        "AAPL", [HolderBalance(CHAIN, h, 100 * (n + 1)) for n, h in enumerate(HOLDERS)], SECRET
    )


@pytest.fixture
def proof(tree: MerkleSumTree) -> InclusionProof:
    return InclusionProof.of(tree, CHAIN, HOLDERS[1])


def _step(
    proof: InclusionProof, level: int, *, hash: bytes | None = None, sum: int | None = None
) -> InclusionProof:
    path = list(proof.path)
    old = path[level]
    path[level] = PathStep(old.hash if hash is None else hash, old.sum if sum is None else sum)
    return replace(proof, path=tuple(path))


def test_a_genuine_proof_verifies_from_its_json_and_the_root(
    tree: MerkleSumTree, proof: InclusionProof
) -> None:
    text = proof.to_json()

    verified = verify(InclusionProof.from_json(text), tree.root_hex)

    assert InclusionProof.from_json(text) == proof
    assert verified.holder == "0x0000000000000000000000000000000000000002"
    assert (verified.ticker, verified.chain_id, verified.balance) == ("AAPL", CHAIN, 200)
    assert (verified.total, verified.leaf_count, verified.root) == (1_500, 5, tree.root_hex)
    assert len(proof.path) == tree.depth == 3
    data = json.loads(text)
    assert data["balance"] == "200"
    assert data["path"][0] == {"hash": "0x" + proof.path[0].hash.hex(), "sum": "100"}


def test_every_holder_including_the_padded_one_verifies(tree: MerkleSumTree) -> None:
    totals = {verify(InclusionProof.of(tree, CHAIN, h), tree.root_hex).total for h in HOLDERS}

    assert totals == {1_500}
    assert InclusionProof.of(tree, CHAIN, HOLDERS[4]).path[0] == PathStep(PADDING_HASH, 0)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda p: replace(p, balance=p.balance + 1), id="balance"),
        pytest.param(lambda p: replace(p, balance=p.balance - 1), id="balance-down"),
        pytest.param(lambda p: replace(p, nonce=bytes(32)), id="nonce"),
        pytest.param(lambda p: _step(p, 1, hash=bytes(32)), id="sibling-hash"),
        pytest.param(lambda p: _step(p, 0, sum=p.path[0].sum + 1), id="sibling-sum-up"),
        pytest.param(lambda p: _step(p, 2, sum=p.path[2].sum - 1), id="sibling-sum-down"),
        pytest.param(lambda p: replace(p, index=0), id="index"),
        pytest.param(lambda p: replace(p, holder="0x" + "00" * 19 + "03"), id="holder"),
        pytest.param(lambda p: replace(p, chain_id=1), id="chain"),
        pytest.param(lambda p: replace(p, ticker="MSFT"), id="ticker"),
        pytest.param(lambda p: replace(p, leaf_count=6), id="leaf-count"),
    ],
)
def test_altering_a_field_breaks_the_path_to_the_root(
    tree: MerkleSumTree, proof: InclusionProof, tamper: Callable[[InclusionProof], InclusionProof]
) -> None:
    with pytest.raises(InvalidProofError, match=NOT_THE_ROOT):
        verify(tamper(proof), tree.root_hex)


def test_a_stated_total_other_than_the_committed_one_is_named(
    tree: MerkleSumTree, proof: InclusionProof
) -> None:
    with pytest.raises(InvalidProofError, match="states a total of 1499, but its root commits to 1500"):
        verify(replace(proof, total=1_499), tree.root_hex)


def test_a_proof_for_another_root_is_refused(tree: MerkleSumTree, proof: InclusionProof) -> None:
    other = MerkleSumTree.build("AAPL", [HolderBalance(CHAIN, HOLDERS[1], 200)], SECRET)

    with pytest.raises(
        InvalidProofError, match=f"the proof is for root {tree.root_hex}, not the published root"
    ):
        verify(proof, other.root_hex)
    with pytest.raises(
        InvalidProofError, match=f"the proof is for root 0x0+, not the published root {tree.root_hex}"
    ):
        verify(replace(proof, root=bytes(32)), tree.root_hex)


def test_a_leaf_moved_onto_the_padded_position_must_meet_padding(
    tree: MerkleSumTree, proof: InclusionProof
) -> None:
    with pytest.raises(InvalidProofError, match="sibling at level 0 must be the padding node"):
        verify(replace(proof, index=4), tree.root_hex)


def test_padding_where_holders_belong_is_refused(tree: MerkleSumTree, proof: InclusionProof) -> None:
    with pytest.raises(InvalidProofError, match="sibling at level 1 is padding where holders belong"):
        verify(_step(proof, 1, hash=PADDING_HASH, sum=0), tree.root_hex)


def test_a_path_of_the_wrong_length_is_refused(tree: MerkleSumTree, proof: InclusionProof) -> None:
    with pytest.raises(InvalidProofError, match="the path has 2 steps; a tree of 5 leaves needs 3"):
        verify(replace(proof, path=proof.path[:2]), tree.root_hex)
    with pytest.raises(InvalidProofError, match="the path has 4 steps; a tree of 5 leaves needs 3"):
        verify(replace(proof, path=(*proof.path, PathStep(bytes(32), 1))), tree.root_hex)


@pytest.mark.parametrize(
    ("level", "value", "message"),
    [
        (0, -1, r"the sum of path step 0 is negative \(-1\)"),
        (0, BALANCE_LIMIT, r"the sum of path step 0 \(3402\d+\) is outside \[0, 3402\d+\)"),
        (2, BALANCE_LIMIT * 4, r"the sum of path step 2 \(\d+\) is outside"),
    ],
)
def test_a_negative_or_oversized_sibling_sum_is_refused(
    proof: InclusionProof, level: int, value: int, message: str
) -> None:
    with pytest.raises(InvalidProofError, match=message):
        _step(proof, level, sum=value)


def test_an_oversized_sum_in_json_is_refused_before_any_hashing(proof: InclusionProof) -> None:
    data = json.loads(proof.to_json())
    data["path"][1]["sum"] = str(2**256)

    with pytest.raises(InvalidProofError, match=r"the sum of path step 1 \(\d+\) is outside"):
        InclusionProof.from_json(json.dumps(data))
    data["path"][1]["sum"] = "-5"
    with pytest.raises(InvalidProofError, match=r"the sum of path step 1 is negative \(-5\)"):
        InclusionProof.from_json(json.dumps(data))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("nonce"), "the proof has no 'nonce' field"),
        (lambda d: d.update(format="other/1"), "unknown proof format 'other/1'"),
        (lambda d: d.update(balance=200), "the proof's 'balance' must be a JSON string, not 200"),
        (lambda d: d.update(balance="2e2"), "the proof's 'balance' must be a decimal string, not '2e2'"),
        (lambda d: d.update(index=True), "the proof's 'index' must be a JSON integer, not True"),
        (lambda d: d.update(index=9), r"the index \(9\) is outside \[0, 5\)"),
        (lambda d: d.update(leaf_count=0), r"the leaf_count \(0\) is outside \[1, "),
        (lambda d: d.update(chain_id=0), r"the chain_id \(0\) is outside \[1, "),
        (lambda d: d.update(nonce="0x1234"), r"the nonce must be 32 bytes"),
        (lambda d: d.update(nonce="12" * 32), "the proof's 'nonce' must be 0x-prefixed hex"),
        (lambda d: d.update(root="0xzz"), "the proof's 'root' must be 0x-prefixed hex"),
        (
            lambda d: d.update(holder="0xabc"),
            "the proof's holder '0xabc' is neither a 0x-prefixed 20-byte address",
        ),
        (lambda d: d.update(ticker=""), "the ticker '' is not 1 to 32 printable ASCII characters"),
        (lambda d: d.update(path={}), "the proof's 'path' must be a JSON array"),
        (lambda d: d["path"].__setitem__(1, "0x00"), "path step 1 must be an object with 'hash' and 'sum'"),
        (lambda d: d["path"][0].pop("hash"), "path step 0 has no 'hash' field"),
        (lambda d: d["path"][0].update(hash="0x00"), "the hash of path step 0 must be 32 bytes"),
    ],
)
def test_malformed_json_is_refused_naming_the_field(
    proof: InclusionProof, change: Callable[[dict[str, object]], object], message: str
) -> None:
    data = json.loads(proof.to_json())
    change(data)

    with pytest.raises(InvalidProofError, match=message):
        InclusionProof.from_json(json.dumps(data))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "the proof is not valid JSON"),
        ("[1, 2]", "the proof must be a JSON object, not list"),
        (b"\xff\xfe", "the proof is not valid JSON"),
    ],
)
def test_text_that_is_not_a_proof_object_is_refused(text: str | bytes, message: str) -> None:
    with pytest.raises(InvalidProofError, match=message):
        InclusionProof.from_json(text)


@pytest.mark.parametrize("root", ["", "0x1234", "0x" + "zz" * 32, "ab" * 33, None])
def test_a_malformed_published_root_is_refused(proof: InclusionProof, root: str) -> None:
    with pytest.raises(InvalidProofError, match=r"the published root .* is not 0x followed by 64 hex digits"):
        verify(proof, root)
