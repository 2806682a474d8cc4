"""PriceFeed's reporter set: registration at deploy, admin changes, and the majority quorum rule."""

from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from tests.contracts.oracle.test_price_feed import PRICE
from tests.support.contracts.oracle import NO_TOKEN, QUORUM, deploy_price_feed, reporter_key, transmit

MAX_REPORTERS = 16


def _addresses(accounts: list[LocalAccount]) -> list[str]:
    return [str(account.address) for account in accounts]


def _events(feed: Any) -> list[tuple[str, tuple[Any, ...]]]:
    return [
        (type(log).__name__, tuple(v for k, v in log._asdict().items() if k != "address"))
        for log in feed.get_logs()
    ]


# --- deployment ----------------------------------------------------------------------------------


def test_deploy_registers_reporters_and_quorum(
    price_feed: Any, reporter_accounts: list[LocalAccount]
) -> None:
    assert price_feed.reporters() == _addresses(reporter_accounts)
    assert all(price_feed.is_reporter(address) for address in _addresses(reporter_accounts))
    assert price_feed.quorum() == QUORUM


def test_deploy_emits_reporter_and_quorum_events(
    price_feed_deployer: Any, admin: Any, reporter_accounts: list[LocalAccount]
) -> None:
    feed = deploy_price_feed(price_feed_deployer, admin, reporter_accounts[:3], 2)

    reporter_events = [event for event in _events(feed) if event[0] in ("ReporterAdded", "QuorumUpdated")]
    assert reporter_events == [
        *(("ReporterAdded", (address,)) for address in _addresses(reporter_accounts[:3])),
        ("QuorumUpdated", (0, 2)),
    ]


@pytest.mark.parametrize(
    ("count", "quorum", "reason"),
    [
        (0, 0, "reporter_set: quorum not a majority"),
        (0, 1, "reporter_set: quorum above reporter count"),
        (4, 2, "reporter_set: quorum not a majority"),
        (4, 5, "reporter_set: quorum above reporter count"),
        (1, 0, "reporter_set: quorum not a majority"),
    ],
)
def test_deploy_rejects_quorum_that_is_no_majority(
    price_feed_deployer: Any, reporter_accounts: list[LocalAccount], count: int, quorum: int, reason: str
) -> None:
    with boa.reverts(reason):
        price_feed_deployer.deploy(8, "AAPL / USD", NO_TOKEN, _addresses(reporter_accounts[:count]), quorum)


def test_deploy_rejects_duplicate_reporter(
    price_feed_deployer: Any, reporter_accounts: list[LocalAccount]
) -> None:
    doubled = _addresses(reporter_accounts[:2]) * 2
    with boa.reverts("reporter_set: already a reporter"):
        price_feed_deployer.deploy(8, "AAPL / USD", NO_TOKEN, doubled, 3)


def test_deploy_rejects_zero_reporter(
    price_feed_deployer: Any, reporter_accounts: list[LocalAccount]
) -> None:
    with boa.reverts("reporter_set: zero address"):
        price_feed_deployer.deploy(
            8, "AAPL / USD", NO_TOKEN, [*_addresses(reporter_accounts[:2]), NO_TOKEN], 2
        )


def test_single_reporter_feed(
    price_feed_deployer: Any, admin: Any, reporter_accounts: list[LocalAccount]
) -> None:
    feed = deploy_price_feed(price_feed_deployer, admin, reporter_accounts[:1], 1)

    assert transmit(feed, reporter_accounts[:1], PRICE) == 1


# --- add_reporter --------------------------------------------------------------------------------


def test_add_reporter_registers_and_emits(
    price_feed: Any, admin: Any, outsider_account: LocalAccount
) -> None:
    price_feed.add_reporter(outsider_account.address, sender=admin)

    assert _events(price_feed) == [("ReporterAdded", (outsider_account.address,))]
    assert price_feed.is_reporter(outsider_account.address)
    assert price_feed.reporters()[-1] == outsider_account.address


def test_add_reporter_keeps_the_majority_rule(price_feed: Any, admin: Any) -> None:
    # 4 reporters, quorum 3: a fifth keeps 3 a majority, a sixth would not.
    price_feed.add_reporter(reporter_key(10).address, sender=admin)

    with boa.reverts("reporter_set: quorum not a majority"):
        price_feed.add_reporter(reporter_key(11).address, sender=admin)
    assert not price_feed.is_reporter(reporter_key(11).address)

    price_feed.set_quorum(4, sender=admin)
    price_feed.add_reporter(reporter_key(11).address, sender=admin)
    assert len(price_feed.reporters()) == 6


def test_add_reporter_rejects_duplicate_and_zero(
    price_feed: Any, admin: Any, reporter_accounts: list[LocalAccount]
) -> None:
    with boa.reverts("reporter_set: already a reporter"):
        price_feed.add_reporter(reporter_accounts[0].address, sender=admin)
    with boa.reverts("reporter_set: zero address"):
        price_feed.add_reporter(NO_TOKEN, sender=admin)
    assert price_feed.reporters() == _addresses(reporter_accounts)


def test_add_reporter_stops_at_the_limit(price_feed_deployer: Any, admin: Any) -> None:
    accounts = [reporter_key(i) for i in range(MAX_REPORTERS)]
    feed = deploy_price_feed(price_feed_deployer, admin, accounts, MAX_REPORTERS)

    with boa.reverts("reporter_set: too many reporters"):
        feed.add_reporter(reporter_key(MAX_REPORTERS).address, sender=admin)


def test_add_reporter_rejects_non_admin(
    price_feed: Any, transmitter: Any, outsider_account: LocalAccount
) -> None:
    with boa.reverts("access_control: account is missing role"):
        price_feed.add_reporter(outsider_account.address, sender=transmitter)


# --- remove_reporter -----------------------------------------------------------------------------


def test_remove_reporter_moves_the_last_into_the_gap(
    price_feed: Any, admin: Any, reporter_accounts: list[LocalAccount]
) -> None:
    first, second, third, fourth = _addresses(reporter_accounts)

    price_feed.remove_reporter(first, sender=admin)

    assert _events(price_feed) == [("ReporterRemoved", (first,))]
    assert price_feed.reporters() == [fourth, second, third]
    assert not price_feed.is_reporter(first)
    # The moved reporter's position was updated: it can still be removed.
    price_feed.set_quorum(2, sender=admin)
    price_feed.remove_reporter(fourth, sender=admin)
    assert price_feed.reporters() == [third, second]


def test_remove_the_last_reporter_in_the_list(
    price_feed: Any, admin: Any, reporter_accounts: list[LocalAccount]
) -> None:
    price_feed.remove_reporter(reporter_accounts[3].address, sender=admin)

    assert price_feed.reporters() == _addresses(reporter_accounts[:3])


def test_remove_reporter_keeps_enough_for_the_quorum(
    price_feed: Any, admin: Any, reporter_accounts: list[LocalAccount]
) -> None:
    price_feed.remove_reporter(reporter_accounts[0].address, sender=admin)

    with boa.reverts("reporter_set: quorum above reporter count"):
        price_feed.remove_reporter(reporter_accounts[1].address, sender=admin)
    assert price_feed.is_reporter(reporter_accounts[1].address)


def test_removed_reporter_can_be_added_again(
    price_feed: Any, admin: Any, reporter_accounts: list[LocalAccount]
) -> None:
    address = reporter_accounts[2].address
    price_feed.remove_reporter(address, sender=admin)

    price_feed.add_reporter(address, sender=admin)

    assert price_feed.is_reporter(address)
    assert sorted(price_feed.reporters()) == sorted(_addresses(reporter_accounts))


def test_remove_reporter_rejects_non_reporter(
    price_feed: Any, admin: Any, outsider_account: LocalAccount
) -> None:
    with boa.reverts("reporter_set: not a reporter"):
        price_feed.remove_reporter(outsider_account.address, sender=admin)


def test_remove_reporter_rejects_non_admin(
    price_feed: Any, reporter_accounts: list[LocalAccount], transmitter: Any
) -> None:
    for caller in (transmitter, reporter_accounts[0].address):
        with boa.reverts("access_control: account is missing role"):
            price_feed.remove_reporter(reporter_accounts[0].address, sender=caller)


# --- set_quorum ----------------------------------------------------------------------------------


def test_set_quorum_replaces_and_emits(price_feed: Any, admin: Any) -> None:
    price_feed.set_quorum(4, sender=admin)

    assert _events(price_feed) == [("QuorumUpdated", (QUORUM, 4))]
    assert price_feed.quorum() == 4


def test_raised_quorum_applies_to_the_next_round(
    price_feed: Any, admin: Any, reporter_accounts: list[LocalAccount]
) -> None:
    price_feed.set_quorum(4, sender=admin)

    with boa.reverts("aggregator: below quorum"):
        transmit(price_feed, reporter_accounts[:3], PRICE)
    assert transmit(price_feed, reporter_accounts, PRICE) == 1


@pytest.mark.parametrize(
    ("quorum", "reason"),
    [
        (0, "reporter_set: quorum not a majority"),
        (2, "reporter_set: quorum not a majority"),
        (5, "reporter_set: quorum above reporter count"),
    ],
)
def test_set_quorum_rejects_no_majority(price_feed: Any, admin: Any, quorum: int, reason: str) -> None:
    with boa.reverts(reason):
        price_feed.set_quorum(quorum, sender=admin)
    assert price_feed.quorum() == QUORUM


def test_set_quorum_rejects_non_admin(price_feed: Any, transmitter: Any) -> None:
    with boa.reverts("access_control: account is missing role"):
        price_feed.set_quorum(4, sender=transmitter)
