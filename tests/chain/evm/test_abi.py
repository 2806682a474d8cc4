"""ABI coding shared by both chains: selection, encoding errors, outputs, events, revert data."""

from typing import Any

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from equitoken.chain.evm.abi import (
    AbiError,
    UnknownFunctionError,
    abi_type,
    decode_event,
    decode_output,
    decode_revert_reason,
    encode_call,
    event_topic,
    find_function,
    selector,
)
from equitoken.chain.evm.types import Log

_HOLDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"

_TRANSFER: dict[str, Any] = {
    "type": "function",
    "name": "transfer",
    "stateMutability": "nonpayable",
    "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
    "outputs": [{"name": "", "type": "bool"}],
}
# Vyper emits one ABI entry per arity for a function with default arguments.
_MINT_1: dict[str, Any] = {
    "type": "function",
    "name": "mint",
    "inputs": [{"name": "to", "type": "address"}],
    "outputs": [],
}
_MINT_2: dict[str, Any] = dict(_MINT_1, inputs=[*_MINT_1["inputs"], {"name": "amount", "type": "uint256"}])
_ABI = [_TRANSFER, _MINT_1, _MINT_2]


def test_selector_matches_the_erc20_transfer_selector() -> None:
    assert selector(_TRANSFER).hex() == "a9059cbb"


def test_tuple_types_are_expanded() -> None:
    param = {
        "type": "tuple[]",
        "components": [{"type": "address"}, {"type": "tuple", "components": [{"type": "uint8"}]}],
    }

    assert abi_type(param) == "(address,(uint8))[]"


def test_overloads_are_picked_by_argument_count() -> None:
    assert find_function(_ABI, "mint", 1) is _MINT_1
    assert find_function(_ABI, "mint", 2) is _MINT_2


def test_unknown_function_lists_the_known_ones() -> None:
    with pytest.raises(UnknownFunctionError, match="Token has no function 'burn'; it has: mint, transfer"):
        find_function(_ABI, "burn", 1, "Token")


def test_wrong_argument_count_shows_the_signature() -> None:
    with pytest.raises(AbiError, match=r"Token.transfer takes transfer\(address,uint256\), got 1 argument$"):
        find_function(_ABI, "transfer", 1, "Token")


def test_badly_typed_argument_is_named() -> None:
    with pytest.raises(AbiError, match="transfer: amount must be uint256, got str 'ten'"):
        encode_call(_TRANSFER, [_HOLDER, "ten"])


def test_calldata_is_selector_and_arguments() -> None:
    data = encode_call(_TRANSFER, [_HOLDER, 10])

    assert data == selector(_TRANSFER) + encode(["address", "uint256"], [_HOLDER, 10])


def test_outputs_decode_to_python_values_with_checksum_addresses() -> None:
    item = {"outputs": [{"type": "address"}, {"type": "uint256[]"}], "name": "f", "inputs": []}
    data = encode(["address", "uint256[]"], [_HOLDER.lower(), [1, 2]])

    assert decode_output(item, data) == (_HOLDER, [1, 2])
    assert decode_output(_TRANSFER, encode(["bool"], [True])) is True
    assert decode_output(_MINT_1, b"") is None


def test_empty_return_data_is_an_abi_error() -> None:
    with pytest.raises(AbiError, match="cannot decode the result of transfer"):
        decode_output(_TRANSFER, b"")


def test_revert_reasons_decode() -> None:
    error = bytes.fromhex("08c379a0") + encode(["string"], ["ownable: caller is not the owner"])
    panic = bytes.fromhex("4e487b71") + encode(["uint256"], [0x11])

    assert decode_revert_reason(error) == "ownable: caller is not the owner"
    assert decode_revert_reason(panic) == "panic 0x11"
    assert decode_revert_reason(b"") is None
    assert decode_revert_reason(b"\x01\x02\x03\x04") is None


def test_events_decode_indexed_and_plain_arguments() -> None:
    event = {
        "type": "event",
        "name": "Transfer",
        "anonymous": False,
        "inputs": [
            {"name": "sender", "type": "address", "indexed": True},
            {"name": "memo", "type": "string", "indexed": True},
            {"name": "amount", "type": "uint256", "indexed": False},
        ],
    }
    topics = (event_topic(event), encode(["address"], [_HOLDER]), keccak(text="hello"))
    log = Log(_HOLDER, topics, encode(["uint256"], [5]), block_number=3, tx_hash="0xab", log_index=1)

    decoded = decode_event(event, log)

    assert decoded.name == "Transfer"
    assert decoded.args == {"sender": _HOLDER, "memo": keccak(text="hello"), "amount": 5}
    assert (decoded.block_number, decoded.log_index) == (3, 1)
