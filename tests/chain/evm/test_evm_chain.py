"""What every EvmChain does the same way, run on both: in process ("inproc") and on anvil ("anvil").

Deploy, calls, transactions and their logs, revert reasons before sending and after mining,
the prepare/send_raw/receipt flow the platform uses for exactly-once transactions, nonces, time,
snapshots, and the errors for bad input.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest

from equitoken.chain.errors import ChainError, RevertError
from equitoken.chain.evm.abi import AbiError, UnknownFunctionError
from equitoken.chain.evm.accounts import UnknownSignerError
from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.types import Receipt

_NOT_OWNER = "ownable: caller is not the owner"


@pytest.fixture
def owner(any_chain: EvmChain) -> str:
    return any_chain.accounts[0]


@pytest.fixture
def non_owner(any_chain: EvmChain) -> str:
    return any_chain.accounts[1]


@pytest.fixture
def sanctioned(any_chain: EvmChain) -> str:
    return any_chain.accounts[2]


@pytest.fixture
def sanctions(any_chain: EvmChain, sanctions_artifact: Artifact, owner: str) -> Contract:
    """A freshly deployed SanctionsList owned by ``owner``."""
    return any_chain.deploy_contract(sanctions_artifact, sender=owner)


# -- reads


def test_chain_facts(any_chain: EvmChain) -> None:
    assert any_chain.chain_id == 31337
    assert any_chain.block_number() >= 0
    assert any_chain.timestamp() > 1_700_000_000
    assert len(any_chain.accounts) == 10
    assert any_chain.balance(any_chain.accounts[9]) > 0


def test_deploy_places_the_runtime_code(
    any_chain: EvmChain, sanctions_artifact: Artifact, owner: str
) -> None:
    receipt = any_chain.deploy_with_receipt(sanctions_artifact, sender=owner)

    assert receipt.succeeded
    assert receipt.contract_address is not None
    assert any_chain.code(receipt.contract_address) == sanctions_artifact.runtime_bytecode
    assert any_chain.at(receipt.contract_address, sanctions_artifact).owner() == owner


def test_call_by_abi_item_and_by_name(any_chain: EvmChain, sanctions: Contract, sanctioned: str) -> None:
    item = next(i for i in sanctions.abi if i.get("name") == "isSanctioned")

    assert any_chain.call(sanctions.address, item, [sanctioned]) is False
    assert any_chain.call(sanctions.address, "isSanctioned", [sanctioned], abi=sanctions.abi) is False


# -- transactions and logs


def test_send_changes_state_and_returns_a_receipt_with_logs(
    any_chain: EvmChain, sanctions: Contract, owner: str, sanctioned: str
) -> None:
    receipt = any_chain.send(
        sanctions.address, "addToSanctionsList", [[sanctioned]], sender=owner, abi=sanctions.abi
    )

    assert isinstance(receipt, Receipt)
    assert receipt.status == 1
    assert receipt.sender == owner
    assert receipt.to == sanctions.address
    assert 21_000 < receipt.gas_used < 100_000
    assert receipt.effective_gas_price > 0
    assert sanctions.isSanctioned(sanctioned) is True
    [event] = sanctions.decode_logs(receipt)
    assert (event.name, event.args) == ("SanctionedAddressesAdded", {"addrs": [sanctioned]})
    assert event.tx_hash == receipt.tx_hash
    assert event.block_number == receipt.block_number


def test_get_logs_filters_by_contract_event_and_blocks(
    sanctions: Contract, owner: str, sanctioned: str, non_owner: str
) -> None:
    first = sanctions.addToSanctionsList([sanctioned], sender=owner)
    second = sanctions.addToSanctionsList([non_owner, sanctioned], sender=owner)
    sanctions.removeFromSanctionsList([sanctioned], sender=owner)

    added = sanctions.get_logs("SanctionedAddressesAdded")
    only_second = sanctions.get_logs("SanctionedAddressesAdded", from_block=second.block_number)
    only_first = sanctions.get_logs("SanctionedAddressesAdded", to_block=first.block_number)
    removed = sanctions.get_logs("SanctionedAddressesRemoved", from_block=first.block_number)

    assert [e.args["addrs"] for e in added] == [[sanctioned], [non_owner, sanctioned]]
    assert [e.block_number for e in only_second] == [second.block_number]
    assert [e.tx_hash for e in only_first] == [first.tx_hash]
    assert [e.args["addrs"] for e in removed] == [[sanctioned]]
    assert all(e.address == sanctions.address for e in added + removed)


def test_raw_logs_filter_by_indexed_topic(
    any_chain: EvmChain, sanctions: Contract, owner: str, non_owner: str
) -> None:
    sanctions.transfer_ownership(non_owner, sender=owner)
    started = next(i for i in sanctions.abi if i.get("name") == "OwnershipTransferStarted")
    topic = any_chain.get_logs(sanctions.address, started)[0]

    by_new_owner = any_chain.get_raw_logs(
        sanctions.address, [None, None, bytes(12) + bytes.fromhex(non_owner[2:])]
    )
    by_someone_else = any_chain.get_raw_logs(sanctions.address, [None, None, bytes(32)])

    assert [log.tx_hash for log in by_new_owner] == [topic.tx_hash]
    assert by_someone_else == []


def test_two_step_ownership_transfer(sanctions: Contract, owner: str, non_owner: str) -> None:
    sanctions.transfer_ownership(non_owner, sender=owner)
    assert sanctions.pending_owner() == non_owner

    sanctions.accept_ownership(sender=non_owner)

    assert sanctions.owner() == non_owner
    [started] = sanctions.get_logs("OwnershipTransferStarted")
    assert started.args == {"previous_owner": owner, "new_owner": non_owner}


def test_signed_transaction_can_be_built_and_broadcast_by_hand(
    any_chain: EvmChain, sanctions: Contract, owner: str, sanctioned: str
) -> None:
    data = sanctions.addToSanctionsList.encode([sanctioned])
    tx = any_chain.build_transaction(sanctions.address, data, sender=owner)
    signed = any_chain.sign(tx, sender=owner, nonce=any_chain.nonce(owner))

    tx_hash = any_chain.send_raw(signed.raw)
    receipt = any_chain.wait_for_receipt(tx_hash)

    assert tx_hash == signed.tx_hash
    assert receipt.succeeded
    assert receipt.gas_used < tx["gas"]
    # The chain's own nonce counter notices the hand-sent transaction and resyncs.
    assert sanctions.removeFromSanctionsList([sanctioned], sender=owner).succeeded


# -- exactly once: prepare, store, send_raw (again), receipt


def test_prepared_transaction_is_not_sent_until_broadcast(
    any_chain: EvmChain, sanctions: Contract, owner: str, sanctioned: str
) -> None:
    nonce = any_chain.nonce(owner, "pending")

    signed = any_chain.prepare(
        sanctions.address, sanctions.addToSanctionsList.encode([sanctioned]), sender=owner, nonce=nonce
    )

    assert signed.nonce == nonce
    assert signed.sender == owner
    assert any_chain.receipt(signed.tx_hash) is None
    assert any_chain.nonce(owner, "pending") == nonce
    assert sanctions.isSanctioned(sanctioned) is False


def test_same_bytes_sent_twice_execute_once(
    any_chain: EvmChain, sanctions: Contract, owner: str, sanctioned: str
) -> None:
    nonce = any_chain.nonce(owner, "pending")
    signed = any_chain.prepare(
        sanctions.address, sanctions.addToSanctionsList.encode([sanctioned]), sender=owner, nonce=nonce
    )

    first = any_chain.send_raw(signed.raw)
    receipt = any_chain.wait_for_receipt(first)
    again = any_chain.send_raw(signed.raw)

    assert first == again == signed.tx_hash
    assert any_chain.receipt(signed.tx_hash) == receipt
    assert any_chain.nonce(owner, "pending") == nonce + 1
    assert len(sanctions.get_logs("SanctionedAddressesAdded", from_block=receipt.block_number)) == 1


def test_another_transaction_with_a_used_nonce_is_refused(
    any_chain: EvmChain, sanctions: Contract, owner: str, sanctioned: str, non_owner: str
) -> None:
    nonce = any_chain.nonce(owner, "pending")
    add = sanctions.addToSanctionsList
    mined = any_chain.prepare(sanctions.address, add.encode([sanctioned]), sender=owner, nonce=nonce)
    stale = any_chain.prepare(sanctions.address, add.encode([non_owner]), sender=owner, nonce=nonce)
    any_chain.wait_for_receipt(any_chain.send_raw(mined.raw))

    with pytest.raises(ChainError, match="nonce too low"):
        any_chain.send_raw(stale.raw)

    assert any_chain.receipt(stale.tx_hash) is None
    assert sanctions.isSanctioned(non_owner) is False


def test_prepare_raises_the_revert_reason_before_anything_is_signed(
    any_chain: EvmChain, sanctions: Contract, non_owner: str, sanctioned: str
) -> None:
    data = sanctions.addToSanctionsList.encode([sanctioned])

    with pytest.raises(RevertError, match=f"minting reverted: {_NOT_OWNER}") as caught:
        any_chain.prepare(sanctions.address, data, sender=non_owner, nonce=0, context="minting")

    assert caught.value.reason == _NOT_OWNER
    assert caught.value.tx_hash is None


# -- reverts


def test_revert_reason_is_decoded_before_sending(
    any_chain: EvmChain, sanctions: Contract, non_owner: str, sanctioned: str
) -> None:
    nonce_before = any_chain.nonce(non_owner)

    with pytest.raises(RevertError, match=f"addToSanctionsList reverted: {_NOT_OWNER}") as caught:
        sanctions.addToSanctionsList([sanctioned], sender=non_owner)

    assert caught.value.reason == _NOT_OWNER
    assert caught.value.code == "reverted"
    assert caught.value.tx_hash is None
    assert any_chain.nonce(non_owner) == nonce_before


def test_revert_of_a_mined_transaction_is_decoded(
    any_chain: EvmChain, sanctions: Contract, non_owner: str, sanctioned: str
) -> None:
    nonce_before = any_chain.nonce(non_owner)

    with pytest.raises(RevertError) as caught:
        # An explicit gas limit skips estimation, so the transaction is mined and reverts on chain.
        sanctions.addToSanctionsList([sanctioned], sender=non_owner, gas=200_000)

    error = caught.value
    assert error.reason == _NOT_OWNER
    assert error.receipt is not None
    assert error.receipt.status == 0
    assert error.tx_hash == error.receipt.tx_hash
    assert any_chain.receipt(error.tx_hash) == error.receipt
    assert any_chain.nonce(non_owner) == nonce_before + 1


def test_out_of_gas_is_reported(sanctions: Contract, owner: str, sanctioned: str) -> None:
    with pytest.raises(RevertError, match="out of gas"):
        sanctions.addToSanctionsList([sanctioned], sender=owner, gas=30_000)


def test_view_call_revert_is_decoded(sanctions: Contract, owner: str) -> None:
    with pytest.raises(RevertError, match=_NOT_OWNER):
        sanctions.addToSanctionsList.call([owner], sender=sanctions.address)


# -- nonces


def test_concurrent_sends_from_one_sender_use_consecutive_nonces(
    any_chain: EvmChain, sanctions: Contract, owner: str
) -> None:
    start = any_chain.nonce(owner)
    targets = any_chain.accounts[3:9]

    with ThreadPoolExecutor(max_workers=6) as pool:
        receipts = list(pool.map(lambda a: sanctions.addToSanctionsList([a], sender=owner), targets * 2))

    assert all(r.succeeded for r in receipts)
    assert len({r.tx_hash for r in receipts}) == 12
    assert any_chain.nonce(owner) == start + 12
    assert all(sanctions.isSanctioned(a) for a in targets)


def test_concurrent_sends_from_several_senders(any_chain: EvmChain, sanctions_artifact: Artifact) -> None:
    senders = any_chain.accounts[5:9]
    before = {s: any_chain.nonce(s) for s in senders}

    with ThreadPoolExecutor(max_workers=4) as pool:
        addresses = list(pool.map(lambda s: any_chain.deploy(sanctions_artifact, sender=s), senders * 2))

    assert len(set(addresses)) == 8
    assert all(any_chain.nonce(s) == before[s] + 2 for s in senders)


# -- time, balances, snapshots


def test_each_transaction_is_mined_in_a_later_block(
    any_chain: EvmChain, sanctions: Contract, owner: str, sanctioned: str
) -> None:
    first = sanctions.addToSanctionsList([sanctioned], sender=owner)
    second = sanctions.removeFromSanctionsList([sanctioned], sender=owner)

    assert second.block_number == first.block_number + 1
    # anvil may give two blocks mined in the same second one timestamp; time never goes back.
    assert any_chain.timestamp(second.block_number) >= any_chain.timestamp(first.block_number)
    assert any_chain.block_number() == second.block_number


def test_time_travel_and_balances(fresh_chain: EvmChain) -> None:
    holder = fresh_chain.accounts[0]
    start = fresh_chain.timestamp()

    fresh_chain.increase_time(3_600)
    fresh_chain.mine()
    after_hour = fresh_chain.timestamp()
    fresh_chain.set_next_block_timestamp(after_hour + 86_400)
    fresh_chain.mine()
    fresh_chain.set_balance(holder, 123)

    assert after_hour >= start + 3_600
    assert fresh_chain.timestamp() == after_hour + 86_400
    assert fresh_chain.balance(holder) == 123


def test_snapshot_and_revert(any_chain: EvmChain, sanctions: Contract, owner: str, sanctioned: str) -> None:
    snapshot = any_chain.snapshot()
    sanctions.addToSanctionsList([sanctioned], sender=owner)

    assert any_chain.revert_to(snapshot) is True
    assert sanctions.isSanctioned(sanctioned) is False
    assert sanctions.get_logs("SanctionedAddressesAdded") == []
    assert sanctions.removeFromSanctionsList([sanctioned], sender=owner).succeeded


# -- bad input


def test_unknown_function_is_named(sanctions: Contract) -> None:
    with pytest.raises(
        UnknownFunctionError, match=r"SanctionsList has no function 'mint'; it has: .*isSanctioned"
    ):
        sanctions.mint(1)


def test_unknown_function_by_name(any_chain: EvmChain, sanctions: Contract, owner: str) -> None:
    with pytest.raises(AbiError, match="no function 'mint'"):
        any_chain.send(sanctions.address, "mint", [1], sender=owner, abi=sanctions.abi)


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
    any_chain: EvmChain, sanctions_artifact: Artifact, owner: str
) -> None:
    with pytest.raises(AbiError, match="SanctionsList constructor takes 0 arguments"):
        any_chain.deploy(sanctions_artifact, owner, sender=owner)


def test_call_to_an_account_without_code_explains(any_chain: EvmChain, sanctions_artifact: Artifact) -> None:
    empty = any_chain.at(any_chain.accounts[9], sanctions_artifact)

    with pytest.raises(AbiError, match="cannot decode the result of owner"):
        empty.owner()
