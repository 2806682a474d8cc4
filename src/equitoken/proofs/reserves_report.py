"""The reserves report of one instrument: custody against tokens outstanding, and the liabilities
root, signed by the issuer's attester.

The signed bytes are the report's canonical JSON (sorted keys, no spaces, shares as decimal
strings, raw token amounts as decimal strings), signed with EIP-191 `personal_sign`, so any
Ethereum tool can recover the signer. The exported document is
``{"report": {...}, "signature": "0x...", "signer": "0x..."}``.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_keys.exceptions import BadSignature

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.issuer.reconcile import Holding
from equitoken.model.quantities import InvalidAmountError, Shares
from equitoken.proofs.errors import InvalidReportError
from equitoken.proofs.merkle_sum import MerkleSumTree

FORMAT = "equitoken-reserves-report/1"
LEDGER_TREE_SUFFIX = ".L"
"""A ledger tree is named by its ledger asset: the instrument's ticker and this suffix (AAPL.L)."""
_SIGNATURE_BYTES = 65


@dataclass(frozen=True)
class ReservesReport:
    """What backs one instrument at one moment, and the root of what the issuer owes its holders.

    `outstanding` is, per chain id, the tokens in circulation times the UI multiplier, in shares;
    `liabilities_total` is the sum of every holder's raw token balance over all chains (the leaves of
    the tree whose root is `liabilities_root`), which equals the tokens' total supply plus what is in
    flight; `in_flight` is, per destination chain id, the shares of bridge transfers burned at their
    source and not minted yet (a receiver's leaf counts what is on its way to it). A report with
    nothing in flight has no `in_flight_shares` field, as before the bridge.

    `ledger` is the exchange's ledger stock balances of the instrument (shares in exchange accounts,
    with no token), which custody backs too; `ledger_root`, `ledger_total` and `ledger_holders` are
    the ledger's own liabilities tree (`proofs.ledger`: one leaf per exchange account, in 10^-9
    share). A report without ledger balances or tree has no `ledger` field, as before the ledger.
    """

    issuer: str
    spv: str
    ticker: str
    as_of: datetime
    custody: Shares
    outstanding: Mapping[int, Shares]
    liabilities_root: str
    liabilities_total: int
    liabilities_holders: int
    in_flight: Mapping[int, Shares] = field(default_factory=dict)
    ledger: Shares = field(default_factory=Shares.zero)
    ledger_root: str | None = None
    ledger_total: int = 0
    ledger_holders: int = 0

    def __post_init__(self) -> None:
        for name in ("issuer", "spv", "ticker", "liabilities_root"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise InvalidReportError(f"the report's {name} must be a non-empty string, not {value!r}")
        if not isinstance(self.as_of, datetime) or self.as_of.utcoffset() is None:
            raise InvalidReportError(f"the report time must be a timezone-aware datetime, not {self.as_of!r}")
        if not isinstance(self.custody, Shares) or not all(
            type(chain_id) is int and isinstance(shares, Shares)
            for chain_id, shares in [*self.outstanding.items(), *self.in_flight.items()]
        ):
            raise InvalidReportError("custody and outstanding must be Shares (outstanding keyed by chain id)")
        if not isinstance(self.ledger, Shares) or self.ledger.units < 0:
            raise InvalidReportError(f"the ledger balances must be non-negative Shares, not {self.ledger!r}")
        if self.ledger_root is not None and not _is_hash(self.ledger_root):
            raise InvalidReportError(f"the ledger root {self.ledger_root!r} is not 0x + 64 hex digits")
        if not _is_hash(self.liabilities_root):
            raise InvalidReportError(
                f"the liabilities root {self.liabilities_root!r} is not 0x + 64 hex digits"
            )
        for name in ("liabilities_total", "liabilities_holders", "ledger_total", "ledger_holders"):
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                raise InvalidReportError(f"the report's {name} must be a non-negative integer, not {value!r}")

    @classmethod
    def of(
        cls,
        holding: Holding,
        tree: MerkleSumTree,
        *,
        issuer: str,
        spv: str,
        as_of: datetime,
        ledger_tree: MerkleSumTree | None = None,
    ) -> "ReservesReport":
        """Build the report of `holding` (from `reconcile`) with the same instrument's liabilities tree,
        and its ledger tree if the exchange holds ledger balances of it."""
        if tree.ticker != holding.ticker:
            raise InvalidReportError(
                f"the liabilities tree is for {tree.ticker}, the holding for {holding.ticker}"
            )
        if ledger_tree is not None and ledger_tree.ticker != holding.ticker + LEDGER_TREE_SUFFIX:
            raise InvalidReportError(
                f"the ledger tree is for {ledger_tree.ticker}, the holding for {holding.ticker}"
            )
        return cls(
            issuer=issuer,
            spv=spv,
            ticker=holding.ticker,
            as_of=as_of,
            custody=holding.custody,
            outstanding=dict(sorted(holding.outstanding.items())),
            liabilities_root=tree.root_hex,
            liabilities_total=tree.total,
            liabilities_holders=tree.leaf_count,
            in_flight=dict(sorted(holding.in_flight.items())),
            ledger=holding.ledger,
            ledger_root=None if ledger_tree is None else ledger_tree.root_hex,
            ledger_total=0 if ledger_tree is None else ledger_tree.total,
            ledger_holders=0 if ledger_tree is None else ledger_tree.leaf_count,
        )

    @property
    def holding(self) -> Holding:
        """Return the report's figures as the reconciliation's holding, which derives the rest."""
        return Holding(self.ticker, self.custody, self.outstanding, self.in_flight, self.ledger)

    @property
    def outstanding_total(self) -> Shares:
        return self.holding.outstanding_total

    @property
    def surplus(self) -> Shares:
        return self.holding.surplus

    @property
    def backed(self) -> bool:
        return self.holding.backed

    def body(self) -> dict[str, Any]:
        """Return the report as the JSON object that is signed."""
        body: dict[str, Any] = {
            "format": FORMAT,
            "issuer": self.issuer,
            "spv": self.spv,
            "ticker": self.ticker,
            "as_of": self.as_of.isoformat(),
            "custody_shares": str(self.custody),
            "outstanding_shares": {str(chain_id): str(s) for chain_id, s in self.outstanding.items()},
            "outstanding_total_shares": str(self.outstanding_total),
            "surplus_shares": str(self.surplus),
            "backed": self.backed,
            "liabilities": {
                "root": self.liabilities_root,
                "total_raw": str(self.liabilities_total),
                "holders": self.liabilities_holders,
            },
        }
        if self.in_flight:
            body["in_flight_shares"] = {str(chain_id): str(s) for chain_id, s in self.in_flight.items()}
        if self.ledger.units or self.ledger_root is not None:
            body["ledger"] = {
                "shares": str(self.ledger),
                "root": self.ledger_root,
                "total_units": str(self.ledger_total),
                "holders": self.ledger_holders,
            }
        return body

    def canonical(self) -> bytes:
        """Return the exact bytes the attester signs."""
        return _canonical(self.body())

    @classmethod
    def from_body(cls, body: object) -> "ReservesReport":
        """Read a report from its JSON object; raise `InvalidReportError` naming the first bad field."""
        if not isinstance(body, dict):
            raise InvalidReportError(f"the report must be a JSON object, not {type(body).__name__}")
        if body.get("format") != FORMAT:
            raise InvalidReportError(f"unknown report format {body.get('format')!r}; expected {FORMAT!r}")
        liabilities = _field(body, "liabilities", dict)
        outstanding = _field(body, "outstanding_shares", dict)
        in_flight = body.get("in_flight_shares", {})
        if not isinstance(in_flight, dict):
            raise InvalidReportError("in_flight_shares must be an object keyed by chain id")
        ledger = body.get("ledger", {"shares": "0", "root": None, "total_units": "0", "holders": 0})
        if not isinstance(ledger, dict):
            raise InvalidReportError("ledger must be an object")
        ledger_root = ledger.get("root")
        if ledger_root is not None and not isinstance(ledger_root, str):
            raise InvalidReportError("the ledger's root must be a string or null")
        try:
            as_of = datetime.fromisoformat(_field(body, "as_of", str))
            report = cls(
                issuer=_field(body, "issuer", str),
                spv=_field(body, "spv", str),
                ticker=_field(body, "ticker", str),
                as_of=as_of,
                custody=Shares.parse(_field(body, "custody_shares", str)),
                outstanding={int(k): Shares.parse(_string(v, k)) for k, v in outstanding.items()},
                liabilities_root=_field(liabilities, "root", str),
                liabilities_total=int(_field(liabilities, "total_raw", str)),
                liabilities_holders=_field(liabilities, "holders", int),
                in_flight={int(k): Shares.parse(_string(v, k)) for k, v in in_flight.items()},
                ledger=Shares.parse(_field(ledger, "shares", str)),
                ledger_root=ledger_root,
                ledger_total=int(_field(ledger, "total_units", str)),
                ledger_holders=_field(ledger, "holders", int),
            )
        except InvalidReportError:
            raise
        except (ValueError, InvalidAmountError) as error:
            raise InvalidReportError(f"the report has a malformed figure: {error}") from None
        if _canonical(report.body()) != _canonical(body):
            raise InvalidReportError(
                "the report's derived figures (total, surplus, backed) or formatting do not match its inputs"
            )
        return report


@dataclass(frozen=True)
class SignedReport:
    """A reserves report with the attester's EIP-191 signature over its canonical JSON."""

    report: ReservesReport
    signer: str
    signature: bytes

    def to_json(self) -> str:
        """Export the signed report as JSON."""
        return json.dumps(
            {"report": self.report.body(), "signer": self.signer, "signature": "0x" + self.signature.hex()},
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> "SignedReport":
        """Parse an exported report and check its signature; raise `InvalidReportError` if anything is off."""
        try:
            data = json.loads(text)
        except (ValueError, TypeError) as error:
            raise InvalidReportError(f"the signed report is not valid JSON: {error}") from None
        if not isinstance(data, dict):
            raise InvalidReportError(f"the signed report must be a JSON object, not {type(data).__name__}")
        report = ReservesReport.from_body(data.get("report"))
        signer = _field(data, "signer", str)
        signature = _signature(_field(data, "signature", str))
        recovered = _recover(report.canonical(), signature)
        if recovered != signer:
            raise InvalidReportError(f"the report is signed by {recovered}, not by {signer} as it states")
        return cls(report, signer, signature)


def sign_report(report: ReservesReport, signers: SignerRegistry, attester: str) -> SignedReport:
    """Sign `report` with the attester's key (EIP-191 personal_sign over its canonical JSON)."""
    account = signers.get(attester)
    signed = account.sign_message(encode_defunct(primitive=report.canonical()))
    return SignedReport(report, str(account.address), bytes(signed.signature))


def verify_report(text: str | bytes) -> str:
    """Check an exported report's signature; return the checksum address that signed it."""
    return SignedReport.from_json(text).signer


def _canonical(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _recover(message: bytes, signature: bytes) -> str:
    try:
        return str(Account.recover_message(encode_defunct(primitive=message), signature=signature))
    except (ValueError, TypeError, BadSignature) as error:
        raise InvalidReportError(f"the signature cannot be recovered: {error}") from None


def _is_hash(text: str) -> bool:
    if text[:2] != "0x" or len(text) != 66:
        return False
    try:
        bytes.fromhex(text[2:])
    except ValueError:
        return False
    return True


def _signature(text: str) -> bytes:
    if text[:2] == "0x" and len(text) == 2 + 2 * _SIGNATURE_BYTES:
        try:
            return bytes.fromhex(text[2:])
        except ValueError:
            pass
    raise InvalidReportError(f"the signature must be 0x followed by 130 hex digits, not {text!r}")


def _field(data: dict[str, Any], name: str, kind: type) -> Any:
    if name not in data:
        raise InvalidReportError(f"the report has no {name!r} field")
    value = data[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidReportError(f"the report's {name!r} must be a JSON {kind.__name__}, not {value!r}")
    return value


def _string(value: object, chain_id: str) -> str:
    if not isinstance(value, str):
        raise InvalidReportError(
            f"the outstanding shares on chain {chain_id} must be a string, not {value!r}"
        )
    return value
