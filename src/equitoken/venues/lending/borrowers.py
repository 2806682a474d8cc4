"""Who borrows in each market, and how often each borrower has been liquidated, from the market's events.

Only a `Borrow` creates debt, so the borrowers of a market are the `on_behalf` of its `Borrow` events;
the `Liquidate` events count each borrower's liquidations (the liquidation keeper numbers its own
from them). `refresh` reads the events of the blocks it has not read yet, so a long-running reader
scans each block once; a new one starts again from the deployment's first block.
"""

from equitoken.chain.evm.abi import decode_event, event_topic, find_event
from equitoken.chain.evm.chain import EvmChain
from equitoken.venues.lending.deployment import LendingDeployment

__all__ = ["BorrowerIndex"]


class BorrowerIndex:
    """The borrowers of every market of a `LendingDeployment`, and their liquidation counts."""

    def __init__(self, chain: EvmChain, deployment: LendingDeployment) -> None:
        self.chain = chain
        self.deployment = deployment
        contract = deployment.contract(chain)
        self._borrow = find_event(contract.abi, "Borrow", "LendingMarket")
        self._liquidate = find_event(contract.abi, "Liquidate", "LendingMarket")
        self._scanned = deployment.from_block - 1
        self._borrowers: dict[str, dict[str, None]] = {ticker: {} for ticker in deployment.markets}
        self._liquidations: dict[tuple[str, str], int] = {}

    def refresh(self) -> None:
        """Read the events of every block mined since the last refresh."""
        latest = self.chain.block_number()
        if latest <= self._scanned:
            return
        start = self._scanned + 1
        address = self.deployment.lending_market
        for log in self.chain.get_raw_logs(address, [event_topic(self._borrow)], start, latest):
            event = decode_event(self._borrow, log)
            ticker = self.deployment.ticker_of(bytes(event.args["id"]))
            if ticker is not None:
                self._borrowers[ticker][str(event.args["on_behalf"])] = None
        for log in self.chain.get_raw_logs(address, [event_topic(self._liquidate)], start, latest):
            event = decode_event(self._liquidate, log)
            ticker = self.deployment.ticker_of(bytes(event.args["id"]))
            if ticker is not None:
                key = (ticker, str(event.args["borrower"]))
                self._liquidations[key] = self._liquidations.get(key, 0) + 1
        self._scanned = latest

    def borrowers(self, ticker: str) -> list[str]:
        """Return everyone who has borrowed in `ticker`'s market, first borrow first."""
        self.deployment.market(ticker)
        return list(self._borrowers[ticker])

    def liquidations(self, ticker: str, borrower: str) -> int:
        """Return how many times `borrower`'s position in `ticker`'s market has been liquidated."""
        return self._liquidations.get((ticker, borrower), 0)
