"""The hedger ends every quote exactly once across crashes at each of its points: the inventory entry,
the broker order, each fill and its custody entry, and the reserve attestation happen once.

In process, `simulated_crash` stops the hedger at each point (the chain lives in the test's process);
on anvil a real worker process is killed with SIGKILL at every point in turn and restarted.
"""

from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.support.attestation_desk import TARGET, Desk, build_desk
from tests.support.crash import KILLED, run_worker
from tests.support.platform import ACCOUNTS, IN_SESSION, SLIPPAGE_BPS

from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.durable.crashpoints import ATTESTATION, SimulatedCrash, simulated_crash
from equitoken.issuer.attestation.hedger import client_order_id
from equitoken.issuer.attestation.quotes import SignedQuote
from equitoken.issuer.attestation.states import HedgeState
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares
from equitoken.store.database import Database
from equitoken.store.schema import (
    AttestationFillRow,
    AttestationQuoteEventRow,
    ChainTransactionRow,
    LedgerEntryRow,
)

FILL_PARTS = 2


def _minted(desk: Desk) -> SignedQuote:
    """Stock the inventory, then mint 2 MSTR with a desk quote; return the quote, unseen by the hedger."""
    desk.attestation.restock("MSTR")
    desk.run()
    desk.approve(desk.platform.wallet, "MSTR")
    signed = desk.attestation.quote(desk.platform.wallet, "MSTR", "buy", "2")
    desk.use(signed)
    return signed


def _assert_hedged_once(desk: Desk, signed: SignedQuote, traded: str, custody: str, outstanding: str) -> None:
    quote_id = signed.quote.id_hex
    view = desk.rewire().view(quote_id)
    assert view.state is HedgeState.HEDGED, view
    assert view.filled == Shares.parse(traded)
    order = desk.platform.broker.order(client_order_id(quote_id))
    assert order is not None
    assert len(order.fills) == FILL_PARTS
    with desk.platform.issuer.db.transaction() as session:
        hedged = session.scalar(
            select(func.count())
            .select_from(AttestationQuoteEventRow)
            .where(
                AttestationQuoteEventRow.quote_id == quote_id,
                AttestationQuoteEventRow.to_state == HedgeState.HEDGED,
                AttestationQuoteEventRow.from_state != HedgeState.HEDGED,
            )
        )
        fills = list(
            session.scalars(select(AttestationFillRow).where(AttestationFillRow.quote_id == quote_id))
        )
        causes = [f"attestation:{quote_id}", *(f"custody:{f.id}" for f in fills)]
        entries = session.scalar(
            select(func.count()).select_from(LedgerEntryRow).where(LedgerEntryRow.cause.in_(causes))
        )
        purposes = list(session.scalars(select(ChainTransactionRow.purpose)))
    assert hedged == 1
    assert sorted(f.id for f in fills) == sorted(f.fill_id for f in order.fills)
    assert all(f.custody_entry_id is not None for f in fills)
    assert entries == 1 + FILL_PARTS
    assert purposes.count(f"reserve:attestation:{quote_id}") == 1
    assert len(purposes) == len(set(purposes))
    line = desk.rewire().report().ticker("MSTR")
    assert (line.custody, line.outstanding, line.inventory, line.ledger_inventory) == (
        Shares.parse(custody),
        Shares.parse(outstanding),
        TARGET,
        TARGET,
    )
    assert (line.to_buy, line.to_sell) == (Shares.zero(), Shares.zero())
    assert desk.platform.broker.positions()["MSTR"] == Shares.parse(custody)
    reserve = int(desk.platform.onchain.reserve_feed("MSTR").latestRoundData()[1])
    assert reserve == Shares.parse(custody).units // 10


@pytest.mark.parametrize("point", ATTESTATION)
def test_a_mint_and_a_redemption_hedge_survive_a_crash_at_each_point(
    inproc_chain: InProcessChain,
    sqlite_db: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
    point: str,
) -> None:
    desk = build_desk(
        inproc_chain, sqlite_db, prices, calendar, tmp_path, start=IN_SESSION, fill_parts=FILL_PARTS
    )
    mint = _minted(desk)

    with pytest.raises(SimulatedCrash), simulated_crash(point):
        desk.run()
    desk.attestation = desk.rewire()  # a restart: nothing kept in memory
    desk.run()

    _assert_hedged_once(desk, mint, traded="2", custody="12", outstanding="2")

    redemption = desk.attestation.quote(desk.platform.wallet, "MSTR", "sell", "1.5")
    desk.use(redemption)
    with pytest.raises(SimulatedCrash), simulated_crash(point):
        desk.run()
    desk.attestation = desk.rewire()
    desk.run()

    _assert_hedged_once(desk, redemption, traded="1.5", custody="10.5", outstanding="0.5")


def _worker(desk: Desk, tmp_path: Path, crash_at: str | None) -> int:
    platform = desk.platform
    chain = platform.chain
    assert isinstance(chain, JsonRpcChain)
    minters = desk.minters
    config = {
        "rpc_url": chain.url,
        "accounts": ACCOUNTS,
        "deployment": platform.onchain.deployment.to_json(),
        "usdc": platform.usdc.address,
        "minters": {"chain_id": minters.chain_id, "signer": minters.signer, "minters": dict(minters.minters)},
        "database_url": platform.issuer.db.url,
        "broker_url": f"sqlite:///{tmp_path / 'paper-broker.sqlite'}",
        "start": platform.clock.now().isoformat(),
        "slippage_bps": SLIPPAGE_BPS,
        "fill_parts": FILL_PARTS,
    }
    return run_worker("tests.issuer.attestation.crash_worker", config, tmp_path, crash_at)


@pytest.mark.crash
@pytest.mark.anvil
@pytest.mark.parametrize("evm_chain", ["anvil"], indirect=True)
def test_a_hedge_survives_a_real_kill_at_every_point_in_turn(
    evm_chain: EvmChain,
    sqlite_db: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> None:
    desk = build_desk(
        evm_chain, sqlite_db, prices, calendar, tmp_path, start=IN_SESSION, fill_parts=FILL_PARTS
    )
    signed = _minted(desk)

    for point in ATTESTATION:
        assert _worker(desk, tmp_path, point) == KILLED, f"the worker never reached {point}"
        assert desk.attestation.open_quotes(), "the crash left nothing to recover"
    assert _worker(desk, tmp_path, None) == 0

    _assert_hedged_once(desk, signed, traded="2", custody="12", outstanding="2")
