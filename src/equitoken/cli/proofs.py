"""`equitoken verify-proof`: a holder checks its inclusion proof against the published root.

It reads nothing but the proof file and the root given on the command line: no node, no database,
no network.
"""

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from equitoken.proofs.errors import InvalidProofError
from equitoken.proofs.inclusion import InclusionProof, verify


def verify_proof(
    proof: Annotated[Path, typer.Argument(help="The inclusion proof, a JSON file the issuer served.")],
    root: Annotated[str, typer.Option("--root", help="The published liabilities root, 0x + 64 hex digits.")],
) -> None:
    """Check that a holder's balance is counted in the liabilities under a published root."""
    try:
        text = proof.read_bytes()
    except OSError as error:
        _fail(f"cannot read {proof}: {error.strerror or error}")
    try:
        verified = verify(InclusionProof.from_json(text), root)
    except InvalidProofError as error:
        _fail(error.message)
    typer.echo(
        f"valid: {verified.holder} holds {verified.balance} {verified.ticker} (raw token units) "
        f"on chain {verified.chain_id}, counted in a total of {verified.total} "
        f"over {verified.leaf_count} holders under root {verified.root}"
    )


def _fail(message: str) -> NoReturn:
    typer.echo(f"error[{InvalidProofError.code}]: {message}", err=True)
    raise typer.Exit(2)
