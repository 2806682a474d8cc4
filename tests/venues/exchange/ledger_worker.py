"""A ledger desk process for the crash test: open the exchange, the desk and the paper broker from a
JSON description, ask for a buy and then a sale (the same ids each run: a repeat finds its order), and
run until no ledger order is open.

Run as `python -m tests.venues.exchange.ledger_worker CONFIG.json`; with `EQUITOKEN_CRASH_AT=<point>`
set, the process kills itself with SIGKILL at that point (see `equitoken.durable.crashpoints`).
"""

import json
import sys
from datetime import datetime
from pathlib import Path

from tests.support.ledger import open_world

from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import ManualClock
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares, Usd
from equitoken.store.database import Database


def main(config_path: str) -> int:
    config = json.loads(Path(config_path).read_text())
    calendar = MarketCalendar("XNYS")
    clock = ManualClock(datetime.fromisoformat(config["start"]))
    world = open_world(
        Database(config["database_url"]),
        ReplayPriceSource.default(calendar),
        calendar,
        Path(config["directory"]),
        clock,
        create=False,
    )
    account = world.account("inv-a")
    world.desk.buy(account, "AAPL", Usd(config["buy_usdc"]), "crash-buy")
    world.run()
    world.desk.sell(account, "AAPL", Shares(config["sell_units"]), "crash-sell")
    world.run()
    world.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
