"""Assemble an issuer from its parts: the one wiring that `up`, the CLI, the tests, the benchmarks and the
crash workers share.

An issuer needs a chain with the issuance contracts and a settlement stablecoin deployed
(`deploy_issuer_contracts`), a migrated database, a clock, prices, a market calendar and a broker;
`assemble_issuer` wires them: the issuer's view of the chain (`IssuerChain`, with its accounts per
role), and the `Issuer` over the deployed instruments that the price source covers, since an
instrument without prices can be neither quoted nor hedged.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from equitoken.brokers.broker import Broker
from equitoken.brokers.paper import PaperBroker
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuanceDeployment, IssuerRoles, OracleMembers, deploy_issuance
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.chains import TokenChain
from equitoken.issuer.config import IssuerConfig
from equitoken.issuer.onchain import IssuerChain, deploy_test_usdc
from equitoken.issuer.service import Issuer
from equitoken.issuer.solana import SolanaIssuerChain
from equitoken.market.calendar import MarketCalendar
from equitoken.market.prices import PriceSource
from equitoken.market.replay import ReplayPriceSource
from equitoken.model.instrument import Instrument
from equitoken.model.time import Clock
from equitoken.store.database import Database


@dataclass(frozen=True)
class IssuerContracts:
    """The issuance layer deployed on one chain, and the stablecoin the issuer settles in there."""

    deployment: IssuanceDeployment
    usdc: Contract


@dataclass(frozen=True)
class PaperBrokerSettings:
    """How the paper broker fills: its own database, the slippage it gives, the parts a fill comes in."""

    database_url: str
    slippage_bps: int = 5
    fill_parts: int = 1


@dataclass
class AssembledIssuer:
    """An issuer and every part it was wired from."""

    chain: EvmChain
    database: Database
    clock: Clock
    calendar: MarketCalendar
    prices: PriceSource
    broker: Broker
    onchain: IssuerChain
    issuer: Issuer

    def close(self) -> None:
        """Release the broker's connections (the chain and the database belong to the caller)."""
        close_broker: Callable[[], None] | None = getattr(self.broker, "close", None)
        if close_broker is not None:
            close_broker()


def deploy_issuer_contracts(
    chain: EvmChain,
    instruments: Sequence[Instrument],
    *,
    oracle: OracleMembers | None = None,
    progress: Callable[[str], None] | None = None,
) -> IssuerContracts:
    """Deploy the issuance layer for `instruments` and a test USDC, its roles spread over the chain's
    first ten accounts."""
    roles = IssuerRoles.from_accounts(chain.accounts)
    deployment = deploy_issuance(chain, roles, instruments, oracle=oracle, progress=progress)
    return IssuerContracts(deployment, deploy_test_usdc(chain, roles.admin))


def offered_instruments(deployment: IssuanceDeployment, prices: PriceSource) -> list[Instrument]:
    """Return the catalogue rows of the deployed instruments that `prices` covers, in catalogue order."""
    tickers = {d.ticker for d in deployment.instruments} & prices.tickers()
    return [i for i in load_catalogue() if i.ticker in tickers]


def assemble_issuer(
    chain: EvmChain,
    deployment: IssuanceDeployment,
    usdc: str,
    database: Database,
    clock: Clock,
    *,
    broker: Broker | PaperBrokerSettings,
    prices: PriceSource | None = None,
    calendar: MarketCalendar | None = None,
    config: IssuerConfig | None = None,
    solana: SolanaIssuerChain | None = None,
    others: Sequence[IssuerChain] = (),
) -> AssembledIssuer:
    """Wire an issuer over `deployment` on `chain` (and on the EVM chains of `others` and `solana`'s mints
    too, if given); the prices
    are replayed and the calendar NYSE's unless given, and `broker` is a broker or the settings of a
    paper broker on those prices."""
    calendar = calendar or MarketCalendar("XNYS")
    prices = prices or ReplayPriceSource.default(calendar)
    if isinstance(broker, PaperBrokerSettings):
        broker = PaperBroker(
            prices,
            calendar,
            clock,
            broker.database_url,
            slippage_bps=broker.slippage_bps,
            fill_parts=broker.fill_parts,
        )
    onchain = IssuerChain(chain, deployment, IssuerRoles.from_accounts(chain.accounts), usdc)
    chains: tuple[TokenChain, ...] = (onchain, *others, *([] if solana is None else [solana]))
    instruments = offered_instruments(deployment, prices)
    issuer = Issuer(database, onchain, broker, prices, clock, instruments, config, chains)
    return AssembledIssuer(chain, database, clock, calendar, prices, broker, onchain, issuer)
