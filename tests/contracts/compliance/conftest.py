"""Actors and helpers for the identity registry and the sanctions list.

The deployers, the registry, the roles and `register`/`mint` come from
``tests/contracts/conftest.py``; this module only names the investors the
compliance tests talk about and wraps minting so several mints may run in
one test.
"""

from typing import Any

import boa
import pytest
from tests.contracts.conftest import PERMISSIONED, TokenFactory, mint

SELLER_ID = 1
BUYER_ID = 2
DAY = 86_400


def issue(token: Any, feed: Any, attester: str, minter: str, to: str, amount: int) -> None:
    """Mint `amount` to `to` one second after the previous block.

    The reserve feed only accepts an observation newer than the last one,
    and boa keeps the clock still between transactions.
    """
    boa.env.time_travel(seconds=1)
    mint(token, feed, attester, minter, to, amount)


def event_names(contract: Any) -> list[str]:
    return [type(log).__name__ for log in contract.get_logs()]


@pytest.fixture(scope="module")
def token(deploy_token: TokenFactory) -> Any:
    """A `permissioned` stock token bound to the registry."""
    return deploy_token(PERMISSIONED)


@pytest.fixture(scope="module")
def seller() -> str:
    return str(boa.env.generate_address("seller"))


@pytest.fixture(scope="module")
def seller_second_wallet() -> str:
    return str(boa.env.generate_address("seller_second_wallet"))


@pytest.fixture(scope="module")
def buyer() -> str:
    return str(boa.env.generate_address("buyer"))


@pytest.fixture(scope="module")
def buyer_second_wallet() -> str:
    return str(boa.env.generate_address("buyer_second_wallet"))


@pytest.fixture(scope="module")
def unregistered_wallet() -> str:
    return str(boa.env.generate_address("unregistered_wallet"))


@pytest.fixture(scope="module")
def stranger() -> str:
    """An address with no role anywhere."""
    return str(boa.env.generate_address("stranger"))
