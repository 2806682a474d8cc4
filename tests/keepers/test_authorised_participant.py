"""The authorised-participant keeper against the real issuer, AMM and oracle on 2025-12-01.

`build_platform` gives the issuer (paper broker over replayed prices, SQLite or PostgreSQL), on an
in-process chain whose clock starts at the session. The AP mints AAPL through the issuer to seed a
pool (so every token stays backed by custody), AAPL's feed is driven by the oracle's `Transmitter`
with the price updater as its one `Reporter` over the same replayed prices, and a liquidity provider
pushes the pool away from the oracle with a large swap before the keeper ticks.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.support.platform import ACCOUNTS, IN_SESSION, USDC, Platform, build_platform
from tests.support.reporters import IN_PROCESS_TIMEOUT

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.durable.outbox import TxStatus
from equitoken.keepers.authorised_participant import (
    ApActionKind,
    ApReport,
    AuthorisedParticipantKeeper,
)
from equitoken.keepers.constant_product import amount_out
from equitoken.keepers.rules import KeeperConfigError, RefusalReason
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.bps import BPS
from equitoken.model.quantities import Usd
from equitoken.oracle.halts import HaltBook
from equitoken.oracle.observation import FeedId, MarketStatus
from equitoken.oracle.policy import PushPolicy
from equitoken.oracle.reporter import Reporter
from equitoken.oracle.sources import MarketObservationSource
from equitoken.oracle.transmitter import Transmitter
from equitoken.store.database import Database, sqlite_url
from equitoken.store.schema import ChainTransactionRow
from equitoken.venues.amm import AmmDeployment, deploy_amm

SEEDED_TOKENS = 300
POOL_TOKENS = 200
MARGIN_BPS = 20
MAX_NOTIONAL = Usd(20_000 * USDC)
PUSH_USDC = 6_000 * USDC  # about a tenth of the pool: a premium of some 20 %


def _unix(at: datetime) -> int:
    return int(at.timestamp())


@dataclass
class Market:
    platform: Platform
    amm: AmmDeployment
    transmitter: Transmitter
    halts: HaltBook
    feed: str
    provider: str

    @property
    def chain(self) -> InProcessChain:
        assert isinstance(self.platform.chain, InProcessChain)
        return self.platform.chain

    def keeper(self, **settings: object) -> AuthorisedParticipantKeeper:
        """Return a new keeper: a new instance is what a restarted process builds."""
        options: dict[str, object] = {"margin_bps": MARGIN_BPS, "max_notional": MAX_NOTIONAL} | settings
        return AuthorisedParticipantKeeper(
            self.platform.issuer,
            self.platform.participant.id,
            self.platform.wallet,
            self.chain,
            self.amm,
            {"AAPL": self.feed},
            **options,  # type: ignore[arg-type]
        )

    def oracle(self) -> tuple[int, MarketStatus]:
        latest = self.chain.at(self.feed, compile_contract("oracle/PriceFeed.vy")).latestRoundStatus()
        return int(latest[1]), MarketStatus(int(latest[5]))

    def pool_deviation_bps(self) -> float:
        oracle, _ = self.oracle()
        return (self.keeper().pool_price("AAPL").units - oracle) * BPS / oracle

    def swap(self, amount: int, *, stock_in: bool) -> None:
        pool = self.amm.pool(self.chain, "AAPL")
        pool.swap(
            amount, 0, stock_in, self.provider, self.chain.timestamp("pending") + 600, sender=self.provider
        )

    def keeper_requests(self) -> list[str]:
        return [
            r.idempotency_key
            for r in self.platform.issuer.requests()
            if r.idempotency_key.startswith("ap-keeper:")
        ]

    def stock_balance(self, holder: str) -> int:
        return int(self.platform.token("AAPL").balanceOf(holder))

    def backed(self) -> bool:
        return self.platform.issuer.reconcile().ok


def build_market(
    database: Database, prices: ReplayPriceSource, calendar: MarketCalendar, tmp_path: Path
) -> Market:
    chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=_unix(IN_SESSION) - 600)
    platform = build_platform(chain, database, prices, calendar, tmp_path)
    issuer, roles, wallet, provider = (
        platform.issuer,
        platform.onchain.roles,
        platform.wallet,
        platform.other_wallet,
    )
    # The pool's stock is minted through the issuer, so every token is backed by custody.
    platform.approve_mint(500_000 * USDC)
    issuer.request_mint(platform.participant.id, wallet, "AAPL", str(SEEDED_TOKENS), "seed-the-pool")
    platform.run()
    token = platform.token("AAPL")
    token.transfer(provider, int(token.balanceOf(wallet)), sender=wallet)
    amm = deploy_amm(chain, roles.admin, platform.usdc.address, platform.onchain.deployment, ["AAPL"])
    instrument = platform.onchain.deployment.instrument("AAPL")
    halts = HaltBook(database, ["AAPL"])
    reporter = Reporter(
        chain.signers.get(roles.price_updater), MarketObservationSource(prices, calendar, halts)
    )
    transmitter = Transmitter(
        chain,
        roles.price_updater,
        {"AAPL": FeedId(chain.chain_id, instrument.price_feed)},
        [reporter],
        PushPolicy(),
        timeout=IN_PROCESS_TIMEOUT,
    )
    market = Market(platform, amm, transmitter, halts, instrument.price_feed, provider)
    market.transmitter.tick()
    oracle, status = market.oracle()
    assert status is MarketStatus.OPEN
    pool = amm.pool(chain, "AAPL")
    pool_stock = POOL_TOKENS * 10 ** int(token.decimals())
    pool_usdc = pool_stock * oracle // 10 ** (8 + int(token.decimals()) - 6)
    token.approve(pool.address, 2**256 - 1, sender=provider)
    platform.usdc.approve(pool.address, 2**256 - 1, sender=provider)
    pool.add_liquidity(
        pool_stock, pool_usdc, 0, 0, provider, chain.timestamp("pending") + 600, sender=provider
    )
    return market


@pytest.fixture
def market(database: Database, prices: ReplayPriceSource, calendar: MarketCalendar, tmp_path: Path) -> Market:
    return build_market(database, prices, calendar, tmp_path)


@pytest.fixture
def sqlite_market(prices: ReplayPriceSource, calendar: MarketCalendar, tmp_path: Path) -> Market:
    database = Database(sqlite_url(tmp_path / "issuer.sqlite"))
    database.migrate()
    return build_market(database, prices, calendar, tmp_path)


def _kinds(report: ApReport) -> list[ApActionKind]:
    return [action.kind for action in report.actions]


def _reasons(report: ApReport) -> list[RefusalReason]:
    return [refusal.reason for refusal in report.refusals]


def test_mints_into_a_premium_and_sells_once_across_restarts(market: Market) -> None:
    market.swap(PUSH_USDC, stock_in=False)
    before = market.pool_deviation_bps()
    assert before > 1_000

    requested = market.keeper().tick()

    assert _kinds(requested) == [ApActionKind.MINT_REQUESTED]
    mint = requested.actions[0]
    assert mint.tokens > 0
    assert mint.request_id is not None
    assert market.keeper_requests() == [f"ap-keeper:{market.platform.wallet}:AAPL:1:mint"]
    # Restarted while the issuer works on it: no second request.
    waiting = market.keeper().tick()
    assert waiting.actions == ()
    assert _reasons(waiting) == [RefusalReason.IN_FLIGHT]
    market.platform.run()
    assert market.stock_balance(market.platform.wallet) == mint.tokens
    assert market.backed()

    sold = market.keeper().tick()  # restarted between "requested" and "sold"

    assert _kinds(sold) == [ApActionKind.SOLD]
    assert sold.actions[0].tokens == mint.tokens
    assert sold.actions[0].usdc > 0
    assert market.stock_balance(market.platform.wallet) == 0
    after = market.pool_deviation_bps()
    assert 0 < after < before
    fees = market.platform.issuer.config.fees_for("AAPL")
    pool_fee = int(market.amm.pool(market.chain, "AAPL").fee_bps())
    assert after <= fees.bps + pool_fee + MARGIN_BPS + 10  # the band, with the flat fee spread over the size
    again = market.keeper().tick()
    assert again.actions == ()
    assert again.refusals == ()
    assert market.keeper_requests() == [f"ap-keeper:{market.platform.wallet}:AAPL:1:mint"]
    assert market.backed()


def test_buys_a_discount_and_redeems_it_at_a_profit(sqlite_market: Market) -> None:
    market = sqlite_market
    wallet = market.platform.wallet
    market.swap(25 * 10 ** int(market.platform.token("AAPL").decimals()), stock_in=True)
    assert market.pool_deviation_bps() < -1_000
    usdc_before = int(market.platform.usdc.balanceOf(wallet))

    bought = market.keeper().tick()
    redeeming = market.keeper().tick()

    assert _kinds(bought) == [ApActionKind.BOUGHT]
    assert _kinds(redeeming) == [ApActionKind.REDEEM_REQUESTED]
    assert redeeming.actions[0].tokens == bought.actions[0].tokens
    assert _reasons(market.keeper().tick()) == [RefusalReason.IN_FLIGHT]
    market.platform.run()
    assert market.stock_balance(wallet) == 0
    assert int(market.platform.usdc.balanceOf(wallet)) > usdc_before  # the round trip paid
    assert -(MARGIN_BPS + 80) < market.pool_deviation_bps() < 0
    assert market.keeper().tick().actions == ()
    assert market.keeper_requests() == [f"ap-keeper:{wallet}:AAPL:1:redeem"]
    assert market.backed()


def test_leaves_a_pool_within_the_fee_band_alone(sqlite_market: Market) -> None:
    market = sqlite_market
    pool = market.amm.pool(market.chain, "AAPL")
    _, usdc_reserve = (int(v) for v in pool.reserves())
    market.swap(usdc_reserve * 15 // BPS, stock_in=False)  # some 30 bps: inside fees and margin
    nonce = market.chain.nonce(market.platform.wallet, "latest")

    report = market.keeper().tick()

    assert report.actions == ()
    assert report.refusals == ()
    assert market.keeper_requests() == []
    assert market.chain.nonce(market.platform.wallet, "latest") == nonce


def test_never_acts_on_a_stale_halted_or_closed_round(sqlite_market: Market) -> None:
    market = sqlite_market
    market.swap(PUSH_USDC, stock_in=False)
    keeper = market.keeper()
    nonce = market.chain.nonce(market.platform.wallet, "latest")
    now = datetime.fromtimestamp(market.chain.timestamp(), UTC)

    market.chain.set_next_block_timestamp(market.chain.timestamp() + keeper.max_age + 1)
    market.chain.mine()
    stale = keeper.tick()
    market.halts.declare("AAPL", now + timedelta(hours=2), None, "news pending")
    market.transmitter.tick()
    halted = keeper.tick()
    market.halts.lift("AAPL", now + timedelta(hours=2, minutes=30))
    market.chain.set_next_block_timestamp(_unix(IN_SESSION.replace(hour=22)))  # 17:00 in New York
    market.transmitter.tick()
    closed = keeper.tick()

    assert _reasons(stale) == [RefusalReason.STALE]
    assert "s old (max 7200)" in stale.refusals[0].detail
    assert _reasons(halted) == [RefusalReason.HALTED]
    assert _reasons(closed) == [RefusalReason.MARKET_CLOSED]
    assert stale.actions == halted.actions == closed.actions == ()
    assert market.keeper_requests() == []
    assert market.chain.nonce(market.platform.wallet, "latest") == nonce


def test_a_sell_stored_before_a_crash_is_broadcast_once(sqlite_market: Market) -> None:
    market = sqlite_market
    market.swap(PUSH_USDC, stock_in=False)
    mint = market.keeper().tick().actions[0]
    market.platform.run()
    outbox, issuer, wallet = market.platform.onchain.outbox, market.platform.issuer, market.platform.wallet
    pool = market.amm.pool(market.chain, "AAPL")
    token = market.platform.token("AAPL")
    token.approve(pool.address, 2**256 - 1, sender=wallet)
    stock_reserve, usdc_reserve = (int(v) for v in pool.reserves())
    expected = amount_out(mint.tokens, stock_reserve, usdc_reserve, int(pool.fee_bps()))
    purpose = f"ap-keeper:{wallet}:AAPL:1:sell:1"
    # What the keeper's swap stores before it broadcasts: the process dies right after.
    with issuer.db.transaction() as session:
        outbox.sign(
            session,
            purpose,
            pool.swap,
            mint.tokens,
            expected,
            True,
            wallet,
            market.chain.timestamp("pending") + 600,
            sender=wallet,
            owner="authorised-participant-keeper",
            now=issuer.clock.now(),
        )

    resumed = market.keeper().tick()
    again = market.keeper().tick()

    assert _kinds(resumed) == [ApActionKind.SOLD]
    assert resumed.actions[0].tokens == mint.tokens
    assert again.actions == ()
    with issuer.db.transaction() as session:
        rows = [
            (row.purpose, row.status)
            for row in session.query(ChainTransactionRow).filter(
                ChainTransactionRow.purpose.startswith("ap-keeper:")
            )
        ]
    assert rows == [(purpose, TxStatus.CONFIRMED)]
    assert market.stock_balance(wallet) == 0


def test_refuses_bad_settings_naming_them(sqlite_market: Market) -> None:
    market = sqlite_market
    other = market.platform.issuer.investors.onboard(
        "A Fund", "GB", "professional", kyc_expires_at=IN_SESSION + timedelta(days=365)
    )
    requests = market.keeper_requests()

    with pytest.raises(KeeperConfigError, match="margin_bps must be 0 to 9999, not -1"):
        market.keeper(margin_bps=-1)
    with pytest.raises(KeeperConfigError, match="max_notional must be positive"):
        market.keeper(max_notional=Usd(0))
    with pytest.raises(KeeperConfigError, match="not an authorised participant"):
        AuthorisedParticipantKeeper(
            market.platform.issuer,
            other.id,
            market.platform.wallet,
            market.chain,
            market.amm,
            {"AAPL": market.feed},
            max_notional=MAX_NOTIONAL,
        )
    with pytest.raises(KeeperConfigError, match="no AMM pool for MSTR"):
        AuthorisedParticipantKeeper(
            market.platform.issuer,
            market.platform.participant.id,
            market.platform.wallet,
            market.chain,
            market.amm,
            {"MSTR": market.feed},
            max_notional=MAX_NOTIONAL,
        )
    assert market.keeper_requests() == requests
