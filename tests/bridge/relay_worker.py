"""A relayer process for the bridge's crash tests: wire the relayer over the issuer's two anvil chains and
the local Solana kept in `solana_dir` from a JSON description, and run it until no transfer is open.

Run as `python -m tests.bridge.relay_worker CONFIG.json`; with `EQUITOKEN_CRASH_AT=<point>` set, the
process kills itself with SIGKILL at that point (see `equitoken.durable.crashpoints`). It exits 0 once
every transfer is final or held, 1 if that takes more than `rounds` passes.
"""

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from solders.keypair import Keypair

from equitoken.bridge.assemble import EvmSide, SolanaSide, relayer
from equitoken.bridge.attester_client import AttesterClient
from equitoken.bridge.deployment import PoolDeployment
from equitoken.bridge.relayer import AttesterSet, TransferState
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.deployment import IssuanceDeployment, IssuerRoles
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.onchain import IssuerChain
from equitoken.market.clock import ManualClock
from equitoken.platform.assemble import PaperBrokerSettings, assemble_issuer
from equitoken.platform.solana import local_solana
from equitoken.store.database import Database
from equitoken.store.schema import BridgeTransferRow

OPEN = (TransferState.BURNED, TransferState.ATTESTED)


def config_for(
    *,
    start: datetime,
    accounts: int,
    usdc: str,
    database_url: str,
    broker_url: str,
    evm: list[dict[str, Any]],
    solana_dir: str,
    solana_rpc_url: str,
    solana_tickers: list[str],
    hold_key: str,
    attester_urls: list[str],
    members: list[str],
    threshold: int,
) -> dict[str, Any]:
    """Return the worker's configuration; `evm` lists {rpc_url, deployment (JSON), pools} per chain,
    the issuer's home chain first."""
    return {
        "start": start.isoformat(),
        "accounts": accounts,
        "usdc": usdc,
        "database_url": database_url,
        "broker_url": broker_url,
        "evm": evm,
        "solana_dir": solana_dir,
        "solana_rpc_url": solana_rpc_url,
        "solana_tickers": solana_tickers,
        "hold_key": hold_key,
        "attester_urls": attester_urls,
        "members": members,
        "threshold": threshold,
    }


def main(config_path: str, rounds: int = 20) -> int:
    config = json.loads(Path(config_path).read_text())
    clock = ManualClock(datetime.fromisoformat(config["start"]))
    signers = SignerRegistry.anvil(config["accounts"])
    chains = [JsonRpcChain(side["rpc_url"], signers, clock=clock) for side in config["evm"]]
    deployments = [IssuanceDeployment.from_json(side["deployment"]) for side in config["evm"]]
    roles = IssuerRoles.from_accounts(chains[0].accounts)
    others = [
        IssuerChain(c, d, roles, config["usdc"]) for c, d in zip(chains[1:], deployments[1:], strict=True)
    ]
    instruments = [i for i in load_catalogue() if i.ticker in config["solana_tickers"]]
    solana = local_solana(clock, instruments, Path(config["solana_dir"]))
    database = Database(config["database_url"])
    assembled = assemble_issuer(
        chains[0],
        deployments[0],
        config["usdc"],
        database,
        clock,
        broker=PaperBrokerSettings(config["broker_url"], 5, 2),
        solana=solana,
        others=others,
    )
    sides = [
        EvmSide(onchain, PoolDeployment(onchain.chain_id, side["pools"]), side["rpc_url"])
        for onchain, side in zip([assembled.onchain, *others], config["evm"], strict=True)
    ]
    hold = Keypair.from_base58_string(config["hold_key"])
    bridge = relayer(
        database,
        clock,
        sides,
        SolanaSide(solana, config["solana_rpc_url"], hold),
        [AttesterClient(url) for url in config["attester_urls"]],
        AttesterSet(config["members"], config["threshold"]),
        assembled.issuer,
    )
    for _ in range(rounds):
        clock.advance(timedelta(seconds=15))
        bridge.process()
        with database.transaction() as session:
            still_open = session.query(BridgeTransferRow).filter(BridgeTransferRow.state.in_(OPEN)).count()
        if not still_open:
            return 0
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
