"""Reserves reports: figures from a reconciliation and a liabilities tree, signed by the attester."""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from equitoken.chain.evm.accounts import SignerRegistry, UnknownSignerError
from equitoken.chain.evm.deployment import IssuerRoles
from equitoken.issuer.reconcile import Holding
from equitoken.model.holders import HolderBalance
from equitoken.model.quantities import Shares
from equitoken.proofs.errors import InvalidReportError
from equitoken.proofs.merkle_sum import MerkleSumTree
from equitoken.proofs.reserves_report import ReservesReport, SignedReport, sign_report, verify_report

SECRET = b"issuer nonce secret, 32 bytes ok"
AS_OF = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)
TOKEN = 10**8  # the catalogue's tokens have 8 decimals


@pytest.fixture(scope="module")
def signers() -> SignerRegistry:
    return SignerRegistry.anvil()


@pytest.fixture(scope="module")
def roles(signers: SignerRegistry) -> IssuerRoles:
    return IssuerRoles.from_accounts(signers.addresses)


@pytest.fixture(scope="module")
def tree() -> MerkleSumTree:
    balances = [
        HolderBalance(1, "0x" + "11" * 20, 2 * TOKEN),
        HolderBalance(8453, "0x" + "22" * 20, TOKEN // 2),
    ]
    return MerkleSumTree.build("AAPL", balances, SECRET)


def _report(tree: MerkleSumTree, custody: str = "2.5") -> ReservesReport:
    holding = Holding("AAPL", Shares.parse(custody), {8453: Shares.parse("0.5"), 1: Shares.parse("2")})
    return ReservesReport.of(
        holding, tree, issuer="Equitoken Issuer Ltd", spv="Equitoken AAPL SPV", as_of=AS_OF
    )


def test_the_report_states_custody_per_chain_supply_and_the_liabilities(tree: MerkleSumTree) -> None:
    body = _report(tree, custody="3").body()

    assert body == {
        "format": "equitoken-reserves-report/1",
        "issuer": "Equitoken Issuer Ltd",
        "spv": "Equitoken AAPL SPV",
        "ticker": "AAPL",
        "as_of": "2025-12-01T15:00:00+00:00",
        "custody_shares": "3",
        "outstanding_shares": {"1": "2", "8453": "0.5"},
        "outstanding_total_shares": "2.5",
        "surplus_shares": "0.5",
        "backed": True,
        "liabilities": {"root": tree.root_hex, "total_raw": str(250_000_000), "holders": 2},
    }


def test_an_under_backed_instrument_shows_a_negative_surplus(tree: MerkleSumTree) -> None:
    report = _report(tree, custody="2.4")

    assert (str(report.surplus), report.backed) == ("-0.1", False)


def test_tokens_in_flight_on_a_bridge_count_against_custody_and_round_trip(
    tree: MerkleSumTree, signers: SignerRegistry, roles: IssuerRoles
) -> None:
    # 2.5 outstanding plus 0.5 burned on chain 1 and not yet minted on 8453: custody of 3 is all used.
    holding = Holding(
        "AAPL",
        Shares.parse("3"),
        {1: Shares.parse("2"), 8453: Shares.parse("0.5")},
        {8453: Shares.parse("0.5")},
    )
    report = ReservesReport.of(
        holding, tree, issuer="Equitoken Issuer Ltd", spv="Equitoken AAPL SPV", as_of=AS_OF
    )

    body = report.body()

    assert body["in_flight_shares"] == {"8453": "0.5"}
    assert (body["surplus_shares"], body["backed"]) == ("0", True)
    signed = sign_report(report, signers, roles.attester)
    assert SignedReport.from_json(signed.to_json()).report == report
    assert verify_report(signed.to_json()) == roles.attester
    body["in_flight_shares"] = {"8453": "0.4"}
    with pytest.raises(InvalidReportError, match="derived figures"):
        ReservesReport.from_body(body)


def test_the_canonical_form_has_sorted_keys_and_no_spaces(tree: MerkleSumTree) -> None:
    canonical = _report(tree).canonical()

    assert canonical.startswith(b'{"as_of":"2025-12-01T15:00:00+00:00","backed":true,"custody_shares":"2.5",')
    assert b" " not in canonical.replace(b"Equitoken Issuer Ltd", b"").replace(b"Equitoken AAPL SPV", b"")


def test_a_signed_report_round_trips_and_recovers_the_attester(
    tree: MerkleSumTree, signers: SignerRegistry, roles: IssuerRoles
) -> None:
    signed = sign_report(_report(tree), signers, roles.attester)
    text = signed.to_json()

    assert verify_report(text) == roles.attester
    assert SignedReport.from_json(text) == signed
    assert json.loads(text)["signer"] == roles.attester
    assert len(signed.signature) == 65


def _exported(tree: MerkleSumTree, signers: SignerRegistry, roles: IssuerRoles) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(sign_report(_report(tree), signers, roles.attester).to_json())
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["report"].update(custody_shares="25"), "derived figures .* do not match"),
        (
            lambda d: d["report"].update(custody_shares="25", surplus_shares="22.5"),
            "the report is signed by 0x[0-9a-fA-F]{40}, not by 0x",
        ),
        (lambda d: d["report"]["liabilities"].update(total_raw="1"), "the report is signed by .*, not by"),
        (lambda d: d["report"].update(as_of="2025-12-02T15:00:00+00:00"), "the report is signed by"),
        (
            lambda d: d.update(signer="0x" + "00" * 20),
            "the report is signed by 0x.*, not by 0x0+ as it states",
        ),
        (lambda d: d.update(signature="0x1234"), "the signature must be 0x followed by 130 hex digits"),
        (lambda d: d.update(signature="0x" + "00" * 65), "the signature cannot be recovered"),
        (lambda d: d.pop("signer"), "the report has no 'signer' field"),
        (lambda d: d["report"].update(format="x/1"), "unknown report format 'x/1'"),
        (lambda d: d["report"].update(custody_shares="lots"), "the report has a malformed figure"),
        (lambda d: d["report"].update(as_of="yesterday"), "the report has a malformed figure"),
        (
            lambda d: d["report"].update(as_of="2025-12-01T15:00:00"),
            "the report time must be a timezone-aware",
        ),
        (lambda d: d["report"]["liabilities"].update(root="0x12"), "the liabilities root '0x12' is not 0x"),
        (
            lambda d: d["report"]["liabilities"].update(holders="2"),
            "the report's 'holders' must be a JSON int",
        ),
        (
            lambda d: d["report"].update(outstanding_shares={"1": 2}),
            "the outstanding shares on chain 1 must be",
        ),
        (lambda d: d["report"].update(issuer=""), "the report's issuer must be a non-empty string"),
        (lambda d: d.update(report=[]), "the report must be a JSON object, not list"),
    ],
)
def test_an_altered_or_malformed_report_is_refused(
    tree: MerkleSumTree,
    signers: SignerRegistry,
    roles: IssuerRoles,
    change: Callable[[dict[str, Any]], object],
    message: str,
) -> None:
    data = _exported(tree, signers, roles)
    change(data)

    with pytest.raises(InvalidReportError, match=message):
        verify_report(json.dumps(data))


@pytest.mark.parametrize(
    ("text", "message"), [("{", "not valid JSON"), ("3", "must be a JSON object, not int")]
)
def test_text_that_is_not_a_signed_report_is_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidReportError, match=message):
        verify_report(text)


def test_a_tree_of_another_instrument_or_a_naive_time_is_refused(tree: MerkleSumTree) -> None:
    holding = Holding("MSFT", Shares.parse("1"), {1: Shares.parse("1")})

    with pytest.raises(InvalidReportError, match="the liabilities tree is for AAPL, the holding for MSFT"):
        ReservesReport.of(holding, tree, issuer="I", spv="S", as_of=AS_OF)
    with pytest.raises(InvalidReportError, match="the report time must be a timezone-aware datetime"):
        ReservesReport.of(
            Holding("AAPL", Shares.parse("1"), {}), tree, issuer="I", spv="S", as_of=datetime(2025, 12, 1)
        )
    with pytest.raises(InvalidReportError, match="the report's spv must be a non-empty string"):
        ReservesReport.of(Holding("AAPL", Shares.parse("1"), {}), tree, issuer="I", spv=" ", as_of=AS_OF)


def test_signing_with_an_unknown_attester_names_it(tree: MerkleSumTree, signers: SignerRegistry) -> None:
    with pytest.raises(UnknownSignerError, match=r"no signer registered for 0x0+1"):
        sign_report(_report(tree), signers, "0x" + "00" * 19 + "01")
