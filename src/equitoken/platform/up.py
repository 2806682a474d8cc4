"""Assemble the whole platform of `equitoken up`, and take it down again.

Start order: the clock, the node (at market time) and the contracts; the database (SQLite, a
PostgreSQL URL, or an embedded server); the issuer on the broker; the oracle network (its reporter
processes on the migrated database, and the transmitter); lost transactions sent again (after a
crash of the node); the demo data on a first run (and the AMM pools' liquidity, minted through the
issuer); the lending venue (a market per default ticker, deployed on a first run); the order-book
exchange (its journals replayed, its hot wallet onboarded on a first run); then the API and the loop,
which also seeds the market maker's exchange deposits and the demo lender's USDC in every lending
market, credits deposits, sends withdrawals, and runs the keepers: arbitrage on the AMM, the market
maker on the book, the authorised participant on the issuer, and liquidations on the lending venue.
Stop order is the reverse: the API, the loop's last pass, the exchange's journals, the oracle network,
the database, the node
(which writes its state), and the clock back to real time, so that hours away do not become weeks
of market time.
"""

import contextlib
import os
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import ProgrammingError

from equitoken.api import ApiContext, create_app
from equitoken.brokers.alpaca import AlpacaBroker
from equitoken.brokers.broker import Broker
from equitoken.chain.evm.deployment import Progress
from equitoken.chain.solana.stock_mint import derive_keypair
from equitoken.dashboard import mount_dashboard
from equitoken.indexer import IndexedChain, Indexer
from equitoken.indexer.solana import IndexedSolana
from equitoken.issuer.corporate_actions import CorporateActions
from equitoken.issuer.orders.desk import ProcessorDesk
from equitoken.keepers.arbitrage import ArbitrageKeeper
from equitoken.keepers.authorised_participant import AuthorisedParticipantKeeper
from equitoken.keepers.liquidation import LiquidationKeeper
from equitoken.keepers.market_maker import MarketMaker
from equitoken.keepers.perps import PerpsKeeper
from equitoken.keepers.rules import Refusal, RefusalReason
from equitoken.keepers.synths import SynthLiquidationKeeper
from equitoken.market.alpaca import AlpacaPriceSource
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import CLOCK_FILE, DEFAULT_REPLAY_START, SimulatedClock, SystemClock
from equitoken.market.prices import PriceSource
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.quantities import Shares, Usd
from equitoken.oracle.trades import VenueTradeBook
from equitoken.platform.attestation import open_attestation, tend
from equitoken.platform.book_seed import BookSeed
from equitoken.platform.bridge import LocalBridge, open_bridge
from equitoken.platform.cfd import CfdFeeder, listing_multipliers, open_cfd
from equitoken.platform.exchange import (
    HOT_WALLET_JURISDICTION,
    FeedStatuses,
    exchange_rules,
    hot_wallet,
    open_exchange,
    permissioned_tickers,
)
from equitoken.platform.lending import LendingSeed, lender_wallet, open_lending
from equitoken.platform.local import (
    LocalDeployment,
    LocalIssuer,
    LocalPlatform,
    PlatformUnavailableError,
    record_database_url,
)
from equitoken.platform.node_time import advance_node_time
from equitoken.platform.oracle_network import QUORUM, REPORTER_COUNT, OracleNetwork, RoundLog
from equitoken.platform.orders import open_order_processor
from equitoken.platform.perps import PerpsSeed, open_perps
from equitoken.platform.pool_seed import KYC_VALIDITY, PoolSeed, ap_keeper_wallet, keeper_wallet
from equitoken.platform.private import open_private_companies
from equitoken.platform.recovery import replay_lost_transactions
from equitoken.platform.runner import ApiServer, LoopTask, PlatformLoop, process_pass
from equitoken.platform.seed import DemoKey, DemoSeed
from equitoken.platform.settings import BrokerChoice, UpSettings
from equitoken.platform.solana import LOCAL_SEED
from equitoken.platform.synths import SynthsSeed, open_synths
from equitoken.proofs.liabilities import Liabilities
from equitoken.store.postgres import EmbeddedPostgres
from equitoken.venues.cfd.transfers import CfdTransfers
from equitoken.venues.cfd.venue import CfdVenue
from equitoken.venues.exchange.accounts import USDC
from equitoken.venues.exchange.eligibility import RegistryEligibility
from equitoken.venues.exchange.funding import ExchangeFunding, register_hot_wallet
from equitoken.venues.exchange.ledger import LedgerDesk
from equitoken.venues.exchange.members import ExchangeMembers
from equitoken.venues.exchange.venue import ExchangeVenue
from equitoken.venues.lending.actions import LendingClient
from equitoken.venues.perps.actions import PerpsClient
from equitoken.venues.synths.actions import SynthsClient

POSTGRES_DATABASE = "equitoken"
# The corporate actions of the replayed history (the replayed prices end on 2026-05-29).
HISTORY_SINCE = DEFAULT_REPLAY_START.date()
HISTORY_UNTIL = date(2026, 5, 29)
PROOF_SECRET_FILE = "proof-secret"
PROOF_SECRET_BYTES = 32
# The most USDC one arbitrage swap moves: a tenth of a freshly seeded pool's USDC side.
ARBITRAGE_MAX_TRADE = Usd(10_000 * 10**6)
# The market maker's book: three levels a side of 10 tokens each, holding at most 200 of a token.
MAKER_LEVEL_SIZE = Shares.parse("10")
MAKER_MAX_INVENTORY = Shares.parse("200")
# The most one authorised-participant cycle mints or redeems.
AP_MAX_NOTIONAL = Usd(20_000 * 10**6)
# How often the loop asks whether a reserve feed needs attesting again (one read per feed and chain).
RESERVE_CHECK_INTERVAL = timedelta(minutes=10)


@dataclass
class RunningPlatform:
    """Everything `equitoken up` runs; `start`, then `run` until stopped, then `stop`."""

    settings: UpSettings
    log: Callable[[str], None]
    chain_side: LocalPlatform = field(init=False)
    deployment: LocalDeployment | None = None
    local: LocalIssuer | None = None
    api: ApiServer | None = None
    loop: PlatformLoop | None = None
    keys: list[DemoKey] = field(default_factory=list)
    postgres: EmbeddedPostgres | None = None
    oracle: OracleNetwork | None = None
    exchange: ExchangeVenue | None = None
    cfd: CfdVenue | None = None
    bridge: LocalBridge | None = None

    def __post_init__(self) -> None:
        s = self.settings
        # Replayed prices cover a few tickers; a broker's market data covers every one.
        priced = None if s.broker is BrokerChoice.ALPACA else ReplayPriceSource.default().tickers()
        self.chain_side = LocalPlatform(
            s.data_dir,
            s.rpc_port,
            speed=s.speed,
            rpc_url=s.rpc_url,
            priced=priced,
            solana_rpc_port=s.solana_rpc_port,
            base_rpc_port=s.base_rpc_port,
        )

    @property
    def rpc_url(self) -> str:
        return self.chain_side.url

    def start(self, progress: Progress, *, serve: bool = True) -> None:
        """Bring everything up; with `serve` False, stop after deploying (`up --exit`)."""
        s = self.settings
        if s.wall_clock:
            _run_clock_in_real_time(s)
        self.deployment = self.chain_side.start(progress, s.instruments)
        if not serve:
            return
        database_url = self._database(progress)
        clock = self.chain_side.clock
        calendar = MarketCalendar("XNYS")
        prices: PriceSource | None = None
        broker: Broker | None = None
        if s.broker is BrokerChoice.ALPACA:
            progress("connecting to Alpaca" + (" (paper trading)" if s.alpaca_paper else " (LIVE trading)"))
            tickers = [d.ticker for d in self.deployment.issuance.instruments]
            prices = AlpacaPriceSource.from_environment(calendar, tickers, clock=clock)
            broker = AlpacaBroker(paper=s.alpaca_paper)
        progress("opening the database and the issuer")
        self.local = LocalIssuer(
            s.data_dir,
            self.rpc_url,
            database_url=database_url,
            clock=clock,
            prices=prices,
            broker=broker,
            follow_clock=s.manages_node,
            solana=self.chain_side.solana,
            base_rpc_url=None if self.chain_side.base_node is None else self.chain_side.base_node.url,
        )
        self._start_oracle(progress)
        replayed = replay_lost_transactions(self.local.database, self.local.chain)
        if replayed:
            progress(f"sent {replayed} transactions again that the node lost in a crash")
        seed = DemoSeed(self.local, s.data_dir)
        if not seed.seeded:
            progress("seeding the demo: a participant, three retail investors, USDC, a first mint")
        seed.seed()
        solana_wallet = seed.bind_solana_wallet()
        if solana_wallet is not None:
            wallet, keypair = solana_wallet
            progress(f"the participant's Solana wallet is {wallet} (keypair in {keypair})")
        self.keys = seed.keys()
        self.bridge = self._open_bridge(progress)
        amm = self.deployment.amm
        assert amm is not None, "the chain side deploys the AMM"
        pools = PoolSeed(self.local, amm, s.data_dir)
        if not pools.requested:
            progress(f"seeding the AMM: minting the tokens of {len(amm.pools)} pools through the issuer")
            pools.request()
        lending = open_lending(self.local.issuer, s.data_dir, progress)
        lending_client = (
            LendingClient(
                self.local.chain, lending, self.local.database, clock, outbox=self.local.onchain.outbox
            )
            if lending.markets
            else None
        )
        perps = open_perps(self.local.issuer, s.data_dir, progress)
        perps_client = PerpsClient(
            self.local.chain, perps, self.local.database, clock, outbox=self.local.onchain.outbox
        )
        attestation = open_attestation(
            self.local.issuer, self.local.broker, self.local.prices, calendar, s.data_dir, progress
        )
        private = open_private_companies(self.local.issuer, s.data_dir, progress)
        processor = open_order_processor(
            self.local.issuer, self.local.broker, self.local.prices, s.data_dir, progress
        )
        synths = open_synths(self.local.issuer, s.data_dir, progress)
        synths_client = SynthsClient(
            self.local.chain, synths, self.local.database, clock, outbox=self.local.onchain.outbox
        )
        progress(f"opening the order-book exchange (journals in {s.data_dir / 'exchange'})")
        issuance = self.deployment.issuance
        members = ExchangeMembers(self.local.database, clock)
        book_tickers = [r.instrument.symbol for r in exchange_rules(issuance)]
        statuses = FeedStatuses(self.local.chain, issuance, book_tickers)
        statuses.refresh()
        tape = VenueTradeBook(self.local.database)
        eligibility = RegistryEligibility(
            self.local.database, members, clock, permissioned=permissioned_tickers(issuance, book_tickers)
        )
        exchange = open_exchange(s.data_dir, issuance, statuses, tape, clock, eligibility=eligibility)
        # Keepers in the loop and the API's threads trade through the venue's one lock.
        self.exchange = ExchangeVenue(exchange, clock=clock)
        self.cfd = open_cfd(s.data_dir, issuance, clock, calendar)
        cfd_feeder = CfdFeeder(
            self.cfd,
            self.local.chain,
            issuance,
            listing_multipliers(self.local.chain, issuance, self.cfd, s.data_dir),
            clock,
        )
        # Anvil mines a block per transaction and never reorganises: index up to the head. A node
        # that lost blocks in a crash comes back lower, which the indexer undoes like a reorg.
        confirmations = 0 if s.manages_node else 2
        # The indexer is the one watcher of the chain: the exchange's deposits (USDC included) come
        # from what it has indexed.
        indexed = IndexedChain(
            self.local.chain,
            issuance,
            settlement_tokens={USDC: self.local.onchain.usdc.address},
            confirmations=confirmations,
        )
        solana = self.chain_side.solana
        followed = (
            [] if solana is None else [IndexedSolana(self.chain_side.solana_chain(), solana.deployment)]
        )
        based = (
            []
            if self.local.base is None
            else [IndexedChain(self.local.base.chain, self.local.base.deployment)]
        )
        indexer = Indexer(self.local.database, [indexed, *based], solana=followed)
        funding = self._funding(progress, members, indexer)
        feeds = {ticker: issuance.instrument(ticker).price_feed for ticker in amm.pools}
        keeper = ArbitrageKeeper(
            self.local.chain, keeper_wallet(), amm, feeds, max_trade_usdc=ARBITRAGE_MAX_TRADE, tape=tape
        )
        assert pools.record is not None, "the pool seed was requested above"
        maker_id = pools.record.market_maker
        maker_tickers = [ticker for ticker in book_tickers if ticker in amm.pools]
        maker = MarketMaker(
            self.exchange,
            members.account_of(maker_id),
            {ticker: feeds[ticker] for ticker in maker_tickers},
            self.local.chain,
            level_size=MAKER_LEVEL_SIZE,
            max_inventory=MAKER_MAX_INVENTORY,
        )
        participant = AuthorisedParticipantKeeper(
            self.local.issuer,
            maker_id,
            ap_keeper_wallet(),
            self.local.chain,
            amm,
            feeds,
            max_notional=AP_MAX_NOTIONAL,
        )
        book_seed = BookSeed(self.local, pools, funding.deposit_address(), maker_tickers, s.data_dir)
        actions = CorporateActions(self.local.issuer, self.local.broker, self.local.prices, calendar)
        for deployed in self.deployment.issuance.instruments:
            loaded = actions.load_history(deployed.ticker, HISTORY_SINCE, HISTORY_UNTIL)
            if loaded.created:
                progress(f"{deployed.ticker}: {len(loaded.created)} corporate actions from the history")
        ledger_desk = LedgerDesk(
            self.local.database,
            self.exchange,
            self.local.broker,
            self.local.prices,
            clock,
            eligibility=eligibility,
        )
        self.local.issuer.count_ledger(ledger_desk.outstanding)
        liabilities = Liabilities(
            indexer, self.local.issuer, proof_secret(s.data_dir), ledger=_ledger_balances(ledger_desk)
        )
        tasks = self._tasks(seed, actions, indexer)
        tasks += _venue_tasks(pools, statuses, keeper)
        tasks += _exchange_tasks(book_seed, funding, maker, participant)
        if lending_client is not None:
            liquidations = LiquidationKeeper(
                self.local.chain,
                lender_wallet(),
                lending,
                self.local.database,
                clock,
                amm=amm,
                outbox=self.local.onchain.outbox,
            )
            tasks += _lending_tasks(LendingSeed(self.local.issuer, lending_client, s.data_dir), liquidations)
        perps_keeper = PerpsKeeper(
            self.local.chain,
            lender_wallet(),
            perps,
            self.local.database,
            clock,
            outbox=self.local.onchain.outbox,
        )
        tasks += _perps_tasks(PerpsSeed(self.local.issuer, perps_client, s.data_dir), perps_keeper)
        synth_keeper = SynthLiquidationKeeper(
            self.local.chain,
            lender_wallet(),
            synths,
            self.local.database,
            clock,
            outbox=self.local.onchain.outbox,
        )
        tasks += _synths_tasks(SynthsSeed(self.local.issuer, synths_client, s.data_dir), synth_keeper)
        tasks += [LoopTask("cfd prices and financing", lambda: "\n".join(cfd_feeder.tick()) or None)]
        tasks += [LoopTask("order processor", _processing(processor))]
        tasks += [LoopTask("exchange ledger desk", lambda: _quiet(ledger_desk.process()))]
        tasks += [LoopTask("attestation hedges", lambda: tend(attestation))]
        if self.bridge is not None:
            tasks += [LoopTask("bridge relayer", _relaying(self.bridge))]
        cfd_transfers = CfdTransfers(self.local.database, self.exchange, self.cfd, members, clock)
        finished = cfd_transfers.resume()
        if finished:
            progress(f"finished {len(finished)} CFD transfers a stop left half done")
        self.loop = PlatformLoop(tasks, self.log)
        progress(f"starting the API and the dashboard on {s.api_host}:{s.api_port}")
        context = ApiContext(
            issuer=self.local.issuer,
            calendar=calendar,
            prices=self.local.prices,
            broker=self.local.broker,
            clock=clock,
            database=self.local.database,
            broker_name=s.broker.value,
            corporate_actions=actions,
            indexer=indexer,
            liabilities=liabilities,
            exchange=self.exchange,
            exchange_members=members,
            exchange_funding=funding,
            lending=lending_client,
            perps=perps_client,
            synths=synths_client,
            cfd=self.cfd,
            cfd_transfers=cfd_transfers,
            bridge=None if self.bridge is None else self.bridge.desk,
            processor=processor,
            attestation=attestation,
            private=private,
            exchange_ledger=ledger_desk,
        )
        app = create_app(context)
        mount_dashboard(app)
        self.api = ApiServer(app, s.api_host, s.api_port)
        self.api.start()

    def run(self, stopped: threading.Event) -> None:
        """Run the loop until `stopped` is set."""
        assert self.loop is not None, "start() first"
        self.loop.run(stopped)

    def stop(self) -> None:
        """Take everything down; safe to call after a partial start."""
        if self.api is not None:
            self.api.stop()
        if self.exchange is not None:
            self.exchange.exchange.close()
        if self.cfd is not None:
            self.cfd.close()
        if self.oracle is not None:
            self.oracle.stop()
        if self.bridge is not None:
            self.bridge.stop()
        if self.local is not None:
            self.local.close()
        self.chain_side.stop()
        if self.postgres is not None:
            self.postgres.stop()
        with contextlib.suppress(AttributeError):  # the clock was never started
            clock = self.chain_side.clock
            if self.settings.manages_node and clock.speed != 1:
                clock.at_speed(1).save(self.settings.data_dir / CLOCK_FILE)

    def _open_bridge(self, progress: Progress) -> LocalBridge | None:
        """Open the bridge between both EVM chains and Solana, when `up` runs them all."""
        local, side = self.local, self.chain_side
        assert local is not None
        if local.base is None or side.base_node is None:
            return None
        solana = None
        keypairs = {}
        if local.solana is not None and side.solana_server is not None:
            solana = (local.solana, side.solana_server.url)
            participant = derive_keypair(LOCAL_SEED, "participant wallet")
            keypairs[str(participant.pubkey())] = participant
        evm = {"ethereum": (local.onchain, self.rpc_url), "base": (local.base, side.base_node.url)}
        return open_bridge(self.settings.data_dir, local.issuer, evm, solana, keypairs, progress)

    def _database(self, progress: Progress) -> str | None:
        s = self.settings
        if s.postgres is None:
            if s.database_url is None:
                record_database_url(s.data_dir, None)
            return s.database_url
        progress(f"starting the embedded PostgreSQL server in {s.data_dir / 'postgres'}")
        self.postgres = EmbeddedPostgres(s.data_dir / "postgres")
        try:
            url = self.postgres.create_database(POSTGRES_DATABASE)
        except ProgrammingError:  # created on an earlier run
            url = self.postgres.url(POSTGRES_DATABASE)
        record_database_url(s.data_dir, url)
        return url

    def _funding(self, progress: Progress, members: ExchangeMembers, indexer: Indexer) -> ExchangeFunding:
        local, venue = self.local, self.exchange
        assert local is not None
        assert venue is not None
        investors = local.issuer.investors
        known = {investor.id for investor in investors.all()}
        operator = register_hot_wallet(
            investors,
            hot_wallet(),
            kyc_expires_at=local.clock.now() + KYC_VALIDITY,
            jurisdiction=HOT_WALLET_JURISDICTION,
        )
        if operator.id not in known:
            progress(f"onboarded the exchange's hot wallet {hot_wallet()} (venue operator {operator.id})")
        return ExchangeFunding(
            local.database, venue, members, local.onchain, hot_wallet(), indexer=indexer, clock=local.clock
        )

    def _start_oracle(self, progress: Progress) -> None:
        local, deployment = self.local, self.deployment
        assert local is not None
        assert deployment is not None
        s = self.settings
        reporter_args: tuple[str, ...] = ()
        if s.broker is BrokerChoice.ALPACA:
            tickers = ",".join(d.ticker for d in deployment.issuance.instruments)
            reporter_args = ("--prices", "alpaca", "--tickers", tickers)
        progress(
            f"starting {REPORTER_COUNT} oracle reporters (quorum {QUORUM}, keys in {s.data_dir / 'oracle'}, "
            f"logs in {s.data_dir / 'logs'})"
        )
        network = OracleNetwork(
            s.data_dir,
            local.database.url,
            local.chain,
            # The account that paid for the old single-updater pushes now only pays for the rounds.
            local.roles.price_updater,
            deployment.issuance,
            reporter_args=reporter_args,
        )
        self.oracle = network  # stop() stops it even after a partial start
        network.start()

    def _tasks(self, seed: DemoSeed, actions: CorporateActions, indexer: Indexer) -> list[LoopTask]:
        local = self.local
        assert local is not None
        tasks: list[LoopTask] = []
        if self.settings.manages_node:
            chain, clock = local.chain, local.clock
            tasks.append(LoopTask("node time", lambda: _quiet(advance_node_time(chain, clock.now()))))

        def workflow() -> str | None:
            _, changes = process_pass(local.issuer)
            return "\n".join(changes) or None

        tasks.append(LoopTask("workflow", workflow))
        checked: list[datetime] = []

        def reserves() -> str | None:
            # Fills attest reserves as they settle; between them, a feed must not outlive its heartbeat.
            now = local.clock.now()
            if checked and now - checked[-1] < RESERVE_CHECK_INTERVAL:
                return None
            checked[:] = [now]
            attested = local.issuer.refresh_reserves()
            return f"reserves attested again: {', '.join(attested)}" if attested else None

        tasks.append(LoopTask("reserve attestations", reserves))
        oracle = self.oracle
        assert oracle is not None
        rounds = RoundLog(lambda: f"{local.clock.now():%a %Y-%m-%d %H:%M}")
        tasks.append(LoopTask("oracle", lambda: rounds.summary(oracle.tick())))
        tasks.append(LoopTask("demo hand-out", lambda: _quiet(seed.hand_out())))

        def corporate_actions() -> str | None:
            steps = actions.process()
            return f"corporate actions: {steps} steps" if steps else None

        tasks.append(LoopTask("corporate actions", corporate_actions))

        def index() -> str | None:
            report = indexer.poll()
            reorgs = [reorg for chain in report.chains for reorg in chain.reorgs]
            return (
                "; ".join(
                    f"indexer: chain {r.chain_id} went back from block {r.indexed_block} to "
                    f"{r.common_ancestor}, {r.events_undone} events undone"
                    for r in reorgs
                )
                or None
            )

        tasks.append(LoopTask("indexer", index))
        return tasks


def _ledger_balances(desk: LedgerDesk) -> Callable[[str], Mapping[int, int]]:
    """Return each account's ledger balance of a ticker, none for a ticker the exchange has no ledger of
    (a restricted token's), for the liabilities' ledger trees."""

    def balances(ticker: str) -> Mapping[int, int]:
        return desk.balances(ticker) if ticker in desk.tickers else {}

    return balances


def _processing(desk: ProcessorDesk) -> Callable[[], str | None]:
    def fill() -> str | None:
        steps = desk.operator.process()
        return f"order processor: {steps} steps" if steps else None

    return fill


def _relaying(bridge: LocalBridge) -> Callable[[], str | None]:
    def relay() -> str | None:
        steps = bridge.relayer.process()
        return f"bridge: {steps} steps" if steps else None

    return relay


def _venue_tasks(pools: PoolSeed, statuses: FeedStatuses, keeper: ArbitrageKeeper) -> list[LoopTask]:
    def seed_pools() -> str | None:
        if pools.done:
            return None
        seeded = pools.provide()
        return f"AMM: seeded the pools of {', '.join(seeded)}" if seeded else None

    def arbitrage() -> str | None:
        return (
            "\n".join(
                f"arbitrage: {t.ticker} pool {t.pool_price_before} -> {t.pool_price_after} "
                f"(oracle {t.oracle_price}, {t.usdc_notional} USDC)"
                for t in keeper.tick()
            )
            or None
        )

    return [
        LoopTask("exchange status", lambda: "\n".join(statuses.refresh()) or None),
        LoopTask("AMM seed", seed_pools),
        LoopTask("arbitrage keeper", arbitrage),
    ]


def _exchange_tasks(
    book_seed: BookSeed,
    funding: ExchangeFunding,
    maker: MarketMaker,
    participant: AuthorisedParticipantKeeper,
) -> list[LoopTask]:
    def seed_book() -> str | None:
        if book_seed.done:
            return None
        sent = book_seed.deposit()
        return f"exchange: the market maker sent {', '.join(sent)} to the hot wallet" if sent else None

    def deposits() -> str | None:
        return (
            "\n".join(
                f"exchange: deposit of {d.amount} {d.asset} units from {d.sender} "
                + (f"credited to account {d.account}" if d.account is not None else "held, unattributed")
                for d in funding.poll_deposits()
            )
            or None
        )

    def withdrawals() -> str | None:
        return (
            "\n".join(
                f"exchange: withdrawal {w.id} of {w.amount} {w.asset} units {w.status}"
                for w in funding.process_withdrawals()
            )
            or None
        )

    maker_refusals: set[tuple[str, str]] = set()

    def make_market() -> str | None:
        report = maker.tick()
        lines = [
            f"market maker: {q.ticker} {len(q.bids)} bids and {len(q.asks)} asks "
            f"{q.half_spread_bps} bps either side of {q.oracle_price} ({q.status.name.lower()})"
            for q in report.quoted
            if q.submitted + q.amended + q.cancelled
        ]
        refusals = {(r.ticker, str(r.reason)) for r in report.refusals}
        lines += [
            f"market maker: withdrew from {t} ({reason})" for t, reason in sorted(refusals - maker_refusals)
        ]
        maker_refusals.clear()
        maker_refusals.update(refusals)
        lines += [f"market maker: the venue refused {r}" for r in report.rejected]
        return "\n".join(lines) or None

    ap_states: dict[str, str] = {}

    def authorised_participant() -> str | None:
        report = participant.tick()
        lines = [
            f"AP keeper: {a.ticker} cycle {a.cycle} {a.kind} {a.tokens} token units, {a.usdc} USDC units "
            f"(pool {a.pool_price}, oracle {a.oracle_price})"
            for a in report.actions
        ]
        # A refusal or a quiet pool repeats every pass while it lasts: log each ticker's state when it
        # changes, so the log shows the keeper watching even when it never has to act.
        states = dict.fromkeys(participant.tickers, "within its band")
        states.update({r.ticker: f"left alone ({r.reason})" for r in report.refusals})
        for a in report.actions:
            states.pop(a.ticker, None)
        changed = sorted((t, state) for t, state in states.items() if ap_states.get(t) != state)
        lines += [f"AP keeper: {t} {state}" for t, state in changed]
        ap_states.clear()
        ap_states.update(states)
        return "\n".join(lines) or None

    return [
        LoopTask("market maker's deposits", seed_book),
        LoopTask("exchange deposits", deposits),
        LoopTask("exchange withdrawals", withdrawals),
        LoopTask("market maker", make_market),
        LoopTask("authorised-participant keeper", authorised_participant),
    ]


class _Refusals:
    """A keeper's refusals to log: a refusal repeats every pass while it lasts, so a market's is logged
    when its reason changes."""

    def __init__(self, keeper: str) -> None:
        self.keeper = keeper
        self.reasons: dict[str, RefusalReason] = {}

    def changed(self, refusals: Sequence[Refusal]) -> list[str]:
        """Return a line for each market whose reason is new since the last pass."""
        now = {r.ticker: r for r in refusals}
        lines = [
            f"{self.keeper}: {ticker} left alone ({r.reason}: {r.detail})"
            for ticker, r in sorted(now.items())
            if self.reasons.get(ticker) != r.reason
        ]
        self.reasons = {ticker: r.reason for ticker, r in now.items()}
        return lines


def _lending_tasks(seed: LendingSeed, keeper: LiquidationKeeper) -> list[LoopTask]:
    def supply() -> str | None:
        if seed.done:
            return None
        supplied = seed.supply()
        return f"lending: the demo lender supplied USDC to {', '.join(supplied)}" if supplied else None

    refused = _Refusals("liquidation keeper")

    def liquidate() -> str | None:
        report = keeper.tick()
        lines = [
            f"liquidation keeper: {q.ticker} {q.borrower} at health factor {q.health_factor:.4f}: repaid "
            f"{q.repaid} USDC, seized {q.seized} tokens"
            + (f", bad debt {q.bad_debt} USDC" if q.bad_debt else "")
            for q in report.liquidations
        ]
        lines += [
            f"liquidation keeper: sold {s.sold} {s.ticker} for {s.received} USDC (oracle {s.oracle_value})"
            for s in report.sales
        ]
        lines += refused.changed(report.refusals)
        return "\n".join(lines) or None

    return [LoopTask("lending seed", supply), LoopTask("liquidation keeper", liquidate)]


def _perps_tasks(seed: PerpsSeed, keeper: PerpsKeeper) -> list[LoopTask]:
    def deposit() -> str | None:
        if seed.done or not seed.deposit():
            return None
        return "perpetuals: the demo desk deposited USDC into the vault"

    refused = _Refusals("perpetuals keeper")

    def tend() -> str | None:
        report = keeper.tick()
        lines = [
            f"perpetuals keeper: order {e.order_id} in {e.ticker} "
            + ("executed" if e.filled else f"cancelled ({e.reason}), margin refunded")
            for e in report.executions
        ]
        lines += [
            f"perpetuals keeper: {t.kind or 'trigger'} of position {t.position_id} in {t.ticker} at {t.price}"
            for t in report.triggers
        ]
        lines += [
            f"perpetuals keeper: liquidated position {q.position_id} in {q.ticker} at {q.mark} "
            f"(reward {q.reward} USDC)"
            for q in report.liquidations
        ]
        lines += refused.changed(report.refusals)
        return "\n".join(lines) or None

    return [LoopTask("perpetuals seed", deposit), LoopTask("perpetuals keeper", tend)]


def _synths_tasks(seed: SynthsSeed, keeper: SynthLiquidationKeeper) -> list[LoopTask]:
    def open_first() -> str | None:
        if seed.done:
            return None
        seeded = seed.seed()
        return (
            f"synthetics: the demo desk minted and pooled {', '.join('s' + t for t in seeded)}"
            if seeded
            else None
        )

    refused = _Refusals("synthetics keeper")

    def liquidate() -> str | None:
        report = keeper.tick()
        lines = [
            f"synthetics keeper: liquidated position {q.position_id} of s{q.ticker}: burned {q.burned}, "
            f"seized {q.seized} USDC"
            for q in report.liquidations
        ]
        lines += refused.changed(report.refusals)
        return "\n".join(lines) or None

    return [LoopTask("synthetics seed", open_first), LoopTask("synthetics keeper", liquidate)]


def proof_secret(data_dir: Path) -> bytes:
    """Return the liabilities trees' nonce secret kept in `<data_dir>/proof-secret`, made on first use.

    It must stay the same across restarts, or roots published earlier stop matching the proofs
    served; so it is written once, atomically (a crash leaves no half-written secret), readable by
    its owner only.
    """
    path = data_dir / PROOF_SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(PROOF_SECRET_FILE + ".partial")
        # A partial file left by a crash may have another mode: start afresh, created owner-only.
        partial.unlink(missing_ok=True)
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(secrets.token_bytes(PROOF_SECRET_BYTES))
            out.flush()
            os.fsync(out.fileno())
        partial.replace(path)
    secret = path.read_bytes()
    if not 32 <= len(secret) <= 64:
        raise PlatformUnavailableError(
            f"{path} holds {len(secret)} bytes; the proof secret is 32 to 64 bytes. Restore it from a "
            "backup: a new secret would make every published liabilities root unverifiable"
        )
    return secret


def _quiet(_: object) -> None:
    return None


def _run_clock_in_real_time(settings: UpSettings) -> None:
    # A real broker trades now: market time is wall time from here on (never moved back).
    path = settings.data_dir / CLOCK_FILE
    now = SystemClock().now()
    recorded = SimulatedClock.load(path)
    if recorded is None or recorded.now() < now:
        SimulatedClock(now, now, 1).save(path)
