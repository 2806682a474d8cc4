"""SPL Token-2022 instructions and account layouts, as the program's interface defines them.

Glossary (the Token-2022 interface crate):
- An instruction's first byte is its `TokenInstruction` index; an extension's instructions follow
  with a second byte, the extension's own instruction index.
- A mint is the 82-byte base layout, padded to 165 bytes, then an account-type byte (1 for a mint,
  2 for a token account) and the extensions as type-length-value entries (`u16` type, `u16` length).
- Optional public keys in an extension are 32 zero bytes when absent; in the base instructions they
  are a one-byte tag followed by the key (`COption`).
- ScaledUiAmount's multiplier is an IEEE-754 double: what a wallet shows is
  `raw * multiplier / 10^decimals`, switching to `new_multiplier` at `new_multiplier_effective_timestamp`.
- Token metadata (the token-metadata interface) lives in the mint itself when the metadata pointer
  points at the mint; its instructions start with an 8-byte discriminator, a hash of their name.
"""

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

TOKEN_2022_PROGRAM_ID = Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
TOKEN_PROGRAM_ID = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
ASSOCIATED_TOKEN_PROGRAM_ID = Pubkey.from_string("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")
SYSTEM_PROGRAM_ID = Pubkey.from_string("11111111111111111111111111111111")

MINT_BASE_SIZE = 82
ACCOUNT_BASE_SIZE = 165
_NO_KEY = bytes(32)


class TokenInstruction(IntEnum):
    """The indexes of the instructions (and extension instruction groups) used here."""

    FREEZE_ACCOUNT = 10
    THAW_ACCOUNT = 11
    TRANSFER_CHECKED = 12
    MINT_TO_CHECKED = 14
    BURN_CHECKED = 15
    INITIALIZE_MINT2 = 20
    AMOUNT_TO_UI_AMOUNT = 23
    DEFAULT_ACCOUNT_STATE = 28
    INITIALIZE_PERMANENT_DELEGATE = 35
    METADATA_POINTER = 39
    SCALED_UI_AMOUNT = 43
    PAUSABLE = 44


class ExtensionType(IntEnum):
    """The extension types of the type-length-value entries used here."""

    DEFAULT_ACCOUNT_STATE = 6
    PERMANENT_DELEGATE = 12
    METADATA_POINTER = 18
    TOKEN_METADATA = 19
    SCALED_UI_AMOUNT = 25
    PAUSABLE = 26


# The fixed data size of each mint extension this module initialises.
EXTENSION_SIZES = {
    ExtensionType.DEFAULT_ACCOUNT_STATE: 1,
    ExtensionType.PERMANENT_DELEGATE: 32,
    ExtensionType.METADATA_POINTER: 64,
    ExtensionType.SCALED_UI_AMOUNT: 56,
    ExtensionType.PAUSABLE: 33,
}


class AccountState(IntEnum):
    UNINITIALIZED = 0
    INITIALIZED = 1
    FROZEN = 2


# The Token-2022 errors the platform meets, by their custom program error code.
TOKEN_ERRORS = {
    0x1: "insufficient funds",
    0x3: "account not associated with this mint",
    0x4: "owner does not match",
    0x11: "account is frozen",
    0x12: "decimals do not match the mint's",
    0x1D: "no authority exists to perform the operation",
    0x25: "transfer is disabled for this mint",
    0x42: "invalid scale for the scaled UI amount",
    0x43: "the mint is paused",
}


def explain(log_line: str) -> str:
    """Return a program log's failure line with a Token-2022 custom error code named."""
    marker = "custom program error: 0x"
    if marker not in log_line:
        return log_line
    code = int(log_line.rsplit(marker, 1)[1].split()[0], 16)
    return f"{log_line} ({TOKEN_ERRORS[code]})" if code in TOKEN_ERRORS else log_line


class MetadataField(IntEnum):
    """The token-metadata interface's `Field`; any other name is a `KEY` of additional metadata."""

    NAME = 0
    SYMBOL = 1
    URI = 2
    KEY = 3


def _discriminator(name: str) -> bytes:
    return hashlib.sha256(f"spl_token_metadata_interface:{name}".encode()).digest()[:8]


_METADATA_INITIALIZE = _discriminator("initialize_account")
_METADATA_UPDATE_FIELD = _discriminator("updating_field")


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<I", len(data)) + data


def _maybe(key: Pubkey | None) -> bytes:
    return _NO_KEY if key is None else bytes(key)


def _option(key: Pubkey | None) -> bytes:
    return b"\x00" + _NO_KEY if key is None else b"\x01" + bytes(key)


def _writable(key: Pubkey, signer: bool = False) -> AccountMeta:
    return AccountMeta(key, is_signer=signer, is_writable=True)


def _readonly(key: Pubkey, signer: bool = False) -> AccountMeta:
    return AccountMeta(key, is_signer=signer, is_writable=False)


def _token(
    data: bytes, accounts: Sequence[AccountMeta], program: Pubkey = TOKEN_2022_PROGRAM_ID
) -> Instruction:
    return Instruction(program, data, list(accounts))


def mint_space(extensions: Sequence[ExtensionType]) -> int:
    """Return the bytes a mint with these fixed-size extensions takes before its token metadata."""
    return ACCOUNT_BASE_SIZE + 1 + sum(4 + EXTENSION_SIZES[e] for e in extensions)


def metadata_space(fields: Sequence[tuple[str, str]]) -> int:
    """Return the bytes token metadata adds to the mint, its TLV entry included.

    `fields` are (key, value) pairs: name, symbol and uri first, then the additional ones.
    """
    standard, extra = fields[:3], fields[3:]
    keys = 32 + 32  # the update authority and the mint
    size = keys + sum(len(_string(value)) for _, value in standard)
    size += 4 + sum(len(_string(key)) + len(_string(value)) for key, value in extra)
    return 4 + size


# -- initialising a mint's extensions (each before InitializeMint2)


def initialize_metadata_pointer(
    mint: Pubkey, authority: Pubkey | None, metadata: Pubkey | None
) -> Instruction:
    data = bytes([TokenInstruction.METADATA_POINTER, 0]) + _maybe(authority) + _maybe(metadata)
    return _token(data, [_writable(mint)])


def initialize_permanent_delegate(mint: Pubkey, delegate: Pubkey) -> Instruction:
    return _token(
        bytes([TokenInstruction.INITIALIZE_PERMANENT_DELEGATE]) + bytes(delegate), [_writable(mint)]
    )


def initialize_default_account_state(mint: Pubkey, state: AccountState) -> Instruction:
    return _token(bytes([TokenInstruction.DEFAULT_ACCOUNT_STATE, 0, state]), [_writable(mint)])


def initialize_scaled_ui_amount(mint: Pubkey, authority: Pubkey | None, multiplier: float) -> Instruction:
    data = bytes([TokenInstruction.SCALED_UI_AMOUNT, 0]) + _maybe(authority) + struct.pack("<d", multiplier)
    return _token(data, [_writable(mint)])


def initialize_pausable(mint: Pubkey, authority: Pubkey) -> Instruction:
    return _token(bytes([TokenInstruction.PAUSABLE, 0]) + bytes(authority), [_writable(mint)])


def initialize_mint2(
    mint: Pubkey,
    decimals: int,
    mint_authority: Pubkey,
    freeze_authority: Pubkey | None,
    program: Pubkey = TOKEN_2022_PROGRAM_ID,
) -> Instruction:
    """Initialise the mint, after its extensions (the classic Token program takes the same layout)."""
    data = bytes([TokenInstruction.INITIALIZE_MINT2, decimals]) + bytes(mint_authority)
    return _token(data + _option(freeze_authority), [_writable(mint)], program)


def initialize_token_metadata(
    mint: Pubkey, update_authority: Pubkey, mint_authority: Pubkey, name: str, symbol: str, uri: str
) -> Instruction:
    """Write the mint's own metadata (the metadata pointer must point at the mint)."""
    data = _METADATA_INITIALIZE + _string(name) + _string(symbol) + _string(uri)
    accounts = [
        _writable(mint),
        _readonly(update_authority),
        _readonly(mint),
        _readonly(mint_authority, True),
    ]
    return _token(data, accounts)


def update_token_metadata_field(mint: Pubkey, update_authority: Pubkey, key: str, value: str) -> Instruction:
    """Set one field of the mint's metadata: `name`, `symbol`, `uri` or any additional key (e.g. `isin`)."""
    standard = {"name": MetadataField.NAME, "symbol": MetadataField.SYMBOL, "uri": MetadataField.URI}
    field = bytes([standard[key]]) if key in standard else bytes([MetadataField.KEY]) + _string(key)
    data = _METADATA_UPDATE_FIELD + field + _string(value)
    return _token(data, [_writable(mint), _readonly(update_authority, True)])


# -- running a mint


def update_multiplier(
    mint: Pubkey, authority: Pubkey, multiplier: float, effective_timestamp: int
) -> Instruction:
    data = bytes([TokenInstruction.SCALED_UI_AMOUNT, 1]) + struct.pack("<dq", multiplier, effective_timestamp)
    return _token(data, [_writable(mint), _readonly(authority, True)])


def pause(mint: Pubkey, authority: Pubkey) -> Instruction:
    return _token(bytes([TokenInstruction.PAUSABLE, 1]), [_writable(mint), _readonly(authority, True)])


def resume(mint: Pubkey, authority: Pubkey) -> Instruction:
    return _token(bytes([TokenInstruction.PAUSABLE, 2]), [_writable(mint), _readonly(authority, True)])


def mint_to_checked(
    mint: Pubkey,
    account: Pubkey,
    authority: Pubkey,
    amount: int,
    decimals: int,
    program: Pubkey = TOKEN_2022_PROGRAM_ID,
) -> Instruction:
    data = bytes([TokenInstruction.MINT_TO_CHECKED]) + struct.pack("<QB", amount, decimals)
    return _token(data, [_writable(mint), _writable(account), _readonly(authority, True)], program)


def burn_checked(
    account: Pubkey,
    mint: Pubkey,
    owner: Pubkey,
    amount: int,
    decimals: int,
    program: Pubkey = TOKEN_2022_PROGRAM_ID,
) -> Instruction:
    """Burn from `account`; `owner` is its owner, a delegate or the mint's permanent delegate."""
    data = bytes([TokenInstruction.BURN_CHECKED]) + struct.pack("<QB", amount, decimals)
    return _token(data, [_writable(account), _writable(mint), _readonly(owner, True)], program)


def transfer_checked(
    source: Pubkey,
    mint: Pubkey,
    destination: Pubkey,
    owner: Pubkey,
    amount: int,
    decimals: int,
    program: Pubkey = TOKEN_2022_PROGRAM_ID,
) -> Instruction:
    """Move tokens; `owner` is the source's owner, a delegate or the mint's permanent delegate."""
    data = bytes([TokenInstruction.TRANSFER_CHECKED]) + struct.pack("<QB", amount, decimals)
    accounts = [_writable(source), _readonly(mint), _writable(destination), _readonly(owner, True)]
    return _token(data, accounts, program)


def amount_to_ui_amount(mint: Pubkey, amount: int) -> Instruction:
    """Ask the program what a wallet shows for `amount` raw units now (its return data, as text)."""
    data = bytes([TokenInstruction.AMOUNT_TO_UI_AMOUNT]) + struct.pack("<Q", amount)
    return Instruction(TOKEN_2022_PROGRAM_ID, data, [_readonly(mint)])


def freeze_account(account: Pubkey, mint: Pubkey, authority: Pubkey) -> Instruction:
    accounts = [_writable(account), _readonly(mint), _readonly(authority, True)]
    return _token(bytes([TokenInstruction.FREEZE_ACCOUNT]), accounts)


def thaw_account(account: Pubkey, mint: Pubkey, authority: Pubkey) -> Instruction:
    accounts = [_writable(account), _readonly(mint), _readonly(authority, True)]
    return _token(bytes([TokenInstruction.THAW_ACCOUNT]), accounts)


def associated_token_address(owner: Pubkey, mint: Pubkey, program: Pubkey = TOKEN_2022_PROGRAM_ID) -> Pubkey:
    """Return the address of `owner`'s associated token account for `mint`."""
    address, _bump = Pubkey.find_program_address(
        [bytes(owner), bytes(program), bytes(mint)], ASSOCIATED_TOKEN_PROGRAM_ID
    )
    return address


def create_associated_token_account(
    payer: Pubkey, owner: Pubkey, mint: Pubkey, program: Pubkey = TOKEN_2022_PROGRAM_ID
) -> Instruction:
    """Create `owner`'s associated token account, or do nothing if it exists (CreateIdempotent)."""
    accounts = [
        _writable(payer, True),
        _writable(associated_token_address(owner, mint, program)),
        _readonly(owner),
        _readonly(mint),
        _readonly(SYSTEM_PROGRAM_ID),
        _readonly(program),
    ]
    return Instruction(ASSOCIATED_TOKEN_PROGRAM_ID, b"\x01", accounts)


# -- reading accounts


@dataclass(frozen=True, slots=True)
class ScaledUiAmount:
    """A mint's ScaledUiAmount extension."""

    authority: Pubkey | None
    multiplier: float
    new_multiplier_effective_timestamp: int
    new_multiplier: float

    def at(self, unix_timestamp: int) -> float:
        """Return the multiplier in force at `unix_timestamp`."""
        if unix_timestamp >= self.new_multiplier_effective_timestamp:
            return self.new_multiplier
        return self.multiplier


@dataclass(frozen=True, slots=True)
class MintState:
    """A Token-2022 mint: its base fields and the extensions read here."""

    mint_authority: Pubkey | None
    supply: int
    decimals: int
    freeze_authority: Pubkey | None
    extensions: dict[int, bytes]

    @property
    def scaled_ui_amount(self) -> ScaledUiAmount | None:
        data = self.extensions.get(ExtensionType.SCALED_UI_AMOUNT)
        if data is None:
            return None
        multiplier, timestamp, new = struct.unpack_from("<dqd", data, 32)
        return ScaledUiAmount(_key(data[:32]), multiplier, timestamp, new)

    @property
    def paused(self) -> bool:
        data = self.extensions.get(ExtensionType.PAUSABLE)
        return data is not None and data[32] == 1

    @property
    def permanent_delegate(self) -> Pubkey | None:
        data = self.extensions.get(ExtensionType.PERMANENT_DELEGATE)
        return None if data is None else _key(data)

    @property
    def default_account_state(self) -> AccountState | None:
        data = self.extensions.get(ExtensionType.DEFAULT_ACCOUNT_STATE)
        return None if data is None else AccountState(data[0])

    @property
    def metadata(self) -> dict[str, str]:
        """Return the mint's own token metadata: name, symbol, uri and the additional fields."""
        data = self.extensions.get(ExtensionType.TOKEN_METADATA)
        if data is None:
            return {}
        offset = 64
        fields: dict[str, str] = {}
        for name in ("name", "symbol", "uri"):
            fields[name], offset = _read_string(data, offset)
        (count,) = struct.unpack_from("<I", data, offset)
        offset += 4
        for _ in range(count):
            key, offset = _read_string(data, offset)
            fields[key], offset = _read_string(data, offset)
        return fields


@dataclass(frozen=True, slots=True)
class TokenAccountState:
    """A Token-2022 token account's base fields."""

    mint: Pubkey
    owner: Pubkey
    amount: int
    state: AccountState


def _key(data: bytes) -> Pubkey | None:
    return None if data == _NO_KEY else Pubkey.from_bytes(data)


def _coption_key(data: bytes, offset: int) -> Pubkey | None:
    (tag,) = struct.unpack_from("<I", data, offset)
    return Pubkey.from_bytes(data[offset + 4 : offset + 36]) if tag else None


def _read_string(data: bytes, offset: int) -> tuple[str, int]:
    (length,) = struct.unpack_from("<I", data, offset)
    start = offset + 4
    return data[start : start + length].decode(), start + length


def _extensions(data: bytes) -> dict[int, bytes]:
    entries: dict[int, bytes] = {}
    offset = ACCOUNT_BASE_SIZE + 1
    while offset + 4 <= len(data):
        kind, length = struct.unpack_from("<HH", data, offset)
        if kind == 0:
            break
        entries[kind] = data[offset + 4 : offset + 4 + length]
        offset += 4 + length
    return entries


def decode_mint(data: bytes) -> MintState:
    """Read a mint account's data; raise ValueError if it is no initialised mint."""
    if len(data) < MINT_BASE_SIZE or data[45] != 1:
        raise ValueError("not an initialised mint")
    (supply,) = struct.unpack_from("<Q", data, 36)
    extensions = _extensions(data) if len(data) > ACCOUNT_BASE_SIZE else {}
    return MintState(_coption_key(data, 0), supply, data[44], _coption_key(data, 46), extensions)


def decode_token_account(data: bytes) -> TokenAccountState:
    """Read a token account's data; raise ValueError if it is no initialised token account."""
    if len(data) < ACCOUNT_BASE_SIZE or data[108] == AccountState.UNINITIALIZED:
        raise ValueError("not an initialised token account")
    (amount,) = struct.unpack_from("<Q", data, 64)
    return TokenAccountState(
        Pubkey.from_bytes(data[0:32]), Pubkey.from_bytes(data[32:64]), amount, AccountState(data[108])
    )
