"""The peer tokens ``bench/gas.py`` measures beside ours, on the same node in the same run.

Each peer comes from its pinned npm package, fetched at bench time into the git-ignored
``.cache/gas-peers/`` (never committed, never in the Python package), is deployed as its
publisher deploys it, and has its transfer rule checked to fire before any figure is taken: a
peer whose rule lets a forbidden transfer through raises ``UnenforcedRuleError`` and records nothing.
"""

from collections.abc import Callable
from pathlib import Path

from bench.peers import oz, trex
from bench.peers.base import PeerActors, PeerFigures, RuleCheck, UnenforcedRuleError
from bench.peers.npm import CACHE_DIR, PACKAGES, PeerPackageError, install

from equitoken.chain.evm.chain import EvmChain

__all__ = [
    "PACKAGES",
    "PEERS",
    "UNAVAILABLE",
    "PeerActors",
    "PeerFigures",
    "PeerPackageError",
    "RuleCheck",
    "UnenforcedRuleError",
    "measure_peers",
]

Measure = Callable[[EvmChain, PeerActors, Path], PeerFigures]

PEERS: dict[str, Measure] = {"trex": trex.measure, "oz": oz.measure}

UNAVAILABLE = {
    "backed_xstocks": "Backed's token sources are published on GitHub only, on no package registry",
    "dinari": "Dinari's dShare sources are published on GitHub only, on no package registry",
}
"""Peers the issue names that this bench cannot deploy, and why."""


def measure_peers(chain: EvmChain, actors: PeerActors, cache_dir: Path = CACHE_DIR) -> dict[str, PeerFigures]:
    """Install the pinned packages if needed, then deploy, check and measure every peer in turn."""
    modules = install(cache_dir)
    return {name: measure(chain, actors, modules) for name, measure in PEERS.items()}
