"""The lending market's arithmetic, integer for integer as `LendingMarket.vy` does it.

Glossary (as in the contract's header):
- A_s, S_s, A_b, S_b  a market's supply assets and shares, borrow assets and shares (`MarketTotals`);
- V_S, V_A            the virtual shares (1e6) and assets (1): shares convert to assets at
                      (A + V_A) / (S + V_S);
- P                   the oracle price: raw USDC units per raw collateral unit, times 1e36;
- c, b                a position's collateral (raw token units) and borrow shares;
- debt                b in assets, rounded up;
- max borrow          floor(c * P / 1e36) * ltv / 1e18, rounded down at each step;
- LIF                 the liquidation incentive factor, min(1.15, 1 / (1 - 0.3 * (1 - lltv))).
A position is healthy at an LTV limit `ltv` when debt <= max borrow; it may be liquidated once it is
unhealthy at the LLTV. The venue's views, its client's checks and the liquidation keeper's sizing all
come from here, so they agree with the contract to the unit.
"""

from dataclasses import dataclass
from decimal import Decimal

from equitoken.venues.lending.parameters import WAD

ORACLE_PRICE_SCALE = 10**36
VIRTUAL_SHARES = 10**6
VIRTUAL_ASSETS = 1
MAX_LIQUIDATION_INCENTIVE_FACTOR = 115 * 10**16
LIQUIDATION_CURSOR = 3 * 10**17
SECONDS_PER_YEAR = 365 * 86_400


@dataclass(frozen=True, slots=True)
class MarketTotals:
    """A market's totals as `market(id)` / `expected_market(id)` return them (raw USDC units)."""

    supply_assets: int
    supply_shares: int
    borrow_assets: int
    borrow_shares: int
    last_update: int
    fee: int

    @classmethod
    def of(cls, values: tuple[int, ...]) -> "MarketTotals":
        """Return the totals from the contract's six-word tuple."""
        return cls(*(int(v) for v in values))

    @property
    def liquidity(self) -> int:
        """Return the USDC free to withdraw or borrow: supplied less borrowed."""
        return max(0, self.supply_assets - self.borrow_assets)

    def debt(self, borrow_shares: int) -> int:
        """Return the debt of `borrow_shares`, rounded up as the market counts it."""
        return to_assets(borrow_shares, self.borrow_assets, self.borrow_shares, round_up=True)

    def supplied(self, supply_shares: int) -> int:
        """Return what `supply_shares` withdraw for, rounded down."""
        return to_assets(supply_shares, self.supply_assets, self.supply_shares, round_up=False)


def mul_div(x: int, y: int, denominator: int, *, round_up: bool) -> int:
    """Return x * y / denominator rounded down, or up."""
    if round_up:
        return -(-x * y // denominator)
    return x * y // denominator


def to_shares(assets: int, total_assets: int, total_shares: int, *, round_up: bool) -> int:
    """Return the shares `assets` stand for, with the virtual shares and assets."""
    return mul_div(assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS, round_up=round_up)


def to_assets(shares: int, total_assets: int, total_shares: int, *, round_up: bool) -> int:
    """Return the assets `shares` stand for, with the virtual shares and assets."""
    return mul_div(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES, round_up=round_up)


def collateral_value(collateral: int, price: int) -> int:
    """Return the collateral's value in raw USDC units at oracle price `price`, rounded down."""
    return collateral * price // ORACLE_PRICE_SCALE


def max_borrow(collateral: int, price: int, ltv: int) -> int:
    """Return the most debt `collateral` carries at `price` and the LTV limit `ltv` (WAD)."""
    return collateral_value(collateral, price) * ltv // WAD


def is_healthy(debt: int, collateral: int, price: int, ltv: int) -> bool:
    """Return whether `debt` is within `ltv` of the collateral's value (no debt is always healthy)."""
    return debt == 0 or debt <= max_borrow(collateral, price, ltv)


def health_factor(debt: int, collateral: int, price: int, lltv: int) -> Decimal | None:
    """Return the collateral's value times the LLTV over the debt (below 1: liquidatable); None
    without debt."""
    if debt == 0:
        return None
    return Decimal(max_borrow(collateral, price, lltv)) / Decimal(debt)


def loan_to_value(debt: int, collateral: int, price: int) -> Decimal | None:
    """Return the debt over the collateral's value; None without debt, or without collateral value."""
    value = collateral_value(collateral, price)
    if debt == 0 or value == 0:
        return None
    return Decimal(debt) / Decimal(value)


def liquidation_price(debt: int, collateral: int, lltv: int) -> int | None:
    """Return the oracle price (scale 1e36) below which the position becomes liquidatable, rounded
    down; None without debt or without collateral."""
    if debt == 0 or collateral == 0:
        return None
    return debt * ORACLE_PRICE_SCALE * WAD // (collateral * lltv)


def liquidation_incentive_factor(lltv: int) -> int:
    """Return the LIF (WAD) of a market with LLTV `lltv`."""
    return min(
        MAX_LIQUIDATION_INCENTIVE_FACTOR, WAD * WAD // (WAD - LIQUIDATION_CURSOR * (WAD - lltv) // WAD)
    )


def seized_for_repaid_shares(repaid_shares: int, totals: MarketTotals, price: int, lif: int) -> int:
    """Return the collateral a liquidation repaying `repaid_shares` seizes, as the contract rounds it."""
    repaid = to_assets(repaid_shares, totals.borrow_assets, totals.borrow_shares, round_up=False)
    return mul_div(repaid * lif // WAD, ORACLE_PRICE_SCALE, price, round_up=False)


def repaid_shares_for_seized(seized: int, totals: MarketTotals, price: int, lif: int) -> int:
    """Return the borrow shares a liquidation seizing `seized` collateral repays, as the contract rounds."""
    quoted = mul_div(seized, price, ORACLE_PRICE_SCALE, round_up=True)
    owed = mul_div(quoted, WAD, lif, round_up=True)
    return to_shares(owed, totals.borrow_assets, totals.borrow_shares, round_up=True)


def annual_rate(rate_per_second: int) -> Decimal:
    """Return a per-second WAD rate as a simple yearly rate (APR), a fraction."""
    return Decimal(rate_per_second * SECONDS_PER_YEAR) / Decimal(WAD)


def compounded(apr: Decimal) -> Decimal:
    """Return the yearly yield of a rate `apr` compounded continuously (APY), a fraction."""
    return apr.exp() - 1
