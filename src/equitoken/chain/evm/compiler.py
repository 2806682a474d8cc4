"""Compile the Vyper contracts in ``contracts/`` into artifacts, with an on-disk cache.

Imports resolve against ``contracts/`` first (so ``from ..interfaces import ISanctionsList`` and
``from compliance import transfer_codes`` work) and then the installed Python packages (so
``from snekmate.auth import ownable`` works).

The cache lives in ``$EQUITOKEN_CACHE_DIR`` (default ``$XDG_CACHE_HOME/equitoken`` or
``~/.cache/equitoken``), under ``vyper-<version>/``. An artifact is stored under a hash of the
compiler version and of every source file the contract pulls in, so editing any imported module
recompiles, and switching back to an earlier version of the sources finds the earlier artifact.
"""

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from equitoken.chain.evm.artifacts import CONTRACTS_DIR, Artifact
from equitoken.model.errors import EquitokenError

VYPER_VERSION = importlib.metadata.version("vyper")


class CompileError(EquitokenError):
    """A contract failed to compile; the message names the source file and the compiler's reason."""

    code = "compile_error"

    def __init__(self, source: str, detail: str) -> None:
        super().__init__(f"cannot compile {source}: {detail}")
        self.source = source
        self.detail = detail


def cache_dir() -> Path:
    """Return the directory that holds compiled artifacts for the installed compiler version."""
    configured = os.environ.get("EQUITOKEN_CACHE_DIR")
    if configured:
        base = Path(configured)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "equitoken"
    return base / f"vyper-{VYPER_VERSION}"


def search_paths(contracts_dir: Path = CONTRACTS_DIR) -> list[Path]:
    """Return the import search paths: the contracts directory, then the Python package dirs."""
    paths = [contracts_dir]
    for key in ("purelib", "platlib"):
        paths.append(Path(sysconfig.get_paths()[key]))
    spec = importlib.util.find_spec("snekmate")
    if spec is not None and spec.submodule_search_locations:
        paths.extend(Path(location).parent for location in spec.submodule_search_locations)
    unique: list[Path] = []
    for path in paths:
        resolved = path.resolve()
        if resolved not in unique:
            unique.append(resolved)
    return unique


def compile_contract(relative: str, *, use_cache: bool = True, contracts_dir: Path | None = None) -> Artifact:
    """Compile ``contracts/<relative>`` (e.g. ``compliance/SanctionsList.vy``) into an artifact.

    ``contracts_dir`` replaces ``contracts/`` as the root of the sources (tests use it).
    """
    root = contracts_dir if contracts_dir is not None else CONTRACTS_DIR
    path = root / relative
    if not path.is_file():
        raise CompileError(relative, f"no such file {path}")
    path = path.resolve()
    roots = search_paths(root)
    index_file = cache_dir() / "index" / (_digest(VYPER_VERSION, str(path), *map(str, roots)) + ".json")
    if use_cache:
        cached = _load_cached(index_file)
        if cached is not None:
            return cached
    artifact, dependencies = _compile(relative, path, roots)
    if use_cache:
        _store(index_file, artifact, dependencies)
    return artifact


def _compile(relative: str, path: Path, roots: list[Path]) -> tuple[Artifact, list[Path]]:
    from vyper.compiler import CompilerData
    from vyper.compiler.input_bundle import FilesystemInputBundle
    from vyper.compiler.output import build_abi_output
    from vyper.exceptions import _BaseVyperException

    bundle = FilesystemInputBundle(roots)
    try:
        file_input = bundle.load_file(path)
        data = CompilerData(file_input, input_bundle=bundle)
        abi: list[dict[str, Any]] = build_abi_output(data)
        bytecode: bytes = data.bytecode
        runtime: bytes = data.bytecode_runtime
        inputs = data.resolved_imports.compiler_inputs
    except _BaseVyperException as exc:
        raise CompileError(relative, str(exc)) from exc
    dependencies = {path}
    for item in inputs:
        resolved = getattr(item, "resolved_path", None)
        if resolved is not None and Path(resolved).is_file():
            dependencies.add(Path(resolved).resolve())
    artifact = Artifact(
        name=path.stem,
        source=Path(relative).as_posix(),
        abi=abi,
        bytecode=bytes(bytecode),
        runtime_bytecode=bytes(runtime),
    )
    return artifact, sorted(dependencies)


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def _sources_digest(dependencies: list[Path]) -> str | None:
    parts = [VYPER_VERSION]
    for dep in dependencies:
        try:
            content = dep.read_bytes()
        except OSError:
            return None
        parts += [str(dep), hashlib.sha256(content).hexdigest()]
    return _digest(*parts)


def _load_cached(index_file: Path) -> Artifact | None:
    try:
        dependencies = [Path(p) for p in json.loads(index_file.read_text())["dependencies"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    key = _sources_digest(dependencies)
    if key is None:
        return None
    try:
        return Artifact.from_json((index_file.parent.parent / "artifacts" / f"{key}.json").read_text())
    except (OSError, ValueError, KeyError):
        return None


def _store(index_file: Path, artifact: Artifact, dependencies: list[Path]) -> None:
    key = _sources_digest(dependencies)
    if key is None:
        return
    try:
        _write_atomic(index_file.parent.parent / "artifacts" / f"{key}.json", artifact.to_json())
        _write_atomic(index_file, json.dumps({"dependencies": [str(d) for d in dependencies]}))
    except OSError:
        pass  # a read-only or full cache directory only costs a recompile next time


def _write_atomic(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
