"""The platform a simulated week runs on, built in one process as `up` builds it on a node.

On a fresh `InProcessChain` whose clock is the run's `ManualClock`: the issuance layer and a test
USDC (`deploy_issuer_contracts`), the issuer with a paper broker over the replayed prices
(`assemble_issuer`), each ticker's feed driven by the oracle's `Transmitter` and a `Reporter` over
`MarketObservationSource` (market hours, a declared halt, closed-market pricing from the venues'
tape), the AMM (`deploy_amm`), the order-book exchange with the platform's rules and feed statuses
(`exchange_rules`, synced once a step), the lending venue (`deploy_lending`), the perpetuals
venue (`deploy_perps`), and the CFD venue beside the book, priced from the feeds by the platform's
`CfdFeeder`.

Every stock token in the world is minted through the issuer's workflow by the authorised
participant (`AP_WALLETS`), in the last hour of the session before the week, then handed out by
transfers: the pools' liquidity, the keepers' inventory, the agents' wallets, and the order book's
inventory, sent to the exchange's hot wallet on-chain and credited to the book accounts it backs.

On-chain agents share `AGENT_WALLETS` dev wallets (agent i uses wallet i mod `AGENT_WALLETS`): a
funded and approved wallet costs a handful of transactions, and a thousand of them would double the
run. Book and CFD agents each have their own account there, which costs nothing on-chain (a CFD
account's margin is credited at setup, as the book's inventory is).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from equitoken.brokers.paper import PaperBroker
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuerRoles
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.config import IssuerConfig
from equitoken.issuer.investors import Investor, InvestorCategory
from equitoken.issuer.service import Issuer
from equitoken.keepers.arbitrage import ArbitrageKeeper
from equitoken.keepers.liquidation import LiquidationKeeper
from equitoken.keepers.market_maker import MarketMaker
from equitoken.keepers.perps import PerpsKeeper
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import ManualClock
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import PRICE_DECIMALS, Shares, Usd
from equitoken.oracle.closed_market import ClosedPricing
from equitoken.oracle.halts import HaltBook
from equitoken.oracle.observation import FeedId, MarketStatus
from equitoken.oracle.policy import PushPolicy
from equitoken.oracle.reporter import ObservationClient, Reporter
from equitoken.oracle.sources import MarketObservationSource
from equitoken.oracle.trades import VenueTradeBook
from equitoken.oracle.transmitter import Transmitter
from equitoken.platform.assemble import PaperBrokerSettings, assemble_issuer, deploy_issuer_contracts
from equitoken.platform.cfd import CFD_JOURNAL, CfdFeeder, listing_multipliers
from equitoken.platform.exchange import EXCHANGE_DIR, FeedStatuses, TokenMultipliers, exchange_rules
from equitoken.store.database import Database, sqlite_url
from equitoken.venues.amm import AmmDeployment, deploy_amm
from equitoken.venues.cfd.instruments import CfdInstrument
from equitoken.venues.cfd.venue import CfdVenue
from equitoken.venues.exchange.accounts import USDC as BOOK_USDC
from equitoken.venues.exchange.engine import Exchange
from equitoken.venues.exchange.journal import FsyncPolicy
from equitoken.venues.exchange.venue import ExchangeVenue
from equitoken.venues.lending.deployment import LendingDeployment, deploy_lending
from equitoken.venues.perps.deployment import PerpsDeployment, deploy_perps

USDC = 10**6
SHARE = 10**9  # `Shares` units
UNLIMITED = 2**256 - 1
AGENT_GAS = 900_000  # agents send with a fixed gas limit: no estimate, a refusal is a mined revert
AP_WALLETS = (10, 11)  # the authorised participant's wallets, bound to its investor
PROVIDER, ARBITRAGE_KEEPER, LIQUIDATION_KEEPER, PERPS_KEEPER, HOT_WALLET = 12, 13, 14, 15, 16
FIRST_AGENT_WALLET = 17
AGENT_WALLETS = 24
ACCOUNTS = FIRST_AGENT_WALLET + AGENT_WALLETS
MAKER_ACCOUNT = 1  # the market-making keeper's book account
FIRST_AGENT_ACCOUNT = 100  # agent i's book account is FIRST_AGENT_ACCOUNT + i

# Each ticker's first inventory, in dollars at the setup price.
POOL_DOLLARS = 1_000_000
MAKER_DOLLARS = 300_000
KEEPER_DOLLARS = 150_000
WALLET_DOLLARS = 20_000  # each agent wallet, in stock and again in USDC
BOOK_AGENT_DOLLARS = 4_000  # each book agent's account, in stock and again in USDC
CFD_AGENT_DOLLARS = 10_000  # each CFD trader's margin account
LENDING_SUPPLY = 2_000_000 * USDC  # per market
PERPS_VAULT = 5_000_000 * USDC
AP_USDC = 20_000_000 * USDC
MINT_CHUNK_DOLLARS = 4_000_000  # under the issuer's largest order
MINT_HEADROOM_BPS = 300  # whole shares are paid at the fill: room for the price to move
ISSUER_ROUNDS = 240

# The keepers, as the platform runs them.
BAND_BPS, CLOSED_BAND_BPS = 50, 200
MAX_ARBITRAGE = Usd(50_000 * USDC)
MAKER_LEVEL = Shares(25 * SHARE)
MAKER_INVENTORY = Shares(20_000 * SHARE)
HALF_SPREAD_OPEN_BPS, HALF_SPREAD_CLOSED_BPS, LEVEL_SPACING_BPS, MAKER_LEVELS = 10, 50, 5, 3
HALT = (timedelta(days=1, hours=11), timedelta(minutes=20))  # Tuesday 11:00 New York, 20 minutes
IN_PROCESS_TIMEOUT = 60.0  # the reporter runs in this process: no network bound on its answer


class WorldSetUpError(RuntimeError):
    """The world could not be built (a setup mint did not settle, a venue refused its seed)."""


@dataclass
class World:
    """Everything the agents and the keepers act on, and the run's clock."""

    directory: Path
    tickers: tuple[str, ...]
    chain: InProcessChain
    clock: ManualClock
    calendar: MarketCalendar
    prices: ReplayPriceSource
    database: Database
    issuer: Issuer
    broker: PaperBroker
    participant: Investor
    roles: IssuerRoles
    usdc: Contract
    tokens: dict[str, Contract]
    feeds: dict[str, Contract]
    decimals: dict[str, int]
    amm: AmmDeployment
    pools: dict[str, Contract]
    exchange: Exchange
    venue: ExchangeVenue
    statuses: FeedStatuses
    tape: VenueTradeBook
    halts: HaltBook
    transmitter: Transmitter
    lending: LendingDeployment
    lending_market: Contract
    perps: PerpsDeployment
    perp_markets: dict[str, Contract]
    cfd: CfdVenue
    cfd_feeder: CfdFeeder
    arbitrage: ArbitrageKeeper
    maker: MarketMaker
    liquidation: LiquidationKeeper
    perps_keeper: PerpsKeeper
    agent_wallets: tuple[str, ...]
    ap_wallets: tuple[str, ...]
    book_funded: set[int] = field(default_factory=set)

    def wallet_of(self, agent: int) -> str:
        """Return the dev wallet agent `agent` signs with."""
        return self.agent_wallets[agent % len(self.agent_wallets)]

    def book_account(self, agent: int) -> int:
        """Return agent `agent`'s exchange account."""
        return FIRST_AGENT_ACCOUNT + agent

    def oracle(self, ticker: str) -> tuple[int, MarketStatus]:
        """Return the feed's latest answer (1e-8 dollars per token) and market status."""
        latest = self.feeds[ticker].latestRoundStatus()
        return int(latest[1]), MarketStatus(int(latest[5]))

    def scale(self, ticker: str) -> int:
        """Return the price units (1e-8 dollars per token) per raw USDC per raw token."""
        return _scale(self.decimals[ticker])

    def tokens_for(self, ticker: str, dollars: int, price: int) -> int:
        """Return the raw token units worth `dollars` at `price` (1e-8 dollars per token)."""
        return _tokens_for(self.decimals[ticker], dollars, price)

    def step_to(self, at: datetime) -> None:
        """Move the clock and the chain to `at`; push each feed's round; read the statuses back and feed
        the CFD venue its prices (and a closed session's financing)."""
        self.clock.set(max(at, self.clock.now()))
        self.transmitter.tick()
        self.statuses.refresh()
        self.cfd_feeder.tick()
        self.cfd.sync()

    def close(self) -> None:
        """Stop the transmitter, close the exchange's journals and the broker."""
        self.transmitter.close()
        self.exchange.close()
        self.cfd.close()
        self.broker.close()


def build_world(
    directory: Path,
    start: datetime,
    book_agents: list[int],
    cfd_agents: list[int],
    prices: ReplayPriceSource,
    calendar: MarketCalendar,
    tickers: tuple[str, ...],
    halt_at: datetime,
) -> World:
    """Build the platform in `directory` at `start` (in a session); fund every agent wallet, the book
    accounts of `book_agents` and the CFD accounts of `cfd_agents`; declare the week's halt of the first
    ticker at `halt_at`."""
    directory.mkdir(parents=True, exist_ok=True)
    signers = SignerRegistry.anvil(ACCOUNTS)
    chain = InProcessChain(signers, genesis_timestamp=int(start.timestamp()) - 3_600)
    catalogue = [i for i in load_catalogue() if i.ticker in tickers]
    contracts = deploy_issuer_contracts(chain, catalogue)
    clock = ManualClock(start)
    chain.clock = clock
    database = Database(sqlite_url(directory / "simulation.sqlite"))
    database.migrate()
    assembled = assemble_issuer(
        chain,
        contracts.deployment,
        contracts.usdc.address,
        database,
        clock,
        broker=PaperBrokerSettings(sqlite_url(directory / "paper-broker.sqlite")),
        prices=prices,
        calendar=calendar,
        config=IssuerConfig(),
    )
    broker = assembled.broker
    if not isinstance(broker, PaperBroker):
        raise WorldSetUpError("the simulation's issuer must fill through the paper broker")
    issuer, onchain = assembled.issuer, assembled.onchain
    roles, usdc, accounts = onchain.roles, contracts.usdc, chain.accounts
    deployment = contracts.deployment
    tokens = {t: onchain.token(t) for t in tickers}
    feed_artifact = compile_contract("oracle/PriceFeed.vy")
    feeds = {t: chain.at(deployment.instrument(t).price_feed, feed_artifact, f"{t} feed") for t in tickers}
    decimals = {t: int(tokens[t].decimals()) for t in tickers}

    participant = issuer.investors.onboard(
        "Simulated Participant Ltd",
        "GB",
        InvestorCategory.AUTHORISED_PARTICIPANT,
        kyc_expires_at=start + timedelta(days=365),
    )
    ap_wallets = tuple(accounts[i] for i in AP_WALLETS)
    for wallet in ap_wallets:
        issuer.investors.bind_wallet(participant.id, wallet)
        usdc.mint(wallet, AP_USDC, sender=roles.admin)
        usdc.approve(roles.operator, UNLIMITED, sender=wallet)
        for ticker in tickers:
            tokens[ticker].approve(roles.burner, UNLIMITED, sender=wallet)

    # The oracle: one reporter (the deployment's single member) over the replayed prices.
    halts = HaltBook(database, tickers)
    halts.declare(tickers[0], halt_at, halt_at + HALT[1], "simulated news pending")
    tape = VenueTradeBook(database)
    source = MarketObservationSource(prices, calendar, halts, ClosedPricing(tape))
    reporters: list[ObservationClient] = [Reporter(signers.get(roles.price_updater), source)]
    transmitter = Transmitter(
        chain,
        roles.price_updater,
        {t: FeedId(chain.chain_id, deployment.instrument(t).price_feed) for t in tickers},
        reporters,
        PushPolicy(),
        timeout=IN_PROCESS_TIMEOUT,
    )
    transmitter.tick()

    # The first inventory, minted through the issuer in whole shares, in chunks under its largest order.
    book_dollars = MAKER_DOLLARS + BOOK_AGENT_DOLLARS * len(book_agents)
    wallet_total = WALLET_DOLLARS * AGENT_WALLETS
    per_ticker = POOL_DOLLARS + KEEPER_DOLLARS + book_dollars + wallet_total
    wanted = per_ticker * (10_000 + MINT_HEADROOM_BPS) // 10_000
    key = 0
    for ticker in tickers:
        price = prices.quote(ticker, start).price.units
        left = wanted
        while left > 0:
            chunk = min(left, MINT_CHUNK_DOLLARS)
            shares = max(1, chunk * 10**PRICE_DECIMALS // price)
            issuer.request_mint(
                participant.id, ap_wallets[0], ticker, str(shares), f"sim-seed-{ticker}-{key}"
            )
            key += 1
            left -= chunk
    for _ in range(ISSUER_ROUNDS):
        issuer.process()
        if not issuer.requests(open_only=True):
            break
        clock.advance(timedelta(minutes=1))
    unsettled = [r for r in issuer.requests() if not r.tokens_settled]
    if issuer.requests(open_only=True) or unsettled:
        raise WorldSetUpError(f"the setup mints did not settle: {[(r.id, r.state) for r in unsettled]}")
    transmitter.tick()

    amm = deploy_amm(chain, roles.admin, usdc.address, deployment, list(tickers))
    pools = {t: amm.pool(chain, t) for t in tickers}
    lending = deploy_lending(chain, roles.admin, usdc.address, deployment, list(tickers))
    lending_market = lending.contract(chain)
    perps = deploy_perps(chain, roles.admin, usdc.address, deployment, list(tickers), vault_seed=0)
    perp_markets = {t: perps.contract(chain, t) for t in tickers}

    provider = accounts[PROVIDER]
    hot_wallet = accounts[HOT_WALLET]
    agent_wallets = tuple(accounts[FIRST_AGENT_WALLET + i] for i in range(AGENT_WALLETS))
    usdc.mint(
        provider,
        3 * LENDING_SUPPLY + PERPS_VAULT + 2 * POOL_DOLLARS * USDC * len(tickers),
        sender=roles.admin,
    )
    usdc.mint(accounts[ARBITRAGE_KEEPER], KEEPER_DOLLARS * USDC * len(tickers), sender=roles.admin)
    usdc.mint(accounts[LIQUIDATION_KEEPER], 1_000_000 * USDC, sender=roles.admin)
    book_usdc = book_dollars * USDC * len(tickers)
    usdc.mint(hot_wallet, book_usdc, sender=roles.admin)
    for wallet in agent_wallets:
        usdc.mint(wallet, WALLET_DOLLARS * USDC * (len(tickers) + 1), sender=roles.admin)
        usdc.approve(lending_market.address, UNLIMITED, sender=wallet)
        for ticker in tickers:
            usdc.approve(pools[ticker].address, UNLIMITED, sender=wallet)
            usdc.approve(perp_markets[ticker].address, UNLIMITED, sender=wallet)
            tokens[ticker].approve(pools[ticker].address, UNLIMITED, sender=wallet)
            tokens[ticker].approve(lending_market.address, UNLIMITED, sender=wallet)
    for wallet in ap_wallets:
        for ticker in tickers:
            usdc.approve(pools[ticker].address, UNLIMITED, sender=wallet)
            tokens[ticker].approve(pools[ticker].address, UNLIMITED, sender=wallet)

    ap = ap_wallets[0]
    for ticker in tickers:
        answer = int(feeds[ticker].latestRoundStatus()[1])
        token = tokens[ticker]
        scale = _scale(decimals[ticker])

        def units(dollars: int, places: int = decimals[ticker], answer: int = answer) -> int:
            return _tokens_for(places, dollars, answer)

        token.transfer(provider, units(POOL_DOLLARS), sender=ap)
        token.transfer(accounts[ARBITRAGE_KEEPER], units(KEEPER_DOLLARS), sender=ap)
        for wallet in agent_wallets:
            token.transfer(wallet, units(WALLET_DOLLARS), sender=ap)
        token.transfer(hot_wallet, units(book_dollars), sender=ap)
        pool = pools[ticker]
        token.approve(pool.address, UNLIMITED, sender=provider)
        usdc.approve(pool.address, UNLIMITED, sender=provider)
        stock = units(POOL_DOLLARS)
        deadline = chain.timestamp() + 3_600
        pool.add_liquidity(stock, stock * answer // scale, 0, 0, provider, deadline, sender=provider)
    usdc.approve(lending_market.address, UNLIMITED, sender=provider)
    for ticker in tickers:
        lending_market.supply(lending.market(ticker).params, LENDING_SUPPLY, 0, provider, sender=provider)
    vault = perps.vault_contract(chain)
    usdc.approve(vault.address, UNLIMITED, sender=provider)
    vault.deposit(PERPS_VAULT, provider, sender=provider)

    statuses = FeedStatuses(chain, deployment, tickers)
    statuses.refresh()
    # As `open_exchange`, but its journals synced once a step (`Exchange.sync`), not per command.
    rules = exchange_rules(deployment)
    exchange = Exchange.open(
        directory / EXCHANGE_DIR,
        rules,
        statuses,
        tape=tape,
        clock=clock,
        fsync=FsyncPolicy.PER_BATCH,
        multipliers=TokenMultipliers(chain, {t: tokens[t].address for t in tickers}),
    )
    venue = ExchangeVenue(exchange)
    # The CFD venue beside the book's journals, as `open_cfd` starts it, synced once a step.
    cfd = CfdVenue.start(
        directory / EXCHANGE_DIR / CFD_JOURNAL,
        tuple(CfdInstrument(t) for t in tickers),
        clock,
        fsync=FsyncPolicy.PER_BATCH,
        calendar=calendar,
    )
    cfd_feeder = CfdFeeder(
        cfd, chain, deployment, listing_multipliers(chain, deployment, cfd, directory), clock
    )
    for agent in cfd_agents:
        cfd.deposit(FIRST_AGENT_ACCOUNT + agent, CFD_AGENT_DOLLARS * USDC, f"sim-seed-cfd-{agent}")
    cfd_feeder.tick()
    cfd.sync()
    world = World(
        directory,
        tickers,
        chain,
        clock,
        calendar,
        prices,
        database,
        issuer,
        broker,
        participant,
        roles,
        usdc,
        tokens,
        feeds,
        decimals,
        amm,
        pools,
        exchange,
        venue,
        statuses,
        tape,
        halts,
        transmitter,
        lending,
        lending_market,
        perps,
        perp_markets,
        cfd,
        cfd_feeder,
        ArbitrageKeeper(
            chain,
            accounts[ARBITRAGE_KEEPER],
            amm,
            {t: f.address for t, f in feeds.items()},
            band_bps=BAND_BPS,
            closed_band_bps=CLOSED_BAND_BPS,
            max_trade_usdc=MAX_ARBITRAGE,
            tape=tape,
        ),
        MarketMaker(
            venue,
            MAKER_ACCOUNT,
            {t: f.address for t, f in feeds.items()},
            chain,
            level_size=MAKER_LEVEL,
            max_inventory=MAKER_INVENTORY,
            levels=MAKER_LEVELS,
            half_spread_open_bps=HALF_SPREAD_OPEN_BPS,
            half_spread_closed_bps=HALF_SPREAD_CLOSED_BPS,
            level_spacing_bps=LEVEL_SPACING_BPS,
        ),
        LiquidationKeeper(chain, accounts[LIQUIDATION_KEEPER], lending, database, clock, amm=amm),
        PerpsKeeper(chain, accounts[PERPS_KEEPER], perps, database, clock),
        agent_wallets,
        ap_wallets,
    )
    _fund_book(world, book_agents, book_dollars)
    return world


def _scale(decimals: int) -> int:
    return int(10 ** (PRICE_DECIMALS + decimals - 6))


def _tokens_for(decimals: int, dollars: int, price: int) -> int:
    return int(dollars * 10**PRICE_DECIMALS * 10**decimals // price)


def _fund_book(world: World, book_agents: list[int], book_dollars: int) -> None:
    """Credit the book inventory sent to the hot wallet to the maker's and the agents' accounts."""
    for ticker in world.tickers:
        answer, _ = world.oracle(ticker)
        maker_units = world.tokens_for(ticker, MAKER_DOLLARS, answer)
        world.venue.credit_deposit(MAKER_ACCOUNT, ticker, maker_units, f"sim-seed-maker-{ticker}")
        world.venue.credit_deposit(
            MAKER_ACCOUNT, BOOK_USDC, MAKER_DOLLARS * USDC, f"sim-seed-maker-usdc-{ticker}"
        )
        each = world.tokens_for(ticker, BOOK_AGENT_DOLLARS, answer)
        for agent in book_agents:
            account = world.book_account(agent)
            world.venue.credit_deposit(account, ticker, each, f"sim-seed-{agent}-{ticker}")
            world.venue.credit_deposit(
                account, BOOK_USDC, BOOK_AGENT_DOLLARS * USDC, f"sim-seed-{agent}-usdc-{ticker}"
            )
    world.book_funded.update(book_agents)
    world.exchange.sync()
