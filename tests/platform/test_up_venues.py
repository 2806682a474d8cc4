"""`equitoken up` runs the venues: the AMM deployed and seeded with minted tokens, the arbitrage keeper
bringing a displaced pool back to the oracle's price, and the exchange's journals; a restart reuses
the AMM and replays the exchange to the same snapshot."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.platform.test_up_restart import Up
from tests.ports import free_port

from equitoken.chain.accounts import SignerRegistry
from equitoken.chain.compiler import compile_contract
from equitoken.chain.deployment import DeploymentRecords, IssuerRoles
from equitoken.chain.jsonrpc import JsonRpcChain
from equitoken.keepers.constant_product import BPS
from equitoken.local import ACCOUNTS, USDC, AmmRecords
from equitoken.oracle.observation import MarketStatus
from equitoken.platform.exchange import EXCHANGE_DIR, exchange_rules
from equitoken.platform.pool_seed import POOLS_FILE, PoolSeedRecord, market_maker_wallet
from equitoken.venues.exchange.engine import Exchange
from equitoken.venues.exchange.events import Accepted
from equitoken.venues.exchange.orders import OrderType, Side, Submit, TimeInForce

pytestmark = pytest.mark.anvil

TRADER = SignerRegistry.anvil(ACCOUNTS).addresses[16]
ANVIL_CHAIN_ID = 31337
BAND_BPS = 50  # the keeper's band while the market is open


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    platform = Up(tmp_path, free_port(), free_port())
    yield platform
    if platform.process is not None and platform.process.poll() is None:
        platform.process.kill()
        platform.process.wait()


def _chain(up: Up) -> JsonRpcChain:
    return JsonRpcChain(f"http://127.0.0.1:{up.rpc_port}", SignerRegistry.anvil(ACCOUNTS))


def _wait_log(up: Up, text: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    assert up.process is not None
    while text not in up.log.read_text(errors="replace"):
        assert up.process.poll() is None, up.log.read_text(errors="replace")
        assert time.monotonic() < deadline, f"{text!r} never logged"
        time.sleep(0.5)


def _deviation_bps(chain: JsonRpcChain, up: Up) -> int:
    """Return how far AAPL's pool price is from its oracle answer, in basis points (rounded up)."""
    amm = AmmRecords(up.data_dir / "deployments").load(chain.chain_id)
    deployment = DeploymentRecords(up.data_dir / "deployments").load(chain.chain_id)
    assert amm is not None
    assert deployment is not None
    stock, usdc = (int(v) for v in amm.pool(chain, "AAPL").reserves())
    feed = chain.at(deployment.instrument("AAPL").price_feed, compile_contract("oracle/PriceFeed.vy"))
    answer = int(feed.latestRoundStatus()[1])
    pool_price = usdc * 10**10 // stock  # 8-decimal token, 6-decimal USDC: 1e-8 dollars per token
    return -(-abs(pool_price - answer) * BPS // answer)


def _open(_: str) -> MarketStatus:
    return MarketStatus.OPEN


def _displace(up: Up) -> None:
    """Buy AAPL from its pool with 5% of the pool's USDC, moving its price about 10% up."""
    with _chain(up) as chain:
        amm = AmmRecords(up.data_dir / "deployments").load(chain.chain_id)
        assert amm is not None
        pool = amm.pool(chain, "AAPL")
        usdc = chain.at(amm.usdc, compile_contract("settlement/TestUSDC.vy"))
        amount = int(pool.reserves()[1]) // 20
        usdc.mint(TRADER, amount, sender=IssuerRoles.from_accounts(chain.accounts).admin)
        usdc.approve(pool.address, amount, sender=TRADER)
        pool.swap(amount, 0, False, TRADER, chain.timestamp("pending") + 600, sender=TRADER)
        assert _deviation_bps(chain, up) > 5 * BAND_BPS


def _trade_offline(up: Up) -> bytes:
    """Open the stopped platform's exchange, rest two orders and return its snapshot."""
    deployment = DeploymentRecords(up.data_dir / "deployments").load(ANVIL_CHAIN_ID)  # the node is down
    assert deployment is not None
    exchange = Exchange.open(up.data_dir / EXCHANGE_DIR, exchange_rules(deployment), _open)
    try:
        assert exchange.accounts.credit_deposit(1, "USDC", 1_000 * USDC, "test-deposit-usdc")
        assert exchange.accounts.credit_deposit(2, "AAPL", 10**8, "test-deposit-aapl")
        bid = Submit(1, "bid", Side.BUY, OrderType.LIMIT, 20_000, 2 * 10**6, TimeInForce.GTC, False)
        ask = Submit(2, "ask", Side.SELL, OrderType.LIMIT, 30_000, 5 * 10**6, TimeInForce.GTC, False)
        assert isinstance(exchange.submit("AAPL", bid).events[0], Accepted)
        assert isinstance(exchange.submit("AAPL", ask).events[0], Accepted)
        return exchange.snapshot()
    finally:
        exchange.close()


def _snapshot(up: Up) -> bytes:
    deployment = DeploymentRecords(up.data_dir / "deployments").load(ANVIL_CHAIN_ID)  # the node is down
    assert deployment is not None
    exchange = Exchange.open(up.data_dir / EXCHANGE_DIR, exchange_rules(deployment), _open)
    try:
        return exchange.snapshot()
    finally:
        exchange.close()


def test_up_seeds_the_amm_keeps_it_at_the_oracle_price_and_reuses_the_venues(up: Up) -> None:
    up.start()
    _wait_log(up, "AMM: seeded the pools of")
    record = PoolSeedRecord.load(up.data_dir / POOLS_FILE)
    assert record is not None
    assert sorted(record.seeded) == ["AAPL", "MSFT"]
    with _chain(up) as chain:
        amm = AmmRecords(up.data_dir / "deployments").load(chain.chain_id)
        assert amm is not None
        assert sorted(amm.pools) == ["AAPL", "MSFT"]
        for ticker, request_id in record.mints.items():
            minted = up.get(f"/requests/{request_id}")
            assert minted["state"] == "completed"
            stock, usdc = (int(v) for v in amm.pool(chain, ticker).reserves())
            # Every pooled token came from that mint (backed by shares in custody); a keeper swap may
            # since have added some of its own, which came from the same mint.
            assert 0 < stock <= minted["tokens_settled"]
            assert usdc > 0
            assert int(amm.pool(chain, ticker).balanceOf(market_maker_wallet())) > 0

    _displace(up)
    deadline = time.monotonic() + 60
    with _chain(up) as chain:
        while _deviation_bps(chain, up) > BAND_BPS + 1:
            assert time.monotonic() < deadline, "the arbitrage keeper did not bring the pool back"
            time.sleep(0.5)
    assert "arbitrage: AAPL pool" in up.log.read_text(errors="replace")
    assert up.interrupt() == 0

    amm_record = (up.data_dir / "deployments" / "amm-chain-31337.json").read_text()
    snapshot = _trade_offline(up)
    up.start()
    assert "deploying the AMM" not in up.log.read_text(errors="replace")
    assert "seeding the AMM" not in up.log.read_text(errors="replace")
    book = up.get("/exchange/markets/AAPL/book", "participant")
    assert [(level["price"], level["quantity"]) for level in book["bids"]] == [("200", "0.02")]
    assert [(level["price"], level["quantity"]) for level in book["asks"]] == [("300", "0.05")]
    assert up.interrupt() == 0
    assert (up.data_dir / "deployments" / "amm-chain-31337.json").read_text() == amm_record
    assert _snapshot(up) == snapshot
