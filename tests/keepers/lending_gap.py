"""The lending venue through the largest weekend gap among its default tickers, with its keepers.

The gap: MSTR closed at $1,447.99 on Friday 2024-08-02 and opened at $1,051.65 on Monday 2024-08-05
(-27.4%; the session's low, $1,024.02, is -29.3%), the largest Friday-close-to-Monday-open fall of
SPY, QQQ, GOOGL, TSLA, NVDA, AAPL and MSTR in the repo's daily bars (next: MSTR 2022-06-13, -26.6%;
TSLA 2020-09-08, -14.9%). Prices are as traded (the 10-for-1 split of 2024-08-08 comes later).

A real issuance of MSTR (a ``permissioned`` token: the market contract, the pool, the keepers and the
borrowers are verified investors' wallets), its quorum `PriceFeed` driven by the oracle's
`Transmitter` over the replayed prices, test USDC, the AMM pool with the arbitrage keeper, and the
lending venue (`deploy_lending`, MSTR's default market: LLTV 40%) with the liquidation keeper.

On Friday after the close, each borrower borrows 95% of what the rules let it borrow then: the
closed-market LTV (LLTV - 10 points = 30%) under the default rules, the LLTV itself under
Morpho-style rules (no closed-market cut, no reopening grace). Closed rounds carry the frozen close
through the weekend; on Monday the session runs minute by minute for the first half hour, then every
`STEP`. Every tick: the transmitter, then the arbitrage keeper, then the liquidation keeper.

Run ``python -m tests.keepers.lending_gap`` for the figures of both rule sets.
"""

import json
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory
from zoneinfo import ZoneInfo

from tests.support.replayed_oracle import ReplayedOracle, issue, start_oracle, unix

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuerRoles
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.issuer.onchain import deploy_test_usdc
from equitoken.keepers.arbitrage import ArbitrageKeeper
from equitoken.keepers.liquidation import Liquidation, LiquidationKeeper
from equitoken.model.quantities import Usd
from equitoken.store.database import Database, sqlite_url
from equitoken.venues.amm import deploy_amm
from equitoken.venues.lending import maths
from equitoken.venues.lending.deployment import deploy_lending
from equitoken.venues.lending.parameters import WAD, OracleSettings

NEW_YORK = ZoneInfo("America/New_York")
TICKER = "MSTR"
FRIDAY_OPEN = datetime(2024, 8, 2, 15, 0, tzinfo=NEW_YORK)
FRIDAY_EVENING = datetime(2024, 8, 2, 17, 0, tzinfo=NEW_YORK)
MONDAY_OPEN = datetime(2024, 8, 5, 9, 30, tzinfo=NEW_YORK)
MINUTE_UNTIL = datetime(2024, 8, 5, 10, 0, tzinfo=NEW_YORK)
END = datetime(2024, 8, 5, 16, 0, tzinfo=NEW_YORK)
STEP = timedelta(minutes=5)
CLOSED_STEP = timedelta(hours=2)
BORROW_FRACTION = Decimal("0.95")
# The borrowers' collateral, in whole tokens: positions of different sizes meet the same rules.
COLLATERAL = (2, 10, 50, 200)
LENDER_USDC = 2_000_000
POOL_TOKENS = 400
USDC = 10**6
INVESTOR = 1  # the venue operator: the pool, the market contract, the keepers and the pool's provider
BAND_BPS = 50
CLOSED_BAND_BPS = 200
MAX_TRADE = Usd(200_000 * USDC)
ACCOUNTS = 20
LENDER, KEEPER, ARBITRAGEUR, PROVIDER = 10, 11, 12, 13
FIRST_BORROWER = 14

DEFAULT_RULES = OracleSettings()
MORPHO_RULES = OracleSettings(closed_ltv_cut=0, grace_period=0)


@dataclass(frozen=True)
class LiquidationRecord:
    at: str
    minutes_after_open: float
    borrower: str
    health_factor: str
    repaid_usdc: str
    seized_tokens: str
    seized_value_usdc: str
    bad_debt_usdc: str


@dataclass
class GapReplay:
    """What one rule set did through the gap; money in USDC (6 decimals) unless named otherwise."""

    rules: str
    closed_ltv_cut_bps: int
    grace_seconds: int
    borrowed_ltv: str
    borrowed_usdc: int
    worst_ltv: str
    liquidations: list[LiquidationRecord] = field(default_factory=list)
    repaid_usdc: int = 0
    seized_value_usdc: int = 0
    bad_debt_usdc: int = 0
    borrowers_loss_usdc: int = 0
    sold_usdc: int = 0
    sold_oracle_value_usdc: int = 0
    first_liquidation_minutes: float | None = None
    refusals: dict[str, int] = field(default_factory=dict)

    def table(self) -> str:
        """Return the figures as a readable block."""
        lines = [
            f"{self.rules}: closed-market cut {self.closed_ltv_cut_bps} bps, grace {self.grace_seconds} s",
            f"  borrowed {self.borrowed_usdc / USDC:,.2f} USDC at LTV {self.borrowed_ltv}; "
            f"worst LTV through the gap {self.worst_ltv}",
            f"  liquidations {len(self.liquidations)} (first {self.first_liquidation_minutes} min after the "
            f"open); repaid {self.repaid_usdc / USDC:,.2f} USDC for collateral worth "
            f"{self.seized_value_usdc / USDC:,.2f}",
            f"  borrowers' loss to the incentive {self.borrowers_loss_usdc / USDC:,.2f} USDC; "
            f"bad debt {self.bad_debt_usdc / USDC:,.2f} USDC",
            f"  keeper sold seized collateral for {self.sold_usdc / USDC:,.2f} USDC "
            f"(oracle value {self.sold_oracle_value_usdc / USDC:,.2f}); refusals {self.refusals}",
        ]
        lines += [
            f"    {r.at} {r.borrower[:10]} HF {r.health_factor} repaid {r.repaid_usdc}"
            for r in self.liquidations
        ]
        return "\n".join(lines)


@dataclass
class Venue:
    chain: InProcessChain
    roles: IssuerRoles
    token: Contract
    feed: Contract
    usdc: Contract
    market: Contract
    oracle: Contract
    params: tuple[str, str, str, str, int]
    market_id: bytes
    lltv: int
    cut: int
    oracle_network: ReplayedOracle
    reserve: Contract
    arbitrage: ArbitrageKeeper
    keeper: LiquidationKeeper
    borrowers: list[str]

    def price(self) -> int:
        """Return the oracle adapter's price (1e36 scale), or 0 while it refuses."""
        try:
            return int(self.oracle.price())
        except RevertError:  # a halted or stale feed: no price this tick
            return 0

    def debts(self) -> list[tuple[int, int]]:
        """Return each borrower's (debt in USDC, collateral in raw token units)."""
        totals = maths.MarketTotals.of(tuple(int(v) for v in self.market.expected_market(self.market_id)))
        found = []
        for borrower in self.borrowers:
            _, shares, collateral = (int(v) for v in self.market.position(self.market_id, borrower))
            found.append((totals.debt(shares), collateral))
        return found


def _mint(
    venue_chain: InProcessChain, roles: IssuerRoles, token: Contract, reserve: Contract, to: str, amount: int
) -> None:
    supply = int(token.totalSupply())
    reserve.update(supply + amount, venue_chain.timestamp(), sender=roles.attester)
    token.mint(to, amount, sender=roles.minter)


def build(rules: OracleSettings, data_dir: Path) -> Venue:
    """Deploy everything on a fresh in-process chain in Friday's session; fund it; borrow that evening."""
    issuance = issue(TICKER, ACCOUNTS, FRIDAY_OPEN)
    chain, roles, deployment = issuance.chain, issuance.roles, issuance.deployment
    accounts = chain.accounts
    registry = chain.at(deployment.identity_registry, compile_contract("compliance/IdentityRegistry.vy"))
    registry.set_investor(INVESTOR, 840, 2**40, True, sender=roles.registrar)
    borrowers = [accounts[FIRST_BORROWER + i] for i in range(len(COLLATERAL))]
    for wallet in (accounts[KEEPER], accounts[ARBITRAGEUR], accounts[PROVIDER]):
        registry.add_wallet(INVESTOR, wallet, sender=roles.registrar)
    for number, wallet in enumerate(borrowers, start=INVESTOR + 1):
        registry.set_investor(number, 840, 2**40, True, sender=roles.registrar)
        registry.add_wallet(number, wallet, sender=roles.registrar)
    usdc = deploy_test_usdc(chain, roles.admin)
    amm = deploy_amm(
        chain,
        roles.admin,
        usdc.address,
        deployment,
        [TICKER],
        registrar=roles.registrar,
        pool_investor=INVESTOR,
    )
    oracle_network = start_oracle(issuance, data_dir / "lending-gap.sqlite", FRIDAY_OPEN)
    feed, token = issuance.feed, issuance.token
    reserve = chain.at(issuance.instrument.reserve_feed, compile_contract("oracle/ReserveFeed.vy"))
    lending = deploy_lending(
        chain,
        roles.admin,
        usdc.address,
        deployment,
        [TICKER],
        oracle=rules,
        registrar=roles.registrar,
        market_investor=INVESTOR,
    )
    deployed = lending.market(TICKER)
    market = lending.contract(chain)
    oracle = lending.oracle(chain, TICKER)
    answer = int(feed.latestRoundStatus()[1])
    unit = 10 ** int(token.decimals())
    pool_stock = POOL_TOKENS * unit
    pool_usdc = POOL_TOKENS * answer // 100  # 1e-8 dollars per token -> 1e-6 dollars
    for holder, stock, dollars in (
        (accounts[PROVIDER], pool_stock, pool_usdc),
        (accounts[ARBITRAGEUR], pool_stock // 4, pool_usdc // 4),
    ):
        _mint(chain, roles, token, reserve, holder, stock)
        usdc.mint(holder, dollars, sender=roles.admin)
    pool = amm.pool(chain, TICKER)
    token.approve(pool.address, 2**256 - 1, sender=accounts[PROVIDER])
    usdc.approve(pool.address, 2**256 - 1, sender=accounts[PROVIDER])
    pool.add_liquidity(
        pool_stock, pool_usdc, 0, 0, accounts[PROVIDER], chain.timestamp() + 600, sender=accounts[PROVIDER]
    )
    usdc.mint(accounts[KEEPER], LENDER_USDC * USDC, sender=roles.admin)
    usdc.mint(accounts[LENDER], LENDER_USDC * USDC, sender=roles.admin)
    usdc.approve(market.address, 2**256 - 1, sender=accounts[LENDER])
    market.supply(deployed.params, LENDER_USDC * USDC, 0, accounts[LENDER], sender=accounts[LENDER])
    for borrower, whole in zip(borrowers, COLLATERAL, strict=True):
        _mint(chain, roles, token, reserve, borrower, whole * unit)
        token.approve(market.address, 2**256 - 1, sender=borrower)
        market.supply_collateral(deployed.params, whole * unit, borrower, sender=borrower)
    oracle_network.tick(FRIDAY_EVENING)
    price = int(oracle.price())
    _, cut = (int(v) for v in oracle.quote(1))
    borrow_ltv = deployed.parameters.lltv - cut
    for borrower, whole in zip(borrowers, COLLATERAL, strict=True):
        limit = maths.max_borrow(whole * unit, price, borrow_ltv)
        amount = int(Decimal(limit) * BORROW_FRACTION)
        market.borrow(deployed.params, amount, 0, borrower, borrower, sender=borrower)
    database_keeper = Database(sqlite_url(data_dir / "liquidation-keeper.sqlite"))
    database_keeper.migrate()
    arbitrage = ArbitrageKeeper(
        chain,
        accounts[ARBITRAGEUR],
        amm,
        {TICKER: issuance.instrument.price_feed},
        band_bps=BAND_BPS,
        closed_band_bps=CLOSED_BAND_BPS,
        max_trade_usdc=MAX_TRADE,
        tape=oracle_network.tape,
    )
    keeper = LiquidationKeeper(
        chain, accounts[KEEPER], lending, database_keeper, oracle_network.clock, amm=amm
    )
    return Venue(
        chain,
        roles,
        token,
        feed,
        usdc,
        market,
        oracle,
        deployed.params,
        deployed.id_bytes,
        deployed.parameters.lltv,
        cut,
        oracle_network,
        reserve,
        arbitrage,
        keeper,
        borrowers,
    )


def _times() -> list[datetime]:
    at = FRIDAY_EVENING + CLOSED_STEP
    times = []
    while at < MONDAY_OPEN:
        times.append(at)
        at += CLOSED_STEP
    at = MONDAY_OPEN
    while at <= END:
        times.append(at)
        at += timedelta(minutes=1) if at < MINUTE_UNTIL else STEP
    return times


def _ltv(debt: int, collateral: int, price: int) -> Decimal:
    value = maths.collateral_value(collateral, price)
    return Decimal(debt) / Decimal(value) if value else Decimal(0)


def replay(name: str, rules: OracleSettings, data_dir: Path) -> GapReplay:
    """Replay the gap under `rules`; return its figures."""
    data_dir.mkdir(parents=True, exist_ok=True)
    venue = build(rules, data_dir)
    try:
        price = venue.price()
        debts = venue.debts()
        first_debt, first_collateral = debts[0]
        result = GapReplay(
            name,
            rules.closed_ltv_cut * 10_000 // WAD,
            rules.grace_period,
            f"{_ltv(first_debt, first_collateral, price):.4f}",
            sum(d for d, _ in debts),
            "",
        )
        worst = Decimal(0)
        liquidations: list[tuple[datetime, Liquidation, int]] = []
        for at in _times():
            venue.oracle_network.tick(at)
            # The issuer attests custody on a schedule; nothing is minted here, so custody = supply.
            venue.reserve.update(int(venue.token.totalSupply()), unix(at), sender=venue.roles.attester)
            venue.arbitrage.tick()
            price = venue.price()
            if price:
                for debt, collateral in venue.debts():
                    if collateral:
                        worst = max(worst, _ltv(debt, collateral, price))
            report = venue.keeper.tick()
            for liquidation in report.liquidations:
                liquidations.append((at, liquidation, price))
            for sale in report.sales:
                result.sold_usdc += sale.received.units
                result.sold_oracle_value_usdc += sale.oracle_value.units
            for refusal in report.refusals:
                key = str(refusal.reason)
                result.refusals[key] = result.refusals.get(key, 0) + 1
        result.worst_ltv = f"{worst:.4f}"
        for at, liquidation, price in liquidations:
            value = maths.collateral_value(liquidation.seized.raw, price)
            minutes = (at - MONDAY_OPEN).total_seconds() / 60
            result.liquidations.append(
                LiquidationRecord(
                    at.isoformat(),
                    minutes,
                    liquidation.borrower,
                    f"{liquidation.health_factor:.4f}",
                    f"{liquidation.repaid.units / USDC:.2f}",
                    str(liquidation.seized.raw),
                    f"{value / USDC:.2f}",
                    f"{liquidation.bad_debt.units / USDC:.2f}",
                )
            )
            result.repaid_usdc += liquidation.repaid.units
            result.seized_value_usdc += value
            result.bad_debt_usdc += liquidation.bad_debt.units
            if result.first_liquidation_minutes is None:
                result.first_liquidation_minutes = minutes
        result.borrowers_loss_usdc = result.seized_value_usdc - result.repaid_usdc
        return result
    finally:
        venue.oracle_network.transmitter.close()


def main() -> int:
    """Print both rule sets' figures (``--json``: as one JSON object)."""
    with TemporaryDirectory() as tmp:
        default = replay("default rules", DEFAULT_RULES, Path(tmp) / "default")
        morpho = replay("Morpho-style rules", MORPHO_RULES, Path(tmp) / "morpho")
    if "--json" in sys.argv:
        print(json.dumps({"default": asdict(default), "morpho_style": asdict(morpho)}, indent=2))
    else:
        print(default.table())
        print(morpho.table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
