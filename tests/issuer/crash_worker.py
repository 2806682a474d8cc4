"""A workflow process for the crash tests: wire an issuer from a JSON description and run it to the end.

Run as `python -m tests.issuer.crash_worker CONFIG.json`; with `EQUITOKEN_CRASH_AT=<point>` set, the
process kills itself with SIGKILL at that point (see `equitoken.durable.crashpoints`).
"""

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

from equitoken.brokers.paper import PaperBroker
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.deployment import IssuanceDeployment, IssuerRoles
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.onchain import IssuerChain
from equitoken.issuer.service import Issuer
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import ManualClock
from equitoken.market.replay import ReplayPriceSource
from equitoken.store.database import Database


def main(config_path: str) -> int:
    config = json.loads(Path(config_path).read_text())
    clock = ManualClock(datetime.fromisoformat(config["start"]))
    chain = JsonRpcChain(config["rpc_url"], SignerRegistry.anvil(config["accounts"]), clock=clock)
    deployment = IssuanceDeployment.from_json(config["deployment"])
    roles = IssuerRoles.from_accounts(chain.accounts)
    onchain = IssuerChain(chain, deployment, roles, config["usdc"])
    calendar = MarketCalendar("XNYS")
    prices = ReplayPriceSource.default(calendar)
    broker = PaperBroker(
        prices,
        calendar,
        clock,
        config["broker_url"],
        slippage_bps=config["slippage_bps"],
        fill_parts=config["fill_parts"],
    )
    instruments = [i for i in load_catalogue() if i.ticker in config["tickers"]]
    issuer = Issuer(Database(config["database_url"]), onchain, broker, prices, clock, instruments)
    for _ in range(500):
        issuer.process()
        if not issuer.requests(open_only=True):
            return 0
        clock.advance(timedelta(minutes=1))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
