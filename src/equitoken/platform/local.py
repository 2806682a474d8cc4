"""The platform run locally: an anvil node with persisted state, the issuance layer and a test USDC
deployed on it once, and the issuer wired to it on a simulated market clock.

Everything lives in the data directory (default `.data`):

- `anvil/state.json`, `anvil/anvil.log`: the node's state and log; `anvil-base/` the same for the
  second EVM chain ("base", chain id 8453) the bridge joins to it;
- `deployments/chain-<id>.json`: where the issuance contracts are (`deployment_records`);
- `deployments/settlement-chain-<id>.json`: where the test USDC is;
- `deployments/amm-chain-<id>.json`: where the AMM is (factory, router, one pool per token that is not
  `restricted`); a data directory from before the AMM gets one deployed on its next start;
- `exchange/`: the order-book exchange's ledger and book journals;
- `clock.json`: the simulated clock's anchor, epoch and speed (`SimulatedClock`);
- `equitoken.sqlite` (unless `$EQUITOKEN_DATABASE_URL` or `database.json` names another database),
  `paper-broker.sqlite`;
- `database.json`: the database `equitoken up` chose when it is not the default (e.g. the embedded
  PostgreSQL server in `postgres/`), so that CLI commands use the same one.
"""

import json
import os
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from equitoken.brokers.broker import Broker
from equitoken.chain.errors import ChainError
from equitoken.chain.evm.accounts import ANVIL_MNEMONIC, SignerRegistry
from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import (
    IssuanceDeployment,
    IssuerRoles,
    OracleMembers,
    Progress,
    deploy_issuance,
    deployment_records,
    extend_issuance,
    is_live,
)
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.chain.records import JsonRecords
from equitoken.chain.solana.litesvm import LiteSvmChain
from equitoken.chain.solana.rpc_server import SolanaRpcServer
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.onchain import MAX_UINT256, IssuerChain, deploy_test_usdc
from equitoken.issuer.solana import SolanaIssuerChain
from equitoken.market.calendar import MarketCalendar
from equitoken.market.clock import CLOCK_FILE, SimulatedClock
from equitoken.market.prices import PriceSource
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.address import checksum
from equitoken.model.errors import EquitokenError
from equitoken.model.instrument import Instrument
from equitoken.model.time import Clock
from equitoken.platform.assemble import PaperBrokerSettings, assemble_issuer
from equitoken.platform.node_time import advance_node_time
from equitoken.platform.oracle_network import oracle_members
from equitoken.platform.solana import local_solana, served_solana
from equitoken.store.database import Database, sqlite_url
from equitoken.venues.amm import AmmDeployment, deploy_amm

DEFAULT_DATA_DIR = Path(".data")
DEFAULT_RPC_PORT = 8545
DEFAULT_SOLANA_RPC_PORT = 8899  # a Solana validator's JSON-RPC port
DEFAULT_SOLANA_RPC_URL = f"http://127.0.0.1:{DEFAULT_SOLANA_RPC_PORT}"
DEFAULT_RPC_URL = f"http://127.0.0.1:{DEFAULT_RPC_PORT}"
DEFAULT_BASE_RPC_PORT = 8546
BASE_CHAIN_ID = 8453  # the second EVM chain `up` runs, named after the L2 xStocks also live on
DEFAULT_INSTRUMENTS = 15
DATABASE_URL_ENV = "EQUITOKEN_DATABASE_URL"
DATABASE_RECORD = "database.json"
# Accounts 0-9 hold the issuer roles; 10-19 are dev wallets whose keys everyone knows.
ACCOUNTS = 20
USDC = 10**6
TREASURY_USDC = 10_000_000 * USDC
DEV_WALLET_GAS_WEI = 10 * 10**18


class PlatformUnavailableError(EquitokenError):
    """The local platform is not running or not deployed; the message says how to start it."""

    code = "platform_unavailable"


def catalogue_rows(
    count: int | None, priced: Collection[str] | None = None
) -> tuple[list[Instrument], list[str]]:
    """Return the instruments among the first `count` catalogue rows (all of them for None) that
    `priced` names (every one for None), and the tickers of the rows left out for want of prices."""
    rows = load_catalogue()[:count]
    if priced is None:
        return rows, []
    return [i for i in rows if i.ticker in priced], [i.ticker for i in rows if i.ticker not in priced]


def unpriced_notice(tickers: Sequence[str]) -> str:
    """Return the one line that says which instruments are left out for want of prices."""
    shown = ", ".join(tickers[:12]) + (f" and {len(tickers) - 12} more" if len(tickers) > 12 else "")
    return f"left out, no price source covers them (never offered for minting): {shown}"


@dataclass(frozen=True)
class LocalDeployment:
    """The local chain's issuance contracts, its test USDC and the AMM (None where never deployed)."""

    issuance: IssuanceDeployment
    usdc: str
    amm: AmmDeployment | None = None

    @property
    def chain_id(self) -> int:
        return self.issuance.chain_id


def settlement_records(directory: Path) -> JsonRecords[str]:
    """Return where the test USDC is recorded in `directory`: `settlement-chain-<id>.json`."""
    return JsonRecords(directory, "settlement-", lambda usdc: {"usdc": usdc}, lambda data: str(data["usdc"]))


def amm_records(directory: Path) -> JsonRecords[AmmDeployment]:
    """Return where the AMM is recorded in `directory`: `amm-chain-<id>.json`."""
    return JsonRecords(directory, "amm-", asdict, _amm_deployment)


def _amm_deployment(record: dict[str, Any]) -> AmmDeployment:
    return AmmDeployment(
        int(record["chain_id"]),
        str(record["usdc"]),
        str(record["pool_blueprint"]),
        str(record["factory"]),
        str(record["router"]),
        {str(ticker): str(pool) for ticker, pool in record["pools"].items()},
    )


def offered(deployment: LocalDeployment, priced: Collection[str]) -> LocalDeployment:
    """Return `deployment` restricted to the instruments a price source covers, its pools included."""
    issuance = deployment.issuance.only(priced)
    amm = deployment.amm
    if amm is not None:
        amm = replace(amm, pools={t: pool for t, pool in amm.pools.items() if t in priced})
    return LocalDeployment(issuance, deployment.usdc, amm)


def venue_tickers(issuance: IssuanceDeployment) -> list[str]:
    """Return the tickers the venues trade: every deployed token that is not `restricted`."""
    return [d.ticker for d in issuance.instruments if d.profile != "restricted"]


@dataclass
class LocalPlatform:
    """Start, and stop, the chain side of `equitoken up`: the node (unless `rpc_url` names another),
    the simulated clock, and the contracts deployed once."""

    data_dir: Path = DEFAULT_DATA_DIR
    rpc_port: int = DEFAULT_RPC_PORT
    # The simulated clock's speed from this start on; None keeps the recorded one.
    speed: int | None = None
    # Another node to deploy on and use; None starts anvil with its state in the data directory.
    rpc_url: str | None = None
    # The tickers the price source covers; None: every ticker (a broker's market data).
    priced: frozenset[str] | None = None
    # The JSON-RPC port of the local Solana (LiteSVM, state in <data dir>/solana).
    solana_rpc_port: int = DEFAULT_SOLANA_RPC_PORT
    # The second EVM chain's port; it runs only beside a node `up` starts itself.
    base_rpc_port: int = DEFAULT_BASE_RPC_PORT
    node: AnvilNode = field(init=False)
    base_node: AnvilNode | None = field(default=None, init=False)
    base_issuance: IssuanceDeployment | None = field(default=None, init=False)
    clock: SimulatedClock = field(init=False)
    solana: SolanaIssuerChain | None = field(default=None, init=False)
    solana_server: SolanaRpcServer | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.node = AnvilNode(
            port=self.rpc_port,
            accounts=ACCOUNTS,
            state_file=self.data_dir / "anvil" / "state.json",
            log_file=self.data_dir / "anvil" / "anvil.log",
        )
        if self.rpc_url is None:
            self.base_node = AnvilNode(
                chain_id=BASE_CHAIN_ID,
                port=self.base_rpc_port,
                accounts=ACCOUNTS,
                state_file=self.data_dir / "anvil-base" / "state.json",
                log_file=self.data_dir / "anvil-base" / "anvil.log",
            )

    @property
    def url(self) -> str:
        """Return the JSON-RPC URL of the node in use."""
        return self.rpc_url or self.node.url

    def start(self, progress: Progress, instruments: int | None = DEFAULT_INSTRUMENTS) -> LocalDeployment:
        """Start the simulated clock and the node at its time; deploy what an earlier run has not.

        `instruments` is how many catalogue rows to deploy (None: all). A live earlier deployment
        is reused and, when rows are missing from it, extended with them.
        """
        self.clock = SimulatedClock.load_or_start(self.data_dir / CLOCK_FILE, speed=self.speed)
        progress(
            f"simulated market time {self.clock.now():%Y-%m-%d %H:%M:%S} UTC, {self.clock.speed}x real time"
        )
        if self.rpc_url is None:
            state_file = self.node.state_file
            if state_file is None or not state_file.is_file():
                self.node.timestamp = int(self.clock.now().timestamp())  # a fresh chain starts at market time
            progress(f"starting anvil on 127.0.0.1:{self.rpc_port} (state in {state_file})")
            self.node.start()
        else:
            progress(f"using the node at {self.rpc_url}")
        with self.chain() as chain:
            if self.rpc_url is None:
                # Before any transaction: a node that loaded its state would stamp blocks with wall time.
                advance_node_time(chain, self.clock.now())
            wanted, passed_over = catalogue_rows(instruments, self.priced)
            issuance = self._deploy_issuance(chain, wanted, progress)
            if self.priced is not None:
                # Deployed on an earlier run, before prices were checked: kept on chain, never offered.
                passed_over += [d.ticker for d in issuance.instruments if d.ticker not in self.priced]
                issuance = issuance.only(self.priced)
            if passed_over:
                progress(unpriced_notice(passed_over))
            usdc = self._deploy_usdc(chain, progress)
            amm = self._deploy_amm(chain, issuance, usdc, progress)
        deployment = LocalDeployment(issuance, usdc, amm)
        deployment = deployment if self.priced is None else offered(deployment, self.priced)
        self._start_base(deployment.issuance, progress)
        self._start_solana(deployment.issuance, progress)
        return deployment

    def _start_base(self, issuance: IssuanceDeployment, progress: Progress) -> None:
        """Start the second EVM chain at market time and deploy the same tokens there, once."""
        node = self.base_node
        if node is None:
            return
        if node.state_file is None or not node.state_file.is_file():
            node.timestamp = int(self.clock.now().timestamp())
        progress(f'starting anvil for chain {BASE_CHAIN_ID} ("base") on 127.0.0.1:{self.base_rpc_port}')
        node.start()
        tickers = {d.ticker for d in issuance.instruments}
        wanted = [i for i in load_catalogue() if i.ticker in tickers]
        with self.base_chain() as chain:
            advance_node_time(chain, self.clock.now())
            self.base_issuance = self._deploy_issuance(chain, wanted, progress).only(tickers)

    def base_chain(self) -> JsonRpcChain:
        """Return a JSON-RPC client for the second EVM chain (once `start` has run)."""
        assert self.base_node is not None, "the second EVM chain runs beside the node `up` starts"
        return JsonRpcChain(self.base_node.url, dev_signers(), clock=self.clock)

    def solana_chain(self) -> LiteSvmChain:
        """Return the local Solana's LiteSVM (once `start` has run)."""
        assert self.solana is not None, "start() first"
        chain = self.solana.chain
        assert isinstance(chain, LiteSvmChain), "the local Solana is LiteSVM"
        return chain

    def _start_solana(self, issuance: IssuanceDeployment, progress: Progress) -> None:
        """Restore (or create) the local Solana with a mint per instrument, and serve its JSON-RPC."""
        tickers = {d.ticker for d in issuance.instruments}
        instruments = [i for i in load_catalogue() if i.ticker in tickers]
        directory = self.data_dir / "solana"
        self.solana = local_solana(self.clock, instruments, directory)
        try:
            self.solana_server = SolanaRpcServer(
                self.solana_chain(), "127.0.0.1", self.solana_rpc_port
            ).start()
        except OSError as error:
            raise PlatformUnavailableError(
                f"cannot serve Solana's JSON-RPC on 127.0.0.1:{self.solana_rpc_port} ({error.strerror}); "
                "choose another port with --solana-rpc-port"
            ) from None
        progress(
            f"Solana: {len(instruments)} Token-2022 mints on LiteSVM (state in {directory}), "
            f"JSON-RPC on {self.solana_server.url}"
        )

    def chain(self) -> JsonRpcChain:
        """Return a JSON-RPC client for the node, signing for its dev accounts; on the node this
        platform runs, it stamps blocks with the simulated clock's time."""
        return JsonRpcChain(self.url, dev_signers(), clock=self.clock if self.rpc_url is None else None)

    def stop(self) -> None:
        """Stop Solana's endpoint, and the node if this platform started it; it writes its state first."""
        if self.solana_server is not None:
            self.solana_server.stop()
        if self.solana is not None:
            self.solana.chain.close()
        if self.base_node is not None:
            self.base_node.stop()
        self.node.stop()

    def _deploy_issuance(
        self, chain: JsonRpcChain, wanted: Sequence[Instrument], progress: Progress
    ) -> IssuanceDeployment:
        roles = IssuerRoles.from_accounts(chain.accounts)
        oracle = oracle_members(self.data_dir)
        records = deployment_records(self.data_dir / "deployments")
        existing = records.load(chain.chain_id)
        if existing is None or not is_live(chain, existing):
            progress(f"deploying the issuance contracts for {len(wanted)} instruments")
            deployment = deploy_issuance(
                chain, roles, wanted, oracle=oracle, progress=lambda step: progress(f"  {step}")
            )
            records.save(deployment.chain_id, deployment)
            return deployment
        self._check_oracle(chain, existing, oracle)
        progress("reusing the contracts deployed on an earlier run")
        deployed = {d.ticker for d in existing.instruments}
        missing = [i for i in wanted if i.ticker not in deployed]
        if not missing:
            return existing
        progress(f"deploying {len(missing)} more instruments into the same identity registry")
        deployment = extend_issuance(
            chain, roles, existing, missing, oracle=oracle, progress=lambda step: progress(f"  {step}")
        )
        records.save(deployment.chain_id, deployment)
        return deployment

    def _check_oracle(
        self, chain: JsonRpcChain, deployment: IssuanceDeployment, oracle: OracleMembers
    ) -> None:
        # A feed of an earlier version has no reporter set (its one updater pushed prices): calling
        # quorum() reverts. A feed whose reporters are not our keys (the keys were deleted) would
        # never reach its quorum. Either way the reporters cannot serve it: say so before anything runs.
        wanted = {reporter.lower() for reporter in oracle.reporters}
        for deployed in deployment.instruments:
            feed = chain.at(deployed.price_feed, _price_feed(), f"{deployed.ticker} price feed")
            try:
                int(feed.quorum())
                registered = {str(reporter).lower() for reporter in feed.reporters()}
            except ChainError:
                raise PlatformUnavailableError(
                    f"the data directory {self.data_dir} predates the oracle network: the price feed of "
                    f"{deployed.ticker} ({deployed.price_feed}) takes no signed rounds. Stop the platform "
                    f"and delete {self.data_dir} to deploy afresh"
                ) from None
            if registered != wanted:
                raise PlatformUnavailableError(
                    f"the price feed of {deployed.ticker} ({deployed.price_feed}) registers other "
                    f"reporters than the keys in {self.data_dir / 'oracle'} (were they deleted?); put the "
                    f"original keys back, or stop the platform and delete {self.data_dir} to deploy afresh"
                )

    def _deploy_amm(
        self, chain: JsonRpcChain, issuance: IssuanceDeployment, usdc: str, progress: Progress
    ) -> AmmDeployment:
        # Pools of permissioned tokens are registered as wallets of the venue operator by the demo
        # seed, through the issuer's investor book, so the database knows those wallets too.
        records = amm_records(self.data_dir / "deployments")
        admin = IssuerRoles.from_accounts(chain.accounts).admin
        wanted = venue_tickers(issuance)
        existing = records.load(chain.chain_id)
        if existing is None or existing.usdc != usdc or not chain.code(existing.factory):
            progress(f"deploying the AMM (factory, router) with a pool for each of {len(wanted)} tokens")
            amm = deploy_amm(chain, admin, usdc, issuance, wanted)
            records.save(amm.chain_id, amm)
            return amm
        missing = [ticker for ticker in wanted if ticker not in existing.pools]
        if not missing:
            return existing
        progress(f"adding {len(missing)} AMM pools for the new instruments")
        factory = existing.factory_contract(chain)
        pools = dict(existing.pools)
        for ticker in missing:
            deployed = issuance.instrument(ticker)
            if int(str(factory.pool_of(deployed.token)), 16) == 0:
                factory.create_pool(deployed.token, deployed.price_feed, sender=admin)
            pools[ticker] = str(factory.pool_of(deployed.token))
        amm = AmmDeployment(
            existing.chain_id,
            existing.usdc,
            existing.pool_blueprint,
            existing.factory,
            existing.router,
            pools,
        )
        records.save(amm.chain_id, amm)
        return amm

    def _deploy_usdc(self, chain: JsonRpcChain, progress: Progress) -> str:
        records = settlement_records(self.data_dir / "deployments")
        existing = records.load(chain.chain_id)
        if existing is not None and chain.code(existing):
            return existing
        roles = IssuerRoles.from_accounts(chain.accounts)
        progress(f"deploying the test USDC; funding the issuer treasury with {TREASURY_USDC // USDC:,} USDC")
        usdc = deploy_test_usdc(chain, roles.admin)
        usdc.mint(roles.operator, TREASURY_USDC, sender=roles.admin)
        records.save(chain.chain_id, usdc.address)
        return usdc.address


@cache
def _price_feed() -> Artifact:
    return compile_contract("oracle/PriceFeed.vy")


def dev_signers() -> SignerRegistry:
    """Return the signers of the local node's accounts: the issuer roles and the dev wallets."""
    return SignerRegistry.from_mnemonic(ANVIL_MNEMONIC, ACCOUNTS)


def local_database_url(data_dir: Path) -> str:
    """Return `$EQUITOKEN_DATABASE_URL`, else the database `up` recorded in the data directory, else
    the SQLite file there."""
    configured = os.environ.get(DATABASE_URL_ENV)
    if configured:
        return configured
    record = data_dir / DATABASE_RECORD
    if record.is_file():
        return str(json.loads(record.read_text())["url"])
    return sqlite_url(data_dir / "equitoken.sqlite")


def record_database_url(data_dir: Path, url: str | None) -> None:
    """Record the database `up` uses for the CLI commands (None: the default, so remove the record)."""
    record = data_dir / DATABASE_RECORD
    if url is None:
        record.unlink(missing_ok=True)
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    partial = record.with_suffix(".json.partial")
    partial.write_text(json.dumps({"url": url}, indent=2))
    partial.replace(record)


@dataclass(frozen=True)
class Funding:
    """What `LocalIssuer.fund_dev_wallet` did."""

    wallet: str
    usdc: int
    approved: tuple[str, ...]  # the token symbols (and "USDC") approved; empty for an unknown key


class LocalIssuer:
    """The issuer of a running local platform: its node, the databases in the data directory and
    the simulated clock. Use as a context manager.

    By default the database is `local_database_url(data_dir)`, the clock the one recorded in the
    data directory, the prices replayed and the broker the paper broker on them; `equitoken up`
    passes others (PostgreSQL, Alpaca, the wall clock) when asked to.
    """

    def __init__(
        self,
        data_dir: Path = DEFAULT_DATA_DIR,
        rpc_url: str = DEFAULT_RPC_URL,
        *,
        database_url: str | None = None,
        clock: Clock | None = None,
        prices: PriceSource | None = None,
        broker: Broker | None = None,
        follow_clock: bool = True,
        solana: SolanaIssuerChain | None = None,
        solana_rpc_url: str | None = None,
        base_rpc_url: str | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.clock: Clock = clock or SimulatedClock.load_or_start(data_dir / CLOCK_FILE)
        self.calendar = MarketCalendar("XNYS")
        self.prices: PriceSource = prices or ReplayPriceSource.default(self.calendar)
        # The node `up` runs keeps the platform's time; another node keeps its own.
        self.chain = JsonRpcChain(rpc_url, dev_signers(), clock=self.clock if follow_clock else None)
        try:
            self.deployment = self._load_deployment()
        except BaseException:
            self.chain.close()
            raise
        self.roles = IssuerRoles.from_accounts(self.chain.accounts)
        self.base = None if base_rpc_url is None else self._base_chain(base_rpc_url, follow_clock)
        # `up` hands over its own Solana; another process reaches it through the JSON-RPC `up` serves.
        self._served_solana = solana is None and solana_rpc_url is not None
        if self._served_solana:
            assert solana_rpc_url is not None
            try:
                solana = served_solana(solana_rpc_url, load_catalogue(), data_dir / "solana")
            except ValueError as error:
                self.chain.close()
                raise PlatformUnavailableError(str(error)) from None
        self.database = Database(database_url or local_database_url(data_dir))
        try:
            self.database.migrate()
            assembled = assemble_issuer(
                self.chain,
                self.deployment.issuance,
                self.deployment.usdc,
                self.database,
                self.clock,
                broker=broker or PaperBrokerSettings(sqlite_url(data_dir / "paper-broker.sqlite")),
                prices=self.prices,
                calendar=self.calendar,
                solana=solana,
                others=() if self.base is None else (self.base,),
            )
        except BaseException:
            self.database.close()
            self.chain.close()
            if self.base is not None:
                self.base.chain.close()
            if self._served_solana and solana is not None:
                solana.chain.close()
            raise
        self.broker: Broker = assembled.broker
        self.onchain = assembled.onchain
        self.issuer = assembled.issuer
        self.solana = solana

    def _load_deployment(self) -> LocalDeployment:
        url = self.chain.url
        try:
            chain_id = int(self.chain.request("eth_chainId", retry=False), 16)
        except ChainError as error:
            raise PlatformUnavailableError(
                f"cannot reach the node at {url} ({error.__cause__ or error}); "
                "start the platform with `equitoken up`"
            ) from None
        directory = self.data_dir / "deployments"
        issuance = deployment_records(directory).load(chain_id)
        usdc = settlement_records(directory).load(chain_id)
        amm = amm_records(directory).load(chain_id)
        if issuance is None or usdc is None:
            raise PlatformUnavailableError(
                f"nothing is deployed on chain {chain_id} according to {directory}; "
                "start the platform with `equitoken up` (same --data-dir)"
            )
        if not (is_live(self.chain, issuance) and self.chain.code(usdc)):
            raise PlatformUnavailableError(
                f"the contracts recorded in {directory} are not on the node at {url}; "
                "is it another node? Start the platform with `equitoken up` (same --data-dir)"
            )
        return offered(LocalDeployment(issuance, usdc, amm), self.prices.tickers())

    def _base_chain(self, url: str, follow_clock: bool) -> IssuerChain:
        chain = JsonRpcChain(url, dev_signers(), clock=self.clock if follow_clock else None)
        issuance = deployment_records(self.data_dir / "deployments").load(BASE_CHAIN_ID)
        if issuance is None or not is_live(chain, issuance):
            chain.close()
            raise PlatformUnavailableError(
                f"no tokens are deployed on chain {BASE_CHAIN_ID} at {url}; "
                "start `equitoken up` (same --data-dir)"
            )
        tickers = {d.ticker for d in self.deployment.issuance.instruments}
        return IssuerChain(chain, issuance.only(tickers), self.roles, self.deployment.usdc)

    def fund_dev_wallet(self, wallet: str, usdc: int) -> Funding:
        """Mint `usdc` test USDC units to `wallet`; for a wallet of the anvil mnemonic, also top up its
        gas and approve the issuer treasury (USDC, for mints) and the burner (every token, for redeems).
        """
        address = checksum(wallet)
        if usdc < 0:
            raise ValueError(f"cannot fund a negative amount of USDC: {usdc}")
        if usdc:
            self.onchain.usdc.mint(address, usdc, sender=self.roles.admin)
        if address not in self.chain.signers.addresses:
            return Funding(address, usdc, ())
        if self.chain.balance(address) < DEV_WALLET_GAS_WEI // 10:
            self.chain.set_balance(address, DEV_WALLET_GAS_WEI)
        _approve(self.onchain.usdc, address, self.roles.operator)
        approved = ["USDC"]
        for deployed in self.deployment.issuance.instruments:
            _approve(self.onchain.token(deployed.ticker), address, self.roles.burner)
            approved.append(deployed.token_symbol)
        return Funding(address, usdc, tuple(approved))

    def close(self) -> None:
        """Release the database connections and the node's HTTP connections."""
        close_broker: Callable[[], None] | None = getattr(self.broker, "close", None)
        if close_broker is not None:
            close_broker()
        self.database.close()
        self.chain.close()
        if self.base is not None:
            self.base.chain.close()
        if self._served_solana and self.solana is not None:
            self.solana.chain.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _approve(token: Contract, owner: str, spender: str) -> None:
    # An allowance already unlimited needs no transaction (a re-run of the demo seed sends none).
    if int(token.allowance(owner, spender)) < MAX_UINT256 // 2:
        token.approve(spender, MAX_UINT256, sender=owner)
