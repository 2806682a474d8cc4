"""Compliance across the bridge: a receiver refused at the destination is held (on EVM by the pool, on
Solana by the relayer) until the compliance agent releases it to a clean wallet or returns it to its
sender; a frozen sender or a restricted token cannot leave; a paused pool makes the relayer wait."""

import json
from collections.abc import Iterator

import pytest
from solders.keypair import Keypair
from tests.support.bridge import (
    BASE,
    ETHEREUM,
    ONE,
    BridgeWorld,
    bridge_world,
    evm_word,
    fresh_wallet,
    mint_through_workflow,
    solana_word,
)

from equitoken.chain.errors import RevertError
from equitoken.chain.solana.stock_mint import derive_keypair
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares
from equitoken.store.schema import BridgeEventRow, BridgeTransferRow, ChainTransactionRow

pytestmark = pytest.mark.anvil

HELD, RELEASED, RETURNED = 2, 3, 4


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[BridgeWorld]:
    with bridge_world(tmp_path_factory.mktemp("compliance"), prices, calendar) as built:
        p = built.platform
        mint_through_workflow(p, built.issuer, "AAPL", ETHEREUM, p.wallet, "10")
        mint_through_workflow(p, built.issuer, "HOOD", ETHEREUM, p.wallet, "1")
        yield built


def _conserved(world: BridgeWorld, ticker: str = "AAPL") -> None:
    custody = world.issuer.reconcile()
    holding = next(h for h in custody.holdings if h.ticker == ticker)
    total = sum(world.supply(ticker).values()) + world.in_flight(ticker)
    assert Shares(total * Shares.token_step(8)) == holding.custody


def _sanction_on_base(world: BridgeWorld, wallet: str) -> None:
    world.base.sanctions.addToSanctionsList([wallet], sender=world.base.roles.admin)


def _balance(world: BridgeWorld, chain_id: int, wallet: str) -> int:
    return int(world.token(chain_id, "AAPL").balanceOf(wallet))


def _returned_by(world: BridgeWorld, transfer_id: str) -> BridgeTransferRow:
    with world.database.transaction() as session:
        row = session.query(BridgeTransferRow).filter(BridgeTransferRow.returns == transfer_id).one()
        session.expunge(row)
        return row


def _last_reason(world: BridgeWorld, transfer_id: str) -> str:
    with world.database.transaction() as session:
        events = session.query(BridgeEventRow).filter(BridgeEventRow.transfer_id == transfer_id)
        last = events.order_by(BridgeEventRow.id.desc()).first()
        assert last is not None
        return last.reason


def test_a_receiver_sanctioned_in_flight_is_held_then_released(world: BridgeWorld) -> None:
    receiver, clean = fresh_wallet("compliance-5"), fresh_wallet("compliance-6")
    supply = world.supply("AAPL")
    message_id = world.send(ETHEREUM, "AAPL", BASE, evm_word(receiver), 2 * ONE)
    _sanction_on_base(world, receiver)
    world.relay()
    row = world.transfer(message_id)
    assert row.state == "held", row.reason
    pool = world.pool(BASE, "AAPL")
    assert int(pool.message_status(bytes.fromhex(message_id[2:]))) == HELD
    assert world.supply("AAPL")[BASE] == supply[BASE]
    assert world.in_flight("AAPL") == 2 * ONE
    _conserved(world)
    # A wallet the token refuses now is refused at once, and the decision is not recorded.
    with pytest.raises(ValueError, match=r"cannot release to .*receiver is sanctioned"):
        world.relayer.decide(message_id, release_to=receiver)
    assert world.transfer(message_id).resolution is None
    # One refused by the time the release is sent: the release reverts, the transfer stays held.
    late = fresh_wallet("compliance-4")
    world.relayer.decide(message_id, release_to=late)
    _sanction_on_base(world, late)
    world.relay()
    row = world.transfer(message_id)
    assert row.state == "held"
    assert row.resolution is None
    assert "decide again" in _last_reason(world, message_id)
    assert "receiver is sanctioned" in _last_reason(world, message_id)
    world.relayer.decide(message_id, release_to=clean)
    with pytest.raises(ValueError, match="already being settled"):
        world.relayer.decide(message_id, release_to=clean)
    world.relay()
    assert world.transfer(message_id).state == "released"
    assert int(pool.message_status(bytes.fromhex(message_id[2:]))) == RELEASED
    assert _balance(world, BASE, clean) == 2 * ONE
    assert _balance(world, BASE, receiver) == 0
    assert world.supply("AAPL")[BASE] == supply[BASE] + 2 * ONE
    with pytest.raises(ValueError, match="not held"):
        world.relayer.decide(message_id, release_to=clean)
    world.relay()
    assert _balance(world, BASE, clean) == 2 * ONE
    assert world.in_flight("AAPL") == 0
    _conserved(world)


def test_a_held_transfer_returned_is_minted_back_on_the_source(world: BridgeWorld) -> None:
    receiver = fresh_wallet("compliance-7")
    _sanction_on_base(world, receiver)
    start = _balance(world, ETHEREUM, world.wallet)
    message_id = world.send(ETHEREUM, "AAPL", BASE, evm_word(receiver), ONE + ONE // 2)
    world.relay()
    assert world.transfer(message_id).state == "held"
    assert _balance(world, ETHEREUM, world.wallet) == start - (ONE + ONE // 2)
    world.relayer.decide(message_id)
    world.relay()
    assert world.transfer(message_id).state == "returned"
    assert int(world.pool(BASE, "AAPL").message_status(bytes.fromhex(message_id[2:]))) == RETURNED
    back = _returned_by(world, message_id)
    assert (back.source_chain, back.dest_chain) == (BASE, ETHEREUM)
    assert back.receiver == "0x" + evm_word(world.wallet).hex()
    assert back.state == "minted", back.reason
    assert _balance(world, ETHEREUM, world.wallet) == start
    assert _balance(world, BASE, receiver) == 0
    _conserved(world)


def _frozen_solana_receiver(world: BridgeWorld, name: str) -> Keypair:
    """A Solana wallet whose AAPL token account exists and is frozen."""
    wallet = derive_keypair(b"bridge compliance", name)
    solana = world.solana.chain
    call = solana.registration_call("AAPL", str(wallet.pubkey()), verified=False)
    solana.chain.send(call.instructions, call.payer, *call.signers)
    account = solana.chain.token_account(solana.token_account("AAPL", str(wallet.pubkey())))
    assert account is not None
    assert account.state.name == "FROZEN"
    return wallet


def test_a_frozen_solana_receiver_is_held_then_released(world: BridgeWorld) -> None:
    frozen = _frozen_solana_receiver(world, "frozen-1")
    clean = derive_keypair(b"bridge compliance", "clean")
    solana = world.solana.chain
    supply = world.supply("AAPL")[solana.chain_id]
    message_id = world.send(ETHEREUM, "AAPL", solana.chain_id, solana_word(frozen.pubkey()), ONE // 2)
    world.relay()
    row = world.transfer(message_id)
    assert row.state == "held"
    assert "frozen" in _last_reason(world, message_id)
    assert world.supply("AAPL")[solana.chain_id] == supply
    _conserved(world)
    world.relayer.decide(message_id, release_to=str(clean.pubkey()))
    world.relay()
    assert world.transfer(message_id).state == "released"
    assert solana.balance("AAPL", str(clean.pubkey())) == ONE // 2
    assert solana.balance("AAPL", str(frozen.pubkey())) == 0
    assert world.supply("AAPL")[solana.chain_id] == supply + ONE // 2
    _conserved(world)


def test_a_frozen_solana_receiver_returned_burns_from_the_hold_wallet_in_one_tx(world: BridgeWorld) -> None:
    frozen = _frozen_solana_receiver(world, "frozen-2")
    solana = world.solana.chain
    hold = str(world.solana.hold.pubkey())
    supply = world.supply("AAPL")[solana.chain_id]
    start = _balance(world, ETHEREUM, world.wallet)
    message_id = world.send(ETHEREUM, "AAPL", solana.chain_id, solana_word(frozen.pubkey()), ONE // 4)
    world.relay()
    assert world.transfer(message_id).state == "held"
    world.relayer.decide(message_id)
    world.relay()
    assert world.transfer(message_id).state == "returned"
    back = _returned_by(world, message_id)
    assert (back.source_chain, back.dest_chain) == (solana.chain_id, ETHEREUM)
    with world.database.transaction() as session:
        sent = session.query(ChainTransactionRow).filter_by(purpose=f"bridge-return:{message_id}").one()
        assert sent.tx_hash == back.source_tx  # one transaction minted to the hold wallet and burned
    message = json.loads(back.message)
    assert message["sender"] == "0x" + bytes(world.solana.hold.pubkey()).hex()
    assert back.state == "minted", back.reason
    assert solana.balance("AAPL", hold) == 0
    assert world.supply("AAPL")[solana.chain_id] == supply
    assert _balance(world, ETHEREUM, world.wallet) == start
    _conserved(world)


def test_a_frozen_sender_cannot_send(world: BridgeWorld) -> None:
    token, agent = world.token(ETHEREUM, "AAPL"), world.platform.onchain.roles.compliance_agent
    balance = _balance(world, ETHEREUM, world.wallet)
    token.set_address_frozen(world.wallet, True, sender=agent)
    try:
        with pytest.raises(RevertError, match="sender is frozen"):
            world.send(ETHEREUM, "AAPL", BASE, evm_word(world.wallet), ONE)
    finally:
        token.set_address_frozen(world.wallet, False, sender=agent)
    assert _balance(world, ETHEREUM, world.wallet) == balance


def test_restricted_tokens_cannot_be_sent_by_holders(world: BridgeWorld) -> None:
    hood = world.token(ETHEREUM, "HOOD")
    balance = int(hood.balanceOf(world.wallet))
    assert balance == ONE
    with pytest.raises(RevertError, match="only an operator may move restricted tokens"):
        world.send(ETHEREUM, "HOOD", BASE, evm_word(world.wallet), ONE)
    assert int(hood.balanceOf(world.wallet)) == balance


def test_a_paused_destination_pool_makes_the_relayer_wait(world: BridgeWorld) -> None:
    pool, pauser = world.pool(BASE, "AAPL"), world.base.roles.pauser
    receiver = fresh_wallet("compliance-8")
    message_id = world.send(ETHEREUM, "AAPL", BASE, evm_word(receiver), 3 * ONE // 4)
    pool.pause(sender=pauser)
    try:
        world.relay()
        row = world.transfer(message_id)
        assert row.state == "attested"
        assert "bridge: paused" in (row.reason or ""), row.reason
        assert _balance(world, BASE, receiver) == 0
        _conserved(world)
    finally:
        pool.unpause(sender=pauser)
    world.relay()
    world.relay()
    assert world.transfer(message_id).state == "minted"
    assert _balance(world, BASE, receiver) == 3 * ONE // 4
    with world.database.transaction() as session:
        receives = session.query(ChainTransactionRow).filter_by(purpose=f"bridge-receive:{message_id}")
        assert receives.count() == 1
    _conserved(world)


def test_a_transfer_crossing_a_multiplier_change_moves_the_same_raw_amount(world: BridgeWorld) -> None:
    # Last in the module: the new multiplier stays in force on both chains. A reverse split (custody is
    # not touched here: a forward split would wait, rightly, for the broker's custody to grow with it).
    receiver = fresh_wallet("compliance-9")
    amount = ONE + ONE // 5
    start = _balance(world, ETHEREUM, world.wallet)
    message_id = world.send(ETHEREUM, "AAPL", BASE, evm_word(receiver), amount)
    multiplier = 10**18 // 2  # a 1-for-2 reverse split, shown in UI units
    effective = max(world.chain_of(c).chain.timestamp() for c in (ETHEREUM, BASE)) + 5
    for chain_id in (ETHEREUM, BASE):
        chain = world.chain_of(chain_id)
        world.token(chain_id, "AAPL").setUIMultiplier(
            multiplier, effective, sender=chain.roles.multiplier_updater
        )
        assert int(world.token(chain_id, "AAPL").uiMultiplier()) == 10**18
    world.relay()
    assert world.transfer(message_id).state == "minted", world.transfer(message_id).reason
    for chain_id in (ETHEREUM, BASE):
        assert int(world.token(chain_id, "AAPL").uiMultiplierAt(effective)) == multiplier
    assert int(world.token(BASE, "AAPL").uiMultiplier()) == multiplier  # minted after the change
    assert world.transfer(message_id).amount == amount
    assert _balance(world, BASE, receiver) == amount
    assert _balance(world, ETHEREUM, world.wallet) == start - amount
    ui = int(world.token(BASE, "AAPL").balanceOfUI(receiver))
    assert ui == amount * multiplier // 10**18
