"""A hedger process for the attestation crash tests: wire the attestation issuer from a JSON description
and run its quotes to the end.

Run as `python -m tests.issuer.attestation.crash_worker CONFIG.json`; with `EQUITOKEN_CRASH_AT=<point>`
set, the process kills itself with SIGKILL at that point (see `equitoken.durable.crashpoints`).
"""

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

from equitoken.brokers.paper import PaperBroker
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.deployment import IssuanceDeployment, IssuerRoles
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.issuer.attestation.config import AttestationConfig
from equitoken.issuer.attestation.deployment import MinterDeployment
from equitoken.issuer.attestation.service import AttestationIssuer
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.onchain import IssuerChain
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import ManualClock
from equitoken.market.replay import ReplayPriceSource
from equitoken.store.database import Database


def main(config_path: str) -> int:
    config = json.loads(Path(config_path).read_text())
    clock = ManualClock(datetime.fromisoformat(config["start"]))
    chain = JsonRpcChain(config["rpc_url"], SignerRegistry.anvil(config["accounts"]), clock=clock)
    deployment = IssuanceDeployment.from_json(config["deployment"])
    minters = config["minters"]
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
    onchain = IssuerChain(chain, deployment, IssuerRoles.from_accounts(chain.accounts), config["usdc"])
    tickers = {d.ticker for d in deployment.instruments}
    attestation = AttestationIssuer(
        Database(config["database_url"]),
        onchain,
        MinterDeployment(minters["chain_id"], minters["signer"], minters["minters"]),
        broker,
        prices,
        clock,
        calendar,
        AttestationConfig(),
        [i for i in load_catalogue() if i.ticker in tickers],
    )
    for _ in range(100):
        attestation.process()
        if not attestation.open_quotes():
            return 0
        clock.advance(timedelta(minutes=1))
        chain.mine()
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
