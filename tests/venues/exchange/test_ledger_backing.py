"""Ledger balances against the issuer: reconcile counts them next to the tokens, custody backs both, the
tokens' backing leaves them out, and each account can prove its ledger balance is in the published
liabilities; the in-process chain, SQLite and the paper broker on replayed prices."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from tests.support.ledger import LedgerWorld, open_world
from tests.support.platform import USDC, Platform, build_platform
from tests.venues.exchange.builders import limit

from equitoken.chain.evm.chain import EvmChain
from equitoken.cli.issuer import _reconciliation_table
from equitoken.indexer import IndexedChain, Indexer
from equitoken.issuer.custody import CustodyLedger
from equitoken.issuer.reconcile import Holding, Reconciliation
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares, Usd
from equitoken.proofs.inclusion import InclusionProof, verify
from equitoken.proofs.ledger import (
    LEDGER_CHAIN_ID,
    ledger_holder,
    ledger_tree,
)
from equitoken.proofs.liabilities import Liabilities, LiabilitiesUnavailableError
from equitoken.proofs.merkle_sum import MerkleSumTree
from equitoken.proofs.reserves_report import ReservesReport, SignedReport, verify_report
from equitoken.store.database import Database
from equitoken.venues.exchange.orders import Side

pytestmark = [
    pytest.mark.parametrize("database", ["sqlite"], indirect=True),
    pytest.mark.parametrize("evm_chain", ["inproc"], indirect=True),
]

SECRET = b"ledger liabilities test secret, 32+ bytes"
TOKEN_UNIT = 10**8


@pytest.fixture
def platform(
    evm_chain: EvmChain,
    database: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
) -> Platform:
    return build_platform(evm_chain, database, prices, calendar, tmp_path)


@pytest.fixture
def world(
    platform: Platform, prices: ReplayPriceSource, calendar: MarketCalendar, tmp_path: Path
) -> Iterator[LedgerWorld]:
    db, clock, broker = platform.issuer.db, platform.clock, platform.broker
    world = open_world(db, prices, calendar, tmp_path / "desk", clock, create=True, broker=broker)
    yield world
    world.close()


def _printed(reconciliation: Reconciliation) -> str:
    """Return the reconciliation as `equitoken reconcile` prints it."""
    console = Console(width=200, record=True)
    console.print(_reconciliation_table(reconciliation))
    return console.export_text()


def _aapl(platform: Platform) -> Holding:
    return next(h for h in platform.issuer.reconcile().holdings if h.ticker == "AAPL")


def test_reconcile_and_proofs_count_ledger_balances_next_to_the_tokens(
    platform: Platform, world: LedgerWorld
) -> None:
    issuer = platform.issuer
    platform.approve_mint(10**6 * USDC)
    issuer.request_mint(platform.participant.id, platform.wallet, "AAPL", "2", "mint-2")
    platform.run()
    before = issuer.reconcile()

    # Counted but with no ledger balance yet, every holding and report reads as before.
    issuer.count_ledger(world.desk.outstanding)
    assert issuer.reconcile() == before
    tokens = MerkleSumTree.build("AAPL", [], SECRET)
    plain = ReservesReport.of(_aapl(platform), tokens, issuer="I", spv="S", as_of=platform.clock.now())
    assert "ledger" not in plain.body()

    a, b = world.account("inv-a"), world.account("inv-b")
    world.desk.buy(a, "AAPL", Usd.parse("25"), "buy")
    world.run()
    bought = world.desk.order("buy").filled_shares
    lot = 10**5
    world.venue.submit("AAPL.L", limit(a, Side.SELL, 20_000, 100 * lot))  # 0.01 share at $200
    world.venue.submit("AAPL.L", limit(b, Side.BUY, 20_000, 60 * lot))

    holding = _aapl(platform)
    assert holding.outstanding_total == Shares(2 * 10**9)
    assert holding.ledger == bought
    assert holding.custody == holding.outstanding_total + bought
    assert holding.surplus == Shares.zero()
    assert issuer.reconcile().ok
    assert "exchange ledger" not in _printed(before)
    printed = _printed(issuer.reconcile())
    assert re.search(rf"AAPL\s*│\s*{holding.custody}\s*│\s*2\s*│\s*{bought}\s*│\s*0\s*│\s*OK", printed), (
        printed
    )
    with issuer.db.transaction() as session:
        # What the reserve feeds are told: the tokens' custody only.
        assert CustodyLedger().backing(session, "AAPL") == 2 * 10**9

    # The issuer's liabilities service builds the ledger tree and signs its root into the report.
    indexer = Indexer(issuer.db, [IndexedChain(platform.chain, platform.onchain.deployment, confirmations=0)])
    indexer.poll()
    liabilities = Liabilities(indexer, issuer, SECRET, ledger=world.desk.balances)
    exported = liabilities.report("AAPL").to_json()
    assert verify_report(exported) == platform.onchain.roles.attester
    report = SignedReport.from_json(exported).report
    tree = liabilities.ledger_tree("AAPL")
    assert tree is not None
    assert tree.ticker == "AAPL.L"
    assert (report.ledger, report.ledger_root) == (bought, tree.root_hex)
    assert (report.ledger_total, report.ledger_holders) == (bought.units, 2)
    assert report.custody == holding.custody
    assert report.surplus == Shares.zero()
    assert report.backed
    for account, balance in ((a, bought.units - 60 * lot), (b, 60 * lot)):
        proof = InclusionProof.from_json(liabilities.ledger_proof("AAPL", account).to_json())
        verified = verify(proof, tree.root_hex)
        assert (verified.chain_id, verified.holder) == (LEDGER_CHAIN_ID, ledger_holder(account))
        assert verified.balance == balance
        assert verified.total == holding.ledger.units
    assert ReservesReport.from_body(report.body()) == report
    # A service told of no ledger serves no ledger tree, and its report states no ledger root.
    plain_service = Liabilities(indexer, issuer, SECRET)
    assert plain_service.ledger_tree("AAPL") is None
    with pytest.raises(LiabilitiesUnavailableError, match="count no exchange ledger balances"):
        plain_service.ledger_proof("AAPL", a)
    assert plain_service.report("AAPL").report.ledger_root is None
    # A tree built from the same balances and secret elsewhere gives the same root.
    assert ledger_tree("AAPL", world.desk.balances("AAPL"), SECRET).root_hex == report.ledger_root
