"""Gas of supply, borrow, repay and liquidate: our ``LendingMarket`` against Morpho Blue 1.0.0.

Both venues lend the same test USDC (6 decimals) against the same AAPLx (8 decimals, an ``open``
stock token secure-minted against attested reserves) on one anvil node in one run, with the same
LLTV (0.5, AAPL's default), and every figure is the ``gasUsed`` of a real signed transaction's
receipt. Run::

    python bench/lending.py          # a table, with where the gas goes inside each transaction
    python bench/lending.py --json   # {"supply": g, "borrow": g, "repay": g, "liquidate": g,
                                     #  "morpho": {"supply": g, ...} or null}

- Ours: deployed as the platform deploys it (``deploy_lending``): ``LendingMarket`` with
  ``AdaptiveCurveIrm`` and a ``StockOracle`` over AAPLx's quorum ``PriceFeed`` with the venue's
  default ``OracleSettings`` (loan decimals 6, answers at most two hours old, a 10-point LTV cut
  while the stock's market is closed, a 5-minute liquidation grace after a reopening), so a borrow
  checks the feed's round, status and age and the token's reserves, and a liquidation the session.
- Morpho Blue: compiled from ``@morpho-org/morpho-blue@1.0.0`` with the npm ``solc`` 0.8.19 under
  Morpho's own settings (``bench/peers/morpho.py``), priced by the package's ``OracleMock``
  ($200 as ``200 * 10**6 * 10**36 // 10**8``) and rated by its ``IrmMock``: Morpho's
  AdaptiveCurveIrm is on no package registry, so the table also shows the ratios had Morpho's IRM
  call cost what ours does. ``morpho`` is ``null`` (with the reason on stderr) only if npm cannot
  install or solc-js cannot compile the packages.

The scenario, the same on both venues, each venue with its own five accounts funded alike (so
every token balance a transaction writes goes from the same value to the same value on both):
lender A supplies 1,000,000 USDC; borrower B posts 100 AAPLx and borrows 2,000 USDC; borrower D
posts 100 AAPLx. Then the measured operations, each one hour after the one before, so interest
accrues in each:

- ``supply``: lender C supplies 100,000 USDC by assets, a first position;
- ``borrow``: D borrows 9,000 USDC by assets, a first borrow (45% LTV at $200);
- ``repay``: D repays 1,000 USDC by assets;
- ``liquidate``: AAPL falls to $150 (D is then over the 0.5 LLTV) and liquidator E repays half
  of D's borrow shares.

Every account approved its venue for an unlimited amount beforehand, so no measured transaction
writes an allowance. One clock serves both: at each hour the price feed's reporter signs a round
(which our oracle reads; Morpho's ``OracleMock`` is set to the same price a second later), then our
venue acts 12 s after the round and Morpho 24 s after, so each venue accrues over exactly the same
interval. The table's second part traces each transaction (anvil's ``callTracer``) for the gas
spent inside the oracle, the IRM and each token: the tokens' share must come out equal.
The fall to $150 goes through the feed in rounds of at most 10% (its bound per round: $180, $162,
$150); it happens within an open session, so our reopening grace does not apply. The target: ours
within 1.2x of Morpho Blue's gas on every operation, while doing the stock-specific checks.
"""

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuanceDeployment, IssuerRoles, deploy_issuance
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.chain.evm.types import Receipt
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.onchain import deploy_test_usdc
from equitoken.model.quantities import Price
from equitoken.oracle.observation import FeedId, MarketStatus, Observation
from equitoken.venues.lending.deployment import deploy_lending
from equitoken.venues.lending.parameters import DEFAULT_MARKET_PARAMETERS

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.peers import morpho
from bench.peers.npm import PeerPackageError

TICKER = "AAPL"
SHARE = 10**8  # AAPLx has 8 decimals, and so has its price feed
USDC = 10**6
LLTV = DEFAULT_MARKET_PARAMETERS[TICKER].lltv
"""AAPL's default LLTV (0.5, Kamino's liquidation threshold for AAPLx), enabled on both venues."""
PRICE = 200
CRASH_PRICE = 150
MAX_MOVE = 0.10
"""The price feed's bound on a round's move (Backed's default, ``PriceFeed.max_move_bps``)."""

LENDER_A_USDC = 1_000_000 * USDC
COLLATERAL = 100 * SHARE
B_BORROW = 2_000 * USDC
C_SUPPLY = 100_000 * USDC
D_BORROW = 9_000 * USDC
D_REPAY = 1_000 * USDC
# Balances each account starts with, large enough that no measured transfer empties one.
FUNDING_USDC = 2 * LENDER_A_USDC
FUNDING_SHARES = 2 * COLLATERAL
RESERVES = 10_000 * SHARE
UNLIMITED = 2**256 - 1

HOUR = 3_600
BLOCK_SECONDS = 12
ACCOUNTS = 20  # ten issuer roles, then five actors for each venue
OPERATIONS = ("supply", "borrow", "repay", "liquidate")
TARGET = 1.2
"""Ours may use at most this multiple of Morpho Blue's gas on each operation."""

Figures = dict[str, dict[str, int]]
"""Gas by venue ("ours", "morpho"), then by operation."""


def price_1e36(dollars: int) -> int:
    """Return a dollar price of one AAPLx in Morpho's oracle scale: USDC units per AAPLx unit, x 1e36."""
    return dollars * USDC * morpho.ORACLE_PRICE_SCALE // SHARE


class Venue(Protocol):
    """A lending market of USDC against AAPLx at LLTV 0.5, as the scenario drives it."""

    @property
    def address(self) -> str: ...
    def supply(self, lender: str, assets: int) -> Receipt: ...
    def supply_collateral(self, borrower: str, assets: int) -> Receipt: ...
    def borrow(self, borrower: str, assets: int) -> Receipt: ...
    def repay(self, borrower: str, assets: int) -> Receipt: ...
    def liquidate(self, liquidator: str, borrower: str, repaid_shares: int) -> Receipt: ...
    def set_price(self, price: int, sender: str) -> Receipt | None: ...
    def position(self, user: str) -> tuple[int, int, int]: ...
    def borrow_shares(self, user: str) -> int: ...


@dataclass(frozen=True)
class OurMarket:
    """Our ``LendingMarket`` with one market of USDC against AAPLx, its ``StockOracle`` and IRM."""

    chain: JsonRpcChain
    market: Contract
    oracle: Contract
    irm: Contract
    params: tuple[str, str, str, str, int]
    market_id: bytes

    def supply(self, lender: str, assets: int) -> Receipt:
        """Supply ``assets`` of USDC for ``lender``, from ``lender``."""
        return self.market.supply.transact(self.params, assets, 0, lender, sender=lender)

    def supply_collateral(self, borrower: str, assets: int) -> Receipt:
        """Post ``assets`` of AAPLx for ``borrower``, from ``borrower``."""
        return self.market.supply_collateral.transact(self.params, assets, borrower, sender=borrower)

    def borrow(self, borrower: str, assets: int) -> Receipt:
        """Borrow ``assets`` of USDC against ``borrower``'s AAPLx, to ``borrower``."""
        return self.market.borrow.transact(self.params, assets, 0, borrower, borrower, sender=borrower)

    def repay(self, borrower: str, assets: int) -> Receipt:
        """Repay ``assets`` of ``borrower``'s debt, from ``borrower``."""
        return self.market.repay.transact(self.params, assets, 0, borrower, sender=borrower)

    def liquidate(self, liquidator: str, borrower: str, repaid_shares: int) -> Receipt:
        """Repay ``repaid_shares`` of ``borrower``'s debt and seize AAPLx for it, from ``liquidator``."""
        return self.market.liquidate.transact(self.params, borrower, 0, repaid_shares, sender=liquidator)

    @property
    def address(self) -> str:
        """Return the address users approve: the ``LendingMarket``."""
        return self.market.address

    def set_price(self, price: int, sender: str) -> None:
        """Send nothing: the ``StockOracle`` reads the price feed, whose rounds the session transmits."""

    def position(self, user: str) -> tuple[int, int, int]:
        """Return ``user``'s supply shares, borrow shares and collateral."""
        supply_shares, borrow_shares, collateral = self.market.position(self.market_id, user)
        return int(supply_shares), int(borrow_shares), int(collateral)

    def borrow_shares(self, user: str) -> int:
        """Return ``user``'s borrow shares."""
        return self.position(user)[1]


@dataclass(frozen=True)
class Actors:
    """One venue's accounts: lenders A and C, borrowers B and D, liquidator E."""

    lender_a: str
    borrower_b: str
    lender_c: str
    borrower_d: str
    liquidator_e: str


@dataclass
class Session:
    """The chain, the tokens and the price feed both venues share, and the clock of the scenario."""

    chain: JsonRpcChain
    roles: IssuerRoles
    issuance: IssuanceDeployment
    feed: Contract
    token: Contract
    usdc: Contract
    price: int = PRICE
    round_id: int = 1
    base: int = 0
    """The timestamp of the current step's first block."""
    labels: dict[str, str] = field(default_factory=dict)
    """Contracts by lowercase address, for the breakdown of each transaction's calls."""

    def transmit(self, dollars: int, observed_at: int) -> None:
        """Have the price updater sign an OPEN round of AAPLx at ``dollars``, mined at ``observed_at``."""
        self.chain.set_next_block_timestamp(observed_at)
        observation = Observation(
            FeedId(self.chain.chain_id, self.feed.address),
            self.round_id,
            Price(dollars * SHARE),
            MarketStatus.OPEN,
            observed_at,
        )
        signed = observation.sign(self.chain.signers.get(self.roles.price_updater))
        self.feed.transmit(self.round_id, [signed.as_call_argument()], sender=self.roles.price_updater)
        self.round_id += 1
        self.price = dollars


Action = Callable[[Venue, Actors], Receipt]


def set_up(chain: JsonRpcChain, accounts: list[str]) -> tuple[Session, list[Actors]]:
    """Deploy the issuance and the test USDC, open AAPL at $200, and fund two venues' actors."""
    roles = IssuerRoles.from_accounts(accounts)
    instruments = [i for i in load_catalogue() if i.ticker == TICKER]
    deployment = deploy_issuance(chain, roles, instruments)
    instrument = deployment.instrument(TICKER)
    token = chain.at(instrument.token, compile_contract("token/StockToken.vy"))
    usdc = deploy_test_usdc(chain, roles.admin)
    feed = chain.at(instrument.price_feed, compile_contract("oracle/PriceFeed.vy"))
    session = Session(chain, roles, deployment, feed, token, usdc)
    session.transmit(PRICE, chain.timestamp() + BLOCK_SECONDS)
    reserve_feed = chain.at(instrument.reserve_feed, compile_contract("oracle/ReserveFeed.vy"))
    reserve_feed.update(RESERVES, chain.timestamp(), sender=roles.attester)
    actors = [Actors(*accounts[10:15]), Actors(*accounts[15:20])]
    for group in actors:
        for account in (group.borrower_b, group.borrower_d):
            token.mint(account, FUNDING_SHARES, sender=roles.minter)
        for account in (group.lender_a, group.lender_c, group.liquidator_e):
            usdc.mint(account, FUNDING_USDC, sender=roles.admin)
    session.labels = {token.address.lower(): "AAPLx", usdc.address.lower(): "USDC"}
    return session, actors


def deploy_ours(session: Session) -> OurMarket:
    """Deploy the lending venue with AAPL's market as the platform does (``deploy_lending``)."""
    chain = session.chain
    lending = deploy_lending(chain, session.roles.admin, session.usdc.address, session.issuance, [TICKER])
    market = lending.market(TICKER)
    irm = lending.irm_contract(chain)
    if market.lltv != LLTV or irm is None:
        raise RuntimeError(f"deploy_lending made {market}: not AAPL's market with interest at LLTV {LLTV}")
    return OurMarket(
        chain, lending.contract(chain), lending.oracle(chain, TICKER), irm, market.params, market.id_bytes
    )


def approve(session: Session, venue_address: str, group: Actors) -> None:
    """Have every actor of ``group`` approve ``venue_address`` for unlimited USDC and AAPLx."""
    for account in (group.lender_a, group.borrower_b, group.lender_c, group.borrower_d, group.liquidator_e):
        for asset in (session.token, session.usdc):
            asset.approve(venue_address, UNLIMITED, sender=account)


def step(session: Session, venues: list[tuple[Venue, Actors]], action: Action) -> list[Receipt]:
    """Run ``action`` on each venue in its own block, venue i at ``base + 12 * (i + 1)`` seconds."""
    receipts = []
    for index, (venue, actors) in enumerate(venues):
        session.chain.set_next_block_timestamp(session.base + BLOCK_SECONDS * (index + 1))
        receipts.append(action(venue, actors))
    return receipts


def next_hour(session: Session, venues: list[tuple[Venue, Actors]], dollars: int) -> None:
    """Move the clock an hour on and price AAPL at ``dollars`` on every venue, in rounds of at most 10%."""
    session.base += HOUR
    stops = []
    price = session.price
    while price != dollars:
        bound = int(price * MAX_MOVE)
        price = max(dollars, price - bound) if dollars < price else min(dollars, price + bound)
        stops.append(price)
    moment = session.base
    for stop in stops or [dollars]:
        session.transmit(stop, moment)
        moment += 1
    if session.price != dollars:
        raise RuntimeError(f"the feed stopped at ${session.price}, not ${dollars}")
    for venue, _ in venues:
        session.chain.set_next_block_timestamp(moment)
        if venue.set_price(price_1e36(dollars), session.roles.admin) is not None:
            moment += 1
    if moment >= session.base + BLOCK_SECONDS:
        raise RuntimeError("the price rounds overran the first venue's block")


SET_UP: tuple[tuple[str, Action], ...] = (
    ("A supplies 1,000,000 USDC", lambda v, a: v.supply(a.lender_a, LENDER_A_USDC)),
    ("B posts 100 AAPLx", lambda v, a: v.supply_collateral(a.borrower_b, COLLATERAL)),
    ("B borrows 2,000 USDC", lambda v, a: v.borrow(a.borrower_b, B_BORROW)),
    ("D posts 100 AAPLx", lambda v, a: v.supply_collateral(a.borrower_d, COLLATERAL)),
)

MEASURED: dict[str, tuple[str, int, Action]] = {
    "supply": (
        "C supplies 100,000 USDC (first position)",
        PRICE,
        lambda v, a: v.supply(a.lender_c, C_SUPPLY),
    ),
    "borrow": ("D borrows 9,000 USDC (first borrow)", PRICE, lambda v, a: v.borrow(a.borrower_d, D_BORROW)),
    "repay": ("D repays 1,000 USDC", PRICE, lambda v, a: v.repay(a.borrower_d, D_REPAY)),
    "liquidate": (
        "at $150, E repays half of D's shares",
        CRASH_PRICE,
        lambda v, a: v.liquidate(a.liquidator_e, a.borrower_d, v.borrow_shares(a.borrower_d) // 2),
    ),
}
"""Each measured operation: what it does, AAPL's price in its hour, and the action."""


@dataclass(frozen=True)
class Report:
    """The gas of each operation on each venue, and the gas of the calls inside each transaction."""

    gas: Figures
    inside: dict[str, dict[str, dict[str, int]]]
    """By venue, then operation: gas used inside each contract the market called, and the rest."""
    morpho_unavailable: str | None = None


def measure() -> Report:
    """Start a fresh anvil node, deploy both venues and run the scenario on both; return the figures."""
    with AnvilNode(accounts=ACCOUNTS) as node, node.chain() as chain:
        session, (ours_actors, morpho_actors) = set_up(chain, node.accounts)
        ours = deploy_ours(session)
        venues: list[tuple[Venue, Actors]] = [(ours, ours_actors)]
        names = ["ours"]
        session.labels |= {ours.oracle.address.lower(): "oracle", ours.irm.address.lower(): "IRM"}
        unavailable = None
        try:
            peer = morpho.deploy(
                chain,
                session.roles.admin,
                session.usdc.address,
                session.token.address,
                lltv=LLTV,
                price=price_1e36(PRICE),
            )
        except PeerPackageError as exc:
            unavailable = str(exc)
        else:
            venues.append((peer, morpho_actors))
            names.append("morpho")
            session.labels |= {peer.oracle.address.lower(): "oracle", peer.irm.address.lower(): "IRM"}
        for venue, actors in venues:
            approve(session, venue.address, actors)

        session.base = chain.timestamp() + BLOCK_SECONDS
        for _, action in SET_UP:
            step(session, venues, action)
            session.base += 3 * BLOCK_SECONDS

        gas: Figures = {name: {} for name in names}
        inside: dict[str, dict[str, dict[str, int]]] = {name: {} for name in names}
        for operation, (_, dollars, action) in MEASURED.items():
            next_hour(session, venues, dollars)
            for name, receipt in zip(names, step(session, venues, action), strict=True):
                gas[name][operation] = receipt.gas_used
                inside[name][operation] = _inside(session, receipt)
        _check_same_outcome(venues)
        _check_same_token_costs(inside)
    return Report(gas, inside, unavailable)


def _inside(session: Session, receipt: Receipt) -> dict[str, int]:
    # The call tracer's frames one level below the market: the gas each callee used, by its label.
    trace: dict[str, Any] = session.chain.request(
        "debug_traceTransaction", receipt.tx_hash, {"tracer": "callTracer"}
    )
    spent: dict[str, int] = {}
    for call in trace.get("calls", []):
        label = session.labels.get(str(call.get("to", "")).lower(), "other")
        spent[label] = spent.get(label, 0) + int(str(call.get("gasUsed", "0x0")), 16)
    spent["market"] = receipt.gas_used - sum(spent.values())
    return spent


def _check_same_outcome(venues: list[tuple[Venue, Actors]]) -> None:
    # Both venues must have done the same thing: D's debt halved and close collateral seized.
    positions = [venue.position(actors.borrower_d) for venue, actors in venues]
    for (_, borrow_shares, collateral), (venue, _) in zip(positions, venues, strict=True):
        if not 0 < collateral < COLLATERAL or borrow_shares == 0:
            raise RuntimeError(f"{type(venue).__name__}: D's position after the liquidation is {positions}")
    collaterals = [collateral for _, _, collateral in positions]
    if max(collaterals) - min(collaterals) > COLLATERAL // 1_000:
        raise RuntimeError(
            f"the liquidation left D with {collaterals} AAPLx units: the venues did not liquidate alike"
        )


def _check_same_token_costs(inside: dict[str, dict[str, dict[str, int]]]) -> None:
    # The tokens moved the same amounts between accounts in the same states: any gap would be
    # counted against one venue's market logic.
    for operation in OPERATIONS:
        spent = {
            name: {t: by_op[operation].get(t, 0) for t in ("USDC", "AAPLx")} for name, by_op in inside.items()
        }
        if len({json.dumps(tokens, sort_keys=True) for tokens in spent.values()}) > 1:
            raise RuntimeError(f"{operation}: the tokens cost differently on the venues ({spent})")


def headline(report: Report) -> dict[str, Any]:
    """Return the JSON figures: ours per operation, and Morpho Blue's (or ``None``)."""
    figures: dict[str, Any] = {operation: report.gas["ours"][operation] for operation in OPERATIONS}
    figures["morpho"] = dict(report.gas["morpho"]) if "morpho" in report.gas else None
    return figures


def irm_adjusted(report: Report) -> dict[str, float]:
    """Return ours/Morpho per operation with Morpho's IRM call costing what ours does (an estimate:
    Morpho's AdaptiveCurveIrm, a Solidity build of the same maths, cannot be deployed here)."""
    ratios = {}
    for operation in OPERATIONS:
        ours_irm = report.inside["ours"][operation].get("IRM", 0)
        their_irm = report.inside["morpho"][operation].get("IRM", 0)
        theirs = report.gas["morpho"][operation] + ours_irm - their_irm
        ratios[operation] = report.gas["ours"][operation] / theirs
    return ratios


def render(report: Report) -> str:
    """Return a table of each operation on both venues with the ratio, then where the gas goes."""
    peer = report.gas.get("morpho")
    lines = [f"{'operation':<11}{'what':<42}{'ours':>10}{'Morpho Blue':>13}{'ours/Morpho':>13}"]
    misses = []
    for operation in OPERATIONS:
        what = MEASURED[operation][0]
        ours = report.gas["ours"][operation]
        if peer is None:
            lines.append(f"{operation:<11}{what:<42}{ours:>10,}{'-':>13}{'-':>13}")
            continue
        theirs = peer[operation]
        ratio = ours / theirs
        if ratio > TARGET:
            misses.append(operation)
        lines.append(f"{operation:<11}{what:<42}{ours:>10,}{theirs:>13,}{ratio:>12.3f}x")
    lines.append("")
    if peer is None:
        lines.append(f"Morpho Blue not measured: {report.morpho_unavailable}")
    else:
        verdict = "meets" if not misses else f"misses ({', '.join(misses)})"
        lines.append(f"target: ours within {TARGET}x of Morpho Blue on every operation: {verdict}")
        lines.append(
            f"Morpho Blue rates with its {morpho.IRM} (stateless; its AdaptiveCurveIrm is on no package "
            "registry)\nand prices with its OracleMock (one storage read)."
        )
        like_for_like = irm_adjusted(report)
        lines.append(
            "estimate, had Morpho's IRM cost what our AdaptiveCurveIrm does: ours/Morpho "
            + ", ".join(f"{operation} {ratio:.3f}x" for operation, ratio in like_for_like.items())
        )
    labels = ["oracle", "IRM", "USDC", "AAPLx", "other", "market"]
    lines += [
        "",
        "inside each transaction (gas used in each callee; market = the rest, intrinsic gas included)",
    ]
    lines.append(f"{'operation':<11}{'venue':<8}" + "".join(f"{label:>9}" for label in labels))
    for operation in OPERATIONS:
        for name, by_operation in report.inside.items():
            spent = by_operation[operation]
            lines.append(
                f"{operation:<11}{name:<8}" + "".join(f"{spent.get(label, 0):>9,}" for label in labels)
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object of the figures")
    args = parser.parse_args(argv)
    report = measure()
    if report.morpho_unavailable is not None:
        print(f"Morpho Blue not measured: {report.morpho_unavailable}", file=sys.stderr)
    print(json.dumps(headline(report)) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
