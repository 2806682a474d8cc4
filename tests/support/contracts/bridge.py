"""The bridge's wire format in Python, attester signatures, and gas measurement of the EVM pool.

``Message`` mirrors ``token_pool.Message`` (nine static words); ``message_id`` and ``digest`` are
computed here independently of the contract (eth_abi + keccak), so the tests can assert that both
sides agree. ``sign`` returns the signatures ``TokenPool.receive`` expects: 65 bytes r‖s‖v each,
sorted by signer address ascending.

Gas: ``cold_gas(contract, call)`` runs ``call`` as if it were a fresh transaction (every account and
slot cold) and returns ``contract._computation.get_gas_used()`` plus the 21,000 of a transaction
(calldata not counted), the convention of ``tests/contracts/venues/perps/test_perp_gas.py``.
``pool_gas()`` builds a whole world on a fresh in-process chain (sanctions list, reserve feed,
8-decimal open token, a pool per attester count) and returns the gas of ``send`` and of ``receive``
with 1, 4 and 7 attesters (threshold = n), e.g. for ``bench/bridge.py``::

    from tests.support.contracts.bridge import pool_gas
    print(pool_gas())   # {"send": ..., "receive_1": ..., "receive_4": ..., "receive_7": ...}
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import astuple, dataclass, replace
from functools import cache, partial
from typing import Any

import boa
from eth_abi.abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import Hash32
from eth_utils.crypto import keccak
from tests.support.contracts import AAPL_ISIN, HEARTBEAT, ONE_SHARE, OPEN, deployer

SHARED_DECIMALS = 8
DOMAIN_NAME = "Equitoken Bridge"
DOMAIN_VERSION = "1"
DOMAIN_TYPEHASH = keccak(text="EIP712Domain(string name,string version)")
MESSAGE_TYPEHASH = keccak(
    text="BridgeMessage(uint64 sourceChain,bytes32 sourcePool,uint64 destChain,bytes32 destPool,"
    "uint64 nonce,bytes32 sender,bytes32 receiver,uint64 amount,bytes32 salt)"
)
DOMAIN_SEPARATOR = keccak(
    encode(["bytes32"] * 3, [DOMAIN_TYPEHASH, keccak(text=DOMAIN_NAME), keccak(text=DOMAIN_VERSION)])
)
MESSAGE_TYPES = [
    "uint64",
    "bytes32",
    "uint64",
    "bytes32",
    "uint64",
    "bytes32",
    "bytes32",
    "uint64",
    "bytes32",
]
ZERO_WORD = b"\x00" * 32
TRANSACTION = 21_000

# The fake remotes of the contract tests (one boa env is one chain).
REMOTE_EVM = 42_161
SOLANA = 900_001
REMOTE_POOL = b"\x00" * 12 + b"\xab" * 20
SOLANA_POOL = b"\x5a" * 32
HOLDING = 1_000 * ONE_SHARE
RESERVES = 10**30

STATUS_NONE, STATUS_MINTED, STATUS_HELD, STATUS_RELEASED, STATUS_RETURNED = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Message:
    source_chain: int
    source_pool: bytes
    dest_chain: int
    dest_pool: bytes
    nonce: int
    sender: bytes
    receiver: bytes
    amount: int
    salt: bytes = ZERO_WORD

    def as_tuple(self) -> tuple[Any, ...]:
        """Return the message as the ABI tuple ``TokenPool`` takes."""
        return astuple(self)

    def but(self, **changes: Any) -> "Message":
        """Return a copy with `changes` applied."""
        return replace(self, **changes)


Snapshot = Callable[..., tuple[Any, ...]]


def word(address: str | bytes) -> bytes:
    """Return a 20-byte address left-padded to 32 bytes."""
    raw = bytes.fromhex(address[2:]) if isinstance(address, str) else address
    assert len(raw) == 20
    return b"\x00" * 12 + raw


Inbound = Callable[..., Message]


def message_id(message: Message) -> bytes:
    """Return keccak256 of the message's nine ABI words."""
    return keccak(encode(MESSAGE_TYPES, list(astuple(message))))


def digest(message: Message) -> bytes:
    """Return the EIP-712 digest attesters sign for `message`."""
    struct_hash = keccak(encode(["bytes32", *MESSAGE_TYPES], [MESSAGE_TYPEHASH, *astuple(message)]))
    return keccak(b"\x19\x01" + DOMAIN_SEPARATOR + struct_hash)


def attester_keys(count: int) -> list[LocalAccount]:
    """Return `count` deterministic attester keys."""
    return [Account.from_key(keccak(text=f"bridge attester {i}")) for i in range(count)]


def by_address(keys: Sequence[LocalAccount]) -> list[LocalAccount]:
    """Return `keys` sorted by address ascending."""
    return sorted(keys, key=lambda key: int(key.address, 16))


def signature(key: LocalAccount, message: Message) -> bytes:
    """Return `key`'s 65-byte signature r‖s‖v (v in {27, 28}) of the message's digest."""
    signed = key.unsafe_sign_hash(Hash32(digest(message)))
    return int(signed.r).to_bytes(32, "big") + int(signed.s).to_bytes(32, "big") + bytes([int(signed.v)])


def sign(message: Message, keys: Sequence[LocalAccount]) -> list[bytes]:
    """Return the signatures of `keys` over `message`, sorted by signer address ascending."""
    return [signature(key, message) for key in by_address(keys)]


def sent_message(pool: Any, sent: Any) -> Message:
    """Rebuild the message a pool's `Sent` event announced (the relayer's job)."""
    return Message(
        source_chain=boa.env.evm.patch.chain_id,
        source_pool=word(pool.address),
        dest_chain=sent.dest_chain,
        dest_pool=sent.dest_pool,
        nonce=sent.nonce,
        sender=word(sent.sender),
        receiver=sent.receiver,
        amount=sent.amount,
    )


@contextmanager
def cold_access() -> Iterator[None]:
    """Run the calls inside as in a fresh transaction: every account and slot cold."""
    account_db = boa.env.evm.vm.state._account_db
    saved = account_db._journal_accessed_state
    account_db._reset_access_counters()
    try:
        yield
    finally:
        account_db._journal_accessed_state = saved


def cold_gas(contract: Any, call: Callable[[], object]) -> int:
    """Return the gas of `call` on `contract` as a whole transaction (calldata not counted)."""
    with cold_access():
        call()
    return int(contract._computation.get_gas_used()) + TRANSACTION


@cache
def pool_deployer() -> Any:
    """Return the deployer of ``bridge/TokenPool.vy``, compiled once per process."""
    return deployer("bridge/TokenPool.vy")


def deploy_pool(token: Any, admin: str, attesters: Sequence[str], threshold: int) -> Any:
    """Deploy a pool for `token` as `admin` (the token's admin too) and grant it minter and burner roles."""
    with boa.env.prank(admin):
        pool = pool_deployer().deploy(token.address, list(attesters), threshold)
        token.grantRole(token.MINTER_ROLE(), pool.address)
        token.grantRole(token.BURNER_ROLE(), pool.address)
    return pool


def pool_gas(attester_counts: Sequence[int] = (1, 4, 7)) -> dict[str, int]:
    """Return the gas of `send` and of `receive` with each of `attester_counts` attesters (all needed).

    Runs on a fresh in-process chain, so it neither needs nor disturbs the caller's.
    """
    with boa.swap_env(boa.Env()):
        admin, updater, holder = (boa.env.generate_address(name) for name in ("admin", "updater", "holder"))
        with boa.env.prank(admin):
            sanctions = deployer("compliance/SanctionsList.vy").deploy()
            feed = deployer("oracle/ReserveFeed.vy").deploy(SHARED_DECIMALS, "reserves")
            feed.grantRole(feed.UPDATER_ROLE(), updater)
            token = deployer("token/StockToken.vy").deploy(
                "Apple Inc. tokenized stock",
                "AAPLx",
                SHARED_DECIMALS,
                AAPL_ISIN,
                "AAPL",
                "",
                OPEN,
                sanctions.address,
                boa.env.generate_address("registry"),
                feed.address,
                HEARTBEAT,
            )
            token.grantRole(token.MINTER_ROLE(), admin)
        with boa.env.prank(updater):
            feed.update(10**20, boa.env.evm.patch.timestamp)
        with boa.env.prank(admin):
            token.mint(holder, 10**12)
        chain = boa.env.evm.patch.chain_id
        remote = word(boa.env.generate_address("remote pool"))
        result: dict[str, int] = {}
        for count in attester_counts:
            keys = attester_keys(count)
            pool = deploy_pool(token, admin, [key.address for key in keys], count)
            with boa.env.prank(admin):
                pool.set_remote(chain + 1, remote, True)
            with boa.env.prank(holder):
                token.approve(pool.address, 2**255)
                pool.send(chain + 1, word(holder), ONE_SHARE, 0)  # the nonce and the supply are not empty
                send = partial(pool.send, chain + 1, word(holder), ONE_SHARE, 0)
                result.setdefault("send", cold_gas(pool, send))
            message = Message(
                chain + 1, remote, chain, word(pool.address), 1, word(holder), word(holder), ONE_SHARE
            )
            receive = partial(pool.receive, message.as_tuple(), sign(message, keys))
            result[f"receive_{count}"] = cold_gas(pool, receive)
        return result
