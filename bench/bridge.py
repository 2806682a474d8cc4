"""The burn-and-mint bridge: gas of a pool's ``send`` and ``receive``, compute units of a Solana
bridge-out and of the issuer's mint there, and the latency from a burn to its mint on local chains.

Run::

    python bench/bridge.py          # a table
    python bench/bridge.py --json   # {"send_gas": g, "receive_gas": {"1": g, "4": g, "7": g},
                                    #  "solana_cu": {"burn": n, "mint": n},
                                    #  "latency_ms": {"evm_evm": t, "evm_solana": t, "solana_evm": t}}

Gas: real signed transactions on one anvil node, each figure the ``gasUsed`` of its receipt (so
calldata, and the signatures in it, count). An 8-decimal ``open`` StockToken with a sanctions list, an
identity registry and a reserve feed, and beside it one ``TokenPool`` per attester count n = 1, 4, 7
(threshold n, so ``receive`` checks n signatures), joined to a remote EVM pool with the deployment's
default rate limits both ways (``bridge.deployment.DEFAULT_LIMIT``). ``send``: a holder with a balance
sends one share, the second send of its kind (the pool's nonce and the token's supply already
non-zero). ``receive``: one share minted to a holder with a balance, the second message the pool
receives, signed by the production ``BridgeMessage.sign`` and ordered by ``quorum``. The node starts
at a fixed time and every transaction is mined 12 seconds after the one before, so the rate limiter's
buckets write the same slots each run and the figures repeat exactly: ``bench/gas.py`` snapshots them
(``pool_figures``) under ``"bridge"`` in ``bench/gas-snapshot.json``. ``tests/support/contracts/bridge``'s
``pool_gas`` (titanoboa, no calldata, no rate limits) measures the same calls lower.

Compute units: ``tests/support/solana_bridge.py``'s ``bridge_compute_units`` on LiteSVM: a holder's
bridge-out (memo + Token-2022 ``BurnChecked``, one transaction) and the issuer's mint to a verified
holder of a permissioned mint (what a bridge-in to Solana costs).

Latency: one ``bridge_world`` (``tests/support/bridge.py``: anvil nodes "ethereum" 31337 and "base"
8453, the local Solana behind its JSON-RPC server, the issuer, 3 attester processes with a threshold
of 2, and the relayer), seeded as ``tests/bridge/test_relay.py`` seeds it. For each route, the
wall-clock time from just before the holder's burn (EVM: ``TokenPool.send``, its approval made
before; Solana: the memo + burn transaction) until the relayer has recorded the transfer minted at
the destination, the relayer's ``process()`` called in a loop; the platform's manual clock moves a
second only on a pass that did nothing. Confirmation depth is 0 on every local chain, so the figure
is the bridge's own work (discovery, attestation requests to the processes over HTTP, the destination's
reserve-feed raise and mint), not finality. The median of ``TRANSFERS`` transfers per route after one
warm-up transfer.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: the repository root, not bench/ (whose solana.py
    # would shadow the `solana` package), heads the path, so `tests.support` imports too
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from sqlalchemy import ColumnElement, select
from tests.support.bridge import (
    BASE,
    ETHEREUM,
    ONE,
    BridgeWorld,
    bridge_world,
    evm_word,
    mint_through_workflow,
    solana_word,
)
from tests.support.solana_bridge import bridge_compute_units

from equitoken.bridge.deployment import DEFAULT_LIMIT
from equitoken.bridge.ends import pool_artifact
from equitoken.bridge.message import BridgeMessage, quorum, word
from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.store.schema import BridgeTransferRow

ATTESTER_COUNTS = (1, 4, 7)
ROUTES = ("evm_evm", "evm_solana", "solana_evm")
ROUTE_NAMES = {
    "evm_evm": "ethereum -> base",
    "evm_solana": "ethereum -> solana",
    "solana_evm": "solana -> base",
}
DECIMALS = 8
SHARE = 10**DECIMALS
REMOTE_CHAIN = 42_161
REMOTE_POOL = b"\x00" * 12 + b"\xab" * 20
RESERVES = 10**9 * SHARE
HEARTBEAT = 86_400
TRANSFERS = 5
WARM_UP = 1
SEED_SHARES = 2 * (TRANSFERS + WARM_UP) + 2
MAX_PASSES = 200
UNLIMITED = 2**256 - 1
BLOCK_SECONDS = 12
GENESIS = 1_767_225_600  # 2026-01-01: a fixed start, so every block's timestamp is the same each run


@dataclass(frozen=True)
class Report:
    """The figures: gas by operation and attester count, compute units, and latencies by route."""

    send_gas: int
    receive_gas: dict[int, int]
    solana_cu: dict[str, int]
    latency_ms: dict[str, list[float]]

    def median_ms(self, route: str) -> float:
        return statistics.median(self.latency_ms[route])


# -- gas


def attester_keys(count: int) -> list[LocalAccount]:
    """Return `count` deterministic attester keys."""
    return [Account.from_key(keccak(text=f"bench bridge attester {i}")) for i in range(count)]


def deploy_token(chain: JsonRpcChain, admin: str) -> Contract:
    """Deploy an 8-decimal open StockToken with a sanctions list, a registry and a funded reserve feed."""
    sanctions = chain.deploy(compile_contract("compliance/SanctionsList.vy"), sender=admin)
    registry = chain.deploy(compile_contract("compliance/IdentityRegistry.vy"), sender=admin)
    feed_artifact = compile_contract("oracle/ReserveFeed.vy")
    feed = chain.deploy_contract(feed_artifact, DECIMALS, "reserves", sender=admin)
    feed.grantRole(feed.UPDATER_ROLE(), admin, sender=admin)
    token = chain.deploy_contract(
        compile_contract("token/StockToken.vy"),
        "Apple Inc. tokenized stock",
        "AAPLx",
        DECIMALS,
        "US0378331005",
        "AAPL",
        "",
        0,
        sanctions,
        registry,
        feed.address,
        HEARTBEAT,
        sender=admin,
    )
    token.grantRole(token.MINTER_ROLE(), admin, sender=admin)
    feed.update(RESERVES, chain.timestamp(), sender=admin)
    return token


@dataclass
class Blocks:
    """Mines each transaction `BLOCK_SECONDS` after the one before, so the rate limiter's buckets see the
    same elapsed time, and write the same slots, run after run."""

    chain: JsonRpcChain
    now: int

    def next(self) -> None:
        self.now += BLOCK_SECONDS
        self.chain.set_next_block_timestamp(self.now)


def deploy_pool(blocks: Blocks, token: Contract, admin: str, attesters: list[str]) -> Contract:
    """Deploy a pool needing every one of `attesters`, joined to the remote with the default limits."""
    chain = blocks.chain
    blocks.next()
    pool = chain.deploy_contract(pool_artifact(), token.address, attesters, len(attesters), sender=admin)
    for role in (token.MINTER_ROLE(), token.BURNER_ROLE()):
        blocks.next()
        token.grantRole(role, pool.address, sender=admin)
    blocks.next()
    pool.set_remote(REMOTE_CHAIN, REMOTE_POOL, True, sender=admin)
    limit = DEFAULT_LIMIT
    blocks.next()
    pool.set_rate_limits(
        REMOTE_CHAIN, True, limit.capacity, limit.rate, True, limit.capacity, limit.rate, sender=admin
    )
    return pool


def measure_gas() -> tuple[int, dict[int, int]]:
    """Return the receipt gas of `send` and of `receive` with each attester count, on a fresh node."""
    with AnvilNode(accounts=4, timestamp=GENESIS) as node, node.chain() as chain:
        admin, holder = node.accounts[0], node.accounts[1]
        token = deploy_token(chain, admin)
        token.mint(holder, 1_000 * SHARE, sender=admin)
        blocks = Blocks(chain, chain.timestamp())
        send_gas = 0
        receive_gas: dict[int, int] = {}
        for count in ATTESTER_COUNTS:
            keys = attester_keys(count)
            members: list[str] = [key.address for key in keys]
            pool = deploy_pool(blocks, token, admin, members)
            blocks.next()
            token.approve(pool.address, UNLIMITED, sender=holder)
            for _ in range(2):
                blocks.next()
                sent = pool.send(REMOTE_CHAIN, word(holder), SHARE, SHARE, sender=holder)
            send_gas = send_gas or sent.gas_used
            for nonce in (1, 2):
                message = BridgeMessage(
                    REMOTE_CHAIN, REMOTE_POOL, chain.chain_id, word(pool.address), nonce,
                    word(holder), word(holder), SHARE,
                )  # fmt: skip
                signatures = quorum(message, [message.sign(key) for key in keys], members)
                blocks.next()
                received = pool.receive(message.as_tuple(), signatures, sender=admin)
            receive_gas[count] = received.gas_used
        return send_gas, receive_gas


def pool_figures() -> dict[str, int]:
    """Return the pool's gas as ``bench/gas.py`` snapshots it: ``send`` and ``receive_<n>``."""
    send_gas, receive_gas = measure_gas()
    return {"send": send_gas, **{f"receive_{n}": gas for n, gas in receive_gas.items()}}


# -- latency


def seed(world: BridgeWorld) -> None:
    """Mint AAPL to the participant on ethereum and to its Solana wallet, through the workflow."""
    platform, solana = world.platform, world.solana.chain
    mint_through_workflow(platform, world.issuer, "AAPL", ETHEREUM, platform.wallet, str(SEED_SHARES))
    wallet = str(world.solana_wallet.pubkey())
    mint_through_workflow(platform, world.issuer, "AAPL", solana.chain_id, wallet, str(SEED_SHARES))


Burn = Callable[[], ColumnElement[bool]]
"""A burn to time; it returns what finds its transfer among the relayer's rows."""


def minted(world: BridgeWorld, transfer: ColumnElement[bool]) -> bool:
    """Return whether the relayer recorded the `transfer` as minted."""
    with world.database.transaction() as session:
        state = session.scalars(select(BridgeTransferRow.state).where(transfer)).first()
    return state == "minted"


def relay_until_minted(world: BridgeWorld, transfer: ColumnElement[bool]) -> None:
    """Run the relayer until `transfer` is minted; move the clock a second only on an idle pass."""
    for _ in range(MAX_PASSES):
        steps = world.relayer.process()
        if minted(world, transfer):
            return
        if steps == 0:
            world.platform.clock.advance(timedelta(seconds=1))
    raise RuntimeError(f"the transfer ({transfer}) was not minted in {MAX_PASSES} passes")


def evm_send(world: BridgeWorld, dest: int, receiver: bytes) -> Burn:
    """Approve the ethereum pool now; return the `send` to time (its transfer found by message id)."""
    pool = world.pool(ETHEREUM, "AAPL")
    world.token(ETHEREUM, "AAPL").approve(pool.address, ONE, sender=world.wallet)

    def burn() -> ColumnElement[bool]:
        receipt = pool.send.transact(dest, receiver, ONE, ONE, sender=world.wallet)
        sent = next(e for e in pool.decode_logs(receipt) if e.name == "Sent")
        return BridgeTransferRow.id == "0x" + bytes(sent.args["message_id"]).hex()

    return burn


def solana_send(world: BridgeWorld) -> Burn:
    """Return the bridge-out to base to time (its transfer found by the transaction's signature)."""

    def burn() -> ColumnElement[bool]:
        signature = world.bridge_out("AAPL", BASE, evm_word(world.wallet), ONE)
        return BridgeTransferRow.source_tx == str(signature)

    return burn


def time_route(world: BridgeWorld, route: str) -> float:
    """Return the milliseconds from just before one burn on `route` until the relayer minted it."""
    if route == "evm_evm":
        burn = evm_send(world, BASE, evm_word(world.wallet))
    elif route == "evm_solana":
        burn = evm_send(world, world.solana.chain.chain_id, solana_word(world.solana_wallet.pubkey()))
    else:
        burn = solana_send(world)
    started = time.perf_counter()
    transfer = burn()
    relay_until_minted(world, transfer)
    return (time.perf_counter() - started) * 1_000


def measure_latency() -> dict[str, list[float]]:
    """Build one bridge world in a temporary directory; return each route's measured latencies."""
    calendar = MarketCalendar("XNYS")
    prices = ReplayPriceSource.default(calendar)
    with (
        tempfile.TemporaryDirectory(prefix="bench-bridge-") as directory,
        bridge_world(Path(directory), prices, calendar) as world,
    ):
        seed(world)
        world.relay()  # nothing of the seeding left for the relayer to discover
        latencies: dict[str, list[float]] = {}
        for route in ROUTES:
            runs = [time_route(world, route) for _ in range(WARM_UP + TRANSFERS)]
            latencies[route] = runs[WARM_UP:]
        return latencies


# -- the run


def measure() -> Report:
    send_gas, receive_gas = measure_gas()
    return Report(send_gas, receive_gas, bridge_compute_units(), measure_latency())


def headline(report: Report) -> dict[str, Any]:
    """Return the figures the issue names, as one JSON-ready object."""
    return {
        "send_gas": report.send_gas,
        "receive_gas": {str(n): gas for n, gas in report.receive_gas.items()},
        "solana_cu": {"burn": report.solana_cu["burn"], "mint": report.solana_cu["mint"]},
        "latency_ms": {route: round(report.median_ms(route), 1) for route in ROUTES},
    }


def render(report: Report) -> str:
    """Return the figures as a readable table."""
    lines = [f"{'EVM pool (anvil, receipt gasUsed)':<40}{'gas':>10}"]
    lines.append(f"{'send':<40}{report.send_gas:>10,}")
    for n, gas in report.receive_gas.items():
        lines.append(f"{f'receive, {n} of {n} attesters':<40}{gas:>10,}")
    counts = sorted(report.receive_gas)
    if len(counts) > 1:
        low, high = counts[0], counts[-1]
        per = (report.receive_gas[high] - report.receive_gas[low]) / (high - low)
        lines.append(f"{'each attester signature more':<40}{per:>10,.0f}")
    lines += [
        "",
        f"{'Solana (LiteSVM)':<40}{'CU':>10}",
        f"{'bridge-out (memo + BurnChecked)':<40}{report.solana_cu['burn']:>10,}",
        f"{'issuer mint (bridge-in)':<40}{report.solana_cu['mint']:>10,}",
        "",
        f"{'send to mint, local chains':<28}{'median ms':>12}{'min':>10}{'max':>10}",
    ]
    for route in ROUTES:
        runs = report.latency_ms[route]
        lines.append(
            f"{ROUTE_NAMES[route]:<28}{report.median_ms(route):>12,.1f}{min(runs):>10,.1f}{max(runs):>10,.1f}"
        )
    lines += [
        "",
        "notes: gas from real transactions on anvil (calldata included), default rate limits on;",
        "latency: 3 attester processes (threshold 2), confirmation depth 0, relayer loop, "
        f"median of {len(report.latency_ms[ROUTES[0]])} per route.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object of the figures")
    args = parser.parse_args(argv)
    report = measure()
    print(json.dumps(headline(report)) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
