"""Compiling contracts with the vyper API, and the on-disk artifact cache."""

from pathlib import Path

import pytest

from equitoken.chain.evm import compiler
from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.compiler import CompileError, compile_contract

_LIB = """
# pragma version ~=0.4.3
@internal
@pure
def answer() -> uint256:
    return {value}
"""

_MAIN = """
# pragma version ~=0.4.3
from . import lib

@external
@view
def answer() -> uint256:
    return lib.answer()
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("EQUITOKEN_CACHE_DIR", str(directory))
    return directory


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    root = tmp_path / "contracts"
    (root / "demo").mkdir(parents=True)
    (root / "demo" / "lib.vy").write_text(_LIB.format(value=42))
    (root / "demo" / "Main.vy").write_text(_MAIN)
    return root


def test_compiles_sanctions_list_with_snekmate_imports(cache: Path) -> None:
    artifact = compile_contract("compliance/SanctionsList.vy")

    functions = {item["name"] for item in artifact.abi if item["type"] == "function"}
    assert {"isSanctioned", "addToSanctionsList", "owner", "accept_ownership"} <= functions
    assert artifact.name == "SanctionsList"
    assert artifact.source == "compliance/SanctionsList.vy"
    assert 0 < artifact.runtime_size <= 24_576
    assert len(artifact.bytecode) > artifact.runtime_size


def test_second_compile_comes_from_the_cache(
    cache: Path, sources: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = compile_contract("demo/Main.vy", contracts_dir=sources)

    def refuse(*args: object) -> None:
        raise AssertionError("recompiled although nothing changed")

    monkeypatch.setattr(compiler, "_compile", refuse)
    second = compile_contract("demo/Main.vy", contracts_dir=sources)

    assert second == first
    assert list((cache / f"vyper-{compiler.VYPER_VERSION}" / "artifacts").glob("*.json"))


def test_editing_an_imported_module_recompiles(cache: Path, sources: Path) -> None:
    before = compile_contract("demo/Main.vy", contracts_dir=sources)

    (sources / "demo" / "lib.vy").write_text(_LIB.format(value=43))
    after = compile_contract("demo/Main.vy", contracts_dir=sources)

    assert after.bytecode != before.bytecode


def test_reverting_an_edit_finds_the_earlier_artifact(
    cache: Path, sources: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = compile_contract("demo/Main.vy", contracts_dir=sources)
    (sources / "demo" / "lib.vy").write_text(_LIB.format(value=7))
    compile_contract("demo/Main.vy", contracts_dir=sources)
    (sources / "demo" / "lib.vy").write_text(_LIB.format(value=42))
    compiled: list[str] = []
    real = compiler._compile

    def counting(*args: object) -> tuple[Artifact, list[Path]]:
        compiled.append("yes")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(compiler, "_compile", counting)
    again = compile_contract("demo/Main.vy", contracts_dir=sources)

    assert again == original
    assert compiled == []


def test_compile_error_names_the_file(cache: Path, sources: Path) -> None:
    (sources / "demo" / "Broken.vy").write_text("# pragma version ~=0.4.3\nx: uint256 =\n")

    with pytest.raises(CompileError, match=r"cannot compile demo/Broken\.vy") as caught:
        compile_contract("demo/Broken.vy", contracts_dir=sources)

    assert caught.value.source == "demo/Broken.vy"
    assert caught.value.code == "compile_error"


def test_missing_source_names_the_path(cache: Path) -> None:
    with pytest.raises(CompileError, match=r"compliance/Nope\.vy: no such file"):
        compile_contract("compliance/Nope.vy")


def test_artifact_round_trips_through_json(cache: Path, sources: Path) -> None:
    artifact = compile_contract("demo/Main.vy", contracts_dir=sources, use_cache=False)

    assert Artifact.from_json(artifact.to_json()) == artifact
