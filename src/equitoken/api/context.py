"""What the API serves from: the issuer and the market it runs in, and how callers are limited."""

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from equitoken.api.keys import ApiKeys
from equitoken.api.ratelimit import RateLimit
from equitoken.bridge.desk import BridgeDesk
from equitoken.brokers.broker import Broker
from equitoken.indexer.views import IndexReader
from equitoken.issuer.attestation.service import AttestationIssuer
from equitoken.issuer.corporate_actions.service import CorporateActions
from equitoken.issuer.orders.desk import ProcessorDesk
from equitoken.issuer.private.service import PrivateCompanyDesk
from equitoken.issuer.service import Issuer
from equitoken.market.calendar import MarketCalendar
from equitoken.market.prices import PriceSource
from equitoken.model.time import Clock
from equitoken.proofs.liabilities import Liabilities
from equitoken.store.database import Database
from equitoken.venues.cfd.transfers import CfdTransfers
from equitoken.venues.cfd.venue import CfdVenue
from equitoken.venues.exchange.funding import ExchangeFunding
from equitoken.venues.exchange.ledger import LedgerDesk
from equitoken.venues.exchange.members import ExchangeMembers
from equitoken.venues.exchange.venue import ExchangeVenue
from equitoken.venues.lending.actions import LendingClient
from equitoken.venues.perps.actions import PerpsClient
from equitoken.venues.synths.actions import SynthsClient


@dataclass
class ApiContext:
    """Everything `create_app` needs: the issuer and the parts it was built from.

    `broker_name` labels the broker in `GET /broker` ("paper", "alpaca").
    `rate_limit` applies per API key.
    `corporate_actions`, when given, serves `GET /corporate-actions`.
    `indexer`, when given, is where holdings and the supply in the reserves history are read.
    `liabilities`, when given, serves the proofs and the signed reserves report.
    `exchange` with `exchange_members`, when given, serves the order-book exchange under
    `/exchange` (REST and the WebSocket stream); each investor trades under its member account.
    `exchange_funding`, when given with the exchange, serves its deposit address, deposits and
    withdrawals under `/exchange`.
    `lending`, `perps`, `synths`, when given, serve the lending venue, the perpetuals and the
    synthetic stocks under `/lending`, `/perps` and `/synths`; investors act for their registered
    wallets whose keys the chain holds.
    `cfd`, when given, serves the CFD venue under `/cfd`: each investor's CFD account number is its
    exchange account number (from `exchange_members`, which it needs); `cfd_transfers`, when given
    with the exchange, moves USDC between an investor's exchange account and its CFD account.
    `bridge`, when given, serves the bridge between the issuer's chains under `/bridge`: investors
    send from their custodied wallets, the operator (the compliance agent) settles held transfers.
    `processor`, when given, serves the order processor under `/processor`: fee quotes for investors'
    orders, which they place on-chain themselves, and the orders the operator fills.
    `attestation`, when given, serves attestation mints under `/attestation`: signed quotes an investor
    mints or redeems with at once, in the exchange's sessions, and the backing during the hedge.
    `exchange_ledger`, when given with the exchange, serves ledger stock under `/exchange/ledger`: members
    buy fractions of a share from $1 and sell them through the issuer's broker and custody.
    `private`, when not empty, serves the private companies under `/private`: valuations, issuance
    rounds and the transfer agent's decisions for the operator, holdings and transfer requests for
    investors.
    """

    issuer: Issuer
    calendar: MarketCalendar
    prices: PriceSource
    broker: Broker
    clock: Clock
    database: Database
    broker_name: str = "paper"
    rate_limit: RateLimit = field(default_factory=RateLimit)
    corporate_actions: CorporateActions | None = None
    indexer: IndexReader | None = None
    liabilities: Liabilities | None = None
    exchange: ExchangeVenue | None = None
    exchange_members: ExchangeMembers | None = None
    exchange_funding: ExchangeFunding | None = None
    lending: LendingClient | None = None
    perps: PerpsClient | None = None
    synths: SynthsClient | None = None
    cfd: CfdVenue | None = None
    cfd_transfers: CfdTransfers | None = None
    bridge: BridgeDesk | None = None
    processor: ProcessorDesk | None = None
    attestation: AttestationIssuer | None = None
    private: Mapping[str, PrivateCompanyDesk] = field(default_factory=dict)
    exchange_ledger: LedgerDesk | None = None
    keys: ApiKeys = field(init=False)
    # Investor changes go through the identity registry's outbox, whose nonces must be taken one
    # sender at a time: the API makes them one at a time.
    registry_lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    # Lending actions sign for investors' wallets through the outbox, whose nonces must be taken one
    # sender at a time: the API sends them one at a time.
    lending_lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    # The same for the perpetuals' and the synthetic stocks' actions.
    perps_lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    synths_lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    # The bridge signs approvals and burns for investors' wallets: one at a time.
    bridge_lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    # And the order processor's placements for custodied wallets.
    processor_lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    attestation_lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if (self.exchange is None) != (self.exchange_members is None):
            raise ValueError("the exchange and its members come together: give both or neither")
        if self.exchange_funding is not None and self.exchange is None:
            raise ValueError("the exchange's funding needs the exchange")
        if self.cfd is not None and self.exchange_members is None:
            raise ValueError("the CFD venue numbers its accounts as the exchange's members: give both")
        if self.cfd_transfers is not None and (self.cfd is None or self.exchange is None):
            raise ValueError("CFD transfers need the CFD venue and the exchange")
        self.keys = ApiKeys(self.database, self.clock)
