"""The liabilities tree: sums, hiding nonces, padding, determinism, and refusals of bad input."""

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.model.holders import HolderBalance
from equitoken.proofs.commitments import (
    BALANCE_LIMIT,
    PADDING_HASH,
    leaf_hash,
    leaf_key,
    node_hash,
    root_hash,
)
from equitoken.proofs.errors import InvalidHolderBalanceError, UnknownHolderError
from equitoken.proofs.inclusion import InclusionProof, verify
from equitoken.proofs.merkle_sum import NONCE_DOMAIN, MerkleSumTree

SECRET = b"issuer nonce secret, 32 bytes ok"
OTHER_SECRET = b"another issuer's secret, 32 byte"


def _holder(n: int) -> str:
    return "0x" + n.to_bytes(20, "big").hex()


def _balances(count: int, chains: int = 1) -> list[HolderBalance]:
    return [HolderBalance(1 + n % chains, _holder(n + 1), 1_000 + n) for n in range(count)]


def test_an_empty_tree_has_no_holders_and_commits_to_a_zero_total() -> None:
    tree = MerkleSumTree.build("AAPL", [], SECRET)

    assert (tree.leaf_count, tree.total, tree.depth) == (0, 0, 0)
    assert tree.root == root_hash("AAPL", 0, PADDING_HASH, 0)
    with pytest.raises(UnknownHolderError, match="has no AAPL balance in this tree"):
        tree.leaf(1, _holder(1))


def test_a_single_holder_is_the_top_and_its_proof_has_no_steps() -> None:
    tree = MerkleSumTree.build("AAPL", [HolderBalance(1, _holder(7), 42)], SECRET)

    leaf = tree.leaf(1, _holder(7))
    assert (tree.leaf_count, tree.total, tree.depth, leaf.index, leaf.balance) == (1, 42, 0, 0, 42)
    top = leaf_hash(leaf.nonce, leaf_key(1, bytes.fromhex(_holder(7)[2:])), 42)
    assert tree.root == root_hash("AAPL", 1, top, 42)
    assert tree.path(0) == ()
    assert verify(InclusionProof.of(tree, 1, _holder(7)), tree.root_hex).total == 42


def test_nodes_commit_to_both_child_sums_and_odd_levels_are_padded() -> None:
    balances = [HolderBalance(1, _holder(n), 10 * n) for n in (1, 2, 3)]
    tree = MerkleSumTree.build("MSFT", balances, SECRET)
    leaves = [tree.leaf(1, _holder(n)) for n in (1, 2, 3)]
    hashes = [
        leaf_hash(leaf.nonce, leaf_key(1, bytes.fromhex(_holder(n)[2:])), 10 * n)
        for n, leaf in zip((1, 2, 3), leaves, strict=True)
    ]

    left = node_hash(hashes[0], 10, hashes[1], 20)
    right = node_hash(hashes[2], 30, PADDING_HASH, 0)
    top = node_hash(left, 30, right, 30)
    assert [leaf.index for leaf in leaves] == [0, 1, 2]
    assert tree.total == 60
    assert tree.root == root_hash("MSFT", 3, top, 60)
    assert tree.path(2)[0].hash == PADDING_HASH


def test_a_nonce_is_the_hmac_of_the_holder_under_the_issuer_secret() -> None:
    tree = MerkleSumTree.build("AAPL", _balances(5), SECRET)

    leaf = tree.leaf(1, _holder(3))
    key = leaf_key(1, bytes.fromhex(_holder(3)[2:]))
    assert leaf.nonce == hmac.digest(SECRET, NONCE_DOMAIN + b"\x04AAPL" + key, hashlib.sha256)


def test_leaf_hashes_depend_on_the_secret_so_siblings_cannot_be_named() -> None:
    # A holder who guesses its sibling's address and balance still cannot confirm the guess.
    one = MerkleSumTree.build("AAPL", _balances(2), SECRET)
    other = MerkleSumTree.build("AAPL", _balances(2), OTHER_SECRET)

    sibling = one.path(one.leaf(1, _holder(1)).index)[0]
    assert sibling.sum == 1_001
    assert sibling.hash != other.path(other.leaf(1, _holder(1)).index)[0].hash
    assert one.root != other.root
    assert one.total == other.total


def test_the_root_binds_the_instrument_and_zero_balances_are_left_out() -> None:
    balances = [*_balances(4), HolderBalance(1, _holder(99), 0)]

    aapl = MerkleSumTree.build("AAPL", balances, SECRET)
    again = MerkleSumTree.build("AAPL", balances, SECRET)
    msft = MerkleSumTree.build("MSFT", balances, SECRET)

    assert aapl.root == again.root
    assert aapl.root != msft.root
    assert aapl.leaf_count == 4
    with pytest.raises(UnknownHolderError, match="has no AAPL balance"):
        aapl.leaf(1, _holder(99))


def test_the_same_address_on_two_chains_has_two_leaves() -> None:
    tree = MerkleSumTree.build(
        "AAPL", [HolderBalance(1, _holder(5), 3), HolderBalance(8453, _holder(5), 4)], SECRET
    )

    assert tree.leaf(1, _holder(5)).balance == 3
    assert tree.leaf(8453, _holder(5)).balance == 4
    assert tree.total == 7


@pytest.mark.parametrize(
    ("balance", "message"),
    [
        (HolderBalance(0, _holder(1), 1), r"chain id 0 is not an integer in \[1, 2\*\*64\)"),
        (HolderBalance(True, _holder(1), 1), r"chain id True is not an integer"),
        (HolderBalance(2**64, _holder(1), 1), r"chain id 18446744073709551616 is not"),
        (HolderBalance([1], _holder(1), 1), r"chain id \[1\] is not an integer"),  # type: ignore[arg-type]
        (HolderBalance(1, "0x1234", 1), r"holder '0x1234' is neither a 0x-prefixed 20-byte address"),
        (HolderBalance(1, "1x" + "00" * 20, 1), r"holder '1x0+' is neither"),
        (HolderBalance(1, "0x" + "zz" * 20, 1), r"is neither a 0x-prefixed 20-byte address"),
        (HolderBalance(1, "0x" + "00" * 19 + " 0", 1), r"is neither a 0x-prefixed 20-byte address"),
        (HolderBalance(1, 7, 1), r"holder 7 is neither"),  # type: ignore[arg-type]
        (HolderBalance(1, _holder(1), -1), r"balance -1 is not an integer in \[0, 2\*\*128\)"),
        (HolderBalance(1, _holder(1), BALANCE_LIMIT), r"balance 3402\d+ is not an integer"),
        (HolderBalance(1, _holder(1), 1.5), r"balance 1.5 is not an integer"),  # type: ignore[arg-type]
    ],
)
def test_a_bad_holder_balance_is_refused_naming_it(balance: HolderBalance, message: str) -> None:
    with pytest.raises(InvalidHolderBalanceError, match=message):
        MerkleSumTree.build("AAPL", [*_balances(3), balance], SECRET)


def test_a_holder_listed_twice_is_refused_whatever_the_case_of_its_address() -> None:
    twice = [HolderBalance(1, "0x" + "ab" * 20, 5), HolderBalance(1, "0x" + "AB" * 20, 6)]

    with pytest.raises(
        InvalidHolderBalanceError, match=r"holder 0x(ab|AB|aB|Ab)+ on chain 1 appears more than once"
    ):
        MerkleSumTree.build("AAPL", [*_balances(3), *twice], SECRET)


@pytest.mark.parametrize(
    ("ticker", "secret", "message"),
    [
        ("", SECRET, "ticker '' is not 1 to 32 printable ASCII characters"),
        ("ÄPL", SECRET, "ticker 'ÄPL' is not"),
        ("AAPL", b"short", "the nonce secret must be 32 to 64 bytes, not 5"),
        ("AAPL", "x" * 32, "the nonce secret must be 32 to 64 bytes, not str"),
        ("AAPL", b"x" * 65, "the nonce secret must be 32 to 64 bytes, not 65"),
    ],
)
def test_a_bad_ticker_or_secret_is_refused(ticker: str, secret: bytes, message: str) -> None:
    with pytest.raises(InvalidHolderBalanceError, match=message):
        MerkleSumTree.build(ticker, _balances(2), secret)


def test_something_other_than_a_holder_balance_is_refused() -> None:
    with pytest.raises(InvalidHolderBalanceError, match="expected a HolderBalance, got tuple"):
        MerkleSumTree.build("AAPL", [(1, _holder(1), 5)], SECRET)  # type: ignore[list-item]


def test_asking_for_a_bad_holder_or_leaf_names_the_problem() -> None:
    tree = MerkleSumTree.build("AAPL", _balances(3), SECRET)

    with pytest.raises(InvalidHolderBalanceError, match="holder 'nobody' is neither"):
        tree.leaf(1, "nobody")
    with pytest.raises(UnknownHolderError, match="no leaf 3 in a tree of 3 leaves"):
        tree.path(3)


holder_sets = st.dictionaries(
    st.tuples(st.integers(1, 3), st.binary(min_size=20, max_size=20)),
    st.integers(1, BALANCE_LIMIT - 1),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(holders=holder_sets)
def test_every_holder_proof_verifies_and_the_root_total_is_the_sum(
    holders: dict[tuple[int, bytes], int],
) -> None:
    balances = [HolderBalance(chain, "0x" + address.hex(), raw) for (chain, address), raw in holders.items()]

    tree = MerkleSumTree.build("AAPL", balances, SECRET)

    assert tree.total == sum(holders.values())
    assert tree.leaf_count == len(holders)
    for balance in balances:
        verified = verify(InclusionProof.of(tree, balance.chain_id, balance.holder), tree.root_hex)
        assert (verified.balance, verified.total) == (balance.raw, tree.total)
