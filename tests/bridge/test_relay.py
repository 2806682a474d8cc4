"""Transfers on every pair of chains, relayed by the relayer over a quorum of attester processes."""

from collections.abc import Iterator

import pytest
from tests.support.bridge import (
    BASE,
    ETHEREUM,
    ONE,
    BridgeWorld,
    bridge_world,
    evm_word,
    mint_through_workflow,
    solana_word,
)

from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[BridgeWorld]:
    with bridge_world(tmp_path_factory.mktemp("bridge"), prices, calendar) as built:
        p = built.platform
        mint_through_workflow(p, built.issuer, "AAPL", ETHEREUM, p.wallet, "10")
        solana = built.solana.chain
        mint_through_workflow(
            p, built.issuer, "AAPL", solana.chain_id, str(built.solana_wallet.pubkey()), "10"
        )
        yield built


def _conserved(world: BridgeWorld, ticker: str) -> None:
    """Supply on every chain plus what is in flight is what custody backs."""
    custody = world.issuer.reconcile()
    holding = next(h for h in custody.holdings if h.ticker == ticker)
    total = sum(world.supply(ticker).values()) + world.in_flight(ticker)
    assert Shares(total * Shares.token_step(8)) == holding.custody


def test_ethereum_to_base(world: BridgeWorld) -> None:
    before = world.supply("AAPL")
    message_id = world.send(ETHEREUM, "AAPL", BASE, evm_word(world.wallet), 2 * ONE)
    assert world.supply("AAPL")[ETHEREUM] == before[ETHEREUM] - 2 * ONE
    world.relay()
    row = world.transfer(message_id)
    assert row.state == "minted", row.reason
    assert int(world.token(BASE, "AAPL").balanceOf(world.wallet)) == 2 * ONE
    _conserved(world, "AAPL")


def test_ethereum_to_solana(world: BridgeWorld) -> None:
    receiver = world.solana_wallet.pubkey()
    before = world.solana.chain.balance("AAPL", str(receiver))
    message_id = world.send(ETHEREUM, "AAPL", world.solana.chain.chain_id, solana_word(receiver), ONE)
    world.relay()
    assert world.transfer(message_id).state == "minted", world.transfer(message_id).reason
    assert world.solana.chain.balance("AAPL", str(receiver)) == before + ONE
    _conserved(world, "AAPL")


def test_solana_to_base(world: BridgeWorld) -> None:
    before = int(world.token(BASE, "AAPL").balanceOf(world.wallet))
    world.bridge_out("AAPL", BASE, evm_word(world.wallet), 3 * ONE)
    world.relay()
    assert int(world.token(BASE, "AAPL").balanceOf(world.wallet)) == before + 3 * ONE
    _conserved(world, "AAPL")


def test_reconciliation_counts_a_transfer_in_flight_at_its_destination(world: BridgeWorld) -> None:
    before = next(h for h in world.issuer.reconcile().holdings if h.ticker == "AAPL")

    message_id = world.send(ETHEREUM, "AAPL", BASE, evm_word(world.wallet), ONE)
    world.relayer.discover()  # the burn is on record: from here on it is counted at its destination

    during = next(h for h in world.issuer.reconcile().holdings if h.ticker == "AAPL")
    assert dict(during.in_flight) == {BASE: Shares.parse("1")}
    assert during.outstanding[ETHEREUM] == before.outstanding[ETHEREUM] - Shares.parse("1")
    assert during.surplus == before.surplus
    world.relay()
    assert world.transfer(message_id).state == "minted"
    after = next(h for h in world.issuer.reconcile().holdings if h.ticker == "AAPL")
    assert dict(after.in_flight) == {}
    assert after.outstanding[BASE] == during.outstanding[BASE] + Shares.parse("1")
    assert after.surplus == before.surplus
