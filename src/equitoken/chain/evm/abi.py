"""ABI coding: find functions and events, encode calls, decode outputs, revert reasons and logs."""

from collections.abc import Mapping, Sequence
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError, EncodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from equitoken.chain.errors import ChainError
from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.types import Event, Log

AbiItem = dict[str, Any]

_ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
_PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)


class AbiError(ChainError, ValueError):
    """A call does not fit the contract's ABI: unknown function or event, wrong arguments."""

    code = "abi_error"


class UnknownFunctionError(AbiError, AttributeError):
    """The contract's ABI has no function of that name."""

    code = "unknown_function"


def abi_type(param: Mapping[str, Any]) -> str:
    """Return the canonical type of an ABI parameter, expanding tuples: ``(address,uint256)[]``."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param.get("components", []))
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def signature(item: Mapping[str, Any]) -> str:
    """Return ``name(type,...)`` for a function, event or error ABI item."""
    name = item.get("name") or item.get("type", "")
    return f"{name}({','.join(abi_type(p) for p in item.get('inputs', []))})"


def selector(item: Mapping[str, Any]) -> bytes:
    """Return the 4-byte selector of a function ABI item."""
    return keccak(text=signature(item))[:4]


def event_topic(item: Mapping[str, Any]) -> bytes:
    """Return topic 0 of an event ABI item."""
    return keccak(text=signature(item))


def _normalize(param: Mapping[str, Any], value: Any) -> Any:
    """Shape a decoded value: checksum addresses, tuples for structs, lists for arrays."""
    kind = str(param["type"])
    if kind.endswith("]"):
        element = dict(param, type=kind[: kind.rindex("[")])
        return [_normalize(element, v) for v in value]
    if kind == "tuple":
        return tuple(_normalize(c, v) for c, v in zip(param.get("components", []), value, strict=True))
    if kind == "address":
        return str(to_checksum_address(value))
    return value


def abi_of(source: Artifact | Sequence[AbiItem]) -> list[AbiItem]:
    """Return the ABI items of an artifact, or of an ABI list."""
    return list(source.abi) if isinstance(source, Artifact) else list(source)


def find_function(abi: Sequence[AbiItem], name: str, nargs: int, contract: str = "contract") -> AbiItem:
    """Return the function ``name`` taking ``nargs`` arguments; raise ``AbiError`` naming the problem."""
    candidates = [item for item in abi if item.get("type") == "function" and item.get("name") == name]
    if not candidates:
        known = sorted({str(i["name"]) for i in abi if i.get("type") == "function"})
        raise UnknownFunctionError(f"{contract} has no function {name!r}; it has: {', '.join(known)}")
    for item in candidates:
        if len(item.get("inputs", [])) == nargs:
            return item
    expected = " or ".join(signature(c) for c in candidates)
    raise AbiError(f"{contract}.{name} takes {expected}, got {nargs} argument{'s' * (nargs != 1)}")


def find_event(abi: Sequence[AbiItem], name: str, contract: str = "contract") -> AbiItem:
    """Return the event ``name``; raise ``AbiError`` listing the known events if there is none."""
    for item in abi:
        if item.get("type") == "event" and item.get("name") == name:
            return item
    known = sorted(str(i["name"]) for i in abi if i.get("type") == "event")
    raise AbiError(f"{contract} has no event {name!r}; it has: {', '.join(known) or 'none'}")


def encode_args(item: Mapping[str, Any], args: Sequence[Any], what: str) -> bytes:
    """Return the ABI encoding of ``args`` for ``item``'s inputs; ``what`` names the call in errors."""
    inputs = item.get("inputs", [])
    if len(inputs) != len(args):
        raise AbiError(f"{what} takes {len(inputs)} arguments ({signature(item)}), got {len(args)}")
    try:
        return abi_encode([abi_type(p) for p in inputs], list(args))
    except (EncodingError, TypeError, ValueError, OverflowError) as exc:
        for param, arg in zip(inputs, args, strict=True):
            try:
                abi_encode([abi_type(param)], [arg])
            except (EncodingError, TypeError, ValueError, OverflowError):
                label = param.get("name") or "argument"
                raise AbiError(
                    f"{what}: {label} must be {abi_type(param)}, got {type(arg).__name__} {arg!r}"
                ) from exc
        raise AbiError(f"{what}: cannot encode arguments {args!r}: {exc}") from exc


def encode_call(item: Mapping[str, Any], args: Sequence[Any]) -> bytes:
    """Return the calldata for a function ABI item and its arguments."""
    return selector(item) + encode_args(item, args, str(item.get("name", "function")))


def decode_output(item: Mapping[str, Any], data: bytes) -> Any:
    """Decode a function's return data: one value, a tuple of values, or ``None`` for no outputs."""
    outputs = item.get("outputs", [])
    if not outputs:
        return None
    try:
        values = abi_decode([abi_type(p) for p in outputs], data)
    except DecodingError as exc:
        raise AbiError(f"cannot decode the result of {signature(item)} from {data.hex() or 'empty'}") from exc
    shaped = tuple(_normalize(p, v) for p, v in zip(outputs, values, strict=True))
    return shaped[0] if len(shaped) == 1 else shaped


def decode_revert_reason(data: bytes) -> str | None:
    """Decode ``Error(string)`` or ``Panic(uint256)`` revert data; ``None`` if it is neither."""
    try:
        if data[:4] == _ERROR_SELECTOR:
            return str(abi_decode(["string"], data[4:])[0])
        if data[:4] == _PANIC_SELECTOR:
            return f"panic 0x{abi_decode(['uint256'], data[4:])[0]:02x}"
    except DecodingError:
        return None
    return None


def decode_event(item: Mapping[str, Any], log: Log) -> Event:
    """Decode a raw log with an event ABI. Indexed dynamic values come back as their 32-byte hash."""
    inputs = item.get("inputs", [])
    topics = list(log.topics if item.get("anonymous") else log.topics[1:])
    indexed = [p for p in inputs if p.get("indexed")]
    plain = [p for p in inputs if not p.get("indexed")]
    if len(topics) != len(indexed):
        raise AbiError(f"log does not match event {signature(item)}: {len(topics)} indexed topics")
    args: dict[str, Any] = {}
    try:
        for param, topic in zip(indexed, topics, strict=True):
            kind = abi_type(param)
            dynamic = kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("(")
            args[param["name"]] = topic if dynamic else _normalize(param, abi_decode([kind], topic)[0])
        values = abi_decode([abi_type(p) for p in plain], log.data)
    except DecodingError as exc:
        raise AbiError(f"log does not match event {signature(item)}") from exc
    for param, value in zip(plain, values, strict=True):
        args[param["name"]] = _normalize(param, value)
    ordered = {p["name"]: args[p["name"]] for p in inputs}
    return Event(str(item["name"]), ordered, log.address, log.block_number, log.tx_hash, log.log_index)
