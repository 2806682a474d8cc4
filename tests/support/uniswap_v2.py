"""The real Uniswap v2, from its published npm packages, deployed on an EVM chain for tests and benches.

The contracts are not ours and are never committed: ``install_packages`` fetches
``@uniswap/v2-core@1.0.1`` and ``@uniswap/v2-periphery@1.1.0-beta.0`` with npm into a cache
directory (``.cache/uniswap-v2/`` at the repo root, git-ignored) and reuses it afterwards.
``load_artifacts`` reads the compiled contracts the packages ship in their ``build/`` folders
(Waffle output: ``abi`` and ``evm.bytecode``/``evm.deployedBytecode``), and ``deploy_uniswap_v2``
deploys the factory, WETH9 and Router02 with a chain's signed transactions::

    uniswap = deploy_uniswap_v2(chain, deployer)
    uniswap.factory.createPair(token, usdc, sender=deployer)
    pair = uniswap.pair(token, usdc)

Router02 never asks the factory where a pair is: ``UniswapV2Library.pairFor`` derives the CREATE2
address from the factory, the sorted tokens and the keccak256 of the pair's init code, a constant
compiled into the router. A router built against another pair bytecode would send tokens to an
address where no pair lives, so ``load_artifacts`` checks that the factory's pair bytecode hashes to
that constant and that the router carries it.
"""

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.peers.npm import locked, read_json
from eth_utils.crypto import keccak

from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import Contract
from equitoken.model.address import checksum

__all__ = [
    "CORE_PACKAGE",
    "DEFAULT_CACHE_DIR",
    "MINIMUM_LIQUIDITY",
    "PAIR_INIT_CODE_HASH",
    "PERIPHERY_PACKAGE",
    "UniswapV2",
    "UniswapV2Artifacts",
    "UniswapV2Error",
    "deploy_uniswap_v2",
    "install_packages",
    "load_artifacts",
    "pair_address",
]

CORE_PACKAGE = ("@uniswap/v2-core", "1.0.1")
PERIPHERY_PACKAGE = ("@uniswap/v2-periphery", "1.1.0-beta.0")
DEFAULT_CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache" / "uniswap-v2"
PAIR_INIT_CODE_HASH = bytes.fromhex("96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f")
"""keccak256 of UniswapV2Pair's init code: the constant in ``UniswapV2Library.pairFor``."""
MINIMUM_LIQUIDITY = 1_000
"""LP shares a pair locks at its first deposit (sent to the zero address)."""

_NPM_TIMEOUT = 600.0
# Written last, so a directory without it (an install killed half way) is installed again.
_INSTALLED_MARKER = "installed.json"


class UniswapV2Error(RuntimeError):
    """The Uniswap v2 packages could not be installed, or are not what this module expects."""

    code = "uniswap_v2_error"


@dataclass(frozen=True)
class UniswapV2Artifacts:
    """The compiled Uniswap v2 contracts from the npm packages."""

    factory: Artifact
    pair: Artifact
    router: Artifact
    weth: Artifact


@dataclass(frozen=True)
class UniswapV2:
    """A Uniswap v2 deployment on one chain: the factory, WETH9 and Router02."""

    chain: EvmChain
    artifacts: UniswapV2Artifacts
    factory: Contract
    weth: Contract
    router: Contract

    def pair_address(self, token_a: str, token_b: str) -> str:
        """Return where the pair of two tokens lives (or will, once created), as Router02 computes it."""
        return pair_address(self.factory.address, token_a, token_b)

    def pair(self, token_a: str, token_b: str) -> Contract:
        """Return the pair of two tokens; raise ``UniswapV2Error`` if the factory has not created it."""
        address = str(self.factory.getPair(token_a, token_b))
        if int(address, 16) == 0:
            raise UniswapV2Error(
                f"the factory has no pair for {token_a} and {token_b}: call createPair first"
            )
        return self.chain.at(address, self.artifacts.pair)


def pair_address(factory: str, token_a: str, token_b: str) -> str:
    """Return the CREATE2 address of the pair of two tokens, as ``UniswapV2Library.pairFor`` does."""
    first, second = sorted(bytes.fromhex(checksum(t)[2:]) for t in (token_a, token_b))
    if first == second:
        raise UniswapV2Error(f"a pair needs two different tokens, got {token_a} twice")
    salt = keccak(first + second)
    digest = keccak(b"\xff" + bytes.fromhex(checksum(factory)[2:]) + salt + PAIR_INIT_CODE_HASH)
    return checksum("0x" + digest[12:].hex())


def install_packages(cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """Install the pinned packages into ``cache_dir`` unless already there; return its ``node_modules``.

    Concurrent callers (parallel test workers) wait for one another on a lock file.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    modules = cache_dir / "node_modules"
    wanted = [f"{name}@{version}" for name, version in (CORE_PACKAGE, PERIPHERY_PACKAGE)]
    marker = cache_dir / _INSTALLED_MARKER
    with locked(cache_dir / ".lock"):
        if read_json(marker) == wanted and _installed_versions_match(modules):
            return modules
        npm = shutil.which("npm")
        if npm is None:
            raise UniswapV2Error(
                f"npm is not on PATH: install Node.js >= 20 with npm to fetch {' and '.join(wanted)}"
            )
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
            raise UniswapV2Error(
                f"npm install of {' '.join(wanted)} did not finish in {_NPM_TIMEOUT:g}s"
            ) from exc
        if done.returncode != 0:
            # npm's first error lines say what went wrong; its stack trace and log path do not.
            errors = [
                line
                for line in (done.stderr or done.stdout).splitlines()
                if line.startswith("npm error")
                and not line.removeprefix("npm error").strip().startswith("at ")
            ]
            tail = "\n".join(errors[:6])
            raise UniswapV2Error(
                f"npm install of {' '.join(wanted)} failed (exit {done.returncode}); "
                f"is the npm registry reachable?\n{tail}"
            )
        if not _installed_versions_match(modules):
            raise UniswapV2Error(f"npm install finished but {modules} does not hold {' and '.join(wanted)}")
        marker.write_text(json.dumps(wanted))
    return modules


def load_artifacts(cache_dir: Path = DEFAULT_CACHE_DIR) -> UniswapV2Artifacts:
    """Install the packages if needed and read their compiled contracts; check the pair init code hash."""
    modules = install_packages(cache_dir)
    core = modules / CORE_PACKAGE[0] / "build"
    periphery = modules / PERIPHERY_PACKAGE[0] / "build"
    artifacts = UniswapV2Artifacts(
        factory=_read_artifact(core / "UniswapV2Factory.json", CORE_PACKAGE),
        pair=_read_artifact(core / "UniswapV2Pair.json", CORE_PACKAGE),
        router=_read_artifact(periphery / "UniswapV2Router02.json", PERIPHERY_PACKAGE),
        weth=_read_artifact(periphery / "WETH9.json", PERIPHERY_PACKAGE),
    )
    pair_hash = keccak(artifacts.pair.bytecode)
    if pair_hash != PAIR_INIT_CODE_HASH:
        raise UniswapV2Error(
            f"UniswapV2Pair's init code hashes to {pair_hash.hex()}, not the {PAIR_INIT_CODE_HASH.hex()} "
            "that Router02 derives pair addresses from"
        )
    if PAIR_INIT_CODE_HASH not in artifacts.router.bytecode:
        raise UniswapV2Error(f"Router02 does not carry the pair init code hash {PAIR_INIT_CODE_HASH.hex()}")
    if artifacts.pair.bytecode not in artifacts.factory.bytecode:
        raise UniswapV2Error(
            "UniswapV2Factory does not create pairs from the UniswapV2Pair in the same package"
        )
    return artifacts


def deploy_uniswap_v2(
    chain: EvmChain,
    deployer: str,
    *,
    fee_to_setter: str | None = None,
    artifacts: UniswapV2Artifacts | None = None,
) -> UniswapV2:
    """Deploy the factory (protocol fee off), WETH9 and Router02 from ``deployer``."""
    loaded = artifacts or load_artifacts()
    factory = chain.deploy_contract(loaded.factory, fee_to_setter or deployer, sender=deployer)
    weth = chain.deploy_contract(loaded.weth, sender=deployer)
    router = chain.deploy_contract(loaded.router, factory.address, weth.address, sender=deployer)
    return UniswapV2(chain, loaded, factory, weth, router)


def _read_artifact(path: Path, package: tuple[str, str]) -> Artifact:
    source = f"npm:{package[0]}@{package[1]}/build/{path.name}"
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        bytecode = data["evm"]["bytecode"]
        runtime = data["evm"]["deployedBytecode"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UniswapV2Error(f"{source} is missing or not a compiled contract: {exc}") from exc
    if bytecode.get("linkReferences"):
        raise UniswapV2Error(f"{source} needs libraries linked, which this module does not do")
    return Artifact(
        name=path.stem,
        source=source,
        abi=list(data["abi"]),
        bytecode=bytes.fromhex(str(bytecode["object"]).removeprefix("0x")),
        runtime_bytecode=bytes.fromhex(str(runtime["object"]).removeprefix("0x")),
    )


def _installed_versions_match(modules: Path) -> bool:
    for name, version in (CORE_PACKAGE, PERIPHERY_PACKAGE):
        manifest = modules / name / "package.json"
        try:
            if json.loads(manifest.read_text()).get("version") != version:
                return False
        except (OSError, ValueError):
            return False
    return True
