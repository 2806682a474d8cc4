"""Fixtures for the oracle feeds: compiled sources, actors by role, reporters, deployed feeds.

`transmit` signs one round with real reporter keys through `equitoken.oracle.observation`, the
signer the platform uses, so every test that pushes a price also proves that the Python
EIP-712 message and the contract's agree.
"""

from collections.abc import Sequence
from typing import Any

import boa
import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from equitoken.chain.evm.artifacts import contract_path
from equitoken.model.quantities import Price
from equitoken.oracle.observation import (
    DOMAIN_NAME,
    DOMAIN_VERSION,
    FeedId,
    MarketStatus,
    Observation,
    SignedObservation,
)

PRICE_DECIMALS = 8
RESERVE_DECIMALS = 18
REPORTER_COUNT = 4
QUORUM = 3
NO_TOKEN = "0x0000000000000000000000000000000000000000"


def reporter_key(index: int) -> LocalAccount:
    """Return the `index`-th deterministic reporter account."""
    account: LocalAccount = Account.from_key(keccak(text=f"reporter {index}"))
    return account


def by_address(accounts: Sequence[LocalAccount]) -> list[LocalAccount]:
    """Return `accounts` in the order `transmit` demands: strictly increasing addresses."""
    return sorted(accounts, key=lambda account: int(account.address, 16))


def feed_id(feed: Any) -> FeedId:
    """Return where `feed` lives, as the reporters sign it."""
    return FeedId(boa.env.evm.patch.chain_id, str(feed.address))


def next_round(feed: Any) -> int:
    """Return the id the feed's next round must carry."""
    try:
        latest: int = feed.latestRoundData()[0]
    except boa.BoaError:
        return 1
    return latest + 1


def sign(
    feed: Any,
    accounts: Sequence[LocalAccount],
    prices: Sequence[int],
    status: int,
    observed_at: int | Sequence[int],
    round_id: int,
) -> list[SignedObservation]:
    """Return each account's signed observation, in the order of `accounts`."""
    times = [observed_at] * len(accounts) if isinstance(observed_at, int) else list(observed_at)
    return [
        Observation(feed_id(feed), round_id, Price(price), MarketStatus(status), at).sign(account)
        for account, price, at in zip(accounts, prices, times, strict=True)
    ]


def raw_observation(
    feed: FeedId, account: LocalAccount, round_id: int, price: int, status: int, observed_at: int
) -> tuple[int, int, int, bytes]:
    """Sign any values, even ones `Observation` refuses (status 0, price 0), from the EIP-712 spec.

    Written from the specification rather than through `Observation`, so that it also checks
    the platform's signer independently.
    """
    typed: dict[str, Any] = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Observation": [
                {"name": "roundId", "type": "uint256"},
                {"name": "price", "type": "uint256"},
                {"name": "status", "type": "uint8"},
                {"name": "observedAt", "type": "uint256"},
            ],
        },
        "primaryType": "Observation",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": feed.chain_id,
            "verifyingContract": feed.address,
        },
        "message": {"roundId": round_id, "price": price, "status": status, "observedAt": observed_at},
    }
    signature = bytes(account.sign_message(encode_typed_data(full_message=typed)).signature)
    return (price, status, observed_at, signature)


def transmit(
    feed: Any,
    accounts: Sequence[LocalAccount],
    price: int | Sequence[int],
    status: int = int(MarketStatus.OPEN),
    observed_at: int | Sequence[int] | None = None,
    *,
    round_id: int | None = None,
    sender: str | None = None,
) -> int:
    """Sign a round with `accounts` (sorted here by address) and submit it; return the round id.

    `price` is one share price for every reporter, or one per account in the order given;
    `observed_at` defaults to the current block time.
    """
    prices = [price] * len(accounts) if isinstance(price, int) else list(price)
    at = boa.env.evm.patch.timestamp if observed_at is None else observed_at
    times = [at] * len(accounts) if isinstance(at, int) else list(at)
    order = sorted(range(len(accounts)), key=lambda i: int(accounts[i].address, 16))
    signed = sign(
        feed,
        [accounts[i] for i in order],
        [prices[i] for i in order],
        status,
        [times[i] for i in order],
        next_round(feed) if round_id is None else round_id,
    )
    arguments = [observation.as_call_argument() for observation in signed]
    result: int = feed.transmit(signed[0].observation.round_id, arguments, sender=sender or boa.env.eoa)
    return result


@pytest.fixture(scope="session")
def price_feed_deployer() -> Any:
    return boa.load_partial(str(contract_path("oracle/PriceFeed.vy")))


@pytest.fixture(scope="session")
def reserve_feed_deployer() -> Any:
    return boa.load_partial(str(contract_path("oracle/ReserveFeed.vy")))


@pytest.fixture(scope="session")
def consumer_deployer() -> Any:
    return boa.load_partial(str(contract_path("mocks/FeedConsumer.vy")))


@pytest.fixture(scope="module")
def admin() -> Any:
    return boa.env.generate_address("admin")


@pytest.fixture(scope="module")
def updater() -> Any:
    return boa.env.generate_address("updater")


@pytest.fixture(scope="module")
def non_updater() -> Any:
    return boa.env.generate_address("non_updater")


@pytest.fixture(scope="module")
def transmitter() -> Any:
    """Whoever relays a signed round: anyone may."""
    return boa.env.generate_address("transmitter")


@pytest.fixture(scope="session")
def reporter_accounts() -> list[LocalAccount]:
    """The feed's reporters, sorted by address; `price_feed` needs `QUORUM` of them."""
    return by_address([reporter_key(i) for i in range(REPORTER_COUNT)])


@pytest.fixture(scope="session")
def outsider_account() -> LocalAccount:
    """A key that is no reporter of any feed."""
    return reporter_key(REPORTER_COUNT + 100)


def deploy_price_feed(
    deployer: Any, admin: str, reporters: Sequence[LocalAccount], quorum: int, token: str = NO_TOKEN
) -> Any:
    """Deploy a price feed for `token` (default: none, a share price feed) as `admin`."""
    with boa.env.prank(admin):
        return deployer.deploy(
            PRICE_DECIMALS, "AAPL / USD", token, [account.address for account in reporters], quorum
        )


@pytest.fixture
def price_feed(price_feed_deployer: Any, admin: Any, reporter_accounts: list[LocalAccount]) -> Any:
    """A share price feed (no token): 4 reporters, quorum 3, Backed's default bounds."""
    return deploy_price_feed(price_feed_deployer, admin, reporter_accounts, QUORUM)


@pytest.fixture(scope="module")
def reserve_feed(reserve_feed_deployer: Any, admin: Any, updater: Any) -> Any:
    with boa.env.prank(admin):
        feed = reserve_feed_deployer.deploy(RESERVE_DECIMALS, "bAAPL reserves")
        feed.grantRole(feed.UPDATER_ROLE(), updater)
    return feed


@pytest.fixture(params=["price", "reserve"])
def any_feed(request: pytest.FixtureRequest) -> Any:
    """Each feed in turn, for behaviour the two share."""
    return request.getfixturevalue(f"{request.param}_feed")
