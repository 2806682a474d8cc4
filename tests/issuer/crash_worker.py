"""A workflow process for the crash tests: wire an issuer from a JSON description (on its EVM chain, and
on the local Solana kept in `solana_dir` if given) and run it to the end.

Run as `python -m tests.issuer.crash_worker CONFIG.json`; with `EQUITOKEN_CRASH_AT=<point>` set, the
process kills itself with SIGKILL at that point (see `equitoken.durable.crashpoints`).
"""

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.deployment import IssuanceDeployment
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.issuer.catalogue import load_catalogue
from equitoken.market.clock import ManualClock
from equitoken.platform.assemble import PaperBrokerSettings, assemble_issuer
from equitoken.platform.solana import local_solana
from equitoken.store.database import Database


def main(config_path: str) -> int:
    config = json.loads(Path(config_path).read_text())
    clock = ManualClock(datetime.fromisoformat(config["start"]))
    chain = JsonRpcChain(config["rpc_url"], SignerRegistry.anvil(config["accounts"]), clock=clock)
    solana = None
    if "solana_dir" in config:
        instruments = [i for i in load_catalogue() if i.ticker in config["solana_tickers"]]
        solana = local_solana(clock, instruments, Path(config["solana_dir"]))
    assembled = assemble_issuer(
        chain,
        IssuanceDeployment.from_json(config["deployment"]),
        config["usdc"],
        Database(config["database_url"]),
        clock,
        broker=PaperBrokerSettings(config["broker_url"], config["slippage_bps"], config["fill_parts"]),
        solana=solana,
    )
    issuer = assembled.issuer
    for _ in range(500):
        issuer.process()
        if not issuer.requests(open_only=True):
            return 0
        clock.advance(timedelta(minutes=1))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
