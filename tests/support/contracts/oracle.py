"""Reporters and signed rounds for the oracle feeds.

`transmit` signs one round with real reporter keys through `equitoken.oracle.observation`, the
signer the platform uses, so every test that pushes a price also proves that the Python
EIP-712 message and the contract's agree. The compiled sources, the actors by role and the deployed
feeds are fixtures in ``tests/contracts/oracle/conftest.py``.
"""

from collections.abc import Sequence
from typing import Any

import boa
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

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


def deploy_price_feed(
    deployer: Any, admin: str, reporters: Sequence[LocalAccount], quorum: int, token: str = NO_TOKEN
) -> Any:
    """Deploy a price feed for `token` (default: none, a share price feed) as `admin`."""
    with boa.env.prank(admin):
        return deployer.deploy(
            PRICE_DECIMALS, "AAPL / USD", token, [account.address for account in reporters], quorum
        )
