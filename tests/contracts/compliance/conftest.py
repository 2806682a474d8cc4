"""Actors for the identity registry and the sanctions list: a permissioned token, sellers, buyers.

The deployers, the registry and the roles come from ``tests/contracts/conftest.py``; the investors'
ids and the helpers that mint and read events from ``tests.support.contracts.compliance``.
"""

from typing import Any

import boa
import pytest
from tests.support.contracts import PERMISSIONED, TokenFactory


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
