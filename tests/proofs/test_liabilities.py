"""The liabilities service over the real indexer: trees from indexed holders after real mints, rebuilt
when the cursor moves, reports refused while the index lags the chain, and bad input named. Runs on the
in-process chain and on anvil, each with SQLite and PostgreSQL."""

import threading

import pytest
from tests.support.platform import USDC, Platform

from equitoken.indexer import IndexedChain, Indexer
from equitoken.model.instrument import UnknownInstrumentError
from equitoken.model.quantities import Shares
from equitoken.proofs.errors import InvalidHolderBalanceError, UnknownHolderError
from equitoken.proofs.inclusion import InclusionProof, verify
from equitoken.proofs.liabilities import Liabilities, LiabilitiesUnavailableError, UnservedChainError
from equitoken.proofs.reserves_report import SignedReport, verify_report

SECRET = b"issuer nonce secret, 32 bytes ok"
TOKEN_UNIT = 10**8


def _indexer(platform: Platform) -> Indexer:
    return Indexer(
        platform.issuer.db, [IndexedChain(platform.chain, platform.onchain.deployment, confirmations=0)]
    )


def _mint(platform: Platform, quantity: str, key: str) -> None:
    platform.approve_mint(10**6 * USDC)
    platform.issuer.request_mint(platform.participant.id, platform.wallet, "AAPL", quantity, key)
    platform.run()


def test_the_tree_counts_every_indexed_holder_and_is_rebuilt_when_the_cursor_moves(
    platform: Platform,
) -> None:
    indexer = _indexer(platform)
    liabilities = Liabilities(indexer, platform.issuer, SECRET)
    chain_id = platform.onchain.chain_id
    token = platform.token("AAPL")
    _mint(platform, "3", "mint-1")
    token.transfer(platform.other_wallet, TOKEN_UNIT, sender=platform.wallet)
    indexer.poll()

    first = liabilities.snapshot("aapl")
    again = liabilities.snapshot("AAPL")
    token.transfer(platform.other_wallet, TOKEN_UNIT, sender=platform.wallet)
    unchanged = liabilities.snapshot("AAPL")
    indexer.poll()
    moved = liabilities.snapshot("AAPL")

    assert again is first is unchanged
    assert first.tree.total == int(token.totalSupply()) == 3 * TOKEN_UNIT
    assert first.supply == {chain_id: 3 * TOKEN_UNIT}
    assert [c.block_number for c in first.blocks] == [platform.chain.block_number() - 1]
    assert moved is not first
    assert moved.tree.root_hex != first.tree.root_hex
    assert [c.block_number for c in moved.blocks] == [platform.chain.block_number()]
    for holder in (platform.wallet, platform.other_wallet):
        proof = liabilities.proof("AAPL", chain_id, holder.lower())
        verified = verify(InclusionProof.from_json(proof.to_json()), moved.tree.root_hex)
        assert verified.balance == int(token.balanceOf(holder))
    # The same secret and the same indexed state give the same root in another process.
    assert Liabilities(indexer, platform.issuer, SECRET).root("AAPL").root_hex == moved.tree.root_hex


def test_the_report_waits_for_the_indexer_then_matches_reconciliation(platform: Platform) -> None:
    indexer = _indexer(platform)
    liabilities = Liabilities(indexer, platform.issuer, SECRET, issuer_name="Test Issuer plc")
    chain_id = platform.onchain.chain_id

    with pytest.raises(LiabilitiesUnavailableError, match="has not indexed chain"):
        liabilities.report("AAPL")
    _mint(platform, "2", "mint-1")
    indexer.poll()
    _mint(platform, "1", "mint-2")  # not indexed yet
    with pytest.raises(
        LiabilitiesUnavailableError, match=r"supply of 200000000 raw units, the chain now has 300000000"
    ):
        liabilities.report("AAPL")
    indexer.poll()
    exported = liabilities.report("AAPL").to_json()

    assert verify_report(exported) == platform.onchain.roles.attester
    report = SignedReport.from_json(exported).report
    holding = next(h for h in platform.issuer.reconcile().holdings if h.ticker == "AAPL")
    assert (report.custody, report.outstanding) == (holding.custody, holding.outstanding)
    assert report.outstanding == {chain_id: Shares.parse("3")}
    assert report.backed
    assert (report.issuer, report.spv) == ("Test Issuer plc", "Equitoken AAPL SPV")
    assert report.as_of == platform.clock.now()
    assert (report.liabilities_root, report.liabilities_total) == (
        liabilities.root("AAPL").root_hex,
        3 * TOKEN_UNIT,
    )
    assert report.liabilities_holders == 1


def test_an_instrument_nobody_holds_has_an_empty_tree_and_a_report(platform: Platform) -> None:
    indexer = _indexer(platform)
    indexer.poll()
    liabilities = Liabilities(indexer, platform.issuer, SECRET)

    tree = liabilities.root("MSTR")
    report = liabilities.report("MSTR").report

    assert (tree.total, tree.leaf_count) == (0, 0)
    assert (report.liabilities_total, report.custody, report.backed) == (0, Shares.zero(), True)


def test_threads_asking_at_once_share_one_tree(platform: Platform) -> None:
    indexer = _indexer(platform)
    _mint(platform, "1", "mint-1")
    indexer.poll()
    liabilities = Liabilities(indexer, platform.issuer, SECRET)
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(liabilities.snapshot("AAPL"))) for _ in range(8)
    ]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 8
    assert all(result is results[0] for result in results)


def test_bad_input_is_refused_by_name(platform: Platform) -> None:
    indexer = _indexer(platform)
    _mint(platform, "1", "mint-1")
    indexer.poll()
    liabilities = Liabilities(indexer, platform.issuer, SECRET)
    chain_id = platform.onchain.chain_id

    with pytest.raises(UnknownInstrumentError, match="no instrument 'TSLA' is issued here"):
        liabilities.root("TSLA")
    with pytest.raises(
        UnservedChainError, match=f"chain 1 is not one this issuer's tokens live on \\({chain_id}\\)"
    ):
        liabilities.proof("AAPL", 1, platform.wallet)
    with pytest.raises(UnknownHolderError, match="has no AAPL balance in this tree"):
        liabilities.proof("AAPL", chain_id, platform.other_wallet)
    with pytest.raises(InvalidHolderBalanceError, match="is neither a 0x-prefixed 20-byte address"):
        liabilities.proof("AAPL", chain_id, "0x1234")
    with pytest.raises(InvalidHolderBalanceError, match="the nonce secret must be 32 to 64 bytes, not 5"):
        Liabilities(indexer, platform.issuer, b"short")
