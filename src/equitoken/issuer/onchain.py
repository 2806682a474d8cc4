"""The issuer's view of one EVM chain: its deployment, the accounts that act for it, the stablecoin.

`IssuerChain` is also the EVM's `TokenChain` (see `issuer.chains`): what the workflow does with a
stock token, whatever the family.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuanceDeployment, IssuerRoles
from equitoken.durable.outbox import EvmCall, Outbox
from equitoken.issuer.errors import InvalidRequestError
from equitoken.model.address import checksum

MAX_UINT256 = 2**256 - 1
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def parse_address(text: str) -> str:
    """Return `text` as a checksummed address, or raise InvalidRequestError naming the problem."""
    if not isinstance(text, str) or not _ADDRESS.match(text):
        raise InvalidRequestError(f"wallet {text!r} is not a 0x-prefixed 20-byte hex address")
    return checksum(text)


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

    family = "EVM"
    has_reserve_feed = True

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

    # -- TokenChain

    def parse_wallet(self, text: str) -> str:
        """Return `text` as a checksummed address; raise InvalidRequestError naming the problem."""
        try:
            return parse_address(text)
        except InvalidRequestError as exc:
            raise InvalidRequestError(f"{exc}, as chain {self.chain_id} (EVM) needs") from None

    def multiplier(self, ticker: str) -> int:
        return int(self.token(ticker).uiMultiplier())

    def supply(self, ticker: str) -> int:
        return int(self.token(ticker).totalSupply())

    def balance(self, ticker: str, wallet: str) -> int:
        return int(self.token(ticker).balanceOf(wallet))

    def redemption_shortfall(self, ticker: str, wallet: str, tokens: int) -> str | None:
        """Say why the burner cannot burn `tokens` units from `wallet` now; None if it can."""
        token = self.token(ticker)
        balance, allowance = self.balance(ticker, wallet), int(token.allowance(wallet, self.roles.burner))
        symbol = self.deployment.instrument(ticker).token_symbol
        if balance < tokens:
            return f"wallet {wallet} holds {balance} {symbol} units, the redemption needs {tokens}"
        if allowance < tokens:
            return (
                f"wallet {wallet} approved {allowance} {symbol} units to the issuer {self.roles.burner}, "
                f"the redemption needs {tokens}"
            )
        return None

    def mint_call(self, ticker: str, wallet: str, tokens: int) -> EvmCall:
        return EvmCall(self.token(ticker).mint, (wallet, tokens), self.roles.minter)

    def burn_call(self, ticker: str, wallet: str, tokens: int) -> EvmCall:
        return EvmCall(self.token(ticker).burn_from, (wallet, tokens), self.roles.burner)

    def multiplier_call(self, ticker: str, multiplier: int, effective_at: int) -> EvmCall:
        token = self.token(ticker)
        return EvmCall(token.setUIMultiplier, (multiplier, effective_at), self.roles.multiplier_updater)

    def reserve_observed_at(self, ticker: str) -> int | None:
        try:
            return int(self.reserve_feed(ticker).latestRoundData()[2])
        except RevertError:  # no round yet
            return None

    def attestation_call(self, ticker: str, reserve: int, observed_at: int) -> EvmCall:
        """Return the reserve feed's update to `reserve` raw units observed at `observed_at`."""
        return EvmCall(self.reserve_feed(ticker).update, (reserve, observed_at), self.roles.attester)


def deploy_test_usdc(chain: EvmChain, owner: str) -> Contract:
    """Deploy the 6-decimal test stablecoin for a local or test chain."""
    return chain.deploy_contract(_artifact("settlement/TestUSDC.vy"), sender=owner)
