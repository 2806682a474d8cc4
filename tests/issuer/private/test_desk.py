"""The private-company desk on the in-process chain and SQLite: valuations recorded off-chain and on the
feed, issuance rounds with lock-ups, buybacks, the transfer agent's approvals and rejections, each action
exactly once across a crash, and every refusal naming the problem and changing nothing."""

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.support.platform import ACCOUNTS, GENESIS

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.deployment import IssuerRoles, deploy_issuance
from equitoken.chain.evm.inprocess import InProcessChain
from equitoken.chain.evm.private_deployment import (
    DeployedPrivateCompany,
    PrivateRoles,
    deploy_private_company,
)
from equitoken.durable.crashpoints import SimulatedCrash, simulated_crash
from equitoken.durable.outbox import Outbox
from equitoken.issuer.catalogue import Catalogue
from equitoken.issuer.errors import (
    ComplianceError,
    IdempotencyConflictError,
    InvalidRequestError,
    UnknownRequestError,
)
from equitoken.issuer.private.service import (
    ActionRefusedError,
    Allocation,
    NoValuationError,
    PrivateCompanyDesk,
    RequestStatus,
)
from equitoken.issuer.private.valuation import ValuationMethod
from equitoken.market.clock import ManualClock
from equitoken.model.errors import EquitokenError
from equitoken.model.quantities import Price, Shares
from equitoken.store.database import Database, sqlite_url
from equitoken.store.schema import ChainTransactionRow, PrivateActionRow

DAY = 86_400
US = 840
ACME = Catalogue.load_private().get("ACME")


@dataclass
class World:
    chain: InProcessChain
    db: Database
    desk: PrivateCompanyDesk
    clock: ManualClock
    roles: PrivateRoles
    registry: Contract
    founder: str
    buyer: str
    outsider: str

    @property
    def token(self) -> Contract:
        return self.desk.token

    def chain_now(self) -> datetime:
        return datetime.fromtimestamp(self.chain.timestamp(), UTC)

    def wait(self, seconds: int) -> None:
        self.chain.increase_time(seconds)
        self.chain.mine()
        self.clock.set(max(self.clock.now(), self.chain_now()))

    def request(self, sender: str, receiver: str, shares: int) -> int:
        self.token.request_transfer(receiver, shares, sender=sender)
        return int(self.token.request_count())

    def snapshot(self) -> tuple[object, ...]:
        with self.db.transaction() as session:
            actions = session.scalar(select(func.count()).select_from(PrivateActionRow))
            sent = session.scalar(select(func.count()).select_from(ChainTransactionRow))
        balances = tuple(int(self.token.balanceOf(a)) for a in (self.founder, self.buyer, self.outsider))
        return actions, sent, self.chain.block_number(), balances, int(self.token.request_count())


@dataclass
class Deployed:
    chain: InProcessChain
    deployed: DeployedPrivateCompany
    roles: PrivateRoles
    registry: Contract
    template: Path


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Deployed:
    """One chain and one migrated database file per module; each test gets a snapshot and a copy."""
    chain = InProcessChain(SignerRegistry.anvil(ACCOUNTS), genesis_timestamp=GENESIS)
    accounts = chain.accounts
    issuer_roles = IssuerRoles.from_accounts(accounts)
    layer = deploy_issuance(chain, issuer_roles, [])
    roles = PrivateRoles.from_issuer_roles(issuer_roles)
    company = deploy_private_company(
        chain, roles, ACME, identity_registry=layer.identity_registry, sanctions_list=layer.sanctions_list
    )
    registry = chain.at(layer.identity_registry, compile_contract("compliance/IdentityRegistry.vy"))
    expiry = chain.timestamp() + 3_650 * DAY
    for number, (wallet, accredited) in enumerate(zip(accounts[10:13], (True, True, False), strict=True), 1):
        registry.set_investor(number, US, expiry, accredited, sender=roles.registrar)
        registry.add_wallet(number, wallet, sender=roles.registrar)
    template = tmp_path_factory.mktemp("private") / "template.sqlite"
    db = Database(sqlite_url(template))
    db.migrate()
    db.close()
    return Deployed(chain, company, roles, registry, template)


@pytest.fixture
def world(deployed: Deployed, tmp_path: Path) -> Iterator[World]:
    chain = deployed.chain
    snapshot = chain.snapshot()
    shutil.copy(deployed.template, tmp_path / "private.sqlite")
    db = Database(sqlite_url(tmp_path / "private.sqlite"))
    clock = ManualClock(datetime.fromtimestamp(chain.timestamp(), UTC))
    desk = PrivateCompanyDesk(db, Outbox(chain), chain, ACME, deployed.deployed, deployed.roles, clock)
    founder, buyer, outsider = chain.accounts[10:13]
    yield World(chain, db, desk, clock, deployed.roles, deployed.registry, founder, buyer, outsider)
    db.close()
    chain.revert_to(snapshot)


def refused(world: World, error: type[EquitokenError], match: str, attempt: Callable[[], object]) -> None:
    before = world.snapshot()
    with pytest.raises(error, match=match):
        attempt()
    assert world.snapshot() == before


def shares(n: int) -> Shares:
    return Shares.parse(str(n))


# --- valuations -------------------------------------------------------------


def test_valuation_is_recorded_off_chain_and_published_on_the_feed(world: World) -> None:
    desk = world.desk
    with pytest.raises(NoValuationError, match="ACME has no valuation yet"):
        desk.latest_valuation()
    with pytest.raises(NoValuationError, match="valuation feed has no valuation yet"):
        desk.published_valuation()
    as_of = world.chain_now() - timedelta(days=30)
    action = desk.record_valuation("2026-409a", Price.parse("12.34"), as_of, "409a", "Carta 409A report")
    assert (action.kind, action.state) == ("valuation", "done")
    recorded = desk.latest_valuation()
    assert (recorded.price, recorded.as_of, recorded.method, recorded.source) == (
        Price.parse("12.34"),
        as_of,
        ValuationMethod.APPRAISAL_409A,
        "Carta 409A report",
    )
    assert desk.published_valuation() == recorded
    assert 30 * DAY <= recorded.age_seconds(world.chain_now()) < 30 * DAY + 60
    # A round on the feed, marked as no market price, aged from its as-of time.
    _, answer, started_at, _, _ = desk.feed.latestRoundData()
    assert (int(answer), int(started_at)) == (1_234_000_000, int(as_of.timestamp()))
    assert desk.feed.is_market_price() is False

    later = world.chain_now()
    desk.record_valuation("series-b", Price.parse("30"), later, ValuationMethod.PRICED_ROUND, "Series B")
    assert [v.price for v in desk.valuations()] == [Price.parse("12.34"), Price.parse("30")]
    assert desk.published_valuation().price == Price.parse("30")


def test_a_valuation_asked_again_sends_nothing(world: World) -> None:
    as_of = world.chain_now()
    first = world.desk.record_valuation("v1", Price.parse("5"), as_of, "board", "board minutes")
    before = world.snapshot()
    assert world.desk.record_valuation("v1", Price.parse("5"), as_of, "board", "board minutes") == first
    assert world.snapshot() == before
    refused(
        world,
        IdempotencyConflictError,
        "valuation:v1 was asked before with a different price",
        lambda: world.desk.record_valuation("v1", Price.parse("6"), as_of, "board", "board minutes"),
    )


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"price": Price(0)}, InvalidRequestError, "price must be a positive Price"),
        (
            {"as_of": datetime(2019, 6, 1)},
            InvalidRequestError,
            "as-of time must be a datetime with a timezone",
        ),
        ({"method": "dcf"}, InvalidRequestError, "unknown valuation method 'dcf'; use one of 409a"),
        ({"source": "  "}, InvalidRequestError, "source must have 1 to 128 printable characters"),
        ({"key": "a b"}, InvalidRequestError, "key 'a b' must be 1 to 48 letters"),
        ({"as_of": "future"}, ActionRefusedError, "refused by the chain: feed: observation in the future"),
        ({"as_of": "stale"}, ActionRefusedError, "refused by the chain: feed: report too old"),
    ],
)
def test_valuation_refusals_change_nothing(
    world: World, change: dict[str, object], error: type[EquitokenError], match: str
) -> None:
    args: dict[str, object] = {
        "key": "k",
        "price": Price.parse("10"),
        "as_of": world.chain_now(),
        "method": "409a",
        "source": "409A",
    }
    args.update(change)
    if args["as_of"] == "future":
        args["as_of"] = world.chain_now() + timedelta(hours=1)
    elif args["as_of"] == "stale":
        args["as_of"] = world.chain_now() - timedelta(days=401)
    refused(world, error, match, lambda: world.desk.record_valuation(**args))  # type: ignore[arg-type]


# --- issuance rounds and buybacks ----------------------------------------------


def test_issuance_round_with_a_lockup_then_a_buyback(world: World) -> None:
    desk = world.desk
    unlock = world.chain_now() + timedelta(days=180)
    action = desk.issue(1, world.founder, shares(1_000), unlock)
    assert (action.state, action.amount and action.amount.raw) == ("done", 1_000)
    desk.issue(1, world.buyer, shares(200), None)
    assert desk.balance(world.founder).raw == 1_000
    assert desk.locked(world.founder).raw == 1_000
    assert desk.locked(world.buyer).raw == 0
    # The same holder in the same round is the same issuance.
    before = world.snapshot()
    assert desk.issue(1, world.founder, shares(1_000), unlock) == action
    assert world.snapshot() == before
    refused(
        world,
        IdempotencyConflictError,
        "a different amount",
        lambda: desk.issue(1, world.founder, shares(999), unlock),
    )
    # A buyback takes the locked shares when nothing else is left.
    bought = desk.buy_back("repurchase-1", world.founder, shares(400))
    assert bought.state == "done"
    assert (desk.balance(world.founder).raw, desk.locked(world.founder).raw) == (600, 600)


@pytest.mark.parametrize(
    ("attempt", "error", "match"),
    [
        (
            lambda w: w.desk.issue(1, w.outsider, shares(1), None),
            ActionRefusedError,
            "receiver is not accredited",
        ),
        (
            lambda w: w.desk.issue(0, w.founder, shares(1), None),
            InvalidRequestError,
            "round id must be an integer",
        ),
        (
            lambda w: w.desk.issue(1, "0x12", shares(1), None),
            InvalidRequestError,
            "holder not an EVM address",
        ),
        (lambda w: w.desk.issue(1, w.founder, Shares(0), None), InvalidRequestError, "positive Shares"),
        (
            lambda w: w.desk.issue(1, w.founder, Shares.parse("0.5"), None),
            InvalidRequestError,
            "token counts whole units",
        ),
        (
            lambda w: w.desk.issue(1, w.founder, shares(1), datetime(2030, 1, 1)),
            InvalidRequestError,
            "lock-up end must be a datetime with a timezone",
        ),
        (
            lambda w: w.desk.buy_back("b", w.founder, shares(1)),
            ActionRefusedError,
            "amount exceeds the balance",
        ),
        (lambda w: w.desk.buy_back("", w.founder, shares(1)), InvalidRequestError, "key '' must be"),
    ],
)
def test_issuance_and_buyback_refusals_change_nothing(
    world: World, attempt: Callable[[World], object], error: type[EquitokenError], match: str
) -> None:
    refused(world, error, match, lambda: attempt(world))


def test_an_issuance_round_issues_each_allocation_once(world: World) -> None:
    desk = world.desk
    unlock = world.chain_now() + timedelta(days=365)
    allocations = [Allocation(world.founder, shares(800), unlock), Allocation(world.buyer, shares(200))]
    actions = desk.issue_round(3, allocations)
    assert [(a.state, a.holder, a.amount and a.amount.raw) for a in actions] == [
        ("done", world.founder, 800),
        ("done", world.buyer, 200),
    ]
    assert (desk.locked(world.founder).raw, desk.locked(world.buyer).raw) == (800, 0)
    before = world.snapshot()
    assert desk.issue_round(3, allocations) == actions
    assert world.snapshot() == before


@pytest.mark.parametrize(
    ("allocations", "error", "match"),
    [
        ([], InvalidRequestError, "round 4 has no allocations"),
        (
            [Allocation("founder", Shares.parse("1")), Allocation("founder", Shares.parse("2"))],
            InvalidRequestError,
            "allocates to 0x.* more than once",
        ),
        (
            [Allocation("founder", Shares.parse("1")), Allocation("outsider", Shares.parse("1"))],
            ActionRefusedError,
            "private:ACME:issue:4:0x.* refused by the chain: receiver is not accredited",
        ),
        (
            [Allocation("founder", Shares.parse("1")), Allocation("buyer", Shares.parse("0.1"))],
            InvalidRequestError,
            "token counts whole units",
        ),
    ],
)
def test_a_round_with_a_bad_allocation_issues_nothing(
    world: World, allocations: list[Allocation], error: type[EquitokenError], match: str
) -> None:
    wallets = {"founder": world.founder, "buyer": world.buyer, "outsider": world.outsider}
    real = [Allocation(wallets[a.holder], a.shares, a.unlock_at) for a in allocations]
    refused(world, error, match, lambda: world.desk.issue_round(4, real))


# --- the transfer agent ----------------------------------------------------------


def test_agent_lists_approves_and_rejects(world: World) -> None:
    desk = world.desk
    desk.issue(1, world.founder, shares(100), world.chain_now() + timedelta(days=10))
    first = world.request(world.founder, world.buyer, 60)
    second = world.request(world.founder, world.outsider, 40)
    pending = desk.pending_requests()
    assert [(r.id, r.receiver, r.amount.raw, r.status) for r in pending] == [
        (first, world.buyer, 60, RequestStatus.PENDING),
        (second, world.outsider, 40, RequestStatus.PENDING),
    ]
    assert pending[0].check == (17, "token is in its lock-up period")
    assert not pending[0].approvable
    # Locked: the approval is refused before anything is stored or sent.
    refused(
        world,
        ComplianceError,
        "cannot be approved now: token is in its lock-up period",
        lambda: desk.approve(first),
    )
    world.wait(10 * DAY)
    assert desk.request(first).approvable
    assert desk.request(second).check == (14, "receiver is not accredited")
    approved = desk.approve(first)
    assert (approved.kind, approved.state, approved.request_id) == ("approve", "done", first)
    assert (desk.balance(world.founder).raw, desk.balance(world.buyer).raw) == (40, 60)
    assert desk.request(first).status is RequestStatus.APPROVED
    rejected = desk.reject(second, "receiver is not an accredited investor")
    assert rejected.state == "done"
    assert desk.request(second).status is RequestStatus.REJECTED
    assert desk.pending_requests() == []
    assert int(world.token.pending_out(world.founder)) == 0
    # Asked again: the same action, nothing sent.
    before = world.snapshot()
    assert desk.approve(first) == approved
    assert desk.reject(second, "receiver is not an accredited investor") == rejected
    assert world.snapshot() == before
    refused(
        world, IdempotencyConflictError, "a different note", lambda: desk.reject(second, "another reason")
    )


@pytest.mark.parametrize(
    ("attempt", "error", "match"),
    [
        (lambda w, r: w.desk.approve(99), UnknownRequestError, "ACME has no transfer request 99"),
        (lambda w, r: w.desk.approve(0), InvalidRequestError, "positive integer"),
        (lambda w, r: w.desk.reject(r, ""), InvalidRequestError, "a rejection needs a reason"),
        (lambda w, r: w.desk.reject(r, "x" * 97), InvalidRequestError, "a rejection needs a reason"),
        (lambda w, r: w.desk.reject(r, "naïve"), InvalidRequestError, "printable ASCII"),
        (lambda w, r: w.desk.reject(r + 1, "late"), InvalidRequestError, "is approved already"),
        (lambda w, r: w.desk.approve(r + 2), InvalidRequestError, "is cancelled already"),
    ],
)
def test_agent_refusals_change_nothing(
    world: World, attempt: Callable[[World, int], object], error: type[EquitokenError], match: str
) -> None:
    world.desk.issue(1, world.founder, shares(100), None)
    pending = world.request(world.founder, world.buyer, 10)
    done = world.request(world.founder, world.buyer, 10)
    world.desk.approve(done)
    cancelled = world.request(world.founder, world.buyer, 10)
    world.token.cancel_transfer(cancelled, sender=world.founder)
    refused(world, error, match, lambda: attempt(world, pending))


# --- exactly once across a crash ------------------------------------------------


@pytest.mark.parametrize("point", ["private_action_sent", "private_action_mined"])
def test_an_approval_interrupted_by_a_crash_moves_the_shares_once(world: World, point: str) -> None:
    desk = world.desk
    desk.issue(1, world.founder, shares(100), None)
    request_id = world.request(world.founder, world.buyer, 30)
    with simulated_crash(point), pytest.raises(SimulatedCrash):
        desk.approve(request_id)
    assert desk.action(f"private:ACME:approve:{request_id}").state == "pending"
    # After the restart, asking again (or `resume`) finishes the stored transaction.
    assert desk.approve(request_id).state == "done"
    assert desk.resume() == 0
    assert (desk.balance(world.founder).raw, desk.balance(world.buyer).raw) == (70, 30)
    with world.db.transaction() as session:
        purposes = list(session.scalars(select(ChainTransactionRow.purpose)))
    assert purposes.count(f"private:ACME:approve:{request_id}") == 1


def test_an_issuance_interrupted_by_a_crash_is_issued_once(world: World) -> None:
    with simulated_crash("private_action_mined"), pytest.raises(SimulatedCrash):
        world.desk.issue(2, world.founder, shares(5), None)
    assert world.desk.resume() == 1
    assert world.desk.issue(2, world.founder, shares(5), None).state == "done"
    assert world.desk.balance(world.founder).raw == 5
    assert int(world.token.totalSupply()) == 5
