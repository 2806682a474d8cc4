"""The agents of a simulated week: who they are, how often they act, and what each kind does.

Each agent draws every decision from its own `random.Random`, seeded from the run's seed and its
index, so a run is a function of its seed; the population is drawn the same way. Every action goes
to a real venue through `Actions` (a transaction on the in-process chain, a command to the book
engine, a request to the issuer), and whatever the venue refuses is recorded as a refusal with the
venue's reason, never raised.

The kinds (`AgentKind`):

- retail buyers and sellers buy or sell $100-$2,000 of a ticker, on the AMM from their wallet or on
  the book from their account (a market order, or an IOC limit up to 30 bps through the oracle);
- arbitrageurs compare the AMM's price with the book's best bid and ask and, past 15 bps, buy on the
  cheaper venue and sell on the dearer;
- market makers rest post-only GTC limits 5-40 bps either side of the oracle and cancel their
  oldest beyond four;
- authorised participants mint through the issuer when the AMM trades above the oracle and sell the
  tokens there; below it they buy from the AMM and redeem; in between they rebalance their
  inventory with a small mint or redemption now and then;
- perp traders open longs and shorts of $500-$5,000 at 2x to the market's most (queued for the
  reopening while the market is closed), add margin, and close half or all;
- borrowers lock stock as collateral, borrow 30-90% of what the market allows, repay, and borrow
  again;
- liquidators check open perpetual positions and liquidate those the market says are liquidatable;
- CFD traders open a long or short CFD of $500-$5,000 at 1:1 to 1:5 on the CFD venue and later
  close it (the venue stops out accounts whose margin runs out).
"""

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from equitoken.chain.errors import RevertError
from equitoken.model.bps import BPS
from equitoken.model.errors import EquitokenError
from equitoken.oracle.observation import MarketStatus
from equitoken.simulation.world import AGENT_GAS, USDC, World
from equitoken.venues.cfd.events import Closed, Opened
from equitoken.venues.cfd.events import Event as CfdEvent
from equitoken.venues.cfd.instruments import NOTIONAL_DIVISOR
from equitoken.venues.cfd.positions import CfdSide
from equitoken.venues.exchange.engine import Outcome
from equitoken.venues.exchange.events import Accepted, Rejected
from equitoken.venues.exchange.orders import Cancel, OrderType, Side, Submit, TimeInForce

__all__ = [
    "ACTIVITY",
    "BOOK_KINDS",
    "CFD_KINDS",
    "Actions",
    "Agent",
    "AgentKind",
    "Market",
    "act",
    "population",
]

WAD = 10**18
DEADLINE = 3_600
PERP_OPEN, PERP_CLOSED, PERP_DISCOVERY = 1, 2, 3
MAX_RESTING = 4
ARBITRAGE_BPS = 15
AP_BAND_BPS = 30
AP_SHARES = (20, 200)
REBALANCE_CHANCE = 0.25  # an AP inside the band mints or redeems a little now and then
LIQUIDATOR_CHECKS = 2  # the open positions a liquidator looks at when it acts


class AgentKind(StrEnum):
    """What an agent does."""

    RETAIL_BUYER = "retail_buyer"
    RETAIL_SELLER = "retail_seller"
    ARBITRAGEUR = "arbitrageur"
    MARKET_MAKER = "market_maker"
    AUTHORISED_PARTICIPANT = "authorised_participant"
    PERP_TRADER = "perp_trader"
    BORROWER = "borrower"
    LIQUIDATOR = "liquidator"
    CFD_TRADER = "cfd_trader"


# The share of the population of each kind, and the chance it acts in a step while the market is
# open (13 steps a session) and while it is closed (about 6 steps a night): a retail agent acts about
# three trading days in four. A transaction on the in-process chain costs some 10-20 ms of py-evm, a book
# command a fraction of a millisecond, so the chains' actions are the rarer ones.
WEIGHTS = {
    AgentKind.RETAIL_BUYER: 25,
    AgentKind.RETAIL_SELLER: 21,
    AgentKind.CFD_TRADER: 6,
    AgentKind.PERP_TRADER: 12,
    AgentKind.MARKET_MAKER: 12,
    AgentKind.BORROWER: 8,
    AgentKind.ARBITRAGEUR: 8,
    AgentKind.LIQUIDATOR: 6,
    AgentKind.AUTHORISED_PARTICIPANT: 2,
}
ACTIVITY = {
    AgentKind.RETAIL_BUYER: (0.05, 0.01),
    AgentKind.RETAIL_SELLER: (0.05, 0.01),
    AgentKind.PERP_TRADER: (0.03, 0.01),
    AgentKind.MARKET_MAKER: (0.3, 0.05),
    AgentKind.BORROWER: (0.02, 0.005),
    AgentKind.ARBITRAGEUR: (0.06, 0.02),
    AgentKind.LIQUIDATOR: (0.1, 0.02),
    AgentKind.AUTHORISED_PARTICIPANT: (0.03, 0.0),  # the issuer's broker fills in session only
    AgentKind.CFD_TRADER: (0.1, 0.02),
}
AMM_SHARE = 0.2  # of retail orders; the rest go to the book
CFD_KINDS = frozenset({AgentKind.CFD_TRADER})
BOOK_KINDS = frozenset(
    {AgentKind.RETAIL_BUYER, AgentKind.RETAIL_SELLER, AgentKind.ARBITRAGEUR, AgentKind.MARKET_MAKER}
)


@dataclass
class Agent:
    """One member of the population and what it holds open."""

    index: int
    kind: AgentKind
    rng: random.Random
    perp_positions: dict[str, int] = field(default_factory=dict)  # ticker -> position id
    queued: set[str] = field(default_factory=set)  # tickers with a perp order queued for the reopening
    cfds: dict[str, int] = field(default_factory=dict)  # ticker -> open CFD position id
    resting: list[tuple[str, int]] = field(default_factory=list)  # the book orders it rests
    sent: int = 0  # its orders and requests so far, for their ids

    def next_id(self) -> str:
        """Return a new id for one of the agent's orders or requests."""
        self.sent += 1
        return f"sim-{self.index}-{self.sent}"


def agent_random(seed: int, index: int) -> random.Random:
    """Return agent `index`'s generator for a run seeded `seed`."""
    return random.Random(f"equitoken-simulation:{seed}:{index}")


def population(seed: int, agents: int) -> list[Agent]:
    """Return the run's agents: one of each kind first (so a small run has them all), then drawn by weight."""
    kinds = list(WEIGHTS)
    draw = random.Random(f"equitoken-simulation:{seed}:population")
    chosen = kinds[:agents] + draw.choices(
        kinds, weights=list(WEIGHTS.values()), k=max(0, agents - len(kinds))
    )
    return [Agent(i, kind, agent_random(seed, i)) for i, kind in enumerate(chosen)]


@dataclass
class Market:
    """What every agent sees in one step, read once: oracle answers, statuses and the perps' states."""

    world: World
    answers: dict[str, int]
    statuses: dict[str, MarketStatus]
    _perp_states: dict[str, tuple[int, int]] = field(default_factory=dict)
    _reserves: dict[str, tuple[int, int]] = field(default_factory=dict)

    @classmethod
    def read(cls, world: World) -> "Market":
        """Read every ticker's latest round."""
        answers, statuses = {}, {}
        for ticker in world.tickers:
            answers[ticker], statuses[ticker] = world.oracle(ticker)
        return cls(world, answers, statuses)

    @property
    def open(self) -> bool:
        """Return whether the first ticker's market is open (the steps' rhythm follows it)."""
        return self.statuses[self.world.tickers[0]] is MarketStatus.OPEN

    def perp_state(self, ticker: str) -> tuple[int, int]:
        """Return the perpetual's mark price and state (read once per step)."""
        if ticker not in self._perp_states:
            mark, state = self.world.perp_markets[ticker].mark_price()
            self._perp_states[ticker] = (int(mark), int(state))
        return self._perp_states[ticker]

    def reserves(self, ticker: str) -> tuple[int, int]:
        """Return the pool's stock and USDC reserves (read again after every swap)."""
        if ticker not in self._reserves:
            stock, usdc = self.world.pools[ticker].reserves()
            self._reserves[ticker] = (int(stock), int(usdc))
        return self._reserves[ticker]

    def pool_price(self, ticker: str) -> int:
        """Return the pool's price in 1e-8 dollars per token."""
        stock, usdc = self.reserves(ticker)
        return usdc * self.world.scale(ticker) // stock if stock else 0

    def swapped(self, ticker: str) -> None:
        """Forget the pool's reserves after a swap."""
        self._reserves.pop(ticker, None)


@dataclass
class Outcomes:
    """Every action's outcome: done and refused counts per kind and action, reasons, volumes."""

    done: Counter[tuple[str, str]] = field(default_factory=Counter)
    refused: Counter[tuple[str, str]] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    amm_volume: Counter[str] = field(default_factory=Counter)  # USDC units per ticker
    book_volume: Counter[str] = field(default_factory=Counter)
    book_trades: Counter[str] = field(default_factory=Counter)
    perp_volume: Counter[str] = field(default_factory=Counter)  # notional USDC units per ticker
    borrowed: Counter[str] = field(default_factory=Counter)
    repaid: Counter[str] = field(default_factory=Counter)
    minted: Counter[str] = field(default_factory=Counter)  # shares requested per ticker
    redeemed: Counter[str] = field(default_factory=Counter)
    perp_liquidations: Counter[str] = field(default_factory=Counter)
    cfd_volume: Counter[str] = field(default_factory=Counter)  # notional USDC units opened and closed
    book_prices: dict[str, list[int]] = field(default_factory=dict)  # trade prices, 1e-8 dollars


class Actions:
    """Send an agent's actions to the venues and record their outcomes."""

    def __init__(self, world: World, outcomes: Outcomes) -> None:
        self.world = world
        self.outcomes = outcomes
        self.tick = {t: world.venue.rules(t).instrument.tick.units for t in world.tickers}
        self.lot = {t: world.venue.rules(t).instrument.lot for t in world.tickers}
        # The positions the perp traders opened, for the liquidators to watch (pruned as they go).
        self.open_perps: dict[str, list[int]] = {}

    def refuse(self, agent: Agent, action: str, venue: str, reason: str) -> None:
        """Count a refusal and its reason."""
        self.outcomes.refused[(agent.kind.value, action)] += 1
        self.outcomes.reasons[f"{venue}: {reason[:90]}"] += 1

    def done(self, agent: Agent, action: str) -> None:
        """Count an action the venue took."""
        self.outcomes.done[(agent.kind.value, action)] += 1

    def chain(
        self, agent: Agent, action: str, venue: str, call: Any, *args: object, wallet: str = ""
    ) -> bool:
        """Send `call(*args)` from the agent's wallet; return whether the venue took it."""
        sender = wallet or self.world.wallet_of(agent.index)
        try:
            call(*args, sender=sender, gas=AGENT_GAS)
        except RevertError as error:
            self.refuse(agent, action, venue, _reason(error))
            return False
        self.done(agent, action)
        return True

    def book(self, agent: Agent, action: str, ticker: str, command: Submit | Cancel) -> Outcome | None:
        """Send a command to the book; return its outcome, or None when the book refused it."""
        venue = self.world.venue
        try:
            outcome = (
                venue.submit(ticker, command)
                if isinstance(command, Submit)
                else venue.cancel(ticker, command)
            )
        except EquitokenError as error:
            self.refuse(agent, action, "book", error.code)
            return None
        rejected = next((e for e in outcome.events if isinstance(e, Rejected)), None)
        if rejected is not None:
            self.refuse(agent, action, "book", rejected.reason.name.lower())
            return None
        self.done(agent, action)
        for trade in outcome.trades:
            self.outcomes.book_volume[ticker] += trade.fill.notional
            self.outcomes.book_trades[ticker] += 1
            self.outcomes.book_prices.setdefault(ticker, []).append(trade.fill.price * self.tick[ticker])
        return outcome

    def issuer(self, agent: Agent, action: str, request: Callable[[], object]) -> bool:
        """Send a request to the issuer; return whether it accepted it."""
        try:
            request()
        except EquitokenError as error:
            self.refuse(agent, action, "issuer", error.code)
            return False
        self.done(agent, action)
        return True

    # -- the venues' operations an agent uses

    def swap(
        self, agent: Agent, market: Market, ticker: str, dollars: int, buy: bool, wallet: str = ""
    ) -> bool:
        """Swap `dollars` of USDC for stock (`buy`) or that much stock for USDC on the AMM."""
        world = self.world
        sender = wallet or world.wallet_of(agent.index)
        price = market.answers[ticker]
        amount = dollars * USDC if buy else world.tokens_for(ticker, dollars, price)
        deadline = world.chain.timestamp() + DEADLINE
        action = "amm_buy" if buy else "amm_sell"
        ok = self.chain(
            agent,
            action,
            "amm",
            world.pools[ticker].swap,
            amount,
            0,
            not buy,
            sender,
            deadline,
            wallet=sender,
        )
        if ok:
            self.outcomes.amm_volume[ticker] += dollars * USDC
            market.swapped(ticker)
        return ok

    def order(
        self, agent: Agent, market: Market, ticker: str, dollars: int, side: Side, reach_bps: int | None
    ) -> Outcome | None:
        """Send an IOC order for `dollars` of stock: at market, or limited `reach_bps` past the oracle."""
        price = market.answers[ticker]
        lot = self.lot[ticker]
        quantity = self.world.tokens_for(ticker, dollars, price) // lot * lot
        account = self.world.book_account(agent.index)
        if reach_bps is None:
            command = Submit(account, agent.next_id(), side, OrderType.MARKET, 0, quantity, TimeInForce.IOC)
        else:
            signed = reach_bps if side is Side.BUY else -reach_bps
            limit = price * (BPS + signed) // (BPS * self.tick[ticker])
            command = Submit(
                account, agent.next_id(), side, OrderType.LIMIT, limit, quantity, TimeInForce.IOC
            )
        action = "book_buy" if side is Side.BUY else "book_sell"
        return self.book(agent, action, ticker, command)


def _reason(error: RevertError) -> str:
    return str(error).split("reverted: ")[-1].split(" (")[0]


# -- what each kind does


def act(agent: Agent, market: Market, actions: Actions) -> None:
    """Let `agent` take its step's decision, if it acts this step."""
    chance = ACTIVITY[agent.kind][0 if market.open else 1]
    if agent.rng.random() >= chance:
        return
    _BEHAVIOUR[agent.kind](agent, market, actions)


def _retail(agent: Agent, market: Market, actions: Actions, buy: bool) -> None:
    rng = agent.rng
    ticker = rng.choice(actions.world.tickers)
    dollars = rng.randint(100, 2_000)
    if rng.random() < AMM_SHARE:
        actions.swap(agent, market, ticker, dollars, buy)
    else:
        reach = None if rng.random() < 0.5 else rng.randint(0, 30)
        actions.order(agent, market, ticker, dollars, Side.BUY if buy else Side.SELL, reach)


def _retail_buyer(agent: Agent, market: Market, actions: Actions) -> None:
    _retail(agent, market, actions, True)


def _retail_seller(agent: Agent, market: Market, actions: Actions) -> None:
    _retail(agent, market, actions, False)


def _arbitrageur(agent: Agent, market: Market, actions: Actions) -> None:
    rng = agent.rng
    ticker = rng.choice(actions.world.tickers)
    bid, ask = actions.world.venue.best(ticker)
    pool = market.pool_price(ticker)
    tick = actions.tick[ticker]
    dollars = rng.randint(500, 3_000)
    if bid is not None and pool * (BPS + ARBITRAGE_BPS) < bid * tick * BPS:
        # The pool is cheap: buy there, sell on the book no lower than the pool paid.
        if actions.swap(agent, market, ticker, dollars, True):
            actions.order(agent, market, ticker, dollars, Side.SELL, 0)
    elif (
        ask is not None
        and ask * tick * (BPS + ARBITRAGE_BPS) < pool * BPS
        and actions.order(agent, market, ticker, dollars, Side.BUY, 0) is not None
    ):
        actions.swap(agent, market, ticker, dollars, False)


def _market_maker(agent: Agent, market: Market, actions: Actions) -> None:
    rng = agent.rng
    world = actions.world
    ticker = rng.choice(world.tickers)
    account = world.book_account(agent.index)
    if len(agent.resting) >= MAX_RESTING:
        still = {o.order_id for orders in world.venue.open_orders(account).values() for o in orders}
        agent.resting = [(t, i) for t, i in agent.resting if i in still]
    while len(agent.resting) >= MAX_RESTING:
        old_ticker, order_id = agent.resting.pop(0)
        actions.book(agent, "book_cancel", old_ticker, Cancel(account, order_id))
    side = Side.BUY if rng.random() < 0.5 else Side.SELL
    offset = rng.randint(5, 40)
    signed = -offset if side is Side.BUY else offset
    price = market.answers[ticker] * (BPS + signed) // (BPS * actions.tick[ticker])
    lot = actions.lot[ticker]
    quantity = world.tokens_for(ticker, rng.randint(300, 1_500), market.answers[ticker]) // lot * lot
    command = Submit(account, agent.next_id(), side, OrderType.LIMIT, price, quantity, TimeInForce.GTC, True)
    outcome = actions.book(agent, "book_quote", ticker, command)
    if outcome is not None:
        accepted = next((e for e in outcome.events if isinstance(e, Accepted)), None)
        if accepted is not None:
            agent.resting.append((ticker, int(accepted.order_id)))


def _authorised_participant(agent: Agent, market: Market, actions: Actions) -> None:
    rng = agent.rng
    world = actions.world
    ticker = rng.choice(world.tickers)
    if market.statuses[ticker] is not MarketStatus.OPEN:
        return
    wallet = world.ap_wallets[agent.index % len(world.ap_wallets)]
    oracle, pool = market.answers[ticker], market.pool_price(ticker)
    held = int(world.tokens[ticker].balanceOf(wallet))
    shares = rng.randint(*AP_SHARES)
    tokens = shares * 10 ** world.decimals[ticker]
    issuer, investor = world.issuer, world.participant.id
    if pool * BPS > oracle * (BPS + AP_BAND_BPS):
        if held >= tokens:  # sell inventory into the premium, and mint to replace it
            actions.swap(agent, market, ticker, shares * oracle // 10**8, False, wallet)
        mint = issuer.request_mint
        if actions.issuer(
            agent, "issuer_mint", lambda: mint(investor, wallet, ticker, str(shares), agent.next_id())
        ):
            actions.outcomes.minted[ticker] += shares
    elif pool * BPS < oracle * (BPS - AP_BAND_BPS):
        if actions.swap(agent, market, ticker, shares * oracle // 10**8, True, wallet):
            _redeem(agent, actions, wallet, ticker, shares)
    elif held >= tokens and rng.random() < REBALANCE_CHANCE:
        _redeem(agent, actions, wallet, ticker, shares)
    elif rng.random() < REBALANCE_CHANCE:
        mint = issuer.request_mint
        if actions.issuer(
            agent, "issuer_mint", lambda: mint(investor, wallet, ticker, str(shares), agent.next_id())
        ):
            actions.outcomes.minted[ticker] += shares


def _redeem(agent: Agent, actions: Actions, wallet: str, ticker: str, shares: int) -> None:
    issuer, investor = actions.world.issuer, actions.world.participant.id
    redeem = issuer.request_redeem
    if actions.issuer(
        agent, "issuer_redeem", lambda: redeem(investor, wallet, ticker, str(shares), agent.next_id())
    ):
        actions.outcomes.redeemed[ticker] += shares


def _perp_trader(agent: Agent, market: Market, actions: Actions) -> None:
    rng = agent.rng
    world = actions.world
    ticker = rng.choice(world.tickers)
    contract = world.perp_markets[ticker]
    mark, state = market.perp_state(ticker)
    queue = state == PERP_CLOSED
    held = agent.perp_positions.get(ticker)
    size = 0 if held is None else int(contract.position(held)[2])
    if held is not None and size == 0:
        del agent.perp_positions[ticker]  # closed by a stop, a liquidation or a queued close
        held = None
    if ticker in agent.queued:
        if state == PERP_CLOSED:
            return  # its order waits for the reopening
        agent.queued.discard(ticker)
    if held is None:
        is_long = rng.random() < 0.55
        margin = rng.randint(500, 5_000) * USDC
        leverage = rng.randint(2, 10) * WAD
        stop = 0
        if rng.random() < 0.3 and mark:
            stop = mark * 95 // 100 if is_long else mark * 105 // 100
        if queue:
            if actions.chain(
                agent,
                "perp_request_open",
                "perps",
                contract.request_open,
                is_long,
                margin,
                leverage,
                0,
                stop,
                0,
            ):
                agent.queued.add(ticker)
            return
        position_id = int(contract.next_position_id())
        if actions.chain(
            agent, "perp_open", "perps", contract.open_position, is_long, margin, leverage, 0, stop, 0
        ):
            agent.perp_positions[ticker] = position_id
            actions.open_perps.setdefault(ticker, []).append(position_id)
            actions.outcomes.perp_volume[ticker] += margin * leverage // WAD
        return
    draw = rng.random()
    if draw < 0.15:
        actions.chain(
            agent, "perp_add_margin", "perps", contract.add_margin, held, rng.randint(100, 1_000) * USDC
        )
        return
    if draw >= 0.6:
        return  # holds on
    part = size if draw < 0.4 else size // 2
    if queue:
        if actions.chain(agent, "perp_request_close", "perps", contract.request_close, held, part, 0):
            agent.queued.add(ticker)
        return
    if actions.chain(agent, "perp_close", "perps", contract.close_position, held, part, 0):
        actions.outcomes.perp_volume[ticker] += part * mark // 10**20  # 18-decimal size x 8-decimal price
        if part == size:
            del agent.perp_positions[ticker]


def _borrower(agent: Agent, market: Market, actions: Actions) -> None:
    rng = agent.rng
    world = actions.world
    ticker = rng.choice(world.tickers)
    lending, contract = world.lending, world.lending_market
    params = lending.market(ticker).params
    wallet = world.wallet_of(agent.index)
    _, borrow_shares, collateral = (
        int(v) for v in contract.position(lending.market(ticker).id_bytes, wallet)
    )
    if collateral == 0 or rng.random() < 0.15:
        amount = world.tokens_for(ticker, rng.randint(1_000, 8_000), market.answers[ticker])
        actions.chain(
            agent, "lend_supply_collateral", "lending", contract.supply_collateral, params, amount, wallet
        )
        return
    if borrow_shares and rng.random() < 0.4:
        dollars = rng.randint(200, 3_000) * USDC
        if actions.chain(agent, "lend_repay", "lending", contract.repay, params, dollars, 0, wallet):
            actions.outcomes.repaid[ticker] += dollars
        return
    value = collateral * market.answers[ticker] // world.scale(ticker)
    limit = value * lending.market(ticker).parameters.max_ltv_bps // BPS
    dollars = limit * rng.randint(10, 60) // 100
    if dollars <= 0:
        return
    if actions.chain(agent, "lend_borrow", "lending", contract.borrow, params, dollars, 0, wallet, wallet):
        actions.outcomes.borrowed[ticker] += dollars


def _liquidator(agent: Agent, market: Market, actions: Actions) -> None:
    world = actions.world
    ticker = agent.rng.choice(world.tickers)
    contract = world.perp_markets[ticker]
    known = actions.open_perps.get(ticker, [])
    for position_id in sorted({agent.rng.choice(known) for _ in range(LIQUIDATOR_CHECKS)} if known else ()):
        actions.done(agent, "perp_check")  # a read of the market's own `is_liquidatable`
        if not bool(contract.is_liquidatable(position_id)):
            continue
        if actions.chain(agent, "perp_liquidate", "perps", contract.liquidate, position_id):
            actions.outcomes.perp_liquidations[ticker] += 1
            known.remove(position_id)


def _cfd_trader(agent: Agent, market: Market, actions: Actions) -> None:
    rng = agent.rng
    world = actions.world
    ticker = rng.choice(world.tickers)
    account = world.book_account(agent.index)
    held = agent.cfds.get(ticker)
    if held is not None and not any(p.position_id == held for p in world.cfd.positions(account)):
        del agent.cfds[ticker]  # stopped out
        held = None
    if held is not None:
        if rng.random() < 0.5:
            return  # holds on
        events = _cfd(agent, actions, "cfd_close", lambda: world.cfd.close_position(account, held))
        if events is not None:
            del agent.cfds[ticker]
            actions.outcomes.cfd_volume[ticker] += sum(
                e.size * e.exit_price // NOTIONAL_DIVISOR for e in events if isinstance(e, Closed)
            )
        return
    side = CfdSide.LONG if rng.random() < 0.55 else CfdSide.SHORT
    size = rng.randint(500, 5_000) * USDC * NOTIONAL_DIVISOR // market.answers[ticker]
    leverage = rng.randint(1, 5)
    events = _cfd(
        agent, actions, "cfd_open", lambda: world.cfd.open_position(account, ticker, side, size, leverage)
    )
    opened = next((e for e in events or () if isinstance(e, Opened)), None)
    if opened is not None:
        agent.cfds[ticker] = opened.position_id
        actions.outcomes.cfd_volume[ticker] += opened.size * opened.entry_price // NOTIONAL_DIVISOR


def _cfd(
    agent: Agent, actions: Actions, action: str, command: Callable[[], list[CfdEvent]]
) -> list[CfdEvent] | None:
    try:
        events = command()
    except EquitokenError as error:
        actions.refuse(agent, action, "cfd", error.code)
        return None
    actions.done(agent, action)
    return events


_BEHAVIOUR: dict[AgentKind, Callable[[Agent, Market, Actions], None]] = {
    AgentKind.RETAIL_BUYER: _retail_buyer,
    AgentKind.RETAIL_SELLER: _retail_seller,
    AgentKind.ARBITRAGEUR: _arbitrageur,
    AgentKind.MARKET_MAKER: _market_maker,
    AgentKind.AUTHORISED_PARTICIPANT: _authorised_participant,
    AgentKind.PERP_TRADER: _perp_trader,
    AgentKind.BORROWER: _borrower,
    AgentKind.LIQUIDATOR: _liquidator,
    AgentKind.CFD_TRADER: _cfd_trader,
}
