"""The one in-process world every probe runs in: a chain that follows a manual market clock, the real
issuer (workflow, custody, paper broker on replayed prices), its corporate actions from the packaged
history, and the instruments' quorum price feeds fed by the issuer's reporter.

`advance(t)` is the only way time moves: the clock and the chain go to `t`, the feeds take a round
(OPEN in the regular session, CLOSED otherwise), and the issuer and its corporate actions advance.
Probes then act at `t` and read what they hold.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from equitoken.brokers.paper import PaperBroker
from equitoken.chain.errors import RevertError
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuerRoles
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.comparison.period import Period
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.corporate_actions import (
    CorporateActions,
    CorporateActionsConfig,
    DividendPolicy,
    InstrumentPolicy,
)
from equitoken.issuer.investors import Investor
from equitoken.issuer.onchain import IssuerChain
from equitoken.issuer.service import Issuer
from equitoken.issuer.workflow.states import RequestState
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import ManualClock
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Price, Shares
from equitoken.oracle.observation import FeedId, MarketStatus, Observation
from equitoken.platform.assemble import PaperBrokerSettings, assemble_issuer, deploy_issuer_contracts
from equitoken.store.database import Database, sqlite_url

# The chain's first block: before any market time a period can start at (the data starts in 2019).
GENESIS = int(datetime(2019, 1, 1, tzinfo=UTC).timestamp())
ACCOUNTS = 32
USDC = 10**6
TOKEN_UNIT = 10**8
SLIPPAGE_BPS = 5
# Accounts beyond the issuer's ten roles: one per actor, so no two models share a balance. The first
# ones are wallets of the verified participant (they may mint); `actor` hands out the others.
# A model's orders come from another wallet than its holding, so an order never moves the holding.
HOLDER, LIQUIDITY, KEEPER, TRADER, LENDER, MAKER, REQUESTER = 10, 11, 12, 13, 14, 15, 16
HOLDER_ORDERS, REQUESTER_ORDERS, LENDER_ORDERS = 17, 18, 19
ATTESTED_HOLDER, ATTESTED_ORDERS = 20, 21
# Two verified participants (an investor has at most eight wallets): one holds, one places orders.
_HOLDING_WALLETS = (HOLDER, LIQUIDITY, KEEPER, LENDER, MAKER, REQUESTER, ATTESTED_HOLDER)
_ORDER_WALLETS = (HOLDER_ORDERS, REQUESTER_ORDERS, LENDER_ORDERS, ATTESTED_ORDERS)
_VERIFIED = (*_HOLDING_WALLETS, *_ORDER_WALLETS)
_FIRST_ACTOR = 22
# The feed's own refusal of a round that comes within its minimum interval and moves less than its
# deviation threshold: the oracle network's reporters observe more often than the feed takes rounds.
TOO_SOON = "feed: too soon"
TRANSMIT_GAS = 400_000
ACTOR_USDC = 50_000_000 * USDC


class ComparisonError(RuntimeError):
    """A venue did not do what the comparison asked of it; the message names the step."""


@dataclass
class World:
    """Everything a probe reaches: chain, issuer, feeds, clock, prices, calendar, period."""

    period: Period
    tickers: tuple[str, ...]
    chain: InProcessChain
    clock: ManualClock
    prices: ReplayPriceSource
    calendar: MarketCalendar
    database: Database
    issuer: Issuer
    onchain: IssuerChain
    broker: PaperBroker
    usdc: Contract
    actions: CorporateActions
    participant: Investor
    orderer: Investor
    directory: Path
    rounds: dict[str, int] = field(default_factory=dict)
    refused_rounds: int = 0
    actors: dict[str, str] = field(default_factory=dict)
    feeds: dict[str, Contract] = field(default_factory=dict)

    @property
    def roles(self) -> IssuerRoles:
        return self.onchain.roles

    def account(self, index: int) -> str:
        """Return the chain account `index` (see the module's actor indices)."""
        return self.chain.accounts[index]

    def actor(self, name: str) -> str:
        """Return the account of actor `name` (a new one, funded with USDC, on first use)."""
        if name not in self.actors:
            index = _FIRST_ACTOR + len(self.actors)
            if index >= len(self.chain.accounts):
                raise ComparisonError(f"no account left for actor {name!r}")
            self.actors[name] = self.chain.accounts[index]
            self.fund(self.actors[name], ACTOR_USDC)
        return self.actors[name]

    def investor_of(self, wallet: str) -> str:
        """Return the id of the verified participant `wallet` belongs to."""
        orders = {self.chain.accounts[i].lower() for i in _ORDER_WALLETS}
        return (self.orderer if wallet.lower() in orders else self.participant).id

    def token(self, ticker: str) -> Contract:
        return self.onchain.token(ticker)

    def feed(self, ticker: str) -> Contract:
        if ticker not in self.feeds:
            address = self.onchain.deployment.instrument(ticker).price_feed
            self.feeds[ticker] = self.chain.at(address, compile_contract("oracle/PriceFeed.vy"))
        return self.feeds[ticker]

    def share_price(self, ticker: str, at: datetime | None = None) -> Price:
        """Return the underlying's replayed price (per share, as traded) at `at` (now by default)."""
        return self.prices.quote(ticker, at or self.clock.now()).price

    def multiplier(self, ticker: str) -> int:
        """Return the token's UI multiplier in force now (1e18 = one share per token)."""
        return int(self.token(ticker).uiMultiplier())

    def token_price(self, ticker: str, at: datetime | None = None) -> Price:
        """Return the underlying's price per whole token now: share price x the multiplier in force."""
        return Price(self.share_price(ticker, at).units * self.multiplier(ticker) // 10**18)

    def status(self, at: datetime | None = None) -> MarketStatus:
        at = at or self.clock.now()
        return MarketStatus.OPEN if self.calendar.is_open(at) else MarketStatus.CLOSED

    def fund(self, to: str, units: int) -> None:
        self.usdc.mint(to, units, sender=self.roles.admin)

    def publish(self, ticker: str) -> bool:
        """Sign and transmit a round of `ticker`'s replayed share price and the market's status now;
        return False when the feed refuses it as too soon (under its interval and deviation bounds)."""
        feed = self.feed(ticker)
        round_id = self.rounds.get(ticker, 0) + 1
        now = int(self.clock.now().timestamp())
        observation = Observation(
            FeedId(self.chain.chain_id, feed.address), round_id, self.share_price(ticker), self.status(), now
        )
        signed = observation.sign(self.chain.signers.get(self.roles.price_updater))
        try:
            # A fixed gas limit spares the estimate (a dry run) on every observation the feed refuses.
            feed.transmit(round_id, [signed.as_call_argument()], sender=self.roles.admin, gas=TRANSMIT_GAS)
        except RevertError as error:
            if TOO_SOON not in str(error):
                raise
            self.refused_rounds += 1
            return False
        self.rounds[ticker] = round_id
        return True

    def advance(self, t: datetime) -> None:
        """Move the market and the chain to `t`, feed the oracle, advance the issuer and its actions."""
        if t > self.clock.now():
            self.clock.set(t)
        self.actions.process()
        # A multiplier scheduled "at once" takes effect a few seconds ahead: let it.
        lead = timedelta(seconds=self.actions.config.multiplier_lead_seconds + 1)
        if self.actions.process():
            self.clock.set(self.clock.now() + lead)
            self.actions.process()
        for ticker in self.tickers:
            self.publish(ticker)
        self.issuer.process()
        self.issuer.refresh_reserves()

    def settle_requests(self, *, step: timedelta = timedelta(minutes=1), max_rounds: int = 600) -> None:
        """Process the issuer, a minute at a time, until no request is open."""
        for _ in range(max_rounds):
            self.issuer.process()
            if not self.issuer.requests(open_only=True):
                return
            self.advance(self.clock.now() + step)
        raise ComparisonError(f"issuer requests still open: {self.issuer.requests(open_only=True)}")

    def mint(self, ticker: str, shares: Shares, key: str, wallet: str | None = None) -> None:
        """Mint tokens for `shares` to the participant's wallet (or `wallet`) through the workflow."""
        wallet = wallet or self.account(HOLDER)
        self.usdc.approve(self.roles.operator, 10**15, sender=wallet)
        request = self.issuer.request_mint(self.investor_of(wallet), wallet, ticker, shares, key)
        self.settle_requests()
        done = self.issuer.request(request.id)
        if done.state is not RequestState.COMPLETED:
            raise ComparisonError(f"minting {shares} {ticker}: request ended {done.state} ({done.reason})")

    def close(self) -> None:
        """Release the paper broker's and the issuer's databases."""
        self.broker.close()
        self.database.close()


def open_world(
    period: Period,
    tickers: tuple[str, ...],
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    directory: Path,
) -> World:
    """Deploy the issuance of `tickers` and wire the issuer at the session before the period (10:00 New
    York), with the period's corporate actions loaded (dividends paid out in USDC)."""
    start = period.setup_session.open + timedelta(minutes=30)
    chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=GENESIS)
    clock = ManualClock(start)
    chain.clock = clock
    directory.mkdir(parents=True, exist_ok=True)
    database = Database(sqlite_url(directory / "issuer.sqlite"))
    database.migrate()
    instruments = [i for i in load_catalogue() if i.ticker in tickers]
    contracts = deploy_issuer_contracts(chain, instruments)
    roles = IssuerRoles.from_accounts(chain.accounts)
    paper = PaperBrokerSettings(sqlite_url(directory / "paper-broker.sqlite"), SLIPPAGE_BPS, 1)
    assembled = assemble_issuer(
        chain,
        contracts.deployment,
        contracts.usdc.address,
        database,
        clock,
        broker=paper,
        prices=prices,
        calendar=calendar,
    )
    broker = assembled.broker
    if not isinstance(broker, PaperBroker):
        raise ComparisonError("the comparison replays on the paper broker")
    issuer = assembled.issuer
    participant = issuer.investors.onboard(
        "Comparison Holder Ltd", "GB", "authorised_participant", kyc_expires_at=start + timedelta(days=365)
    )
    orderer = issuer.investors.onboard(
        "Comparison Orders Ltd", "GB", "authorised_participant", kyc_expires_at=start + timedelta(days=365)
    )
    for investor, wallets in ((participant, _HOLDING_WALLETS), (orderer, _ORDER_WALLETS)):
        for index in wallets:
            issuer.investors.bind_wallet(investor.id, chain.accounts[index])
    payout = InstrumentPolicy(dividends=DividendPolicy.PAYOUT)
    config = CorporateActionsConfig(instruments=dict.fromkeys(tickers, payout))
    actions = CorporateActions(issuer, broker, prices, calendar, config)
    for ticker in tickers:
        actions.load_history(ticker, period.setup_session.date, period.end)
    world = World(
        period,
        tickers,
        chain,
        clock,
        prices,
        calendar,
        database,
        issuer,
        assembled.onchain,
        broker,
        contracts.usdc,
        actions,
        issuer.investors.get(participant.id),
        issuer.investors.get(orderer.id),
        directory,
    )
    for ticker in tickers:
        world.publish(ticker)
    for index in (*_VERIFIED, TRADER):
        world.fund(chain.accounts[index], ACTOR_USDC)
    world.fund(roles.admin, ACTOR_USDC)
    return world
