"""Proof of liabilities: tree build time, proof generation time and proof size, by number of holders.

For each size N, N holder balances are drawn (a fixed seed; holders spread over three chains,
balances up to a million 8-decimal tokens), then:

- build_s: seconds to build the Merkle-sum tree from them (nonces, leaves, every level, the root);
  the best of --repeat builds, as the machine is shared.
- proof_ms: mean milliseconds to produce one holder's inclusion proof (find the leaf, derive its
  nonce, collect the path), over --proofs random holders.
- proof_bytes: mean size of those proofs as JSON (what the API serves and `verify-proof` reads).

Every sampled proof is verified against the root, and the tree's total must equal the balances'
sum, or the run fails. Targets: 10^6 holders built in under 5 s, a proof in under 1 ms. Run::

    python bench/pol.py                    # a table for 1e4, 1e5 and 1e6 holders
    python bench/pol.py --sizes 1000 5000  # other sizes
    python bench/pol.py --json             # one JSON object: {"1e4": {"build_s": ..., ...}, ...}
"""

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from equitoken.model.holders import HolderBalance
from equitoken.proofs.inclusion import InclusionProof, verify
from equitoken.proofs.merkle_sum import MerkleSumTree

DEFAULT_SIZES = (10**4, 10**5, 10**6)
DEFAULT_PROOFS = 1_000
DEFAULT_REPEAT = 3
CHAIN_IDS = (1, 8453, 42161)
MAX_BALANCE = 10**6 * 10**8  # a million tokens of 8 decimals
SECRET = b"bench nonce secret: not a real one"
SEED = 20251201
BUILD_TARGET_S = 5.0
PROOF_TARGET_MS = 1.0


class BenchmarkError(RuntimeError):
    """A tree whose total or proofs are wrong."""


@dataclass(frozen=True)
class Result:
    holders: int
    build_s: float
    proof_ms: float
    proof_bytes: int

    @property
    def label(self) -> str:
        return size_label(self.holders)


def size_label(holders: int) -> str:
    """Return "1e4" for 10000, and the plain number for sizes that are not a power of ten."""
    exponent = len(str(holders)) - 1
    return f"1e{exponent}" if holders == 10**exponent else str(holders)


def holder_balances(count: int, seed: int = SEED) -> list[HolderBalance]:
    """Return `count` distinct holders with random non-zero balances, spread over the chains."""
    rng = random.Random(seed)
    addresses = {rng.getrandbits(160) for _ in range(count)}
    while len(addresses) < count:
        addresses.add(rng.getrandbits(160))
    return [
        HolderBalance(CHAIN_IDS[n % len(CHAIN_IDS)], f"0x{address:040x}", rng.randint(1, MAX_BALANCE))
        for n, address in enumerate(addresses)
    ]


def measure_size(holders: int, proofs: int, repeat: int) -> Result:
    """Build the tree of `holders` balances `repeat` times, then time and size `proofs` proofs."""
    balances = holder_balances(holders)
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        tree = MerkleSumTree.build("AAPL", balances, SECRET)
        timings.append(time.perf_counter() - start)
    build_s = min(timings)
    if tree.total != sum(b.raw for b in balances):
        raise BenchmarkError(f"{holders} holders: the tree's total {tree.total} is not the balances' sum")
    sample = random.Random(SEED + holders).choices(balances, k=proofs)
    start = time.perf_counter()
    made = [InclusionProof.of(tree, b.chain_id, b.holder) for b in sample]
    proof_ms = (time.perf_counter() - start) * 1_000 / proofs
    texts = [proof.to_json() for proof in made]
    for text, balance in zip(texts, sample, strict=True):
        if verify(InclusionProof.from_json(text), tree.root_hex).balance != balance.raw:
            raise BenchmarkError(f"{holders} holders: the proof of {balance.holder} gives another balance")
    proof_bytes = round(sum(len(text.encode()) for text in texts) / proofs)
    return Result(holders, build_s, proof_ms, proof_bytes)


def measure(sizes: Sequence[int], proofs: int = DEFAULT_PROOFS, repeat: int = DEFAULT_REPEAT) -> list[Result]:
    """Measure every size in turn."""
    results = []
    for holders in sizes:
        print(f"{size_label(holders)} holders: building", file=sys.stderr, flush=True)
        results.append(measure_size(holders, proofs, repeat))
    return results


def render(results: Sequence[Result]) -> Table:
    """Return a readable table, with each figure against its target."""
    table = Table(title="Proof of liabilities: Merkle-sum tree over holders")
    table.add_column("holders", justify="right")
    table.add_column("build s", justify="right")
    table.add_column("proof ms", justify="right")
    table.add_column("proof bytes", justify="right")
    for r in results:
        table.add_row(f"{r.holders:,}", f"{r.build_s:.3f}", f"{r.proof_ms:.4f}", f"{r.proof_bytes:,}")
    table.caption = f"targets: 1e6 built in < {BUILD_TARGET_S:g} s, a proof in < {PROOF_TARGET_MS:g} ms"
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object of figures per size")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES), metavar="N", help="numbers of holders"
    )
    parser.add_argument(
        "--proofs", type=int, default=DEFAULT_PROOFS, metavar="K", help="proofs timed per size"
    )
    parser.add_argument(
        "--repeat", type=int, default=DEFAULT_REPEAT, metavar="R", help="builds per size (best)"
    )
    args = parser.parse_args(argv)
    if min(args.sizes) < 1:
        parser.error(f"--sizes must all be at least 1, not {min(args.sizes)}")
    if args.proofs < 1 or args.repeat < 1:
        parser.error("--proofs and --repeat must be at least 1")
    results = measure(args.sizes, args.proofs, args.repeat)
    if args.json:
        figures = {
            r.label: {"build_s": r.build_s, "proof_ms": r.proof_ms, "proof_bytes": r.proof_bytes}
            for r in results
        }
        print(json.dumps(figures))
    else:
        Console().print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
