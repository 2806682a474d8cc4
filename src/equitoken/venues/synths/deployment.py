"""Deploy the synthetic stocks (a `Synth` and its `SynthVault` per stock token, and optionally a
synthetic/USDC `StockPool`) and keep the record of where they live.

``deploy_synths`` works over any ``EvmChain`` (the in-process chain or anvil through JSON-RPC) with
ordinary signed transactions::

    synths = deploy_synths(chain, admin, usdc, issuance, ["AAPL", "TSLA"])
    synths.synth("AAPL").symbol          # "sAAPL"
    vault = synths.vault(chain, "AAPL")  # the SynthVault, the synthetic's only minter

Each vault reads the ticker's existing ``PriceFeed`` from the issuance deployment, the token's price
(a split moves nothing), and checks on deployment that the feed prices that very token. The synthetic
is deployed by `admin`, who then names the vault its minter; the owner is never a minter. With
``pools`` each synthetic also gets a ``StockPool`` against USDC, deployed directly (the factory's
``create_pool`` asks the feed to price the pooled token itself and a compliance profile, neither of
which a synthetic has) and priced by the underlying's feed; it starts empty.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuanceDeployment
from equitoken.model.address import checksum
from equitoken.venues.synths.contracts import pool_artifact, synth_artifact, usdc_artifact, vault_artifact
from equitoken.venues.synths.errors import SynthsError, UnknownSynthError
from equitoken.venues.synths.parameters import (
    DEFAULT_LIQUIDATION_PENALTY,
    DEFAULT_MIN_COLLATERAL_RATIO,
    POOL_MAX_AGE,
    USDC_DECIMALS,
    SynthSettings,
)

_MAX_NAME = 25  # snekmate erc20: String[25] name, String[5] symbol
_MAX_SYMBOL = 5
_CONTRACT_DEFAULTS = (DEFAULT_MIN_COLLATERAL_RATIO, DEFAULT_LIQUIDATION_PENALTY)

__all__ = ["DeployedSynth", "SynthsDeployment", "deploy_synths", "synth_name", "synth_symbol"]


def synth_name(ticker: str) -> str:
    """Return the synthetic's token name, "Equitoken Synthetic <ticker>"."""
    return f"Equitoken Synthetic {ticker}"


def synth_symbol(ticker: str) -> str:
    """Return the synthetic's symbol, "s<ticker>"."""
    return f"s{ticker}"


@dataclass(frozen=True)
class DeployedSynth:
    """One synthetic: its token, its vault, the stock token and feed it tracks, and its pool if any."""

    ticker: str
    symbol: str
    synth: str
    vault: str
    token: str
    price_feed: str
    pool: str | None
    settings: SynthSettings


@dataclass(frozen=True)
class SynthsDeployment:
    """Where the synthetic stocks live on one chain."""

    chain_id: int
    usdc: str
    owner: str
    from_block: int  # the block before the first contract: where the vaults' events start
    synths: Mapping[str, DeployedSynth]

    def synth(self, ticker: str) -> DeployedSynth:
        """Return `ticker`'s synthetic."""
        try:
            return self.synths[ticker]
        except KeyError:
            known = ", ".join(self.synths) or "none"
            raise UnknownSynthError(
                f"no synthetic for {ticker!r} on chain {self.chain_id} (synthetics: {known})"
            ) from None

    def vault(self, chain: EvmChain, ticker: str) -> Contract:
        """Return `ticker`'s ``SynthVault`` on `chain`."""
        return chain.at(self.synth(ticker).vault, vault_artifact(), f"s{ticker} vault")

    def token(self, chain: EvmChain, ticker: str) -> Contract:
        """Return `ticker`'s ``Synth`` on `chain`."""
        return chain.at(self.synth(ticker).synth, synth_artifact(), f"s{ticker}")

    def pool(self, chain: EvmChain, ticker: str) -> Contract:
        """Return `ticker`'s synthetic/USDC ``StockPool`` on `chain`."""
        address = self.synth(ticker).pool
        if address is None:
            raise UnknownSynthError(f"s{ticker} has no pool on chain {self.chain_id}")
        return chain.at(address, pool_artifact(), f"s{ticker} pool")

    def to_json(self) -> str:
        """Serialise the record."""
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "SynthsDeployment":
        """Parse a record written by `to_json`."""
        data: dict[str, Any] = json.loads(text)
        synths = {
            ticker: DeployedSynth(**{**item, "settings": SynthSettings(**item["settings"])})
            for ticker, item in data.pop("synths").items()
        }
        return cls(**data, synths=synths)


def deploy_synths(
    chain: EvmChain,
    admin: str,
    usdc: str,
    issuance: IssuanceDeployment,
    tickers: Sequence[str],
    *,
    settings: Mapping[str, SynthSettings] | None = None,
    pools: bool = False,
) -> SynthsDeployment:
    """Deploy a synthetic and its vault per ticker, owned by `admin`, over the ticker's `PriceFeed`.

    Each vault takes its `settings` entry, else `SynthSettings()` (150%, 10%, 60 s). With `pools` each
    synthetic also gets an empty synthetic/USDC pool. Unknown or repeated tickers, settings for a
    ticker not deployed, and a collateral other than a 6-decimal USDC are refused before anything is
    sent.
    """
    chosen = settings or {}
    _check(chain, issuance, tickers, chosen)
    usdc = checksum(usdc)
    decimals = int(chain.at(usdc, usdc_artifact(), "USDC").decimals())
    if decimals != USDC_DECIMALS:
        raise SynthsError(f"the collateral {usdc} has {decimals} decimals; the vaults take 6-decimal USDC")
    from_block = chain.block_number()
    deployed: dict[str, DeployedSynth] = {}
    for ticker in tickers:
        instrument = issuance.instrument(ticker)
        vault_settings = chosen.get(ticker) or SynthSettings()
        synth = chain.deploy_contract(
            synth_artifact(), synth_name(ticker), synth_symbol(ticker), sender=admin
        )
        vault = chain.deploy_contract(
            vault_artifact(),
            usdc,
            synth.address,
            instrument.price_feed,
            instrument.token,
            vault_settings.max_age,
            vault_settings.min_answer,
            vault_settings.max_answer,
            sender=admin,
        )
        synth.set_minter(vault.address, True, sender=admin)
        if (vault_settings.min_collateral_ratio, vault_settings.liquidation_penalty) != _CONTRACT_DEFAULTS:
            vault.set_risk(
                vault_settings.min_collateral_ratio, vault_settings.liquidation_penalty, sender=admin
            )
        pool = None
        if pools:
            pool = chain.deploy(
                pool_artifact(),
                synth.address,
                usdc,
                instrument.price_feed,
                admin,
                f"{synth_symbol(ticker)}-USDC LP",
                POOL_MAX_AGE,
                vault_settings.min_answer,
                vault_settings.max_answer,
                sender=admin,
            )
        deployed[ticker] = DeployedSynth(
            ticker,
            synth_symbol(ticker),
            synth.address,
            vault.address,
            instrument.token,
            instrument.price_feed,
            pool,
            vault_settings,
        )
    return SynthsDeployment(chain.chain_id, usdc, checksum(admin), from_block, deployed)


def _check(
    chain: EvmChain,
    issuance: IssuanceDeployment,
    tickers: Sequence[str],
    settings: Mapping[str, SynthSettings],
) -> None:
    if issuance.chain_id != chain.chain_id:
        raise SynthsError(f"the issuance deployment is for chain {issuance.chain_id}, not {chain.chain_id}")
    if not tickers:
        raise SynthsError("no tickers: name at least one stock token to make a synthetic of")
    if len(set(tickers)) != len(tickers):
        raise SynthsError(f"tickers repeat: {', '.join(tickers)}")
    stray = sorted(set(settings) - set(tickers))
    if stray:
        raise SynthsError(f"settings given for {', '.join(stray)}, which are not among the tickers")
    known = {instrument.ticker for instrument in issuance.instruments}
    missing = [t for t in tickers if t not in known]
    if missing:
        raise SynthsError(f"{', '.join(missing)} not deployed on chain {issuance.chain_id}")
    for ticker in tickers:
        if len(synth_symbol(ticker)) > _MAX_SYMBOL or len(synth_name(ticker)) > _MAX_NAME:
            raise SynthsError(
                f"the synthetic of {ticker} would be named {synth_name(ticker)!r} "
                f"({synth_symbol(ticker)!r}): "
                f"the token holds at most {_MAX_NAME} characters of name and {_MAX_SYMBOL} of symbol"
            )
