"""Kill the relayer process for real at every bridge crash point, restart it, and check the message was
minted exactly once; kill an attester process and check the relayer waits for its restart."""

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from eth_account import Account
from solders.pubkey import Pubkey
from sqlalchemy import func, select
from tests.bridge.relay_worker import config_for
from tests.support.bridge import (
    BASE,
    ETHEREUM,
    ONE,
    THRESHOLD,
    BridgeWorld,
    bridge_world,
    evm_word,
    fresh_wallet,
    mint_through_workflow,
)
from tests.support.platform import ACCOUNTS

from equitoken.chain.solana.stock_mint import derive_keypair
from equitoken.durable.crashpoints import BRIDGE, CRASH_ENV
from equitoken.issuer.chains import TokenChain
from equitoken.issuer.reconcile import reconcile
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares
from equitoken.platform.solana import local_solana
from equitoken.store.database import sqlite_url
from equitoken.store.schema import ChainTransactionRow

pytestmark = [pytest.mark.crash, pytest.mark.anvil]

ROOT = Path(__file__).resolve().parents[2]
MINTED = 1


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[BridgeWorld]:
    with bridge_world(tmp_path_factory.mktemp("crash"), prices, calendar) as built:
        p = built.platform
        mint_through_workflow(p, built.issuer, "AAPL", ETHEREUM, p.wallet, "10")
        yield built


def _worker(world: BridgeWorld, tmp_path: Path, crash_at: str | None) -> int:
    platform, solana = world.platform, world.solana
    assert platform.solana_dir is not None
    config = config_for(
        start=platform.clock.now(),
        accounts=ACCOUNTS,
        usdc=platform.usdc.address,
        database_url=world.database.url,
        broker_url=sqlite_url(tmp_path / "worker-broker.sqlite"),
        evm=[
            {
                "rpc_url": side.rpc_url,
                "deployment": side.chain.deployment.to_json(),
                "pools": dict(side.pools.pools),
            }
            for side in world.evm
        ],
        solana_dir=str(platform.solana_dir),
        solana_rpc_url=solana.rpc_url,
        solana_tickers=list(solana.chain.tickers),
        hold_key=str(solana.hold),
        attester_urls=[a.url for a in world.attesters if a.url is not None],
        members=[Account.from_key(k).address for k in world.attester_keys],
        threshold=THRESHOLD,
    )
    path = tmp_path / "relay-worker.json"
    path.write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    if crash_at is not None:
        env[CRASH_ENV] = crash_at
    done = subprocess.run(
        [sys.executable, "-m", "tests.bridge.relay_worker", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"relay worker failed ({done.returncode}):\n{done.stderr[-4000:]}")
    # The worker's clock ran ahead of ours, and the chains with it: catch up.
    latest = max(side.chain.chain.timestamp() for side in world.evm)
    behind = latest - int(platform.clock.now().timestamp())
    if behind > 0:
        platform.clock.advance(timedelta(seconds=behind))
    return done.returncode


def _conserved(world: BridgeWorld) -> None:
    custody = world.issuer.reconcile()
    holding = next(h for h in custody.holdings if h.ticker == "AAPL")
    total = sum(world.supply("AAPL").values()) + world.in_flight("AAPL")
    assert Shares(total * Shares.token_step(8)) == holding.custody


def _receives(world: BridgeWorld, message_id: str) -> int:
    with world.database.transaction() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(ChainTransactionRow)
                .where(ChainTransactionRow.purpose == f"bridge-receive:{message_id}")
            )
            or 0
        )


@pytest.mark.parametrize("point", BRIDGE)
def test_a_relayer_killed_at_each_point_mints_once_on_restart(
    world: BridgeWorld, tmp_path: Path, point: str
) -> None:
    receiver = Account.from_key(bytes([BRIDGE.index(point) + 1]).rjust(32, b"\x0b")).address
    amount = (BRIDGE.index(point) + 1) * ONE // 10
    supply = sum(world.supply("AAPL").values())
    message_id = world.send(ETHEREUM, "AAPL", BASE, evm_word(receiver), amount)
    assert _worker(world, tmp_path, point) == -signal.SIGKILL, f"the relayer never reached {point}"
    assert int(world.token(BASE, "AAPL").balanceOf(receiver)) in (0, amount)
    assert _worker(world, tmp_path, None) == 0
    assert world.transfer(message_id).state == "minted", world.transfer(message_id).reason
    assert int(world.token(BASE, "AAPL").balanceOf(receiver)) == amount
    assert int(world.pool(BASE, "AAPL").message_status(bytes.fromhex(message_id[2:]))) == MINTED
    assert _receives(world, message_id) == 1
    assert sum(world.supply("AAPL").values()) == supply
    _conserved(world)


def test_a_killed_attester_holds_the_relayer_below_quorum_until_it_restarts(world: BridgeWorld) -> None:
    first, second = world.attesters[0], world.attesters[1]
    receiver = fresh_wallet("crash-9")
    message_id = world.send(ETHEREUM, "AAPL", BASE, evm_word(receiver), ONE // 3)
    relayer = world.new_relayer([first, second])
    second.kill()
    try:
        world.relay(relayer=relayer)
        row = world.transfer(message_id)
        assert row.state == "burned"
        assert "1 of 2" in (row.reason or ""), row.reason
        assert "did not answer" in (row.reason or ""), row.reason
        assert int(world.token(BASE, "AAPL").balanceOf(receiver)) == 0
    finally:
        second.start()
    world.relay(relayer=world.new_relayer([first, second]))
    assert world.transfer(message_id).state == "minted"
    assert int(world.token(BASE, "AAPL").balanceOf(receiver)) == ONE // 3
    assert _receives(world, message_id) == 1
    _conserved(world)


def test_a_relayer_killed_after_sending_a_solana_mint_mints_once_on_restart(
    world: BridgeWorld, tmp_path: Path
) -> None:
    # Last in the module: the worker moves the Solana on disk, and this process's copy goes stale.
    solana = world.solana.chain
    receiver = str(derive_keypair(b"bridge crash", "receiver").pubkey())
    supply = sum(world.supply("AAPL").values())
    message_id = world.send(ETHEREUM, "AAPL", solana.chain_id, bytes(Pubkey.from_string(receiver)), ONE // 7)
    assert _worker(world, tmp_path, "bridge_receive_sent") == -signal.SIGKILL
    assert _worker(world, tmp_path, None) == 0
    assert world.transfer(message_id).state == "minted", world.transfer(message_id).reason
    assert _receives(world, message_id) == 1
    instruments = [world.issuer.instruments[t] for t in solana.tickers]
    assert world.platform.solana_dir is not None
    fresh = local_solana(world.platform.clock, instruments, world.platform.solana_dir)
    assert fresh.balance("AAPL", receiver) == ONE // 7
    chains: list[TokenChain] = [world.platform.onchain, world.base, fresh]
    after = sum(int(c.supply("AAPL")) for c in chains)
    assert after == supply
    holding = next(
        h for h in reconcile(world.database, chains, world.issuer.instruments).holdings if h.ticker == "AAPL"
    )
    assert Shares((after + world.in_flight("AAPL")) * Shares.token_step(8)) == holding.custody
