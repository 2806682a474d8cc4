"""A corporate-actions process for the crash tests: wire the issuer and its corporate actions from a
JSON description and run them until every action has ended.

Run as `python -m tests.issuer.corporate_actions.crash_worker CONFIG.json`; with
`EQUITOKEN_CRASH_AT=<point>` set, the process kills itself with SIGKILL at that point (see
`equitoken.durable.crashpoints.CORPORATE_ACTIONS`).
"""

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.deployment import IssuanceDeployment
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.issuer.corporate_actions import CorporateActions, CorporateActionsConfig, InstrumentPolicy
from equitoken.market.clock import ManualClock
from equitoken.platform.assemble import PaperBrokerSettings, assemble_issuer
from equitoken.store.database import Database


def main(config_path: str) -> int:
    config = json.loads(Path(config_path).read_text())
    clock = ManualClock(datetime.fromisoformat(config["start"]))
    chain = JsonRpcChain(config["rpc_url"], SignerRegistry.anvil(config["accounts"]), clock=clock)
    assembled = assemble_issuer(
        chain,
        IssuanceDeployment.from_json(config["deployment"]),
        config["usdc"],
        Database(config["database_url"]),
        clock,
        broker=PaperBrokerSettings(config["broker_url"], config["slippage_bps"], fill_parts=2),
    )
    issuer, broker, prices, calendar = (
        assembled.issuer,
        assembled.broker,
        assembled.prices,
        assembled.calendar,
    )
    policies = {ticker: InstrumentPolicy(dividends=policy) for ticker, policy in config["policies"].items()}
    actions = CorporateActions(issuer, broker, prices, calendar, CorporateActionsConfig(instruments=policies))
    for _ in range(200):
        actions.process()
        if all(a.state.is_final for a in actions.actions()):
            return 0
        clock.advance(timedelta(minutes=1))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
