"""Fixtures for the chain layer: one real anvil node per test session (per xdist worker), and
``any_chain``/``fresh_chain`` that run a test on both EvmChain implementations ("inproc", "anvil")."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.chain.evm.jsonrpc import JsonRpcChain

BOTH_CHAINS = [
    pytest.param("inproc", id="inproc"),
    pytest.param("anvil", id="anvil", marks=pytest.mark.anvil),
]


@pytest.fixture(scope="session")
def anvil_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnvilNode]:
    """A node shared by the session; tests deploy their own contracts on it."""
    node = AnvilNode(log_file=tmp_path_factory.mktemp("anvil") / "anvil.log")
    with node:
        yield node


@pytest.fixture
def fresh_node(tmp_path: Path) -> Iterator[AnvilNode]:
    """A node of the test's own, for tests that change how the node mines or keeps time."""
    with AnvilNode(log_file=tmp_path / "anvil.log") as node:
        yield node


@pytest.fixture(scope="session")
def chain(anvil_node: AnvilNode) -> Iterator[JsonRpcChain]:
    with anvil_node.chain() as connected:
        yield connected


@pytest.fixture(scope="session")
def sanctions_artifact() -> Artifact:
    return compile_contract("compliance/SanctionsList.vy")


@pytest.fixture
def owner(chain: JsonRpcChain) -> str:
    return chain.accounts[0]


@pytest.fixture
def non_owner(chain: JsonRpcChain) -> str:
    return chain.accounts[1]


@pytest.fixture
def sanctioned(chain: JsonRpcChain) -> str:
    return chain.accounts[2]


@pytest.fixture
def sanctions(chain: JsonRpcChain, sanctions_artifact: Artifact, owner: str) -> Contract:
    """A freshly deployed SanctionsList owned by ``owner``."""
    return chain.deploy_contract(sanctions_artifact, sender=owner)


@pytest.fixture(params=BOTH_CHAINS)
def any_chain(request: pytest.FixtureRequest) -> EvmChain:
    """A chain of each kind: a new in-process chain, or the session's anvil node."""
    if request.param == "inproc":
        return InProcessChain()
    chain: JsonRpcChain = request.getfixturevalue("chain")
    return chain


@pytest.fixture(params=BOTH_CHAINS)
def fresh_chain(request: pytest.FixtureRequest) -> Iterator[EvmChain]:
    """A chain of each kind that no other test sees, for tests that move time or set balances."""
    if request.param == "inproc":
        yield InProcessChain()
        return
    node: AnvilNode = request.getfixturevalue("fresh_node")
    with node.chain() as chain:
        yield chain
