"""`verify-proof` through Typer, as the CLI registers it: exit 0 with the figures, or exit 2 naming why."""

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from equitoken.cli.proofs import verify_proof
from equitoken.model.holders import HolderBalance
from equitoken.proofs.inclusion import InclusionProof
from equitoken.proofs.merkle_sum import MerkleSumTree

SECRET = b"issuer nonce secret, 32 bytes ok"
HOLDER = "0x" + "11" * 20
OTHER = "0x" + "22" * 20


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("verify-proof")(verify_proof)
    # A second command keeps Typer from collapsing the app into its only command.
    app.command("noop")(lambda: None)
    return app


@pytest.fixture
def tree() -> MerkleSumTree:
    return MerkleSumTree.build("AAPL", [HolderBalance(1, HOLDER, 250), HolderBalance(1, OTHER, 750)], SECRET)


@pytest.fixture
def proof_file(tmp_path: Path, tree: MerkleSumTree) -> Path:
    path = tmp_path / "proof.json"
    path.write_text(InclusionProof.of(tree, 1, HOLDER).to_json())
    return path


def test_a_valid_proof_exits_0_and_prints_the_balance_and_total(
    cli: typer.Typer, tree: MerkleSumTree, proof_file: Path
) -> None:
    result = CliRunner().invoke(cli, ["verify-proof", str(proof_file), "--root", tree.root_hex])

    assert result.exit_code == 0, result.output
    assert "valid: 0x1111111111111111111111111111111111111111 holds 250 AAPL" in result.stdout
    assert f"counted in a total of 1000 over 2 holders under root {tree.root_hex}" in result.stdout


def test_an_altered_proof_exits_2_with_proof_invalid(
    cli: typer.Typer, tree: MerkleSumTree, proof_file: Path
) -> None:
    data = json.loads(proof_file.read_text())
    data["balance"] = "2500"
    proof_file.write_text(json.dumps(data))

    result = CliRunner().invoke(cli, ["verify-proof", str(proof_file), "--root", tree.root_hex])

    assert result.exit_code == 2
    assert result.stderr.startswith("error[proof_invalid]: the proof does not lead to the published root")
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("root", "content", "message"),
    [
        ("0x" + "00" * 32, None, "error[proof_invalid]: the proof is for root 0x"),
        (
            "0x1234",
            None,
            "error[proof_invalid]: the published root '0x1234' is not 0x followed by 64 hex digits",
        ),
        (None, "{", "error[proof_invalid]: the proof is not valid JSON"),
        (None, "", "error[proof_invalid]: the proof is not valid JSON"),
    ],
)
def test_a_wrong_root_or_unreadable_proof_exits_2(
    cli: typer.Typer,
    tree: MerkleSumTree,
    proof_file: Path,
    root: str | None,
    content: str | None,
    message: str,
) -> None:
    if content is not None:
        proof_file.write_text(content)

    result = CliRunner().invoke(cli, ["verify-proof", str(proof_file), "--root", root or tree.root_hex])

    assert result.exit_code == 2
    assert result.stderr.startswith(message)


def test_a_missing_proof_file_exits_2_naming_it(
    cli: typer.Typer, tree: MerkleSumTree, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.json"

    result = CliRunner().invoke(cli, ["verify-proof", str(missing), "--root", tree.root_hex])

    assert result.exit_code == 2
    assert result.stderr.startswith(f"error[proof_invalid]: cannot read {missing}: No such file or directory")
