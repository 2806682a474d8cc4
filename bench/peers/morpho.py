"""Morpho Blue 1.0.0, compiled at bench time from its npm sources, deployed beside our lending market.

``@morpho-org/morpho-blue@1.0.0`` ships Solidity sources only (``src/``: ``Morpho.sol``, its
libraries, and mocks such as ``IrmMock`` and ``OracleMock``), no compiled output. ``artifacts``
installs it with the npm ``solc`` at the exact compiler Morpho pins (``pragma solidity 0.8.19``)
into the git-ignored ``.cache/morpho-peer/``, compiles with solc-js's standard-JSON interface
(``solc_standard_json.js`` beside this module) under the settings of Morpho's ``foundry.toml`` at
the ``v1.0.0`` tag (the build that was deployed), and keeps the ABI and bytecode there, so later
runs skip the compiler. Nothing is committed or enters the Python package.

Morpho's AdaptiveCurveIrm lives in ``morpho-org/morpho-blue-irm``, which is on no package registry
(neither ``@morpho-org/morpho-blue-irm`` nor ``morpho-blue-irm`` is on npm), so the market uses the
package's ``IrmMock``: a pure function of utilisation that writes no state, where an adaptive IRM
stores its rate at target on every accrual. ``deploy`` sets up one market as a user meets it, priced
by the package's ``OracleMock``; ``create_market`` adds to the same Morpho singleton a market of the
same tokens, IRM and LLTV priced by any ``IOracle`` (a contract with ``price()``), under its own id::

    morpho = deploy(chain, owner, loan_token, collateral_token, lltv=LLTV, price=price_1e36)
    morpho.supply(lender, 100_000 * 10**6)
    morpho.liquidate(liquidator, borrower, morpho.borrow_shares(borrower) // 2)
    priced = create_market(morpho, real_oracle, owner)  # the price is whatever real_oracle reads
"""

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.peers.npm import PeerPackageError, install, locked, read_json
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.types import Receipt

__all__ = [
    "CACHE_DIR",
    "COMPILER_SETTINGS",
    "CONTRACTS",
    "IRM",
    "MORPHO_BLUE",
    "ORACLE_PRICE_SCALE",
    "PACKAGES",
    "SOLC",
    "MorphoBlue",
    "artifacts",
    "create_market",
    "deploy",
]

MORPHO_BLUE = ("@morpho-org/morpho-blue", "1.0.0")
SOLC = ("solc", "0.8.19")
"""solc-js at the version ``Morpho.sol`` pins with ``pragma solidity 0.8.19``."""
PACKAGES = (MORPHO_BLUE, SOLC)
CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache" / "morpho-peer"

COMPILER_SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 999_999},
    "viaIR": True,
    "evmVersion": "paris",
}
"""Morpho's ``foundry.toml`` at ``v1.0.0``: ``via-ir = true``, ``optimizer_runs = 999999`` ("Etherscan
does not support verifying contracts with more optimization runs"), Foundry's default optimizer on;
solc 0.8.19's default EVM version, Paris, written out."""

CONTRACTS = {
    "Morpho": "src/Morpho.sol",
    "IrmMock": "src/mocks/IrmMock.sol",
    "OracleMock": "src/mocks/OracleMock.sol",
}
"""The contracts the bench deploys, by name, with their source unit in the package."""

IRM = "IrmMock"
"""The rate model the market uses: the package's mock (AdaptiveCurveIrm is on no registry)."""

ORACLE_PRICE_SCALE = 10**36
"""``IOracle.price()``: loan-token units per collateral-token unit, scaled by 1e36."""

_COMPILER_SCRIPT = Path(__file__).resolve().parent / "solc_standard_json.js"
_COMPILED = "compiled.json"
_COMPILE_TIMEOUT = 900.0


@dataclass(frozen=True)
class MorphoBlue:
    """One Morpho Blue market on a chain: the singleton, its oracle and rate model, and the market."""

    chain: EvmChain
    morpho: Contract
    oracle: Contract
    irm: Contract
    params: tuple[str, str, str, str, int]
    """``MarketParams``: loan token, collateral token, oracle, IRM, LLTV."""
    market_id: bytes
    oracle_is_mock: bool = True
    """Whether ``oracle`` is the package's ``OracleMock``, priced by ``set_price``; else it reads its own."""

    @property
    def address(self) -> str:
        """Return the address users approve: the Morpho singleton."""
        return self.morpho.address

    def supply(self, lender: str, assets: int) -> Receipt:
        """Supply ``assets`` of the loan token for ``lender``, from ``lender``."""
        return self.morpho.supply.transact(self.params, assets, 0, lender, b"", sender=lender)

    def supply_collateral(self, borrower: str, assets: int) -> Receipt:
        """Supply ``assets`` of collateral for ``borrower``, from ``borrower``."""
        return self.morpho.supplyCollateral.transact(self.params, assets, borrower, b"", sender=borrower)

    def borrow(self, borrower: str, assets: int) -> Receipt:
        """Borrow ``assets`` of the loan token against ``borrower``'s collateral, to ``borrower``."""
        return self.morpho.borrow.transact(self.params, assets, 0, borrower, borrower, sender=borrower)

    def repay(self, borrower: str, assets: int) -> Receipt:
        """Repay ``assets`` of ``borrower``'s debt, from ``borrower``."""
        return self.morpho.repay.transact(self.params, assets, 0, borrower, b"", sender=borrower)

    def liquidate(self, liquidator: str, borrower: str, repaid_shares: int) -> Receipt:
        """Repay ``repaid_shares`` of ``borrower``'s debt and seize collateral for it, from ``liquidator``."""
        return self.morpho.liquidate.transact(self.params, borrower, 0, repaid_shares, b"", sender=liquidator)

    def set_price(self, price: int, sender: str) -> Receipt | None:
        """Set the ``OracleMock``'s price (loan units per collateral unit, scaled by 1e36); send nothing
        when the market's oracle is a real one, which reads its own source."""
        if not self.oracle_is_mock:
            return None
        return self.oracle.setPrice.transact(price, sender=sender)

    def position(self, user: str) -> tuple[int, int, int]:
        """Return ``user``'s supply shares, borrow shares and collateral."""
        supply_shares, borrow_shares, collateral = self.morpho.position(self.market_id, user)
        return int(supply_shares), int(borrow_shares), int(collateral)

    def borrow_shares(self, user: str) -> int:
        """Return ``user``'s borrow shares."""
        return self.position(user)[1]

    def market(self) -> tuple[int, ...]:
        """Return the totals: supply assets and shares, borrow assets and shares, last update, fee."""
        return tuple(int(value) for value in self.morpho.market(self.market_id))


def artifacts(cache_dir: Path = CACHE_DIR) -> dict[str, Artifact]:
    """Install the pinned packages if needed and return ``CONTRACTS`` compiled, from the cache if there.

    The cache holds the compiler's output under a key of the compiler version, the settings and the
    sources, so another version or setting compiles afresh.
    """
    modules = install(cache_dir, PACKAGES)
    package = modules / MORPHO_BLUE[0]
    compiler_input = _standard_json(package)
    key = hashlib.sha256(json.dumps([SOLC, compiler_input], sort_keys=True).encode()).hexdigest()
    cached = cache_dir / _COMPILED
    with locked(cache_dir / ".compile.lock"):
        stored = read_json(cached)
        if not (isinstance(stored, dict) and stored.get("key") == key):
            stored = {"key": key, "contracts": _compile(modules, package, compiler_input)}
            cached.write_text(json.dumps(stored))
    return {name: Artifact.from_json(json.dumps(data)) for name, data in stored["contracts"].items()}


def deploy(
    chain: EvmChain,
    owner: str,
    loan_token: str,
    collateral_token: str,
    *,
    lltv: int,
    price: int,
    compiled: dict[str, Artifact] | None = None,
) -> MorphoBlue:
    """Deploy Morpho (owned by ``owner``), ``IrmMock`` and ``OracleMock`` at ``price``; enable the IRM
    and ``lltv`` and create the market of ``loan_token`` against ``collateral_token``."""
    built = compiled or artifacts()
    morpho = chain.deploy_contract(built["Morpho"], owner, sender=owner)
    irm = chain.deploy_contract(built[IRM], sender=owner)
    oracle = chain.deploy_contract(built["OracleMock"], sender=owner)
    oracle.setPrice(price, sender=owner)
    morpho.enableIrm(irm.address, sender=owner)
    morpho.enableLltv(lltv, sender=owner)
    params = (loan_token, collateral_token, oracle.address, irm.address, lltv)
    morpho.createMarket(params, sender=owner)
    market_id = _market_id(params)
    if int(morpho.market(market_id)[4]) == 0:  # lastUpdate: set by createMarket
        raise PeerPackageError(f"Morpho created no market with id 0x{market_id.hex()}")
    return MorphoBlue(chain, morpho, oracle, irm, params, market_id)


def create_market(peer: MorphoBlue, oracle: Contract, owner: str) -> MorphoBlue:
    """Create on ``peer``'s Morpho singleton (owned by ``owner``) a market of the same loan and collateral
    tokens, IRM and LLTV as ``peer``'s, priced by ``oracle`` (any ``IOracle``): its own market id, so its
    totals and positions start from zero as ``peer``'s did."""
    loan_token, collateral_token, _, irm, lltv = peer.params
    params = (loan_token, collateral_token, oracle.address, irm, lltv)
    market_id = _market_id(params)
    if market_id == peer.market_id:
        raise ValueError(f"{oracle.address} is already the oracle of market 0x{market_id.hex()}")
    peer.morpho.createMarket(params, sender=owner)
    if int(peer.morpho.market(market_id)[4]) == 0:  # lastUpdate: set by createMarket
        raise PeerPackageError(f"Morpho created no market with id 0x{market_id.hex()}")
    return MorphoBlue(peer.chain, peer.morpho, oracle, peer.irm, params, market_id, oracle_is_mock=False)


def _market_id(params: tuple[str, str, str, str, int]) -> bytes:
    # MarketParamsLib.id: keccak256 of the five static words.
    return bytes(keccak(encode(["address", "address", "address", "address", "uint256"], list(params))))


def _standard_json(package: Path) -> dict[str, Any]:
    sources: dict[str, Any] = {}
    for unit in CONTRACTS.values():
        try:
            sources[unit] = {"content": (package / unit).read_text()}
        except OSError as exc:
            raise PeerPackageError(f"npm:{MORPHO_BLUE[0]}@{MORPHO_BLUE[1]} has no {unit}: {exc}") from exc
    selection = ["abi", "evm.bytecode.object", "evm.bytecode.linkReferences", "evm.deployedBytecode.object"]
    return {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            **COMPILER_SETTINGS,
            "outputSelection": {unit: {name: selection} for name, unit in CONTRACTS.items()},
        },
    }


def _compile(modules: Path, package: Path, compiler_input: dict[str, Any]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        raise PeerPackageError(
            "node is not on PATH: install Node.js >= 20 to compile Morpho Blue with solc-js"
        )
    command = [node, str(_COMPILER_SCRIPT), str(modules / SOLC[0]), str(package)]
    try:
        done = subprocess.run(
            command,
            input=json.dumps(compiler_input),
            capture_output=True,
            text=True,
            timeout=_COMPILE_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise PeerPackageError(f"solc-js took over {_COMPILE_TIMEOUT:g}s to compile Morpho Blue") from exc
    if done.returncode != 0:
        raise PeerPackageError(f"solc-js failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    result = json.loads(done.stdout)
    version = str(result["version"])
    if not version.startswith(f"{SOLC[1]}+"):
        raise PeerPackageError(f"solc-js reports version {version}, not the pinned {SOLC[1]}")
    output = result["output"]
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise PeerPackageError(
            "solc-js could not compile Morpho Blue:\n"
            + "\n".join(str(e.get("formattedMessage", e)) for e in errors[:5])
        )
    contracts: dict[str, Any] = {}
    for name, unit in CONTRACTS.items():
        compiled = output["contracts"][unit][name]
        bytecode = compiled["evm"]["bytecode"]
        if bytecode.get("linkReferences") or not bytecode["object"]:
            raise PeerPackageError(f"{unit}:{name} is abstract or needs libraries linked")
        contracts[name] = json.loads(
            Artifact(
                name=name,
                source=f"npm:{MORPHO_BLUE[0]}@{MORPHO_BLUE[1]}/{unit} (solc {version})",
                abi=list(compiled["abi"]),
                bytecode=bytes.fromhex(bytecode["object"]),
                runtime_bytecode=bytes.fromhex(compiled["evm"]["deployedBytecode"]["object"]),
            ).to_json()
        )
    return contracts
