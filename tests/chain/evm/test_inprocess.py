"""InProcessChain's own behaviour: one block per transaction, its clock, independent chains, and
the transactions it refuses. What it shares with anvil is in test_evm_chain.py."""

import pytest
from eth_account import Account

from equitoken.chain.errors import ChainError, NonceTooLowError, TransactionTimeoutError
from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.inprocess import InProcessChain

GENESIS = 1_800_000_000


@pytest.fixture
def chain() -> InProcessChain:
    return InProcessChain(genesis_timestamp=GENESIS)


@pytest.fixture
def owner(chain: InProcessChain) -> str:
    return chain.accounts[0]


def test_each_transaction_is_a_block_one_second_after_the_last(
    chain: InProcessChain, sanctions_artifact: Artifact, owner: str
) -> None:
    first = chain.deploy_with_receipt(sanctions_artifact, sender=owner)
    second = chain.deploy_with_receipt(sanctions_artifact, sender=owner)

    assert (first.block_number, second.block_number) == (1, 2)
    assert [chain.timestamp(n) for n in (0, 1, 2)] == [GENESIS, GENESIS + 1, GENESIS + 2]
    assert chain.timestamp("pending") == GENESIS + 3


def test_increase_time_moves_the_next_block(
    chain: InProcessChain, sanctions_artifact: Artifact, owner: str
) -> None:
    chain.increase_time(3_600)
    receipt = chain.deploy_with_receipt(sanctions_artifact, sender=owner)
    chain.mine(2)

    assert chain.timestamp(receipt.block_number) == GENESIS + 3_600
    assert chain.timestamp() == GENESIS + 3_602
    assert chain.block_number() == 3


def test_next_block_timestamp_must_be_later(chain: InProcessChain) -> None:
    chain.mine()

    with pytest.raises(ChainError, match="not after the latest block"):
        chain.set_next_block_timestamp(GENESIS + 1)


def test_chains_are_independent(sanctions_artifact: Artifact) -> None:
    one, other = InProcessChain(), InProcessChain()

    address = one.deploy(sanctions_artifact, sender=one.accounts[0])

    assert one.code(address) == sanctions_artifact.runtime_bytecode
    assert other.code(address) == b""
    assert other.block_number() == 0


def test_transactions_are_really_signed(chain: InProcessChain, owner: str) -> None:
    signed = chain.prepare(chain.accounts[1], b"", sender=owner, nonce=0, value=1)

    assert Account.recover_transaction(signed.raw) == owner


def test_a_nonce_ahead_is_refused_not_queued(chain: InProcessChain, owner: str) -> None:
    ahead = chain.prepare(chain.accounts[1], b"", sender=owner, nonce=1, value=1)

    with pytest.raises(ChainError, match="nonce too high"):
        chain.send_raw(ahead.raw)


def test_a_used_nonce_names_the_next_one(chain: InProcessChain, owner: str) -> None:
    chain.transact(chain.accounts[1], b"", sender=owner, value=1)
    stale = chain.prepare(chain.accounts[2], b"", sender=owner, nonce=0, value=1)

    with pytest.raises(NonceTooLowError, match="its next nonce is 1"):
        chain.send_raw(stale.raw)


def test_bytes_that_are_not_a_transaction_are_refused(chain: InProcessChain) -> None:
    with pytest.raises(ChainError, match="not a valid signed transaction"):
        chain.send_raw(b"\x02not a transaction")


def test_a_transaction_for_another_chain_is_refused(owner: str) -> None:
    mainnet = InProcessChain(chain_id=1)
    signed = InProcessChain().prepare(mainnet.accounts[1], b"", sender=owner, nonce=0, value=1)

    with pytest.raises(ChainError, match="for chain 31337 sent to chain 1"):
        mainnet.send_raw(signed.raw)


def test_unknown_transaction_times_out_at_once(chain: InProcessChain) -> None:
    with pytest.raises(TransactionTimeoutError):
        chain.wait_for_receipt("0x" + "00" * 32, timeout=60)


def test_state_of_an_older_block_is_not_kept(chain: InProcessChain, owner: str) -> None:
    chain.mine(2)

    with pytest.raises(ChainError, match="keeps state for the latest block"):
        chain.balance(owner, 1)


def test_reverting_a_snapshot_uses_up_the_later_ones(chain: InProcessChain, owner: str) -> None:
    first = chain.snapshot()
    chain.transact(chain.accounts[1], b"", sender=owner, value=1)
    second = chain.snapshot()

    assert chain.revert_to(first) is True
    assert chain.revert_to(second) is False
    assert chain.revert_to(first) is False
    assert chain.nonce(owner) == 0
    assert chain.block_number() == 0


def test_a_snapshot_survives_transactions_that_touch_a_precompile(chain: InProcessChain, owner: str) -> None:
    ecrecover = "0x" + "00" * 19 + "01"
    snapshot = chain.snapshot()
    # Every signed oracle round calls ecrecover; two such transactions after a snapshot once broke it.
    for _ in range(2):
        chain.transact(ecrecover, b"\x00" * 128, sender=owner)

    assert chain.revert_to(snapshot) is True
    assert chain.nonce(owner) == 0
    assert chain.balance(ecrecover) == 1
