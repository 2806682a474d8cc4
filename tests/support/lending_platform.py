"""The lending venue beside a test platform's issuer, as `up` runs it: `deploy_lending` for AAPL and MSTR
(the market contract registered as the venue operator's wallet, for MSTR's permissioned token), each
feed's first round signed by the issuer's reporter at the replayed price, a lender's USDC in every
market, and the participant's AAPL minted through the issuer to borrow against."""

from dataclasses import dataclass
from datetime import timedelta

from tests.support.platform import USDC, Platform

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.compiler import compile_contract
from equitoken.market.prices import PriceSource
from equitoken.model.quantities import Usd
from equitoken.oracle.observation import FeedId, MarketStatus, Observation
from equitoken.venues.lending.actions import LendingClient
from equitoken.venues.lending.deployment import deploy_lending
from equitoken.venues.lending.parameters import DEFAULT_GRACE_PERIOD

LENDING_TICKERS = ("AAPL", "MSTR")
LENDER_USDC = 50_000 * USDC
MINTED_AAPL = "5"
GRACE_PERIOD = DEFAULT_GRACE_PERIOD  # shares, minted to the participant's wallet


@dataclass
class LendingPlatform:
    """The lending client over the test platform, and who lends in it."""

    client: LendingClient
    lender: str


def publish(
    platform: Platform, prices: PriceSource, ticker: str, status: MarketStatus = MarketStatus.OPEN
) -> None:
    """Sign and send `ticker`'s next round at the replayed price of the platform's time."""
    chain, roles = platform.chain, platform.onchain.roles
    deployed = platform.onchain.deployment.instrument(ticker)
    feed = chain.at(deployed.price_feed, compile_contract("oracle/PriceFeed.vy"))
    try:
        round_id = int(feed.latestRoundStatus()[0]) + 1
    except RevertError:  # before the first round
        round_id = 1
    price = prices.quote(ticker, platform.clock.now()).price
    at = int(platform.clock.now().timestamp())
    observation = Observation(FeedId(chain.chain_id, feed.address), round_id, price, status, at)
    signed = observation.sign(chain.signers.get(roles.price_updater))
    feed.transmit(round_id, [signed.as_call_argument()], sender=roles.admin)


def attest(platform: Platform, ticker: str) -> None:
    """Attest reserves covering `ticker`'s supply as of now (a market lends nothing against a token whose
    reserves are short or stale)."""
    onchain = platform.onchain
    supply = int(onchain.token(ticker).totalSupply())
    reserve = onchain.reserve_feed(ticker)
    reserve.update(supply, int(platform.clock.now().timestamp()), sender=onchain.roles.attester)


def open_lending(platform: Platform, prices: PriceSource) -> LendingPlatform:
    """Mint the participant's AAPL, deploy the lending venue, price it and fill every market with USDC."""
    issuer, chain, roles = platform.issuer, platform.chain, platform.onchain.roles
    platform.approve_mint(1_000_000 * USDC)
    issuer.request_mint(platform.participant.id, platform.wallet, "AAPL", MINTED_AAPL, "lending-collateral")
    platform.run()
    kyc = platform.clock.now() + timedelta(days=365)
    operator = issuer.investors.onboard("Equitoken Venues", "GB", "professional", kyc_expires_at=kyc)
    lending = deploy_lending(
        chain,
        roles.admin,
        platform.usdc.address,
        platform.onchain.deployment,
        list(LENDING_TICKERS),
        registrar=roles.registrar,
        market_investor=operator.onchain_id,
    )
    for ticker in LENDING_TICKERS:
        publish(platform, prices, ticker)
        attest(platform, ticker)
    # Past the first opening's grace period (no liquidations), in a block of its own.
    platform.clock.advance(timedelta(seconds=GRACE_PERIOD + 1))
    chain.mine(1)
    client = LendingClient(chain, lending, issuer.db, platform.clock, outbox=platform.onchain.outbox)
    lender = roles.operator  # the issuer's treasury wallet holds a million test USDC
    for ticker in LENDING_TICKERS:
        client.supply(lender, ticker, Usd(LENDER_USDC), key="seed")
    return LendingPlatform(client, lender)
