"""Liabilities read straight from a real chain after real mints: the tree's total is the token's
supply, every holder's proof verifies, and the signed report agrees with the issuer's reconciliation.
Runs on the in-process chain and on anvil, each with SQLite and PostgreSQL behind the issuer."""

from tests.support.platform import USDC, Platform

from equitoken.chain.evm.holders import read_holder_balances
from equitoken.model.holders import HolderBalance
from equitoken.model.quantities import Shares
from equitoken.proofs.inclusion import InclusionProof, verify
from equitoken.proofs.merkle_sum import MerkleSumTree
from equitoken.proofs.reserves_report import ReservesReport, SignedReport, sign_report, verify_report

SECRET = b"issuer nonce secret, 32 bytes ok"
TOKEN_UNIT = 10**8  # the catalogue's tokens have 8 decimals


def test_liabilities_on_chain_match_supply_and_the_signed_report_matches_reconciliation(
    platform: Platform,
) -> None:
    wallet, other, passer_by = platform.wallet, platform.other_wallet, platform.chain.accounts[12]
    token = platform.token("AAPL")
    chain_id = platform.onchain.chain_id
    platform.approve_mint(10**6 * USDC)
    platform.issuer.request_mint(platform.participant.id, wallet, "AAPL", "3", "mint-for-proofs")
    platform.run()
    token.transfer(other, TOKEN_UNIT, sender=wallet)
    token.transfer(passer_by, TOKEN_UNIT // 4, sender=wallet)
    token.transfer(other, TOKEN_UNIT // 4, sender=passer_by)  # the passer-by ends with nothing

    balances = read_holder_balances(chain_id, token)
    tree = MerkleSumTree.build("AAPL", balances, SECRET)

    assert sorted(balances, key=lambda b: b.holder) == sorted(
        [
            HolderBalance(chain_id, wallet, 7 * TOKEN_UNIT // 4),
            HolderBalance(chain_id, other, 5 * TOKEN_UNIT // 4),
        ],
        key=lambda b: b.holder,
    )
    assert tree.total == int(token.totalSupply()) == 3 * TOKEN_UNIT
    for balance in balances:
        proof = InclusionProof.of(tree, chain_id, balance.holder)
        verified = verify(InclusionProof.from_json(proof.to_json()), tree.root_hex)
        assert verified.balance == int(token.balanceOf(balance.holder))
        assert verified.total == tree.total

    reconciliation = platform.issuer.reconcile()
    holding = next(h for h in reconciliation.holdings if h.ticker == "AAPL")
    report = ReservesReport.of(
        holding, tree, issuer="Equitoken Issuer Ltd", spv="Equitoken AAPL SPV", as_of=platform.clock.now()
    )
    exported = sign_report(report, platform.chain.signers, platform.onchain.roles.attester).to_json()

    assert verify_report(exported) == platform.onchain.roles.attester
    published = SignedReport.from_json(exported).report
    assert published.custody == holding.custody == Shares.parse("3")
    assert published.outstanding == holding.outstanding == {chain_id: Shares.parse("3")}
    assert published.backed
    assert reconciliation.ok
    assert published.as_of == platform.clock.now()
    assert (published.liabilities_root, published.liabilities_total) == (tree.root_hex, 3 * TOKEN_UNIT)
    assert published.liabilities_holders == 2
