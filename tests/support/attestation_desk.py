"""An attestation desk wired for a test: the platform's issuer on the test's chain, a minter beside the
AAPL and MSTR tokens quoting by a dedicated signer, the price feed fed the replayed market price, and
helpers for what a user does on-chain with a signed quote."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from tests.support.platform import Platform, build_platform

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuerRoles
from equitoken.issuer.attestation.config import AttestationConfig
from equitoken.issuer.attestation.deployment import (
    MinterDeployment,
    MinterSettings,
    deploy_minters,
    minter_at,
)
from equitoken.issuer.attestation.quotes import Side, SignedQuote
from equitoken.issuer.attestation.service import AttestationIssuer
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares
from equitoken.oracle.observation import FeedId, MarketStatus, Observation
from equitoken.store.database import Database

MINTED = ("AAPL", "MSTR")
SIGNER_INDEX = 12  # the first account the platform gives no role
TARGET = Shares.parse("10")
MAX_UINT = 2**256 - 1


@dataclass
class Desk:
    """The platform, its minters and the attestation issuer over them."""

    platform: Platform
    minters: MinterDeployment
    attestation: AttestationIssuer
    prices: ReplayPriceSource
    calendar: MarketCalendar

    @property
    def chain(self) -> EvmChain:
        return self.platform.chain

    def minter(self, ticker: str) -> Contract:
        return minter_at(self.platform.chain, self.minters.minter(ticker), ticker)

    def rewire(self, config: AttestationConfig | None = None) -> AttestationIssuer:
        """Return a fresh attestation issuer on the same database and broker (as after a restart)."""
        p = self.platform
        return AttestationIssuer(
            p.issuer.db,
            p.onchain,
            self.minters,
            p.broker,
            self.prices,
            p.clock,
            self.calendar,
            config or self.attestation.config,
            list(p.issuer.instruments.values()),
        )

    def publish(self, ticker: str) -> None:
        """Transmit the market price now to `ticker`'s price feed as its single reporter."""
        p = self.platform
        roles = p.onchain.roles
        feed = p.chain.at(
            p.onchain.deployment.instrument(ticker).price_feed, compile_contract("oracle/PriceFeed.vy")
        )
        try:
            round_id = int(feed.latestRoundData()[0]) + 1
        except RevertError:  # no round yet
            round_id = 1
        now = int(p.clock.now().timestamp())
        price = self.prices.quote(ticker, p.clock.now()).price
        observation = Observation(
            FeedId(p.chain.chain_id, feed.address), round_id, price, MarketStatus.OPEN, now
        )
        signed = observation.sign(p.chain.signers.get(roles.price_updater))
        feed.transmit(round_id, [signed.as_call_argument()], sender=roles.admin)

    def run(self, *, step: timedelta = timedelta(minutes=1), rounds: int = 30) -> None:
        """Process and move the clock (mining a block, so the chain sees the time) until nothing is open."""
        for _ in range(rounds):
            self.attestation.process()
            if not self.attestation.open_quotes():
                return
            self.platform.clock.advance(step)
            self.platform.chain.mine()
        raise AssertionError(f"quotes still open: {self.attestation.open_quotes()}")

    def approve(self, wallet: str, ticker: str) -> None:
        """Let `ticker`'s minter take `wallet`'s USDC and tokens."""
        minter = self.minters.minter(ticker)
        self.platform.usdc.approve(minter, MAX_UINT, sender=wallet)
        self.platform.token(ticker).approve(minter, MAX_UINT, sender=wallet)

    def use(self, signed: SignedQuote, sender: str | None = None) -> None:
        """Mint or redeem with `signed` as its user (or `sender`)."""
        minter = self.minter(_ticker_of(self, signed))
        call = (
            minter.mint_with_attestation if signed.quote.side is Side.BUY else minter.redeem_with_attestation
        )
        call(signed.quote.as_tuple(), signed.signature, sender=sender or signed.quote.user)


def _ticker_of(desk: Desk, signed: SignedQuote) -> str:
    for ticker, address in desk.minters.minters.items():
        if address == signed.minter:
            return ticker
    raise KeyError(signed.minter)


def build_desk(
    chain: EvmChain,
    database: Database,
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tmp_path: Path,
    *,
    start: datetime,
    config: AttestationConfig | None = None,
    settings: MinterSettings | None = None,
    fill_parts: int = 2,
) -> Desk:
    """Build the platform at `start`, deploy the minters and publish the market price to their feeds."""
    platform = build_platform(chain, database, prices, calendar, tmp_path, start=start, fill_parts=fill_parts)
    roles = IssuerRoles.from_accounts(chain.accounts)
    minters = deploy_minters(
        chain,
        platform.onchain.deployment,
        roles,
        platform.usdc.address,
        chain.accounts[SIGNER_INDEX],
        settings=settings,
        tickers=MINTED,
    )
    config = config or AttestationConfig(inventory_target=dict.fromkeys(MINTED, TARGET))
    attestation = AttestationIssuer(
        database,
        platform.onchain,
        minters,
        platform.broker,
        prices,
        platform.clock,
        calendar,
        config,
        list(platform.issuer.instruments.values()),
    )
    desk = Desk(platform, minters, attestation, prices, calendar)
    for ticker in MINTED:
        desk.publish(ticker)
    return desk
