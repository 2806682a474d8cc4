"""Deploy the perpetuals venue (one LP vault, one market per ticker over the ticker's existing price
feed) and keep the record of where it lives.

``deploy_perps`` works over any ``EvmChain`` (the in-process chain or anvil through JSON-RPC) with
ordinary signed transactions::

    perps = deploy_perps(chain, admin, usdc, issuance, ["SPY", "AAPL"])
    perps.market("AAPL").parameters.max_leverage    # 10e18: 10x
    market = perps.contract(chain, "AAPL")          # AAPL's PerpMarket
    vault = perps.vault_contract(chain)             # the PerpVault, every market's counterparty

The vault (an ERC-4626 over USDC, "eqPLP") takes the other side of every position; each market is
registered in it (`add_market`) so it may reserve, release and pay. Each market prices its stock
through the ticker's ``PriceFeed`` from the issuance deployment (a market holds USDC margins only, so
the stock token's compliance rules never apply to it). Each market's parameters come from
``DEFAULT_PARAMETERS`` or from ``parameters``; a ticker in neither gets ``PerpParameters()``. The admin
seeds the vault with `vault_seed` USDC of its own so it never starts empty.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import DeployedInstrument, IssuanceDeployment
from equitoken.model.address import checksum
from equitoken.venues.perps.contracts import market_artifact, usdc_artifact, vault_artifact
from equitoken.venues.perps.errors import PerpError, UnknownMarketError
from equitoken.venues.perps.parameters import (
    DEFAULT_PARAMETERS,
    DEFAULT_VAULT_SEED,
    GuardSettings,
    PerpParameters,
)

__all__ = ["DeployedPerpMarket", "PerpsDeployment", "create_perp_market", "deploy_perps"]

_MARGIN_DECIMALS = 6  # margins are USDC


@dataclass(frozen=True)
class DeployedPerpMarket:
    """One ticker's market: its contract, the feed and token it prices, the parameters it was set with."""

    ticker: str
    address: str
    price_feed: str
    token: str
    profile: str
    parameters: PerpParameters


@dataclass(frozen=True)
class PerpsDeployment:
    """Where the perpetuals venue lives on one chain: the vault and a market per ticker."""

    chain_id: int
    usdc: str
    vault: str
    owner: str
    from_block: int  # the block before the vault: where the venue's events start
    guard: GuardSettings
    markets: Mapping[str, DeployedPerpMarket]

    def market(self, ticker: str) -> DeployedPerpMarket:
        """Return `ticker`'s market."""
        try:
            return self.markets[ticker]
        except KeyError:
            known = ", ".join(self.markets) or "none"
            raise UnknownMarketError(
                f"no perpetual market for {ticker!r} on chain {self.chain_id} (markets: {known})"
            ) from None

    def ticker_of(self, address: str) -> str | None:
        """Return the ticker of the market at `address`, or None if it is not one of ours."""
        wanted = address.lower()
        return next((t for t, m in self.markets.items() if m.address.lower() == wanted), None)

    def contract(self, chain: EvmChain, ticker: str) -> Contract:
        """Return `ticker`'s ``PerpMarket`` on `chain`."""
        return chain.at(self.market(ticker).address, market_artifact(), f"{ticker} PerpMarket")

    def vault_contract(self, chain: EvmChain) -> Contract:
        """Return the ``PerpVault`` on `chain`."""
        return chain.at(self.vault, vault_artifact(), "PerpVault")

    def to_json(self) -> str:
        """Serialise the record."""
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "PerpsDeployment":
        """Parse a record written by `to_json`."""
        data: dict[str, Any] = json.loads(text)
        markets = {
            ticker: DeployedPerpMarket(**{**item, "parameters": PerpParameters(**item["parameters"])})
            for ticker, item in data.pop("markets").items()
        }
        guard = GuardSettings(**data.pop("guard"))
        return cls(**data, guard=guard, markets=markets)


def deploy_perps(
    chain: EvmChain,
    admin: str,
    usdc: str,
    issuance: IssuanceDeployment,
    tickers: Sequence[str],
    *,
    parameters: Mapping[str, PerpParameters] | None = None,
    guard: GuardSettings | None = None,
    vault_seed: int = DEFAULT_VAULT_SEED,
) -> PerpsDeployment:
    """Deploy the vault owned by `admin` and a market per ticker, register the markets in the vault,
    and deposit `vault_seed` USDC (6 decimals) of the admin's into the vault.

    Each ticker's market takes its `parameters` entry, else its default (`DEFAULT_PARAMETERS`), else
    `PerpParameters()`. `guard` sets every market's price guard (default `GuardSettings()`: two hours,
    any positive price). Unknown and repeated tickers, parameters for tickers not deployed, a margin
    token other than a 6-decimal USDC, and a seed beyond the admin's USDC are refused before anything
    is sent.
    """
    chosen = _choose(chain, issuance, tickers, parameters or {})
    settings = guard or GuardSettings()
    token = chain.at(usdc, usdc_artifact(), "USDC")
    decimals = int(token.decimals())
    if decimals != _MARGIN_DECIMALS:
        raise PerpError(f"the margin token {usdc} has {decimals} decimals; the venue takes 6-decimal USDC")
    if vault_seed < 0:
        raise PerpError(f"the vault seed must not be negative, not {vault_seed}")
    held = int(token.balanceOf(admin))
    if vault_seed > held:
        raise PerpError(
            f"the admin {admin} holds {held} USDC units, less than the vault seed of {vault_seed}"
        )
    from_block = chain.block_number()
    vault = chain.deploy_contract(vault_artifact(), checksum(usdc), sender=admin)
    markets: dict[str, DeployedPerpMarket] = {}
    for ticker, chosen_parameters in chosen.items():
        markets[ticker] = create_perp_market(
            chain, vault, admin, checksum(usdc), issuance.instrument(ticker), chosen_parameters, settings
        )
    if vault_seed:
        token.approve(vault.address, vault_seed, sender=admin)
        vault.deposit(vault_seed, admin, sender=admin)
    return PerpsDeployment(
        chain.chain_id, checksum(usdc), vault.address, checksum(admin), from_block, settings, markets
    )


def create_perp_market(
    chain: EvmChain,
    vault: Contract,
    admin: str,
    usdc: str,
    instrument: DeployedInstrument,
    parameters: PerpParameters,
    guard: GuardSettings,
) -> DeployedPerpMarket:
    """Deploy `instrument`'s market over its price feed as `admin`, set its `parameters` and register it
    in `vault`."""
    market = chain.deploy_contract(
        market_artifact(),
        usdc,
        vault.address,
        instrument.price_feed,
        instrument.token,
        guard.max_age,
        guard.min_answer,
        guard.max_answer,
        sender=admin,
    )
    market.set_parameters(parameters.as_tuple(), sender=admin)
    vault.add_market(market.address, sender=admin)
    return DeployedPerpMarket(
        instrument.ticker,
        market.address,
        instrument.price_feed,
        instrument.token,
        instrument.profile,
        parameters,
    )


def _choose(
    chain: EvmChain,
    issuance: IssuanceDeployment,
    tickers: Sequence[str],
    parameters: Mapping[str, PerpParameters],
) -> dict[str, PerpParameters]:
    if issuance.chain_id != chain.chain_id:
        raise PerpError(f"the issuance deployment is for chain {issuance.chain_id}, not {chain.chain_id}")
    if not tickers:
        raise PerpError("the venue needs at least one ticker")
    if len(set(tickers)) != len(tickers):
        raise PerpError(f"tickers repeat: {', '.join(tickers)}")
    stray = sorted(set(parameters) - set(tickers))
    if stray:
        raise PerpError(f"parameters given for {', '.join(stray)}, which are not among the tickers")
    known = {instrument.ticker for instrument in issuance.instruments}
    chosen: dict[str, PerpParameters] = {}
    for ticker in tickers:
        if ticker not in known:
            raise PerpError(f"{ticker} is not deployed on chain {issuance.chain_id}")
        chosen[ticker] = parameters.get(ticker) or DEFAULT_PARAMETERS.get(ticker) or PerpParameters()
    return chosen
