"""Bridging out of Solana: a holder's memo and BurnChecked, run by the real Token-2022 and Memo programs
in LiteSVM, and read back strictly from the landed transactions (and over the JSON-RPC endpoint)."""

import hashlib
from collections.abc import Iterator

import pytest
from solders.hash import Hash
from solders.instruction import CompiledInstruction
from solders.keypair import Keypair
from solders.message import Message, MessageV0
from solders.signature import Signature
from solders.transaction import VersionedTransaction
from tests.support.solana_bridge import (
    EVM_CHAIN,
    EVM_RECEIVER,
    ONE,
    SolanaBridgeWorld,
    bridge_compute_units,
)

from equitoken.bridge.solana_burns import (
    BRIDGE_MEMO_PREFIX,
    BridgeBurn,
    bridge_memo,
    bridge_out_instructions,
    find_bridge_burns,
    parse_bridge_burn,
    parse_bridge_memo,
)
from equitoken.chain.errors import RevertError
from equitoken.chain.solana.chain import SOLANA_LOCAL
from equitoken.chain.solana.memo import MEMO_PROGRAM_ID, memo
from equitoken.chain.solana.rpc import SolanaRpcChain
from equitoken.chain.solana.rpc_server import SolanaRpcServer
from equitoken.chain.solana.stock_mint import STOCK_DECIMALS
from equitoken.chain.solana.token2022 import (
    TOKEN_2022_PROGRAM_ID,
    associated_token_address,
    burn_checked,
    freeze_account,
    pause,
)


@pytest.fixture
def world() -> SolanaBridgeWorld:
    return SolanaBridgeWorld.create()


def burns(world: SolanaBridgeWorld) -> list[BridgeBurn]:
    return find_bridge_burns(world.chain, [world.mint], -1, world.chain.slot())


def test_a_holder_bridges_out_and_the_burn_reads_back_field_by_field(world: SolanaBridgeWorld) -> None:
    holder = world.holder(10 * ONE)
    supply = world.chain.mint(world.mint).supply

    landed = world.bridge_out(holder, 3 * ONE)

    assert world.chain.holder_balance(world.mint, holder.pubkey()) == 7 * ONE
    assert world.chain.mint(world.mint).supply == supply - 3 * ONE
    salt = hashlib.sha256(bytes(Signature.from_string(landed.signature))).digest()
    expected = BridgeBurn(
        landed.signature, landed.slot, world.mint, holder.pubkey(), 3 * ONE, EVM_CHAIN, EVM_RECEIVER, salt
    )
    assert burns(world) == [expected]
    assert find_bridge_burns(world.chain, [world.mint], landed.slot, world.chain.slot()) == []
    assert find_bridge_burns(world.chain, [], -1, world.chain.slot()) == []  # not a watched mint


def test_a_burn_without_a_bridge_memo_is_not_a_bridge_out(world: SolanaBridgeWorld) -> None:
    holder = world.holder(10 * ONE)
    account = associated_token_address(holder.pubkey(), world.mint)
    burn = burn_checked(account, world.mint, holder.pubkey(), ONE, STOCK_DECIMALS)
    world.chain.send([burn], holder)
    world.chain.send([memo("just a note", [holder.pubkey()]), burn], holder)

    assert world.chain.holder_balance(world.mint, holder.pubkey()) == 8 * ONE
    assert burns(world) == []


def test_a_memo_naming_a_bad_receiver_burns_and_is_ignored(world: SolanaBridgeWorld) -> None:
    holder = world.holder(10 * ONE)
    account = associated_token_address(holder.pubkey(), world.mint)
    burn = burn_checked(account, world.mint, holder.pubkey(), ONE, STOCK_DECIMALS)

    world.chain.send([memo(f"{BRIDGE_MEMO_PREFIX}:{EVM_CHAIN}:0x1234", [holder.pubkey()]), burn], holder)

    assert world.chain.holder_balance(world.mint, holder.pubkey()) == 9 * ONE
    assert burns(world) == []


def test_two_burns_or_two_memos_in_one_transaction_are_not_a_bridge_out(world: SolanaBridgeWorld) -> None:
    holder = world.holder(10 * ONE)
    memo_ix, burn_ix = bridge_out_instructions(
        world.mint, holder.pubkey(), ONE, STOCK_DECIMALS, EVM_CHAIN, EVM_RECEIVER
    )
    other = burn_checked(
        associated_token_address(holder.pubkey(), world.mint), world.mint, holder.pubkey(), 2 * ONE, 8
    )
    second_memo = memo(bridge_memo(1, EVM_RECEIVER), [holder.pubkey()])

    world.chain.send([memo_ix, burn_ix, other], holder)
    world.chain.send([memo_ix, second_memo, burn_ix], holder)

    assert world.chain.holder_balance(world.mint, holder.pubkey()) == 6 * ONE
    assert burns(world) == []


def test_a_frozen_account_cannot_bridge_out(world: SolanaBridgeWorld) -> None:
    holder = world.holder(10 * ONE)
    freezer = world.authorities.freezer
    account = associated_token_address(holder.pubkey(), world.mint)
    world.chain.send([freeze_account(account, world.mint, freezer.pubkey())], world.payer, freezer)

    with pytest.raises(RevertError, match="account is frozen"):
        world.bridge_out(holder, ONE)

    assert world.chain.holder_balance(world.mint, holder.pubkey()) == 10 * ONE
    assert burns(world) == []


def test_a_paused_mint_refuses_a_bridge_out(world: SolanaBridgeWorld) -> None:
    holder = world.holder(10 * ONE)
    pauser = world.authorities.pauser
    world.chain.send([pause(world.mint, pauser.pubkey())], world.payer, pauser)

    with pytest.raises(RevertError, match="the mint is paused"):
        world.bridge_out(holder, ONE)

    assert world.chain.holder_balance(world.mint, holder.pubkey()) == 10 * ONE
    assert burns(world) == []


def test_a_burn_by_the_permanent_delegate_with_a_bridge_memo_is_not_the_holders(
    world: SolanaBridgeWorld,
) -> None:
    holder = world.holder(10 * ONE)
    delegate = world.authorities.delegate
    account = associated_token_address(holder.pubkey(), world.mint)
    burn = burn_checked(account, world.mint, delegate.pubkey(), ONE, STOCK_DECIMALS)

    world.chain.send([memo(bridge_memo(EVM_CHAIN, EVM_RECEIVER)), burn], world.payer, delegate)

    assert world.chain.holder_balance(world.mint, holder.pubkey()) == 9 * ONE
    assert burns(world) == []


@pytest.mark.parametrize(
    "text",
    [
        f"{BRIDGE_MEMO_PREFIX}:abc:0x{EVM_RECEIVER.hex()}",
        f"{BRIDGE_MEMO_PREFIX}:0:0x{EVM_RECEIVER.hex()}",
        f"{BRIDGE_MEMO_PREFIX}:-1:0x{EVM_RECEIVER.hex()}",
        f"{BRIDGE_MEMO_PREFIX}:01:0x{EVM_RECEIVER.hex()}",
        f"{BRIDGE_MEMO_PREFIX}:{2**64}:0x{EVM_RECEIVER.hex()}",
        f"{BRIDGE_MEMO_PREFIX}: 1:0x{EVM_RECEIVER.hex()}",
        f"{BRIDGE_MEMO_PREFIX}:1:{EVM_RECEIVER.hex()}",
        f"{BRIDGE_MEMO_PREFIX}:1:0x{EVM_RECEIVER.hex()[:-1]}",
        f"{BRIDGE_MEMO_PREFIX}:1:0x{EVM_RECEIVER.hex()}0",
        f"{BRIDGE_MEMO_PREFIX}:1:0x{EVM_RECEIVER.hex()}:",
        f"{BRIDGE_MEMO_PREFIX}:1:0x{EVM_RECEIVER.hex()}\n",
        f"{BRIDGE_MEMO_PREFIX}:1:0x{'0' * 64}",
        f"{BRIDGE_MEMO_PREFIX}:1:0x{'g' * 64}",
        f"equitoken-bridge:2:1:0x{EVM_RECEIVER.hex()}",
        "",
    ],
)
def test_a_malformed_bridge_memo_names_no_destination(text: str) -> None:
    assert parse_bridge_memo(text) is None


def test_a_bridge_memo_names_its_destination() -> None:
    upper = f"{BRIDGE_MEMO_PREFIX}:{2**64 - 1}:0x{EVM_RECEIVER.hex().upper()}"
    assert parse_bridge_memo(upper) == (2**64 - 1, EVM_RECEIVER)
    assert parse_bridge_memo(bridge_memo(EVM_CHAIN, EVM_RECEIVER)) == (EVM_CHAIN, EVM_RECEIVER)
    with pytest.raises(ValueError, match="receiver"):
        bridge_memo(EVM_CHAIN, bytes(20))


@pytest.fixture
def served(world: SolanaBridgeWorld) -> Iterator[SolanaRpcChain]:
    server = SolanaRpcServer(world.chain).start()
    rpc = SolanaRpcChain(server.url, SOLANA_LOCAL)
    yield rpc
    rpc.close()
    server.stop()


def test_the_rpc_chain_gives_the_confirmed_transaction_as_litesvm_does(
    world: SolanaBridgeWorld, served: SolanaRpcChain
) -> None:
    holder = world.holder(10 * ONE)
    legacy = world.bridge_out(holder, 3 * ONE)
    instructions = bridge_out_instructions(world.mint, holder.pubkey(), ONE, 8, EVM_CHAIN, EVM_RECEIVER)
    message = MessageV0.try_compile(holder.pubkey(), instructions, [], world.chain.latest_blockhash())
    v0 = VersionedTransaction(message, [holder])
    world.chain.send_raw(v0)

    for signature in (legacy.signature, str(v0.signatures[0])):
        local = world.chain.confirmed_transaction(signature)
        remote = served.confirmed_transaction(signature)
        assert local is not None
        assert remote is not None
        assert remote[0] == local[0] == world.chain.landed(signature)
        assert bytes(remote[1]) == bytes(local[1])
        assert parse_bridge_burn(signature, local[0].slot, remote[1], [world.mint]) in burns(world)
    assert [burn.amount for burn in burns(world)] == [3 * ONE, ONE]
    assert served.slot() == world.chain.slot()
    unknown = str(Keypair().sign_message(b"never sent"))
    assert served.confirmed_transaction(unknown) is None
    assert world.chain.confirmed_transaction(unknown) is None


def test_bridge_compute_units_are_measured_from_the_transaction_metadata() -> None:
    units = bridge_compute_units()
    assert set(units) == {"burn", "mint"}
    assert 0 < units["mint"] < units["burn"] < 20_000


def test_hostile_instructions_are_not_a_bridge_out_and_never_raise(world: SolanaBridgeWorld) -> None:
    holder = Keypair()
    memo_ix, burn_ix = bridge_out_instructions(
        world.mint, holder.pubkey(), ONE, STOCK_DECIMALS, EVM_CHAIN, EVM_RECEIVER
    )
    good = Message.new_with_blockhash([memo_ix, burn_ix], holder.pubkey(), Hash.default())
    keys = list(good.account_keys)
    token, memo_at = keys.index(TOKEN_2022_PROGRAM_ID), keys.index(MEMO_PROGRAM_ID)
    memo_data, burn_data = bytes(memo_ix.data), bytes(burn_ix.data)
    burn_accounts = bytes(good.instructions[1].accounts)
    hostile = [
        CompiledInstruction(token, b"", burn_accounts),
        CompiledInstruction(token, burn_data[:1], burn_accounts),
        CompiledInstruction(token, burn_data, bytes([1, 200, 0])),
        CompiledInstruction(token, burn_data, b"\x01"),
        CompiledInstruction(memo_at, b"\xff\xfe", b""),
        CompiledInstruction(200, memo_data, b""),
    ]
    signature = Signature.new_unique()
    for instruction in hostile:
        for instructions in ([good.instructions[0], instruction], [instruction, good.instructions[1]]):
            message = Message.new_with_compiled_instructions(
                1, 0, len(keys) - 2, keys, Hash.default(), instructions
            )
            transaction = VersionedTransaction.populate(message, [signature])
            assert parse_bridge_burn(str(signature), 1, transaction, [world.mint]) is None
    intact = VersionedTransaction.populate(good, [signature])
    assert parse_bridge_burn(str(signature), 1, intact, [world.mint]) is not None
    assert parse_bridge_burn(str(Signature.new_unique()), 1, intact, [world.mint]) is None
