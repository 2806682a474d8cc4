"""Deploy the lending venue (the market contract, its rate model, an oracle adapter and a market per
stock token) and keep the record of where it lives.

``deploy_lending`` works over any ``EvmChain`` (the in-process chain or anvil through JSON-RPC) with
ordinary signed transactions::

    lending = deploy_lending(chain, admin, usdc, issuance, ["SPY", "AAPL", "MSTR"])
    lending.market("AAPL").lltv        # 0.5e18: Kamino's liquidation threshold for AAPLx
    market = lending.contract(chain)   # the LendingMarket, every market in it

One ``LendingMarket`` holds every market; a market is the tuple (USDC, stock token, the token's
``StockOracle``, the ``AdaptiveCurveIrm``, LLTV). Each ``StockOracle`` reads the token's existing
``PriceFeed`` from the issuance deployment. Each market's parameters come from
``DEFAULT_MARKET_PARAMETERS`` (Kamino's xStocks table) or from ``parameters``; a ticker in neither is
skipped. The market contract holds the collateral of every market, so for a ``permissioned`` token
it must be a wallet of a verified investor (the venue operator): pass ``registrar`` and
``market_investor`` and it is registered here, as ``deploy_amm`` registers its pools.
"""

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import DeployedInstrument, IssuanceDeployment, register_wallet
from equitoken.model.address import checksum
from equitoken.venues.lending.contracts import irm_artifact, market_artifact, oracle_artifact, usdc_artifact
from equitoken.venues.lending.errors import LendingError, UnknownMarketError
from equitoken.venues.lending.parameters import DEFAULT_MARKET_PARAMETERS, MarketParameters, OracleSettings

__all__ = ["ZERO_ADDRESS", "DeployedMarket", "LendingDeployment", "create_market", "deploy_lending"]

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
_LOAN_DECIMALS = 6  # the venue lends USDC

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeployedMarket:
    """One market: its immutable parameters on-chain, its id, and the LTVs it was created with."""

    ticker: str
    id: str  # 0x-prefixed hex of the bytes32 market id
    loan_token: str
    collateral_token: str
    oracle: str
    irm: str  # the zero address: no interest
    price_feed: str
    profile: str
    parameters: MarketParameters

    @property
    def lltv(self) -> int:
        """Return the market's LLTV in WAD."""
        return self.parameters.lltv

    @property
    def id_bytes(self) -> bytes:
        """Return the market id as the contract takes it."""
        return bytes.fromhex(self.id.removeprefix("0x"))

    @property
    def params(self) -> tuple[str, str, str, str, int]:
        """Return the ``MarketParams`` tuple every market function takes."""
        return (self.loan_token, self.collateral_token, self.oracle, self.irm, self.lltv)


@dataclass(frozen=True)
class LendingDeployment:
    """Where the lending venue lives on one chain: the market contract, the rate model, the markets."""

    chain_id: int
    usdc: str
    lending_market: str
    irm: str
    owner: str
    from_block: int  # the block before the market contract: where its events start
    markets: Mapping[str, DeployedMarket]

    def market(self, ticker: str) -> DeployedMarket:
        """Return `ticker`'s market."""
        try:
            return self.markets[ticker]
        except KeyError:
            known = ", ".join(self.markets) or "none"
            raise UnknownMarketError(
                f"no lending market for {ticker!r} on chain {self.chain_id} (markets: {known})"
            ) from None

    def ticker_of(self, market_id: bytes) -> str | None:
        """Return the ticker of the market with id `market_id`, or None if it is not one of ours."""
        wanted = "0x" + market_id.hex()
        return next((t for t, m in self.markets.items() if m.id == wanted), None)

    def contract(self, chain: EvmChain) -> Contract:
        """Return the ``LendingMarket`` on `chain`."""
        return chain.at(self.lending_market, market_artifact(), "LendingMarket")

    def oracle(self, chain: EvmChain, ticker: str) -> Contract:
        """Return `ticker`'s ``StockOracle`` on `chain`."""
        return chain.at(self.market(ticker).oracle, oracle_artifact(), f"{ticker} StockOracle")

    def irm_contract(self, chain: EvmChain) -> Contract | None:
        """Return the ``AdaptiveCurveIrm`` on `chain`; None for interest-free markets."""
        if self.irm == ZERO_ADDRESS:
            return None
        return chain.at(self.irm, irm_artifact(), "AdaptiveCurveIrm")

    def to_json(self) -> str:
        """Serialise the record."""
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "LendingDeployment":
        """Parse a record written by `to_json`."""
        data: dict[str, Any] = json.loads(text)
        markets = {
            ticker: DeployedMarket(**{**item, "parameters": MarketParameters(**item["parameters"])})
            for ticker, item in data.pop("markets").items()
        }
        return cls(**data, markets=markets)


def deploy_lending(
    chain: EvmChain,
    admin: str,
    usdc: str,
    issuance: IssuanceDeployment,
    tickers: Sequence[str],
    *,
    parameters: Mapping[str, MarketParameters] | None = None,
    oracle: OracleSettings | None = None,
    interest: bool = True,
    registrar: str | None = None,
    market_investor: int | None = None,
) -> LendingDeployment:
    """Deploy the market contract owned by `admin`, its rate model, and a market per ticker.

    Each ticker's market takes its `parameters` entry, else its default (Kamino's xStocks table); a
    ticker with neither is skipped. `oracle` sets every adapter (default `OracleSettings()`: 10 LLTV
    points cut while closed, 5 minutes of grace, the AMM's guard limits). Without `interest` the
    markets have no rate model (the zero address) and lend interest-free. Unknown, repeated and
    ``restricted`` tickers, a ``permissioned`` one without `registrar` and `market_investor`, and a
    loan token other than a 6-decimal USDC are refused before anything is sent.
    """
    chosen = _choose(chain, issuance, tickers, parameters or {})
    if (registrar is None) != (market_investor is None):
        raise LendingError("registering the market contract needs both the registrar and the investor id")
    permissioned = [t for t in chosen if issuance.instrument(t).profile == "permissioned"]
    if permissioned and registrar is None:
        raise LendingError(
            f"{', '.join(permissioned)} {'is' if len(permissioned) == 1 else 'are'} permissioned: pass "
            "registrar and market_investor so the market contract may hold the collateral"
        )
    loan_decimals = int(chain.at(usdc, usdc_artifact(), "USDC").decimals())
    if loan_decimals != _LOAN_DECIMALS:
        raise LendingError(
            f"the loan token {usdc} has {loan_decimals} decimals; the venue lends 6-decimal USDC"
        )
    settings = oracle or OracleSettings()
    from_block = chain.block_number()
    market = chain.deploy_contract(market_artifact(), admin, sender=admin)
    irm = chain.deploy(irm_artifact(), sender=admin) if interest else ZERO_ADDRESS
    market.enable_irm(irm, sender=admin)
    for lltv in sorted({p.lltv for p in chosen.values()}):
        market.enable_lltv(lltv, sender=admin)
    markets: dict[str, DeployedMarket] = {}
    for ticker, chosen_parameters in chosen.items():
        markets[ticker] = create_market(
            chain,
            market,
            admin,
            checksum(usdc),
            irm,
            issuance.instrument(ticker),
            chosen_parameters,
            settings,
        )
    if permissioned and registrar is not None and market_investor is not None:
        register_wallet(chain, issuance, market_investor, market.address, registrar)
    return LendingDeployment(
        chain.chain_id, checksum(usdc), market.address, irm, checksum(admin), from_block, markets
    )


def create_market(
    chain: EvmChain,
    market: Contract,
    admin: str,
    usdc: str,
    irm: str,
    instrument: DeployedInstrument,
    parameters: MarketParameters,
    settings: OracleSettings,
) -> DeployedMarket:
    """Deploy `instrument`'s oracle adapter and create its market in the market contract `market`, as
    `admin`; the market's LLTV must be enabled already."""
    adapter = chain.deploy(
        oracle_artifact(),
        instrument.price_feed,
        _LOAN_DECIMALS,
        settings.max_age,
        settings.min_answer,
        settings.max_answer,
        settings.closed_ltv_cut,
        settings.grace_period,
        admin,
        sender=admin,
    )
    params = (usdc, instrument.token, adapter, irm, parameters.lltv)
    market.create_market(params, sender=admin)
    market_id = bytes(market.market_id(params))
    return DeployedMarket(
        instrument.ticker,
        "0x" + market_id.hex(),
        *params[:4],
        instrument.price_feed,
        instrument.profile,
        parameters,
    )


def _choose(
    chain: EvmChain,
    issuance: IssuanceDeployment,
    tickers: Sequence[str],
    parameters: Mapping[str, MarketParameters],
) -> dict[str, MarketParameters]:
    if issuance.chain_id != chain.chain_id:
        raise LendingError(f"the issuance deployment is for chain {issuance.chain_id}, not {chain.chain_id}")
    if len(set(tickers)) != len(tickers):
        raise LendingError(f"tickers repeat: {', '.join(tickers)}")
    stray = sorted(set(parameters) - set(tickers))
    if stray:
        raise LendingError(f"parameters given for {', '.join(stray)}, which are not among the tickers")
    known = {instrument.ticker: instrument for instrument in issuance.instruments}
    chosen: dict[str, MarketParameters] = {}
    for ticker in tickers:
        if ticker not in known:
            raise LendingError(f"{ticker} is not deployed on chain {issuance.chain_id}")
        if known[ticker].profile == "restricted":
            raise LendingError(
                f"{ticker} is a restricted token: only its operators move it, so it cannot be collateral"
            )
        found = parameters.get(ticker) or DEFAULT_MARKET_PARAMETERS.get(ticker)
        if found is None:
            _log.info("no lending market for %s: it has no default parameters and none were given", ticker)
            continue
        chosen[ticker] = found
    return chosen
