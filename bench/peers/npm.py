"""The peers' pinned npm packages, installed at bench time into the git-ignored ``.cache/gas-peers/``.

Nothing of the peers is committed or enters the Python package: ``install`` runs ``npm install`` of
the exact versions in ``PACKAGES`` into the cache once (parallel test workers wait on a lock file)
and reuses it afterwards; ``artifact`` reads one compiled contract the packages ship (Hardhat or
Truffle output: ``abi``, ``bytecode``, ``deployedBytecode``), so no Solidity is compiled here.
"""

import contextlib
import fcntl
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from equitoken.chain.evm.artifacts import Artifact

TREX = ("@tokenysolutions/t-rex", "4.1.6")
# T-REX 4.1.6 asks for ^2.0.0 and ships the Identity, ClaimIssuer and ImplementationAuthority it was
# built with, but not the IdentityProxy and IdFactory that deploy identities: those come from here.
ONCHAINID = ("@onchain-id/solidity", "2.0.0")
OPENZEPPELIN = ("@openzeppelin/contracts", "4.9.6")
PACKAGES = (TREX, ONCHAINID, OPENZEPPELIN)
CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache" / "gas-peers"

_NPM_TIMEOUT = 600.0
# Written last, so a directory without it (an install killed half way) is installed again.
_MARKER = "installed.json"


class PeerPackageError(RuntimeError):
    """The peers' npm packages could not be installed, or do not hold what the bench expects."""


def install(cache_dir: Path = CACHE_DIR, packages: tuple[tuple[str, str], ...] = PACKAGES) -> Path:
    """Install the pinned (name, version) ``packages`` into ``cache_dir`` unless already there; return
    its ``node_modules``."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    modules = cache_dir / "node_modules"
    wanted = [f"{name}@{version}" for name, version in packages]
    marker = cache_dir / _MARKER
    with locked(cache_dir / ".lock"):
        if read_json(marker) == wanted and _versions_match(modules, packages):
            return modules
        npm = shutil.which("npm")
        if npm is None:
            raise PeerPackageError(f"npm is not on PATH: install Node.js >= 20 to fetch {' '.join(wanted)}")
        command = [
            npm,
            "install",
            "--no-save",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(cache_dir),
            *wanted,
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=_NPM_TIMEOUT, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PeerPackageError(f"npm install of {' '.join(wanted)} took over {_NPM_TIMEOUT:g}s") from exc
        if done.returncode != 0:
            # npm's first error lines say what went wrong; its stack trace and log path do not.
            errors = [
                line
                for line in (done.stderr or done.stdout).splitlines()
                if line.startswith("npm error")
                and not line.removeprefix("npm error").strip().startswith("at ")
            ]
            raise PeerPackageError(
                f"npm install of {' '.join(wanted)} failed (exit {done.returncode}); "
                "is the npm registry reachable?\n" + "\n".join(errors[:6])
            )
        if not _versions_match(modules, packages):
            raise PeerPackageError(f"npm install finished but {modules} does not hold {' '.join(wanted)}")
        marker.write_text(json.dumps(wanted))
    return modules


def artifact(modules: Path, package: tuple[str, str], path: str) -> Artifact:
    """Read the compiled contract at ``path`` inside ``package`` (installed under ``modules``)."""
    source = f"npm:{package[0]}@{package[1]}/{path}"
    data = read_json(modules / package[0] / path)
    try:
        abi = list(data["abi"])
        bytecode = bytes.fromhex(str(data["bytecode"]).removeprefix("0x"))
        runtime = bytes.fromhex(str(data["deployedBytecode"]).removeprefix("0x"))
    except (KeyError, TypeError, ValueError) as exc:
        raise PeerPackageError(f"{source} is missing or not a compiled contract: {exc!r}") from exc
    if data.get("linkReferences") or not bytecode:
        raise PeerPackageError(f"{source} is abstract or needs libraries linked; the bench deploys neither")
    name = str(data.get("contractName", Path(path).stem))
    return Artifact(name=name, source=source, abi=abi, bytecode=bytecode, runtime_bytecode=runtime)


def _versions_match(modules: Path, packages: tuple[tuple[str, str], ...]) -> bool:
    for name, version in packages:
        manifest = read_json(modules / name / "package.json")
        if not isinstance(manifest, dict) or manifest.get("version") != version:
            return False
    return True


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
