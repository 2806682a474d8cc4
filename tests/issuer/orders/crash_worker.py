"""An order processor's operator for the crash tests: wire the issuer and the operator from a JSON
description and run until no order is open.

Run as `python -m tests.issuer.orders.crash_worker CONFIG.json`; with `EQUITOKEN_CRASH_AT=<point>` set, the
process kills itself with SIGKILL at that point (see `equitoken.durable.crashpoints`).
"""

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.deployment import IssuanceDeployment
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.issuer.orders.deployment import ProcessorDeployment, processor_at
from equitoken.issuer.orders.operator import ProcessorOperator
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import ManualClock
from equitoken.market.replay import ReplayPriceSource
from equitoken.platform.assemble import PaperBrokerSettings, assemble_issuer
from equitoken.store.database import Database


def main(config_path: str) -> int:
    config = json.loads(Path(config_path).read_text())
    clock = ManualClock(datetime.fromisoformat(config["start"]))
    chain = JsonRpcChain(config["rpc_url"], SignerRegistry.anvil(config["accounts"]), clock=clock)
    calendar = MarketCalendar("XNYS")
    prices = ReplayPriceSource.default(calendar)
    assembled = assemble_issuer(
        chain,
        IssuanceDeployment.from_json(config["deployment"]),
        config["usdc"],
        Database(config["database_url"]),
        clock,
        broker=PaperBrokerSettings(config["broker_url"], config["slippage_bps"], config["fill_parts"]),
        prices=prices,
        calendar=calendar,
    )
    issuer = assembled.issuer
    processor = processor_at(chain, ProcessorDeployment(**config["processor"]))
    operator = ProcessorOperator(
        issuer.db, assembled.onchain, processor, assembled.broker, clock, issuer.instruments, issuer, prices
    )
    for _ in range(200):
        operator.process()
        if not operator.orders(open_only=True):
            return 0
        clock.advance(timedelta(minutes=1))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
