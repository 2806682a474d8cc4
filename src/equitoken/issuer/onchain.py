"""The issuer's view of one EVM chain: its deployment, the accounts that act for it, the stablecoin."""

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuanceDeployment, IssuerRoles
from equitoken.durable.outbox import Outbox

MAX_UINT256 = 2**256 - 1


@cache
def _artifact(path: str) -> Artifact:
    return compile_contract(path)


@dataclass
class IssuerChain:
    """One chain the issuer issues on.

    Accounts: `roles.operator` is the treasury (collects payments, pays refunds and proceeds),
    `roles.minter` mints, `roles.burner` burns redeemed tokens, `roles.attester` pushes reserves,
    `roles.registrar` keeps the identity registry in step with onboarding.
    """

    chain: EvmChain
    deployment: IssuanceDeployment
    roles: IssuerRoles
    usdc_address: str
    outbox: Outbox = field(init=False)

    def __post_init__(self) -> None:
        self.outbox = Outbox(self.chain)
        self._tokens: dict[str, Contract] = {}
        self._feeds: dict[str, Contract] = {}

    @property
    def chain_id(self) -> int:
        return self.deployment.chain_id

    @property
    def tickers(self) -> list[str]:
        return [deployed.ticker for deployed in self.deployment.instruments]

    @property
    def usdc(self) -> Contract:
        return self.chain.at(self.usdc_address, _artifact("settlement/TestUSDC.vy"), "USDC")

    @property
    def registry(self) -> Contract:
        return self.chain.at(
            self.deployment.identity_registry, _artifact("compliance/IdentityRegistry.vy"), "IdentityRegistry"
        )

    @property
    def sanctions(self) -> Contract:
        return self.chain.at(
            self.deployment.sanctions_list, _artifact("compliance/SanctionsList.vy"), "SanctionsList"
        )

    def observation_time(self, now: datetime) -> int:
        """Return the time to stamp a custody observation made at `now` with: never after the next
        block's, so the reserve feed never sees an observation from its future, and never before it
        on a chain that has idled for long (a stale observation would be refused too)."""
        return min(int(now.timestamp()), self.chain.timestamp("pending"))

    def token(self, ticker: str) -> Contract:
        """Return the stock token of `ticker`."""
        if ticker not in self._tokens:
            deployed = self.deployment.instrument(ticker)
            self._tokens[ticker] = self.chain.at(
                deployed.token, _artifact("token/StockToken.vy"), deployed.token_symbol
            )
        return self._tokens[ticker]

    def reserve_feed(self, ticker: str) -> Contract:
        """Return the reserve feed of `ticker`."""
        if ticker not in self._feeds:
            deployed = self.deployment.instrument(ticker)
            self._feeds[ticker] = self.chain.at(
                deployed.reserve_feed, _artifact("oracle/ReserveFeed.vy"), f"{ticker} reserves"
            )
        return self._feeds[ticker]


def deploy_test_usdc(chain: EvmChain, owner: str) -> Contract:
    """Deploy the 6-decimal test stablecoin for a local or test chain."""
    return chain.deploy_contract(_artifact("settlement/TestUSDC.vy"), sender=owner)
