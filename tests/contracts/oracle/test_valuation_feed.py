"""The issuer's valuation feed: Chainlink rounds whose startedAt is the as-of time, marked as not a market
price, with each valuation's method and source; every refusal records nothing."""

import boa
import pytest
from tests.support.contracts import ONE_SHARE, actor, events
from tests.support.contracts.private import DAY, PrivateWorld, deploy_private_world

METHOD_409A, METHOD_PRICED_ROUND = 1, 2


@pytest.fixture(scope="module")
def world() -> PrivateWorld:
    return deploy_private_world("vf")


def now() -> int:
    timestamp: int = boa.env.evm.patch.timestamp
    return timestamp


def record(
    world: PrivateWorld, price: int, as_of: int, method: int = METHOD_409A, source: str = "409A"
) -> int:
    with boa.env.prank(world.issuer):
        round_id: int = world.valuation.record_valuation(price, as_of, method, source)
    return round_id


def test_a_valuation_is_a_round_with_its_as_of_time(world: PrivateWorld) -> None:
    feed = world.valuation
    assert (feed.PRICE_KIND(), feed.is_market_price(), feed.decimals()) == ("issuer valuation", False, 8)
    as_of = now() - 30 * DAY
    assert record(world, 1_234 * ONE_SHARE // 100, as_of, METHOD_409A, "Carta 409A report, 2026-Q3") == 1
    assert (
        "ValuationRecorded",
        {
            "round_id": 1,
            "price": 1_234 * ONE_SHARE // 100,
            "as_of": as_of,
            "method": METHOD_409A,
            "source": "Carta 409A report, 2026-Q3",
            "issuer": world.issuer,
        },
    ) in events(feed)
    assert tuple(feed.latestRoundData()) == (1, 1_234 * ONE_SHARE // 100, as_of, now(), 1)
    assert tuple(feed.latest_valuation()) == (
        1,
        1_234 * ONE_SHARE // 100,
        as_of,
        now(),
        METHOD_409A,
        "Carta 409A report, 2026-Q3",
    )


def test_a_priced_round_may_move_the_price_any_amount(world: PrivateWorld) -> None:
    record(world, 10 * ONE_SHARE, now() - DAY)
    boa.env.time_travel(seconds=60)
    record(world, 35 * ONE_SHARE, now(), METHOD_PRICED_ROUND, "Series B, lead: Example Ventures")
    record(world, 3 * ONE_SHARE, now(), METHOD_PRICED_ROUND, "correction: down round")
    assert tuple(world.valuation.getRoundData(1))[1] == 10 * ONE_SHARE
    assert tuple(world.valuation.latestRoundData())[:2] == (3, 3 * ONE_SHARE)
    assert world.valuation.valuation(2).source == "Series B, lead: Example Ventures"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("zero", "valuation: price is zero"),
        ("method", "valuation: unknown method"),
        ("source", "valuation: source is empty"),
        ("future", "feed: observation in the future"),
        ("too_old", "feed: report too old"),
        ("older_than_latest", "feed: observation not newer"),
        ("too_large", "valuation: price too large"),
        ("not_issuer", "access_control: account is missing role"),
    ],
)
def test_refusals_record_nothing(world: PrivateWorld, case: str, reason: str) -> None:
    feed = world.valuation
    record(world, ONE_SHARE, now() - 10 * DAY)
    price, as_of, method, source, caller = 2 * ONE_SHARE, now(), METHOD_409A, "409A", world.issuer
    if case == "zero":
        price = 0
    elif case == "method":
        method = 5
    elif case == "source":
        source = ""
    elif case == "future":
        as_of = now() + 1
    elif case == "too_old":
        as_of = now() - 401 * DAY
    elif case == "older_than_latest":
        as_of = now() - 11 * DAY
    elif case == "too_large":
        price = 2**127
    elif case == "not_issuer":
        caller = actor("vf-stranger")
    before = (tuple(feed.latestRoundData()), tuple(feed.latest_valuation()))
    with boa.env.prank(caller), boa.reverts(reason):
        feed.record_valuation(price, as_of, method, source)
    assert (tuple(feed.latestRoundData()), tuple(feed.latest_valuation())) == before
    with boa.reverts("feed: no such round"):
        feed.valuation(2)


def test_no_valuation_yet(world: PrivateWorld) -> None:
    with boa.reverts("feed: no data"):
        world.valuation.latestRoundData()
    with boa.reverts("feed: no data"):
        world.valuation.latest_valuation()


def test_only_the_admin_widens_the_age_bound(world: PrivateWorld) -> None:
    feed = world.valuation
    old = now() - 500 * DAY
    with boa.env.prank(actor("vf-stranger")), boa.reverts("access_control: account is missing role"):
        feed.set_bounds(0, 800 * DAY, 0)
    assert feed.max_report_age() == 400 * DAY
    with boa.env.prank(world.admin):
        feed.set_bounds(0, 800 * DAY, 0)
    assert record(world, ONE_SHARE, old) == 1
    assert tuple(feed.latestRoundData())[2] == old
