"""The private-company desk for the crash tests: wire it from a JSON description and approve one
transfer request (finishing the stored approval if an earlier run died).

Run as `python -m tests.issuer.private.crash_worker CONFIG.json`; with `EQUITOKEN_CRASH_AT=<point>` set,
the process kills itself with SIGKILL at that point (see `equitoken.durable.crashpoints`).
"""

import json
import sys
from datetime import datetime
from pathlib import Path

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.chain.evm.private_deployment import DeployedPrivateCompany, PrivateRoles
from equitoken.durable.outbox import Outbox
from equitoken.issuer.catalogue import Catalogue
from equitoken.issuer.private.service import PrivateCompanyDesk
from equitoken.market.clock import ManualClock
from equitoken.store.database import Database


def main(config_path: str) -> int:
    config = json.loads(Path(config_path).read_text())
    clock = ManualClock(datetime.fromisoformat(config["start"]))
    chain = JsonRpcChain(config["rpc_url"], SignerRegistry.anvil(config["accounts"]), clock=clock)
    deployed = DeployedPrivateCompany.from_json(config["deployed"])
    desk = PrivateCompanyDesk(
        Database(config["database_url"]),
        Outbox(chain),
        chain,
        Catalogue.load_private().get(deployed.ticker),
        deployed,
        PrivateRoles(**config["roles"]),
        clock,
    )
    action = desk.approve(config["request_id"])
    return 0 if action.state == "done" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
