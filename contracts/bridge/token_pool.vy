# pragma version ~=0.4.3
"""
@title Burn-and-mint bridge pool of one stock token
@custom:contract-name token_pool
@license GNU Affero General Public License v3.0 or later
@notice Moves a stock token between chains by burning it here and
        minting it on the remote chain once a quorum of attesters signed
        the message (and the reverse). A deployable `initializes:` this
        module next to snekmate's `access_control` and `pausable`, and
        the bridge's `rate_limiter` and `attester_set`, and `exports:`:
        - `send` (`external` function, any holder),
        - `receive` (`external` function, anyone holding the
          attestations: the relayer),
        - `release`, `return_held` (`external` functions,
          `COMPLIANCE_AGENT_ROLE`),
        - `set_remote` (`external` function, `DEFAULT_ADMIN_ROLE`),
        - `pause`, `unpause` (`external` functions, `PAUSER_ROLE`),
        - `token`, `scale`, `nonce`, `remote_pool`, `remote_is_evm`,
          `message_status`, `held`, `message_id`, `digest`,
          `domain_separator` (`external` `view`/`pure` functions).

        Wire format: a `Message` of nine static words; amounts on the
        wire are in shared decimals (8): local = shared * scale with
        scale = 10**(decimals - 8). The message id is keccak256 of its
        ABI encoding; attesters sign its EIP-712 digest under the domain
        EIP712Domain(string name,string version) ("Equitoken Bridge",
        "1"), which names no chain or contract: the message names both
        ends, and each destination processes an id once.

        Inbound compliance: a message whose receiver the token would
        refuse (or whose EVM sender is sanctioned) is HELD, not minted
        and not reverted; the compliance agent then `release`s it to an
        address of its choice or `return_held`s it to the sender.
@custom:security Statuses are written before the token is called. A
                 refused `receive` (paused, quorum, rate limit, secure
                 mint) reverts whole: the relayer retries the same
                 message later.
"""


from snekmate.auth import access_control
uses: access_control

from snekmate.utils import pausable
uses: pausable

from snekmate.utils import message_hash_utils

from . import rate_limiter
uses: rate_limiter

from . import attester_set
uses: attester_set

from ..compliance import transfer_codes
from ..interfaces import IBridgeToken
from ..interfaces import ISanctionsList


# @dev A bridge message, the same on every chain (see the header).
struct Message:
    source_chain: uint64
    source_pool: bytes32
    dest_chain: uint64
    dest_pool: bytes32
    nonce: uint64
    sender: bytes32
    receiver: bytes32
    amount: uint64
    salt: bytes32


# @dev A remote chain's pool; `pool` zero = no bridging with that chain.
struct Remote:
    pool: bytes32
    is_evm: bool


# @dev An inbound message held for the compliance agent.
struct HeldMessage:
    receiver: address
    sender: bytes32
    source_chain: uint64
    amount: uint64


PAUSER_ROLE: public(constant(bytes32)) = keccak256("PAUSER_ROLE")
COMPLIANCE_AGENT_ROLE: public(constant(bytes32)) = keccak256("COMPLIANCE_AGENT_ROLE")

STATUS_NONE: public(constant(uint8)) = 0
STATUS_MINTED: public(constant(uint8)) = 1
STATUS_HELD: public(constant(uint8)) = 2
STATUS_RELEASED: public(constant(uint8)) = 3
STATUS_RETURNED: public(constant(uint8)) = 4

SHARED_DECIMALS: public(constant(uint8)) = 8

_DOMAIN_TYPEHASH: constant(bytes32) = keccak256("EIP712Domain(string name,string version)")
_MESSAGE_TYPEHASH: constant(bytes32) = keccak256(
    "BridgeMessage(uint64 sourceChain,bytes32 sourcePool,uint64 destChain,bytes32 destPool,"
    "uint64 nonce,bytes32 sender,bytes32 receiver,uint64 amount,bytes32 salt)"
)
_ADDRESS_LIMIT: constant(uint256) = 1 << 160


# @dev Returns the stock token this pool burns and mints.
token: public(immutable(address))


# @dev Returns 10**(token decimals - 8): local units per shared unit.
scale: public(immutable(uint256))


# @dev The EIP-712 domain separator of every bridge attestation.
_DOMAIN_SEPARATOR: immutable(bytes32)


# @dev Returns the number of messages this pool has sent (the last nonce).
nonce: public(uint64)


# @dev The pool of each remote chain id.
_remotes: HashMap[uint64, Remote]


# @dev The status of each inbound message id (STATUS_*).
_status: HashMap[bytes32, uint8]


# @dev The held inbound messages, by id.
_held: HashMap[bytes32, HeldMessage]


event RemoteSet:
    chain_id: indexed(uint64)
    pool: bytes32
    is_evm: bool


event Sent:
    message_id: indexed(bytes32)
    dest_chain: indexed(uint64)
    sender: indexed(address)
    nonce: uint64
    receiver: bytes32
    amount: uint64
    dest_pool: bytes32


event Received:
    message_id: indexed(bytes32)
    source_chain: indexed(uint64)
    receiver: indexed(address)
    amount: uint256


event Held:
    message_id: indexed(bytes32)
    receiver: address
    amount: uint256
    code: uint8


event Released:
    message_id: indexed(bytes32)
    to: indexed(address)
    amount: uint256
    agent: indexed(address)


event Returned:
    message_id: indexed(bytes32)
    new_message_id: indexed(bytes32)
    agent: indexed(address)


@deploy
def __init__(token_: address):
    """
    @dev Binds the pool to `token_`, whose decimals must be at least 8.
    @param token_ The stock token.
    """
    decimals: uint8 = staticcall IBridgeToken(token_).decimals()
    assert decimals >= SHARED_DECIMALS, "bridge: token has fewer than 8 decimals"
    token = token_
    scale = pow_mod256(10, convert(decimals - SHARED_DECIMALS, uint256))
    _DOMAIN_SEPARATOR = keccak256(
        abi_encode(_DOMAIN_TYPEHASH, keccak256("Equitoken Bridge"), keccak256("1"))
    )


@external
@view
def remote_pool(chain_id: uint64) -> bytes32:
    """
    @dev Returns the pool of `chain_id`, zero if bridging with it is off.
    @param chain_id The remote chain id.
    @return bytes32 The remote pool (EVM: the address left-padded).
    """
    return self._remotes[chain_id].pool


@external
@view
def remote_is_evm(chain_id: uint64) -> bool:
    """
    @dev Returns whether `chain_id` is an EVM chain (its senders and
         receivers are addresses).
    @param chain_id The remote chain id.
    @return bool True for an EVM remote.
    """
    return self._remotes[chain_id].is_evm


@external
@view
def message_status(message_id: bytes32) -> uint8:
    """
    @dev Returns the status of an inbound message: 0 none, 1 minted,
         2 held, 3 released, 4 returned.
    @param message_id The message id.
    @return uint8 The status.
    """
    return self._status[message_id]


@external
@view
def held(message_id: bytes32) -> (address, bytes32, uint64, uint64):
    """
    @dev Returns an inbound message the pool held (kept after release or
         return, zero if never held).
    @param message_id The message id.
    @return address The receiver on this chain (zero if it was no address).
    @return bytes32 The sender on the source chain.
    @return uint64 The source chain id.
    @return uint64 The amount in shared decimals.
    """
    entry: HeldMessage = self._held[message_id]
    return (entry.receiver, entry.sender, entry.source_chain, entry.amount)


@external
@pure
def message_id(message: Message) -> bytes32:
    """
    @dev Returns the id of `message`: keccak256 of its nine words.
    @param message The message.
    @return bytes32 The id.
    """
    return self._message_id(message)


@external
@view
def digest(message: Message) -> bytes32:
    """
    @dev Returns the EIP-712 digest attesters sign for `message`.
    @param message The message.
    @return bytes32 The digest.
    """
    return self._digest(message)


@external
@view
def domain_separator() -> bytes32:
    """
    @dev Returns the EIP-712 domain separator of the attestations.
    @return bytes32 keccak256(typehash ‖ keccak256(name) ‖ keccak256(version)).
    """
    return _DOMAIN_SEPARATOR


@external
def set_remote(chain_id: uint64, pool: bytes32, is_evm: bool):
    """
    @dev Sets the pool of `chain_id`. Only `DEFAULT_ADMIN_ROLE`.
    @param chain_id The remote chain id.
    @param pool The remote pool (EVM: the address left-padded); zero
           stops bridging with that chain both ways.
    @param is_evm Whether the remote is an EVM chain.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert not is_evm or convert(pool, uint256) < _ADDRESS_LIMIT, "bridge: pool is not an EVM address"
    self._remotes[chain_id] = Remote(pool=pool, is_evm=is_evm)
    log RemoteSet(chain_id=chain_id, pool=pool, is_evm=is_evm)


@external
def send(dest_chain: uint64, receiver: bytes32, amount: uint256, min_received: uint256) -> bytes32:
    """
    @dev Burns `amount` of the caller's tokens (the caller approved the
         pool) and emits the message that mints them on `dest_chain`.
         For an EVM remote the receiver must also pass the token's
         checks here. Reverts with the token's reason when the token
         refuses the caller or the receiver.
    @param dest_chain The destination chain id.
    @param receiver The receiver there (EVM: the address left-padded).
    @param amount The raw local amount; a multiple of `scale`.
    @param min_received The least amount, in local units, the receiver
           must get (no fee today: the receiver gets `amount`).
    @return bytes32 The message id.
    """
    pausable._require_not_paused()
    remote: Remote = self._remotes[dest_chain]
    assert remote.pool != empty(bytes32), "bridge: unknown remote"
    assert receiver != empty(bytes32), "bridge: receiver is zero"
    if remote.is_evm:
        assert convert(receiver, uint256) < _ADDRESS_LIMIT, "bridge: receiver is not an EVM address"
    assert amount > 0, "bridge: amount is zero"
    assert amount % scale == 0, "bridge: amount has dust below 8 decimals"
    shared: uint256 = amount // scale
    assert shared <= convert(max_value(uint64), uint256), "bridge: amount too large"
    assert amount >= min_received, "bridge: below min_received"
    if remote.is_evm:
        code: uint8 = 0
        reason: String[48] = ""
        code, reason = staticcall IBridgeToken(token).can_transfer(msg.sender, self._address(receiver), 0)
        if code != transfer_codes.OK:
            raw_revert(abi_encode(reason, method_id=method_id("Error(string)")))
    rate_limiter._consume_outbound(dest_chain, shared)
    extcall IBridgeToken(token).burn_from(msg.sender, amount)
    return self._emit_sent(
        dest_chain, remote.pool, convert(convert(msg.sender, uint256), bytes32), receiver, convert(shared, uint64), msg.sender
    )


@external
def receive(message: Message, signatures: DynArray[Bytes[65], attester_set.MAX_ATTESTERS]):
    """
    @dev Processes an attested inbound message once: mints to its
         receiver, or holds it when the token would refuse the receiver
         or (EVM source) the sender is sanctioned. Anyone may call.
    @param message The message, as the source pool emitted it.
    @param signatures At least `threshold` attester signatures over
           `digest(message)`, sorted by signer address ascending.
    """
    assert not pausable.paused and not staticcall IBridgeToken(token).paused(), "bridge: paused"
    assert convert(message.dest_chain, uint256) == chain.id, "bridge: wrong destination chain"
    assert message.dest_pool == self._self_bytes32(), "bridge: wrong destination pool"
    remote: Remote = self._remotes[message.source_chain]
    assert remote.pool != empty(bytes32) and remote.pool == message.source_pool, "bridge: unknown source"
    id: bytes32 = self._message_id(message)
    assert self._status[id] == STATUS_NONE, "bridge: message already processed"
    attester_set._check_quorum(self._digest(message), signatures)
    rate_limiter._consume_inbound(message.source_chain, convert(message.amount, uint256))

    amount: uint256 = convert(message.amount, uint256) * scale
    code: uint8 = transfer_codes.INVALID_RECEIVER
    receiver: address = empty(address)
    if convert(message.receiver, uint256) < _ADDRESS_LIMIT:
        receiver = self._address(message.receiver)
        reason: String[48] = ""
        code, reason = staticcall IBridgeToken(token).can_transfer(self, receiver, 0)
    if code == transfer_codes.OK and remote.is_evm:
        sanctions: address = staticcall IBridgeToken(token).sanctions_list()
        if sanctions != empty(address) and staticcall ISanctionsList(sanctions).isSanctioned(
            self._address(message.sender)
        ):
            code = transfer_codes.SENDER_SANCTIONED

    if code != transfer_codes.OK:
        self._status[id] = STATUS_HELD
        self._held[id] = HeldMessage(
            receiver=receiver, sender=message.sender, source_chain=message.source_chain, amount=message.amount
        )
        log Held(message_id=id, receiver=receiver, amount=amount, code=code)
        return
    self._status[id] = STATUS_MINTED
    extcall IBridgeToken(token).mint(receiver, amount)
    log Received(message_id=id, source_chain=message.source_chain, receiver=receiver, amount=amount)


@external
def release(message_id: bytes32, to: address):
    """
    @dev Mints a held message's amount to `to` (the token checks `to`).
         Only `COMPLIANCE_AGENT_ROLE`.
    @param message_id The held message's id.
    @param to The 20-byte address that receives the tokens.
    """
    access_control._check_role(COMPLIANCE_AGENT_ROLE, msg.sender)
    pausable._require_not_paused()
    assert self._status[message_id] == STATUS_HELD, "bridge: message not held"
    self._status[message_id] = STATUS_RELEASED
    amount: uint256 = convert(self._held[message_id].amount, uint256) * scale
    extcall IBridgeToken(token).mint(to, amount)
    log Released(message_id=message_id, to=to, amount=amount, agent=msg.sender)


@external
def return_held(message_id: bytes32) -> bytes32:
    """
    @dev Sends a held message's amount back to its source chain, to its
         sender, as a new message from this pool (its sender field is
         the pool: nothing was minted, so nothing is burned, and the
         outbound limit does not apply). Only `COMPLIANCE_AGENT_ROLE`.
    @param message_id The held message's id.
    @return bytes32 The new message's id.
    """
    access_control._check_role(COMPLIANCE_AGENT_ROLE, msg.sender)
    pausable._require_not_paused()
    assert self._status[message_id] == STATUS_HELD, "bridge: message not held"
    entry: HeldMessage = self._held[message_id]
    dest_pool: bytes32 = self._remotes[entry.source_chain].pool
    assert dest_pool != empty(bytes32), "bridge: unknown remote"
    self._status[message_id] = STATUS_RETURNED
    new_id: bytes32 = self._emit_sent(
        entry.source_chain, dest_pool, self._self_bytes32(), entry.sender, entry.amount, self
    )
    log Returned(message_id=message_id, new_message_id=new_id, agent=msg.sender)
    return new_id


@external
def pause():
    """
    @dev Stops `send`, `receive`, `release` and `return_held`. Only
         `PAUSER_ROLE`.
    """
    access_control._check_role(PAUSER_ROLE, msg.sender)
    pausable._pause()


@external
def unpause():
    """
    @dev Lets the pool work again. Only `PAUSER_ROLE`.
    """
    access_control._check_role(PAUSER_ROLE, msg.sender)
    pausable._unpause()


@internal
def _emit_sent(
    dest_chain: uint64, dest_pool: bytes32, sender: bytes32, receiver: bytes32, amount: uint64, logged_sender: address
) -> bytes32:
    next_nonce: uint64 = self.nonce + 1
    self.nonce = next_nonce
    id: bytes32 = self._message_id(
        Message(
            source_chain=convert(chain.id, uint64),
            source_pool=self._self_bytes32(),
            dest_chain=dest_chain,
            dest_pool=dest_pool,
            nonce=next_nonce,
            sender=sender,
            receiver=receiver,
            amount=amount,
            salt=empty(bytes32),
        )
    )
    log Sent(
        message_id=id,
        dest_chain=dest_chain,
        sender=logged_sender,
        nonce=next_nonce,
        receiver=receiver,
        amount=amount,
        dest_pool=dest_pool,
    )
    return id


@internal
@pure
def _message_id(message: Message) -> bytes32:
    return keccak256(
        abi_encode(
            message.source_chain,
            message.source_pool,
            message.dest_chain,
            message.dest_pool,
            message.nonce,
            message.sender,
            message.receiver,
            message.amount,
            message.salt,
        )
    )


@internal
@view
def _digest(message: Message) -> bytes32:
    struct_hash: bytes32 = keccak256(
        abi_encode(
            _MESSAGE_TYPEHASH,
            message.source_chain,
            message.source_pool,
            message.dest_chain,
            message.dest_pool,
            message.nonce,
            message.sender,
            message.receiver,
            message.amount,
            message.salt,
        )
    )
    return message_hash_utils._to_typed_data_hash(_DOMAIN_SEPARATOR, struct_hash)


@internal
@view
def _self_bytes32() -> bytes32:
    return convert(convert(self, uint256), bytes32)


@internal
@pure
def _address(word: bytes32) -> address:
    # The low 20 bytes; callers check the high 12 where they matter.
    return convert(convert(word, uint256) % _ADDRESS_LIMIT, address)
