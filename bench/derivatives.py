"""Gas of the perpetual's open, close and liquidate and of the synthetic's mint, burn and liquidate, as
transactions on anvil; CFD orders per second.

The perpetuals venue and the synthetic are deployed as the platform deploys them (``deploy_perps``,
``deploy_synths``) over AAPLx's quorum ``PriceFeed`` on one anvil node, with test USDC; every gas figure
is the ``gasUsed`` of a real signed transaction's receipt. Run::

    python bench/derivatives.py          # a table
    python bench/derivatives.py --json   # {"perp": {"open": g, "close": g, "liquidate": g},
                                         #  "synth": {"mint": g, "burn": g, "liquidate": g},
                                         #  "cfd_orders_per_s": x}

The scenario, AAPL at $200 in an open session:

- perpetual: an LP deposits 1,000,000 USDC into the vault; trader A opens a 10x long of 10,000 USDC
  (so the market's open interest and funding are not written from zero by the measured trader); then
  ``open``: trader B opens a 10x long of 10,000 USDC with a stop-loss; an hour later ``close``: B
  closes the whole position (funding accrued for the hour is settled); then AAPL falls to $181 in
  rounds of at most 10% and ``liquidate``: a keeper liquidates A (equity below notional / 20);
- synthetic: minter M opens a position of 30,000 USDC minting 50 sAAPL (a 300% ratio), and minter N
  one of 3,100 USDC minting 10 sAAPL; ``mint``: M mints 5 sAAPL more; ``burn``: M burns 5 sAAPL; then
  AAPL rises to $230 (N falls below 150%) and ``liquidate``: M burns 5 sAAPL of N's debt for its
  collateral plus the 10% penalty.

Each measured transaction follows one of the same kind by another account, so each writes what a
steady market writes (a new position's slots from zero, totals from non-zero to non-zero).

CFD orders per second: ``measure_orders_per_second`` (``venues/cfd/throughput.py``): 20,000 market
orders (half opens, half closes) by 100 accounts on 4 instruments, journaled to a file synced every
1,000 orders, as the platform runs the venue; beside it the same orders without a journal, the
reference in the same process, so the table shows what durability costs.

No peer is measured: gTrade, Ostium and Synthetix's perps and synths are on no package registry as
compilable sources with their oracles (Synthetix's `synthetix` npm package needs its whole resolver
system), and Mirror ran on CosmWasm.
"""

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuanceDeployment, IssuerRoles, deploy_issuance
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.issuer.catalogue import load_catalogue
from equitoken.issuer.onchain import deploy_test_usdc
from equitoken.model.quantities import Price
from equitoken.oracle.observation import FeedId, MarketStatus, Observation
from equitoken.venues.cfd.throughput import measure_orders_per_second
from equitoken.venues.exchange.journal import FsyncPolicy
from equitoken.venues.perps.deployment import deploy_perps
from equitoken.venues.synths.deployment import deploy_synths

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TICKER = "AAPL"
PRICE_UNIT = 10**8
USDC = 10**6
WAD = 10**18
PRICE = 200
PERP_CRASH = 181
SYNTH_RISE = 230
MAX_MOVE = 0.10
HOUR = 3_600
BLOCK_SECONDS = 12
ACCOUNTS = 20
LP, TRADER_A, TRADER_B, KEEPER, MINTER_M, MINTER_N = 10, 11, 12, 13, 14, 15
CFD_ORDERS = 20_000
PERP_OPERATIONS = ("open", "close", "liquidate")
SYNTH_OPERATIONS = ("mint", "burn", "liquidate")


@dataclass
class Session:
    """The chain, the feed and the clock of the scenario."""

    chain: JsonRpcChain
    roles: IssuerRoles
    issuance: IssuanceDeployment
    feed: Contract
    usdc: Contract
    now: int = 0
    price: int = PRICE
    round_id: int = 1

    def transmit(self, dollars: int) -> None:
        """Sign an OPEN round of AAPLx at ``dollars`` observed in the next block."""
        self.next_block()
        at = self.now
        observation = Observation(
            FeedId(self.chain.chain_id, self.feed.address),
            self.round_id,
            Price(dollars * PRICE_UNIT),
            MarketStatus.OPEN,
            at,
        )
        signed = observation.sign(self.chain.signers.get(self.roles.price_updater))
        self.feed.transmit(self.round_id, [signed.as_call_argument()], sender=self.roles.price_updater)
        self.round_id += 1
        self.price = dollars

    def move_to(self, dollars: int) -> None:
        """Take AAPL to ``dollars`` in rounds of at most the feed's 10% bound, an hour after the last."""
        self.now += HOUR
        while self.price != dollars:
            step = int(self.price * MAX_MOVE)
            target = (
                max(dollars, self.price - step) if dollars < self.price else min(dollars, self.price + step)
            )
            self.transmit(target)

    def next_block(self) -> None:
        """Have the next transaction mined `BLOCK_SECONDS` after the last one the scenario timed."""
        self.now = max(self.now, self.chain.timestamp()) + BLOCK_SECONDS
        self.chain.set_next_block_timestamp(self.now)


@dataclass
class Report:
    """Gas by operation, and CFD orders per second with and without the journal."""

    perp: dict[str, int]
    synth: dict[str, int]
    synth_open: int
    cfd_orders_per_s: float
    cfd_in_memory_orders_per_s: float


def set_up(chain: JsonRpcChain, accounts: list[str]) -> Session:
    """Deploy AAPL's issuance and test USDC, price AAPL at $200 and fund every actor."""
    roles = IssuerRoles.from_accounts(accounts)
    deployment = deploy_issuance(chain, roles, [i for i in load_catalogue() if i.ticker == TICKER])
    feed = chain.at(deployment.instrument(TICKER).price_feed, compile_contract("oracle/PriceFeed.vy"))
    usdc = deploy_test_usdc(chain, roles.admin)
    session = Session(chain, roles, deployment, feed, usdc)
    session.transmit(PRICE)
    for index in (LP, TRADER_A, TRADER_B, MINTER_M, MINTER_N):
        usdc.mint(accounts[index], 2_000_000 * USDC, sender=roles.admin)
    return session


def measure_perp(session: Session, accounts: list[str]) -> dict[str, int]:
    """Run the perpetual's scenario; return the gas of open, close and liquidate."""
    chain, admin = session.chain, session.roles.admin
    perps = deploy_perps(chain, admin, session.usdc.address, session.issuance, [TICKER], vault_seed=0)
    market, vault = perps.contract(chain, TICKER), perps.vault_contract(chain)
    lp, a, b, keeper = accounts[LP], accounts[TRADER_A], accounts[TRADER_B], accounts[KEEPER]
    session.usdc.approve(vault.address, 2**256 - 1, sender=lp)
    vault.deposit(1_000_000 * USDC, lp, sender=lp)
    for trader in (a, b):
        session.usdc.approve(market.address, 2**256 - 1, sender=trader)
    leverage = 10 * WAD
    session.next_block()
    market.open_position(True, 10_000 * USDC, leverage, 0, 0, 0, sender=a)
    first = int(market.next_position_id()) - 1
    session.next_block()
    stop = (PRICE - 15) * PRICE_UNIT
    opened = market.open_position.transact(True, 10_000 * USDC, leverage, 0, stop, 0, sender=b)
    second = int(market.next_position_id()) - 1
    session.now += HOUR
    session.transmit(PRICE)
    session.next_block()
    size = int(market.position(second)[2])
    closed = market.close_position.transact(second, size, 0, sender=b)
    session.move_to(PERP_CRASH)
    if not market.is_liquidatable(first):
        raise RuntimeError(f"the 10x long is not liquidatable at ${PERP_CRASH}")
    session.next_block()
    liquidated = market.liquidate.transact(first, sender=keeper)
    return {"open": opened.gas_used, "close": closed.gas_used, "liquidate": liquidated.gas_used}


def measure_synth(session: Session, accounts: list[str]) -> tuple[dict[str, int], int]:
    """Run the synthetic's scenario; return the gas of mint, burn and liquidate, and of the open."""
    chain, admin = session.chain, session.roles.admin
    synths = deploy_synths(chain, admin, session.usdc.address, session.issuance, [TICKER])
    vault, synth = synths.vault(chain, TICKER), synths.token(chain, TICKER)
    m, n = accounts[MINTER_M], accounts[MINTER_N]
    for minter in (m, n):
        session.usdc.approve(vault.address, 2**256 - 1, sender=minter)
    session.next_block()
    opened = vault.open_position.transact(30_000 * USDC, 50 * WAD, sender=m)
    position_m = int(vault.next_position_id()) - 1
    session.next_block()
    vault.open_position(3_100 * USDC, 10 * WAD, sender=n)
    position_n = int(vault.next_position_id()) - 1
    session.next_block()
    minted = vault.mint.transact(position_m, 5 * WAD, sender=m)
    session.next_block()
    burned = vault.burn.transact(position_m, 5 * WAD, sender=m)
    session.move_to(SYNTH_RISE)
    if not vault.is_liquidatable(position_n):
        raise RuntimeError(f"the 150% position is not liquidatable at ${SYNTH_RISE}")
    session.next_block()
    liquidated = vault.liquidate.transact(position_n, 5 * WAD, sender=m)
    if int(synth.balanceOf(m)) != 45 * WAD:
        raise RuntimeError("the liquidation did not burn the liquidator's synthetic")
    return {
        "mint": minted.gas_used,
        "burn": burned.gas_used,
        "liquidate": liquidated.gas_used,
    }, opened.gas_used


def measure() -> Report:
    """Start a fresh anvil node, run both scenarios, then the CFD orders; return the figures."""
    with AnvilNode(accounts=ACCOUNTS) as node, node.chain() as chain:
        session = set_up(chain, node.accounts)
        perp = measure_perp(session, node.accounts)
        session.move_to(PRICE)
        synth, synth_open = measure_synth(session, node.accounts)
    journaled = measure_orders_per_second(CFD_ORDERS, fsync=FsyncPolicy.PER_BATCH)
    in_memory = measure_orders_per_second(CFD_ORDERS, fsync=None)
    return Report(perp, synth, synth_open, journaled, in_memory)


def headline(report: Report) -> dict[str, Any]:
    """Return the figures the issue names, as one JSON-ready object."""
    return {"perp": report.perp, "synth": report.synth, "cfd_orders_per_s": round(report.cfd_orders_per_s)}


def render(report: Report) -> str:
    """Return the figures as a readable table."""
    lines = [f"{'operation':<22}{'gas':>10}"]
    lines += [f"{'perp ' + op:<22}{report.perp[op]:>10,}" for op in PERP_OPERATIONS]
    lines += [f"{'synth ' + op:<22}{report.synth[op]:>10,}" for op in SYNTH_OPERATIONS]
    lines.append(f"{'synth open (lock+mint)':<22}{report.synth_open:>10,}")
    ratio = report.cfd_orders_per_s / report.cfd_in_memory_orders_per_s
    lines += [
        "",
        f"CFD orders per second, journaled (synced per 1,000): {report.cfd_orders_per_s:>10,.0f}",
        f"CFD orders per second, no journal (reference):        {report.cfd_in_memory_orders_per_s:>10,.0f}",
        f"journaled / reference: {ratio:.2f}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object of the figures")
    args = parser.parse_args(argv)
    report = measure()
    print(json.dumps(headline(report)) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
