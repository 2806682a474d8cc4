"""Proof of liabilities and the signed reserves report, served from the issuer's `Liabilities`.

Every key reads the roots and the reports; a proof names a holder's balance, so an investor's key gets
only those of its own bound wallets (another wallet's is 404, as if it held nothing).
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Path, Response

from equitoken.api.deps import IssuerDep, LiabilitiesDep, PrincipalDep
from equitoken.api.problems import ProblemError, problem_responses
from equitoken.api.routes.market import TickerPath, instrument_for
from equitoken.api.schemas import WALLET, InclusionProofOut, IndexedBlockOut, ProofRootOut, SignedReportOut
from equitoken.indexer.views import Cursor
from equitoken.issuer.service import Issuer
from equitoken.model.address import checksum
from equitoken.proofs.errors import UnknownHolderError
from equitoken.proofs.liabilities import LiabilitiesUnavailableError, UnservedChainError

router = APIRouter(tags=["proofs"])

T = TypeVar("T")
ChainPath = Annotated[int, Path(ge=1, lt=2**63, description="The chain id, e.g. 31337.")]
WalletPath = Annotated[
    str, Path(pattern=WALLET, description="The holder's address: 0x + 40 hex digits, or a Solana address.")
]
# The platform's indexer polls every second: a lagging index has usually caught up by then.
_RETRY_AFTER = {"Retry-After": "2"}


def _served(issuer: Issuer, ticker: str, call: Callable[[str], T]) -> T:
    symbol = instrument_for(issuer, ticker).ticker
    try:
        return call(symbol)
    except LiabilitiesUnavailableError as exc:
        raise ProblemError(503, exc.code, exc.message, headers=_RETRY_AFTER) from None
    except (UnknownHolderError, UnservedChainError) as exc:
        raise ProblemError(404, exc.code, exc.message) from None


def _blocks(cursors: tuple[Cursor, ...]) -> list[IndexedBlockOut]:
    return [
        IndexedBlockOut(
            chain_id=c.chain_id,
            block_number=c.block_number,
            block_hash=c.block_hash,
            timestamp=datetime.fromtimestamp(c.timestamp, UTC),
        )
        for c in cursors
    ]


@router.get("/proofs/{ticker}/root", responses=problem_responses(404, 503))
def read_root(
    ticker: TickerPath, _principal: PrincipalDep, issuer: IssuerDep, liabilities: LiabilitiesDep
) -> ProofRootOut:
    """Return the liabilities root of an instrument: every holder's balance on every chain, summed."""
    snapshot = _served(issuer, ticker, liabilities.snapshot)
    tree = snapshot.tree
    return ProofRootOut(
        ticker=tree.ticker,
        root=tree.root_hex,
        total=str(tree.total),
        holders=tree.leaf_count,
        built_at=snapshot.built_at,
        blocks=_blocks(snapshot.blocks),
    )


@router.get(
    "/proofs/{ticker}/{chain_id}/{wallet}",
    response_model=InclusionProofOut,
    responses=problem_responses(404, 503),
)
def read_proof(
    ticker: TickerPath,
    chain_id: ChainPath,
    wallet: WalletPath,
    principal: PrincipalDep,
    issuer: IssuerDep,
    liabilities: LiabilitiesDep,
) -> Response:
    """Return a holder's inclusion proof, to check with `equitoken verify-proof PROOF --root ROOT`."""
    instrument_for(issuer, ticker)
    if not principal.is_operator:
        assert principal.investor_id is not None
        spelled = checksum(wallet) if wallet.startswith("0x") else wallet
        if spelled not in issuer.investors.get(principal.investor_id).wallets:
            raise ProblemError(
                404, UnknownHolderError.code, f"no {ticker.upper()} proof for {wallet} among your wallets"
            )
    proof = _served(issuer, ticker, lambda symbol: liabilities.proof(symbol, chain_id, wallet))
    # Served byte for byte as `to_json` writes it: the file a holder saves is the one the CLI reads.
    return Response(proof.to_json(), media_type="application/json")


@router.get(
    "/reserves/{ticker}/report",
    response_model=SignedReportOut,
    responses=problem_responses(404, 503),
)
def read_report(
    ticker: TickerPath, _principal: PrincipalDep, issuer: IssuerDep, liabilities: LiabilitiesDep
) -> Response:
    """Return the instrument's reserves report, signed now by the issuer's attester."""
    snapshot = _served(issuer, ticker, liabilities.snapshot)
    signed = _served(issuer, ticker, lambda symbol: liabilities.report(symbol, snapshot))
    document = json.loads(signed.to_json())
    document["blocks"] = [block.model_dump(mode="json") for block in _blocks(snapshot.blocks)]
    # Not re-serialised through the model: the signed fields must stay exactly as signed.
    return Response(json.dumps(document, indent=2, sort_keys=True), media_type="application/json")
