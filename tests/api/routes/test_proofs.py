"""Liabilities roots, holders' inclusion proofs and the signed reserves report over HTTP: minted through
the real issuer, indexed by the real indexer, verified with the proofs library and the real
`equitoken verify-proof` command; who may read what, and bad input refused as problems."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.support.api import Api
from typer.testing import CliRunner

from equitoken.api import ApiContext, create_app
from equitoken.cli import app as cli
from equitoken.model.quantities import Shares
from equitoken.proofs.inclusion import InclusionProof, verify
from equitoken.proofs.reserves_report import SignedReport, verify_report

V1 = "/api/v1"
TOKEN_UNIT = 10**8


def _holders(api: Api) -> None:
    """Mint 3 AAPL to the participant, pass one to the other participant, and index it all."""
    assert api.mint("mint-3", "3").status_code == 201
    api.platform.run()
    api.platform.token("AAPL").transfer(api.platform.other_wallet, TOKEN_UNIT, sender=api.platform.wallet)
    api.indexer.poll()


def test_a_holder_fetches_its_proof_and_verifies_it_against_the_served_root(api: Api, tmp_path: Path) -> None:
    _holders(api)
    chain_id = api.platform.onchain.chain_id

    root = api.client.get(f"{V1}/proofs/AAPL/root", headers=api.participant)
    served = api.client.get(
        f"{V1}/proofs/aapl/{chain_id}/{api.platform.wallet.lower()}", headers=api.participant
    )
    proof_file = tmp_path / "proof.json"
    proof_file.write_bytes(served.content)
    checked = CliRunner().invoke(cli, ["verify-proof", str(proof_file), "--root", root.json()["root"]])

    assert root.status_code == served.status_code == 200
    assert served.headers["content-type"] == "application/json"
    indexed = api.indexer.cursor(chain_id)
    assert indexed is not None
    assert root.json()["ticker"] == "AAPL"
    assert root.json()["total"] == str(int(api.platform.token("AAPL").totalSupply())) == str(3 * TOKEN_UNIT)
    assert root.json()["holders"] == 2
    assert root.json()["built_at"] == api.platform.clock.now().isoformat().replace("+00:00", "Z")
    assert [(b["chain_id"], b["block_number"], b["block_hash"]) for b in root.json()["blocks"]] == [
        (chain_id, indexed.block_number, indexed.block_hash)
    ]
    verified = verify(InclusionProof.from_json(served.content), root.json()["root"])
    assert (verified.holder, verified.balance, verified.total) == (
        api.platform.wallet,
        2 * TOKEN_UNIT,
        3 * TOKEN_UNIT,
    )
    assert checked.exit_code == 0, checked.output
    assert checked.output.startswith(f"valid: {api.platform.wallet} holds {2 * TOKEN_UNIT} AAPL")


def test_the_signed_report_verifies_to_the_attester_and_matches_reconciliation(api: Api) -> None:
    _holders(api)
    chain_id = api.platform.onchain.chain_id

    answers = [api.client.get(f"{V1}/reserves/AAPL/report", headers=key) for key in _all_keys(api)]
    root = api.client.get(f"{V1}/proofs/AAPL/root", headers=api.retail).json()

    assert [a.status_code for a in answers] == [200] * 4
    exported = answers[0].text
    assert verify_report(exported) == api.platform.onchain.roles.attester
    report = SignedReport.from_json(exported).report
    holding = next(h for h in api.platform.issuer.reconcile().holdings if h.ticker == "AAPL")
    assert (report.custody, report.outstanding) == (holding.custody, holding.outstanding)
    assert report.outstanding == {chain_id: Shares.parse("3")}
    assert report.backed
    assert report.as_of == api.platform.clock.now()
    assert (report.liabilities_root, str(report.liabilities_total), report.liabilities_holders) == (
        root["root"],
        root["total"],
        root["holders"],
    )
    assert answers[0].json()["blocks"] == root["blocks"]


def test_an_investor_gets_proofs_only_for_its_own_wallets_and_an_operator_for_any(api: Api) -> None:
    _holders(api)
    chain_id = api.platform.onchain.chain_id
    participants_proof = f"{V1}/proofs/AAPL/{chain_id}/{api.platform.wallet}"
    others_proof = f"{V1}/proofs/AAPL/{chain_id}/{api.platform.other_wallet}"

    by_owner = api.client.get(others_proof, headers=api.other_participant)
    by_operator = api.client.get(participants_proof, headers=api.operator)
    by_other = api.client.get(participants_proof, headers=api.other_participant)
    by_retail = api.client.get(others_proof, headers=api.retail)

    assert (by_owner.status_code, by_operator.status_code) == (200, 200)
    assert InclusionProof.from_json(by_owner.content).balance == TOKEN_UNIT
    assert (by_other.status_code, by_retail.status_code) == (404, 404)
    assert by_other.headers["content-type"] == "application/problem+json"
    assert by_other.json()["code"] == by_retail.json()["code"] == "unknown_holder"
    assert "balance" not in by_other.json()


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/proofs/TSLA/root", 404, "unknown_instrument"),
        ("/reserves/TSLA/report", 404, "unknown_instrument"),
        ("/proofs/TSLA/{chain}/{wallet}", 404, "unknown_instrument"),
        ("/proofs/AAPL/1/{wallet}", 404, "unknown_chain"),
        ("/proofs/AAPL/{chain}/0x00000000000000000000000000000000000000aa", 404, "unknown_holder"),
        ("/proofs/AAPL/0/{wallet}", 422, "invalid_request"),
        ("/proofs/AAPL/{chain}/0x1234", 422, "invalid_request"),
        ("/proofs/AAPL/{chain}/{wallet}zz", 422, "invalid_request"),
        ("/proofs/AAPL/31337x/{wallet}", 422, "invalid_request"),
        ("/proofs/A$PL/root", 422, "invalid_request"),
    ],
)
def test_bad_input_is_a_problem(api: Api, path: str, status: int, code: str) -> None:
    _holders(api)
    url = V1 + path.format(chain=api.platform.onchain.chain_id, wallet=api.platform.wallet)

    response = api.client.get(url, headers=api.operator)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_while_the_indexer_lags_the_report_is_refused_and_the_root_states_its_block(api: Api) -> None:
    unindexed = api.client.get(f"{V1}/proofs/AAPL/root", headers=api.retail)
    _holders(api)
    assert api.mint("mint-more", "1").status_code == 201
    api.platform.run()

    lagging = api.client.get(f"{V1}/reserves/AAPL/report", headers=api.retail)
    root = api.client.get(f"{V1}/proofs/AAPL/root", headers=api.retail)
    api.indexer.poll()
    caught_up = api.client.get(f"{V1}/reserves/AAPL/report", headers=api.retail)

    assert unindexed.status_code == 503
    assert unindexed.json()["code"] == "liabilities_unavailable"
    assert lagging.status_code == 503
    assert lagging.headers["retry-after"] == "2"
    assert "the chain now has 400000000" in lagging.json()["detail"]
    assert root.json()["total"] == str(3 * TOKEN_UNIT)
    assert root.json()["blocks"][0]["block_number"] < api.platform.chain.block_number()
    assert caught_up.status_code == 200
    assert caught_up.json()["report"]["liabilities"]["total_raw"] == str(4 * TOKEN_UNIT)


def test_without_liabilities_the_routes_are_not_served(api: Api) -> None:
    context = ApiContext(
        issuer=api.context.issuer,
        calendar=api.context.calendar,
        prices=api.context.prices,
        broker=api.context.broker,
        clock=api.context.clock,
        database=api.context.database,
    )
    client = TestClient(create_app(context))

    paths = client.get(f"{V1}/openapi.json").json()["paths"]
    response = client.get(f"{V1}/reserves/AAPL/report", headers=api.operator)

    assert not {p for p in paths if "/proofs/" in p or p.endswith("/report")}
    assert response.status_code == 404


def _all_keys(api: Api) -> list[dict[str, str]]:
    return [api.operator, api.participant, api.other_participant, api.retail]
