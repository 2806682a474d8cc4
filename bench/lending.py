"""Gas of supply, borrow, repay and liquidate: our ``LendingMarket`` against Morpho Blue 1.0.0, priced by
its ``OracleMock`` and by a real oracle.

The three venues lend the same test USDC (6 decimals) against the same AAPLx (8 decimals, an ``open``
stock token secure-minted against attested reserves) on one anvil node in one run, with the same
LLTV (0.5, AAPL's default), and every figure is the ``gasUsed`` of a real signed transaction's
receipt. Run::

    python bench/lending.py          # a table, with where the gas goes inside each transaction
    python bench/lending.py --json   # {"supply": g, "borrow": g, "repay": g, "liquidate": g,
                                     #  "morpho": {"supply": g, ...} or null,
                                     #  "morpho_real_oracle": {"supply": g, ...} or null}

- Ours: deployed as the platform deploys it (``deploy_lending``): ``LendingMarket`` with
  ``AdaptiveCurveIrm`` and a ``StockOracle`` over AAPLx's quorum ``PriceFeed`` with the venue's
  default ``OracleSettings`` (loan decimals 6, answers at most two hours old, a 10-point LTV cut
  while the stock's market is closed, a 5-minute liquidation grace after a reopening). The market
  asks the oracle's ``quote(action)``: a borrow checks the feed's round, status and age and the
  token's reserves (the reserve feed's round and heartbeat, the token's supply), a liquidation the
  feed's round and when the session opened.
- Morpho Blue with its mock (``morpho``): compiled from ``@morpho-org/morpho-blue@1.0.0`` with the
  npm ``solc`` 0.8.19 under Morpho's own settings (``bench/peers/morpho.py``), priced by the
  package's ``OracleMock`` ($200 as ``200 * 10**6 * 10**36 // 10**8``, one storage read).
- Morpho Blue with a real oracle (``morpho_real_oracle``): a second market on the same Morpho
  singleton (same tokens, IRM and LLTV; its own market id, so its totals and positions start from
  zero as the first market's did), whose oracle is a ``StockOracle`` of its own over the same AAPLx
  ``PriceFeed`` with the venue's guard limits, ``closed_ltv_cut`` 0 and ``grace_period`` 0. Morpho
  calls its ``IOracle.price()``, which is the price guard's read of the feed scaled to 1e36: one
  external call from the market into the oracle, one from the oracle into the feed for the round and
  its status, and the checks on them (a round exists, not halted, at most two hours old, within the
  band). None of ``quote``'s stock-specific rules run: no reserve-health reads, no closed-market cut,
  no reopening grace.

Why the real oracle is the like-for-like peer for the oracle: a Morpho market in production is not
priced by a storage slot but by an oracle contract that reads a feed (``MorphoChainlinkOracleV2``
calls a Chainlink-interface feed's ``latestRoundData``). The ``OracleMock`` column therefore
credits Morpho with a price that costs nothing to read, and the gap ours/mock mixes the cost of
reading any price with the cost of our stock rules. Priced by ``StockOracle.price()``, Morpho reads
the same feed contract with the same round decoding and guard that our market's oracle uses, so
ours/real is what our market and the stock-specific checks cost on top of an ordinary read of that
feed. It is an equivalent read, not a copy of a mainnet oracle's gas: ``MorphoChainlinkOracleV2``
uses only the answer (no age or band check), while a Chainlink feed is read through a proxy (one more
call); neither is reproduced here.

The IRM still differs: Morpho's AdaptiveCurveIrm (``morpho-org/morpho-blue-irm``) is on no package
registry, so both Morpho markets rate with the package's ``IrmMock`` (stateless), where ours and
Morpho's adaptive IRM store the rate at target on every accrual. The table also shows an estimate,
not a measurement, of each ratio had Morpho's IRM call cost what our ``AdaptiveCurveIrm``'s call
measured in the same transaction does (``irm_adjusted``). ``morpho`` and ``morpho_real_oracle`` are
``null`` (with the reason on stderr) only if npm cannot install or solc-js cannot compile the
packages.

The scenario, the same on every venue, each venue with its own five accounts funded alike (so
every token balance a transaction writes goes from the same value to the same value on each):
lender A supplies 1,000,000 USDC; borrower B posts 100 AAPLx and borrows 2,000 USDC; borrower D
posts 100 AAPLx. Then the measured operations, each one hour after the one before, so interest
accrues in each:

- ``supply``: lender C supplies 100,000 USDC by assets, a first position;
- ``borrow``: D borrows 9,000 USDC by assets, a first borrow (45% LTV at $200);
- ``repay``: D repays 1,000 USDC by assets;
- ``liquidate``: AAPL falls to $150 (D is then over the 0.5 LLTV) and liquidator E repays half
  of D's borrow shares.

Every account approved its venue for an unlimited amount beforehand, so no measured transaction
writes an allowance. One clock serves all three: at each hour the price feed's reporter signs a
round (which both ``StockOracle``s read; the ``OracleMock`` is set to the same price a second
later), then our venue acts 12 s after the round, Morpho's mock-priced market 24 s after and its
real-oracle market 36 s after, so each venue accrues over exactly the same interval. The table's
second part traces each transaction (anvil's ``callTracer``) for the gas spent inside the oracle,
the IRM and each token: the tokens' share must come out equal on every venue, and the two Morpho
markets differ only in the oracle's. The fall to $150 goes through the feed in rounds of at most 10%
(its bound per round: $180, $162, $150); it happens within an open session, so our reopening grace
does not apply. The target: ours within 1.2x of Morpho Blue's gas on every operation, while doing
the stock-specific checks; the table gives the verdict against each Morpho configuration.
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
from equitoken.venues.lending.contracts import oracle_artifact
from equitoken.venues.lending.deployment import deploy_lending
from equitoken.venues.lending.parameters import DEFAULT_MARKET_PARAMETERS, OracleSettings

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.peers import morpho
from bench.peers.npm import PeerPackageError

TICKER = "AAPL"
SHARE = 10**8  # AAPLx has 8 decimals, and so has its price feed
USDC = 10**6
LLTV = DEFAULT_MARKET_PARAMETERS[TICKER].lltv
"""AAPL's default LLTV (0.5, Kamino's liquidation threshold for AAPLx), enabled on every venue."""
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
VENUES = 3
ACCOUNTS = 10 + 5 * VENUES  # ten issuer roles, then five actors for each venue
OPERATIONS = ("supply", "borrow", "repay", "liquidate")
TARGET = 1.2
"""Ours may use at most this multiple of Morpho Blue's gas on each operation."""
PEERS = {
    "morpho": "Morpho Blue with its OracleMock",
    "morpho_real_oracle": "Morpho Blue with a real oracle (StockOracle.price)",
}
"""The Morpho Blue configurations measured, by their key in ``Report.gas`` and in the JSON."""
REAL_ORACLE = OracleSettings(closed_ltv_cut=0, grace_period=0)
"""The ``StockOracle`` Morpho's second market reads: the venue's guard limits (answers at most two
hours old, any positive price), no closed-market cut and no grace. ``price()`` ignores both anyway;
they are zero so that nothing of the stock-specific rules is even configured."""

Figures = dict[str, dict[str, int]]
"""Gas by venue ("ours", "morpho", "morpho_real_oracle"), then by operation."""


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
    """The chain, the tokens and the price feed the venues share, and the clock of the scenario."""

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
    """Deploy the issuance and the test USDC, open AAPL at $200, and fund each venue's actors alike."""
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
    actors = [Actors(*accounts[10 + 5 * i : 15 + 5 * i]) for i in range(VENUES)]
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


def deploy_morpho_real_oracle(session: Session, peer: morpho.MorphoBlue) -> morpho.MorphoBlue:
    """Create on ``peer``'s Morpho a second market, the same but priced by a ``StockOracle`` of its own over
    AAPLx's ``PriceFeed`` (``REAL_ORACLE``): Morpho calls its ``price()``, the guard's read of the feed."""
    chain, admin = session.chain, session.roles.admin
    artifact = oracle_artifact()
    oracle = chain.at(
        chain.deploy(
            artifact,
            session.feed.address,
            int(session.usdc.decimals()),
            REAL_ORACLE.max_age,
            REAL_ORACLE.min_answer,
            REAL_ORACLE.max_answer,
            REAL_ORACLE.closed_ltv_cut,
            REAL_ORACLE.grace_period,
            admin,
            sender=admin,
        ),
        artifact,
        "AAPLx StockOracle for Morpho",
    )
    if int(oracle.price()) != price_1e36(session.price):
        raise RuntimeError(f"the StockOracle reads {oracle.price()}, not ${session.price} in Morpho's scale")
    return morpho.create_market(peer, oracle, admin)


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
    """Start a fresh anvil node, deploy the venues and run the scenario on each; return the figures."""
    with AnvilNode(accounts=ACCOUNTS) as node, node.chain() as chain:
        session, (ours_actors, morpho_actors, real_oracle_actors) = set_up(chain, node.accounts)
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
            real = deploy_morpho_real_oracle(session, peer)
            venues += [(peer, morpho_actors), (real, real_oracle_actors)]
            names += ["morpho", "morpho_real_oracle"]
            for market in (peer, real):
                session.labels |= {market.oracle.address.lower(): "oracle", market.irm.address.lower(): "IRM"}
        for venue, actors in venues:
            approve(session, venue.address, actors)

        session.base = chain.timestamp() + BLOCK_SECONDS
        for _, action in SET_UP:
            step(session, venues, action)
            session.base += BLOCK_SECONDS * (len(venues) + 1)

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
    # The venues must have done the same thing: D's debt halved and close collateral seized.
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
    """Return the JSON figures: ours per operation, then each Morpho Blue configuration's (or ``None``)."""
    figures: dict[str, Any] = {operation: report.gas["ours"][operation] for operation in OPERATIONS}
    for peer in PEERS:
        figures[peer] = dict(report.gas[peer]) if peer in report.gas else None
    return figures


def irm_adjusted(report: Report, peer: str = "morpho") -> dict[str, float]:
    """Return ours/``peer`` per operation with Morpho's IRM call costing what ours does: an estimate,
    not a measurement (Morpho's AdaptiveCurveIrm, a Solidity build of the same maths, is on no registry
    and cannot be deployed here, so the IrmMock's call is swapped for our IRM's measured call)."""
    ratios = {}
    for operation in OPERATIONS:
        ours_irm = report.inside["ours"][operation].get("IRM", 0)
        their_irm = report.inside[peer][operation].get("IRM", 0)
        theirs = report.gas[peer][operation] + ours_irm - their_irm
        ratios[operation] = report.gas["ours"][operation] / theirs
    return ratios


def render(report: Report) -> str:
    """Return a table of each operation on every venue with ours/each Morpho Blue configuration, then
    where the gas goes."""
    peers = [peer for peer in PEERS if peer in report.gas]
    columns = [("Morpho mock", "ours/mock"), ("Morpho real", "ours/real")]
    lines = [f"{'operation':<11}{'what':<42}{'ours':>10}" + "".join(f"{a:>13}{b:>11}" for a, b in columns)]
    misses: dict[str, list[str]] = {peer: [] for peer in peers}
    for operation in OPERATIONS:
        ours = report.gas["ours"][operation]
        row = f"{operation:<11}{MEASURED[operation][0]:<42}{ours:>10,}"
        for peer in PEERS:
            if peer not in report.gas:
                row += f"{'-':>13}{'-':>11}"
                continue
            theirs = report.gas[peer][operation]
            if ours / theirs > TARGET:
                misses[peer].append(operation)
            row += f"{theirs:>13,}{ours / theirs:>10.3f}x"
        lines.append(row)
    lines.append("")
    if not peers:
        lines.append(f"Morpho Blue not measured: {report.morpho_unavailable}")
    else:
        lines.append(
            "Morpho mock: Morpho Blue 1.0.0 priced by its OracleMock (one storage read).\n"
            "Morpho real: the same Morpho, a second market (own id, own accounts) priced by a\n"
            "  StockOracle over the same AAPLx PriceFeed, cut 0, grace 0: Morpho calls its price(),\n"
            "  the guard's read of the feed (call, round, status, age, band), none of quote's stock rules."
        )
        lines.append(
            f"Both rate with Morpho's {morpho.IRM} (stateless; its AdaptiveCurveIrm is on no registry)."
        )
        verdicts = [
            f"{'against its OracleMock:' if peer == 'morpho' else 'with a real oracle:'} "
            + ("meets" if not misses[peer] else f"misses ({', '.join(misses[peer])})")
            for peer in peers
        ]
        lines.append(f"target: ours within {TARGET}x of Morpho Blue on every operation:")
        lines += [f"  {verdict}" for verdict in verdicts]
        lines.append("estimate (not measured), had Morpho's IRM call cost what our AdaptiveCurveIrm's does:")
        for peer in peers:
            lines.append(
                f"  ours/{'mock' if peer == 'morpho' else 'real'}: "
                + ", ".join(
                    f"{operation} {ratio:.3f}x" for operation, ratio in irm_adjusted(report, peer).items()
                )
            )
    labels = ["oracle", "IRM", "USDC", "AAPLx", "other", "market"]
    lines += [
        "",
        "inside each transaction (gas used in each callee; market = the rest, intrinsic gas included)",
    ]
    short = {"ours": "ours", "morpho": "Morpho mock", "morpho_real_oracle": "Morpho real"}
    lines.append(f"{'operation':<11}{'venue':<13}" + "".join(f"{label:>9}" for label in labels))
    for operation in OPERATIONS:
        for name, by_operation in report.inside.items():
            spent = by_operation[operation]
            lines.append(
                f"{operation:<11}{short.get(name, name):<13}"
                + "".join(f"{spent.get(label, 0):>9,}" for label in labels)
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
