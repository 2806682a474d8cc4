"""The investors the identity registry and sanctions list tests talk about, and a mint that may run
several times in one test.

The deployers, the registry, the roles and `register`/`mint` come from ``tests/contracts/conftest.py``
and ``tests.support.contracts``.
"""

from typing import Any

import boa
from tests.support.contracts import mint

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
