"""`equitoken up` runs the venues: the AMM deployed and seeded with minted tokens, the arbitrage keeper
bringing a displaced pool back to the oracle's price, the market maker quoting the book around the
oracle from funds it deposited on-chain, the authorised-participant keeper, the exchange's journals,
and the lending market of AAPL (the one default lending ticker among the first two instruments)
with the demo lender's USDC, where a demo investor borrows against its token through the API; a
restart reuses the AMM and the lending venue, replays the exchange, and neither deposits, supplies
nor onboards again."""

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from tests.platform.test_up_restart import Up
from tests.ports import free_port

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.deployment import IssuerRoles, deployment_records
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.model.bps import BPS
from equitoken.oracle.observation import MarketStatus
from equitoken.platform.exchange import EXCHANGE_DIR, exchange_rules, hot_wallet
from equitoken.platform.lending import LENDER_USDC_PER_MARKET
from equitoken.platform.local import ACCOUNTS, USDC, amm_records, local_database_url
from equitoken.platform.pool_seed import POOLS_FILE, PoolSeedRecord, market_maker_wallet
from equitoken.store.database import Database
from equitoken.store.schema import ChainTransactionRow, ExchangeDepositRow, InvestorRow, WalletRow
from equitoken.venues.exchange.engine import Exchange
from equitoken.venues.exchange.events import Accepted
from equitoken.venues.exchange.orders import OrderType, Side, Submit, TimeInForce

pytestmark = pytest.mark.anvil

TRADER = SignerRegistry.anvil(ACCOUNTS).addresses[16]
ANVIL_CHAIN_ID = 31337
BAND_BPS = 50  # the keeper's band while the market is open
# Accounts no member trades under: the offline orders never meet the market maker's own.
OFFLINE_BUYER, OFFLINE_SELLER = 901, 902


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    platform = Up(tmp_path, free_port(), free_port(), free_port())
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


def _seeded_pools(up: Up, tickers: list[str], seconds: float = 90) -> PoolSeedRecord:
    deadline = time.monotonic() + seconds
    assert up.process is not None
    while True:
        record = PoolSeedRecord.load(up.data_dir / POOLS_FILE)
        if record is not None and sorted(record.seeded) == tickers:
            return record
        assert up.process.poll() is None, up.log.read_text(errors="replace")
        assert time.monotonic() < deadline, f"pools seeded: {record and sorted(record.seeded)}"
        time.sleep(0.5)


def _deviation_bps(chain: JsonRpcChain, up: Up) -> int:
    """Return how far AAPL's pool price is from its oracle answer, in basis points (rounded up)."""
    amm = amm_records(up.data_dir / "deployments").load(chain.chain_id)
    deployment = deployment_records(up.data_dir / "deployments").load(chain.chain_id)
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
        amm = amm_records(up.data_dir / "deployments").load(chain.chain_id)
        assert amm is not None
        pool = amm.pool(chain, "AAPL")
        usdc = chain.at(amm.usdc, compile_contract("settlement/TestUSDC.vy"))
        amount = int(pool.reserves()[1]) // 20
        usdc.mint(TRADER, amount, sender=IssuerRoles.from_accounts(chain.accounts).admin)
        usdc.approve(pool.address, amount, sender=TRADER)
        pool.swap(amount, 0, False, TRADER, chain.timestamp("pending") + 600, sender=TRADER)
        assert _deviation_bps(chain, up) > 5 * BAND_BPS


def _trade_offline(up: Up) -> None:
    """Open the stopped platform's exchange and rest two orders."""
    deployment = deployment_records(up.data_dir / "deployments").load(ANVIL_CHAIN_ID)  # the node is down
    assert deployment is not None
    exchange = Exchange.open(up.data_dir / EXCHANGE_DIR, exchange_rules(deployment), _open)
    try:
        assert exchange.accounts.credit_deposit(OFFLINE_BUYER, "USDC", 1_000 * USDC, "test-deposit-usdc")
        assert exchange.accounts.credit_deposit(OFFLINE_SELLER, "AAPL", 10**8, "test-deposit-aapl")
        bid = Submit(
            OFFLINE_BUYER, "bid", Side.BUY, OrderType.LIMIT, 20_000, 2 * 10**6, TimeInForce.GTC, False
        )
        ask = Submit(
            OFFLINE_SELLER, "ask", Side.SELL, OrderType.LIMIT, 30_000, 5 * 10**6, TimeInForce.GTC, False
        )
        assert isinstance(exchange.submit("AAPL", bid).events[0], Accepted)
        assert isinstance(exchange.submit("AAPL", ask).events[0], Accepted)
    finally:
        exchange.close()


def test_up_seeds_the_amm_keeps_it_at_the_oracle_price_and_reuses_the_venues(up: Up) -> None:
    up.start()
    # Each pool is seeded once its mint completes, so the two may be seeded in separate passes.
    record = _seeded_pools(up, ["AAPL", "MSFT"])
    with _chain(up) as chain:
        amm = amm_records(up.data_dir / "deployments").load(chain.chain_id)
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

    maker_id = record.market_maker
    bids, asks = _maker_quotes(up)
    assert len(bids) == len(asks) == 3
    assert _deposits(up, maker_id) == sorted(
        [("AAPL", market_maker_wallet()), ("MSFT", market_maker_wallet()), ("USDC", market_maker_wallet())]
    )
    _wait_log(up, "AP keeper: AAPL ")
    _borrow_through_the_api(up)

    _displace(up)
    deadline = time.monotonic() + 60
    with _chain(up) as chain:
        while _deviation_bps(chain, up) > BAND_BPS + 1:
            assert time.monotonic() < deadline, "the arbitrage keeper did not bring the pool back"
            time.sleep(0.5)
    # The keeper logs its swap once the loop's pass ends, which may be after the pool moved back.
    _wait_log(up, "arbitrage: AAPL pool", 10)
    assert up.interrupt() == 0

    amm_record = (up.data_dir / "deployments" / "amm-chain-31337.json").read_text()
    lending_record = (up.data_dir / "deployments" / "lending-chain-31337.json").read_text()
    _trade_offline(up)
    up.start()
    log = up.log.read_text(errors="replace")
    first_run = (
        "deploying the AMM",
        "seeding the AMM",
        "onboarded the exchange's hot wallet",
        "deploying the lending venue",
        "the demo lender supplied",
    )
    for first_run_only in first_run:
        assert first_run_only not in log
    # The offline orders were replayed from the journals, beside the market maker's quotes.
    book = up.get("/exchange/markets/AAPL/book", "participant")
    assert ("200", "0.02") in [(level["price"], level["quantity"]) for level in book["bids"]]
    assert ("300", "0.05") in [(level["price"], level["quantity"]) for level in book["asks"]]
    # The lending market kept its supply and its borrow.
    [market] = up.get("/lending/markets", "investor")
    assert Decimal(market["supplied"]) >= LENDER_USDC_PER_MARKET // USDC  # with interest
    assert Decimal(market["borrowed"]) >= 50
    _maker_quotes(up)
    assert up.interrupt() == 0
    assert (up.data_dir / "deployments" / "amm-chain-31337.json").read_text() == amm_record
    assert (up.data_dir / "deployments" / "lending-chain-31337.json").read_text() == lending_record
    assert len(_deposits(up, maker_id)) == 3
    database = Database(local_database_url(up.data_dir))
    try:
        with database.transaction() as session:
            purposes = session.scalars(
                select(ChainTransactionRow.purpose).where(ChainTransactionRow.purpose.like("mm-deposit:%"))
            ).all()
            owner = session.get(WalletRow, hot_wallet())
            operators = session.scalars(
                select(InvestorRow.id).where(InvestorRow.name.like("Equitoken Exchange%"))
            ).all()
    finally:
        database.close()
    assert sorted(purposes) == ["mm-deposit:AAPL", "mm-deposit:MSFT", "mm-deposit:USDC"]
    assert owner is not None
    assert operators == [owner.investor_id]


def _borrow_through_the_api(up: Up) -> None:
    """See AAPL's lending market supplied by the demo lender, then borrow against a demo investor's token."""
    deadline = time.monotonic() + 60
    while (markets := up.get("/lending/markets", "investor"))[0]["supplied"] == "0":
        assert time.monotonic() < deadline, "the demo lender never supplied the lending market"
        time.sleep(0.5)
    [market] = markets
    assert (market["ticker"], market["max_ltv"], market["lltv"]) == ("AAPL", "0.4", "0.5")
    assert market["supplied"] == str(LENDER_USDC_PER_MARKET // USDC)
    assert market["state"] in ("open", "grace")  # grace: the session opened less than 5 minutes ago
    key = up.keys()["investor"]
    for action, amount in (("supply-collateral", "1"), ("borrow", "50")):
        response = httpx.post(
            f"{up.api}/lending/{action}",
            json={"ticker": "AAPL", "amount": amount},
            headers={"X-API-Key": key, "Idempotency-Key": f"up-{action}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
    [position] = up.get("/lending/positions", "investor")
    assert (position["collateral"], position["debt"]) == ("1", "50")
    assert Decimal(position["health_factor"]) > 1


def _oracle_answer(up: Up, ticker: str) -> Decimal:
    with _chain(up) as chain:
        deployment = deployment_records(up.data_dir / "deployments").load(chain.chain_id)
        assert deployment is not None
        feed = chain.at(deployment.instrument(ticker).price_feed, compile_contract("oracle/PriceFeed.vy"))
        return Decimal(int(feed.latestRoundStatus()[1])) / 10**8


def _maker_quotes(up: Up, seconds: float = 60) -> tuple[list[Decimal], list[Decimal]]:
    """Wait until AAPL's served book has the market maker's three levels a side within 1% of the oracle."""
    deadline = time.monotonic() + seconds
    while True:
        book = up.get("/exchange/markets/AAPL/book", "participant")
        answer = _oracle_answer(up, "AAPL")
        bids = [
            Decimal(level["price"])
            for level in book["bids"]
            if abs(Decimal(level["price"]) - answer) < answer / 100
        ]
        asks = [
            Decimal(level["price"])
            for level in book["asks"]
            if abs(Decimal(level["price"]) - answer) < answer / 100
        ]
        if len(bids) == len(asks) == 3:
            assert max(bids) < min(asks)
            return bids, asks
        assert time.monotonic() < deadline, f"no market maker quotes around {answer}: {book}"
        time.sleep(0.5)


def _deposits(up: Up, investor_id: str) -> list[tuple[str, str]]:
    """Return the (asset, sender) of each deposit credited to the investor, read from the database."""
    database = Database(local_database_url(up.data_dir))
    try:
        with database.transaction() as session:
            rows = session.scalars(
                select(ExchangeDepositRow).where(ExchangeDepositRow.investor_id == investor_id)
            ).all()
            assert all(row.account is not None and row.amount > 0 for row in rows)
            return sorted((row.asset, row.sender) for row in rows)
    finally:
        database.close()
