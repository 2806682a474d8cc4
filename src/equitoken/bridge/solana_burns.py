"""Bridging out of Solana without a program of our own: the holder burns, and says where to in a memo.

A holder bridges out by one transaction it signs, holding exactly

    1. a Memo (SPL Memo v3) with the UTF-8 text `equitoken-bridge:1:<dest_chain>:<receiver>`, where
       `dest_chain` is the destination's chain id in decimal and `receiver` the 32-byte receiver as
       `0x` and 64 hex digits (an EVM address left-padded);
    2. a Token-2022 BurnChecked of the holder's associated token account on a stock mint, the holder
       signing as the account's owner.

The Token-2022 program does every check a burn has (a frozen account, a paused mint, the balance),
so a burn that landed is one the holder was allowed to make. Reading it back is strict: exactly one
bridge memo and exactly one burn on a watched mint, from the owner's associated token account, the
owner a signer, a positive amount; anything else (a second burn, a malformed memo, a burn by a
delegate) is not a bridge message and is never raised on, whoever wrote the transaction. The burn's
signature makes the message unique: its `salt` is sha256 of the signature's 64 bytes, its nonce 0.
Solana's stock mints have 8 decimals, the bridge's shared decimals, so the raw amount is the message's.
"""

import hashlib
import re
import struct
from collections.abc import Collection
from dataclasses import dataclass

from solders.instruction import CompiledInstruction, Instruction
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from equitoken.chain.solana.litesvm import LiteSvmChain
from equitoken.chain.solana.memo import AnyMessage, memo, memo_text
from equitoken.chain.solana.token2022 import (
    TOKEN_2022_PROGRAM_ID,
    TokenInstruction,
    associated_token_address,
    burn_checked,
)

BRIDGE_MEMO_PREFIX = "equitoken-bridge:1"
_UINT64 = 2**64
_BURN = 8  # Token's plain Burn: not how one bridges, but a second burn all the same
_MEMO = re.compile(r"(0|[1-9][0-9]{0,19}):0x([0-9a-fA-F]{64})")


@dataclass(frozen=True, slots=True)
class BridgeBurn:
    """A landed bridge-out: who burned how much of which mint, and where it is to be minted."""

    signature: str
    slot: int
    mint: Pubkey
    owner: Pubkey
    amount: int  # raw units, which are shared decimals (8) on Solana
    dest_chain: int
    receiver: bytes  # 32 bytes
    salt: bytes  # sha256 of the signature's 64 bytes


def bridge_memo(dest_chain: int, receiver32: bytes) -> str:
    """Return the memo text that sends a burn to `receiver32` on `dest_chain`."""
    if not 0 < dest_chain < _UINT64:
        raise ValueError(f"destination chain {dest_chain} is not a positive 64-bit chain id")
    if len(receiver32) != 32 or not any(receiver32):
        raise ValueError("the receiver must be 32 bytes, not all zero (an EVM address left-padded)")
    return f"{BRIDGE_MEMO_PREFIX}:{dest_chain}:0x{receiver32.hex()}"


def bridge_out_instructions(
    mint: Pubkey, owner: Pubkey, amount: int, decimals: int, dest_chain: int, receiver32: bytes
) -> list[Instruction]:
    """Return the memo and the burn by which `owner` bridges `amount` raw units of `mint` out."""
    if amount <= 0:
        raise ValueError(f"a bridge-out burns a positive amount, not {amount}")
    account = associated_token_address(owner, mint)
    return [
        memo(bridge_memo(dest_chain, receiver32), [owner]),
        burn_checked(account, mint, owner, amount, decimals),
    ]


def parse_bridge_memo(text: str) -> tuple[int, bytes] | None:
    """Return (destination chain, receiver) a bridge memo names, or None if `text` is not one."""
    prefix = BRIDGE_MEMO_PREFIX + ":"
    found = _MEMO.fullmatch(text[len(prefix) :]) if text.startswith(prefix) else None
    if found is None:
        return None
    dest_chain, receiver = int(found[1]), bytes.fromhex(found[2])
    if not 0 < dest_chain < _UINT64 or not any(receiver):
        return None
    return dest_chain, receiver


@dataclass(frozen=True, slots=True)
class _Burn:
    mint: Pubkey
    owner: Pubkey
    amount: int


def parse_bridge_burn(
    signature: str, slot: int, transaction: VersionedTransaction, mints: Collection[Pubkey]
) -> BridgeBurn | None:
    """Return the bridge-out `transaction` (landed at `slot`) makes on one of `mints`, or None."""
    message = transaction.message
    memos: list[tuple[int, bytes] | None] = []
    burns: list[_Burn | None] = []
    for instruction in message.instructions:
        text = memo_text(message, instruction)
        if text is not None and text.startswith(BRIDGE_MEMO_PREFIX + ":"):
            memos.append(parse_bridge_memo(text))
        elif _is_burn(message, instruction):
            watched, burn = _watched_burn(message, instruction, mints)
            if watched:
                burns.append(burn)
    if len(memos) != 1 or len(burns) != 1:
        return None
    destination, burn = memos[0], burns[0]
    if destination is None or burn is None:
        return None
    signed = transaction.signatures[0] if transaction.signatures else None
    if signed is None or str(signed) != signature:
        return None
    salt = hashlib.sha256(bytes(signed)).digest()
    dest_chain, receiver = destination
    return BridgeBurn(signature, slot, burn.mint, burn.owner, burn.amount, dest_chain, receiver, salt)


def find_bridge_burns(
    chain: LiteSvmChain, mints: Collection[Pubkey], after_slot: int, until_slot: int
) -> list[BridgeBurn]:
    """Return the bridge-outs on `mints` landed in the slots after `after_slot` up to `until_slot`."""
    watched = frozenset(mints)
    found = (
        parse_bridge_burn(landed.signature, landed.slot, transaction, watched)
        for landed, transaction in chain.history(after_slot, until_slot)
    )
    return [burn for burn in found if burn is not None]


def _is_burn(message: AnyMessage, instruction: CompiledInstruction) -> bool:
    keys, data = message.account_keys, bytes(instruction.data)
    program = instruction.program_id_index
    return (
        program < len(keys)
        and keys[program] == TOKEN_2022_PROGRAM_ID
        and data[:1] in (bytes([_BURN]), bytes([TokenInstruction.BURN_CHECKED]))
    )


def _watched_burn(
    message: AnyMessage, instruction: CompiledInstruction, mints: Collection[Pubkey]
) -> tuple[bool, _Burn | None]:
    # Whether a Token-2022 burn may be on a watched mint (one whose accounts come from a lookup
    # table may), and the burn if it is a bridge-out's: a BurnChecked of a positive amount from the
    # associated token account of its owner, the owner signing.
    keys, data, indexes = message.account_keys, bytes(instruction.data), list(instruction.accounts)
    if len(indexes) < 3 or any(index >= len(keys) for index in indexes[:3]):
        return True, None
    account, mint, owner = (keys[index] for index in indexes[:3])
    if mint not in mints:
        return False, None
    if data[0] != TokenInstruction.BURN_CHECKED or len(data) != 10:
        return True, None
    (amount,) = struct.unpack_from("<Q", data, 1)
    if amount == 0 or not message.is_signer(indexes[2]) or account != associated_token_address(owner, mint):
        return True, None
    return True, _Burn(mint, owner, amount)
