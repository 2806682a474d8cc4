"""The demo market maker's first funds on the order-book exchange, deposited on-chain like anyone's.

Once the AMM's pools are seeded (`pool_seed.py`), the market maker's wallet still holds the sixth
of each mint kept for the order book, and the USDC topped up for it. Each asset goes to the
exchange's hot wallet as a plain ERC-20 transfer, sent through the issuer's outbox under the purpose
`mm-deposit:<asset>`: the transaction is signed and stored before it is broadcast, so a kill between
any two steps never sends a second deposit (a repeat call finds the stored transaction and only
waits for it). The exchange's `poll_deposits` then credits each transfer to the market maker's
member account, as it would any investor's. `book-seed.json` in the data directory records that
every deposit was sent, so later runs skip the outbox.
"""

import json
from collections.abc import Sequence
from pathlib import Path

from equitoken.platform.local import LocalIssuer
from equitoken.platform.pool_seed import (
    BOOK_USDC_PER_POOL,
    PoolSeed,
    market_maker_wallet,
    send_as_market_maker,
)
from equitoken.venues.exchange.accounts import USDC

BOOK_SEED_FILE = "book-seed.json"


def deposit_purpose(asset: str) -> str:
    """Return the outbox purpose of the market maker's deposit of `asset`."""
    return f"mm-deposit:{asset}"


class BookSeed:
    """Send the market maker's book inventory to the exchange's hot wallet, once per asset."""

    def __init__(
        self, local: LocalIssuer, pools: PoolSeed, hot_wallet: str, tickers: Sequence[str], data_dir: Path
    ) -> None:
        self.local = local
        self.pools = pools
        self.hot_wallet = hot_wallet
        self.tickers = list(tickers)
        self.path = data_dir / BOOK_SEED_FILE
        self.done = self.path.is_file()

    def deposit(self) -> list[str]:
        """Once the pools are seeded, send every deposit not sent yet; return the assets sent by this call.

        Each asset's amount is the wallet's balance when its transfer is first signed; an asset the
        wallet holds none of (a pool seeded before the book had its share) is skipped.
        """
        if self.done or not self.pools.done:
            return []
        onchain, maker = self.local.onchain, market_maker_wallet()
        sent: list[str] = []
        for asset in [*self.tickers, USDC]:
            contract = onchain.usdc if asset == USDC else onchain.token(asset)
            balance = int(contract.balanceOf(maker))
            wanted = min(balance, BOOK_USDC_PER_POOL * len(self.tickers)) if asset == USDC else balance
            if wanted == 0 and not self._stored(asset):
                continue
            outcome = send_as_market_maker(
                self.local, deposit_purpose(asset), contract.transfer, (self.hot_wallet, wanted)
            )
            if outcome.new:
                sent.append(asset)
        self.path.write_text(json.dumps({"deposited": [*self.tickers, USDC]}, indent=2))
        self.done = True
        return sent

    def _stored(self, asset: str) -> bool:
        with self.local.database.transaction() as session:
            return self.local.onchain.outbox.find(session, deposit_purpose(asset)) is not None
