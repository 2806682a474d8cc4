"""Deployers and actors for the synthetic stocks: a real stock token, its real quorum `PriceFeed` (five
reporters, quorum three, no move or interval bound), test USDC, the `Synth` and its `SynthVault`
(max age 60 s, the vault the only minter), and funded writers and a liquidator.

The token, the USDC and the reserve feed come from the venues' and the contracts' conftests. The
market starts open with a fresh price. The units, the model of the vault's maths and the helpers live
in ``tests.support.contracts.synths``.
"""

from collections.abc import Callable
from typing import Any

import boa
import pytest
from eth_account.signers.local import LocalAccount
from tests.support.contracts import actor, deployer
from tests.support.contracts.oracle import deploy_price_feed, reporter_key, transmit
from tests.support.contracts.synths import (
    MAX_AGE,
    MAX_ANSWER,
    PRICE,
    QUORUM,
    REPORTERS,
    USDC,
    Snapshot,
    snapshot_of,
)
from tests.support.contracts.venues import OPEN

FUNDS = 1_000_000 * USDC

# ------------------------------------------------------------------------------------ deployers


@pytest.fixture(scope="session")
def synth_deployer() -> Any:
    return deployer("venues/synths/Synth.vy")


@pytest.fixture(scope="session")
def vault_deployer() -> Any:
    return deployer("venues/synths/SynthVault.vy")


# --------------------------------------------------------------------------------------- actors


@pytest.fixture(scope="session")
def all_reporters() -> list[LocalAccount]:
    """The five reporters of the feed; any three make a quorum."""
    return [reporter_key(i) for i in range(REPORTERS)]


@pytest.fixture(scope="session")
def reporters(all_reporters: list[LocalAccount]) -> list[LocalAccount]:
    """The quorum that signs the ordinary rounds."""
    return all_reporters[:QUORUM]


@pytest.fixture(scope="module")
def writer() -> str:
    """Who opens positions and mints synthetics."""
    return actor("writer")


@pytest.fixture(scope="module")
def other_writer() -> str:
    return actor("other_writer")


@pytest.fixture(scope="module")
def liquidator() -> str:
    return actor("liquidator")


@pytest.fixture(scope="module")
def donor() -> str:
    return actor("donor")


# ------------------------------------------------------------------------------------ contracts


@pytest.fixture(scope="module")
def feed_of(price_feed_deployer: Any, admin: str, all_reporters: list[LocalAccount]) -> Callable[[Any], Any]:
    """Deploy a token's feed (5 reporters, quorum 3, no move or interval bound) and publish a price."""

    def deploy(token: Any) -> Any:
        feed = deploy_price_feed(price_feed_deployer, admin, all_reporters, QUORUM, token.address)
        with boa.env.prank(admin):
            feed.set_bounds(0, feed.max_report_age(), 0)
        transmit(feed, all_reporters[:QUORUM], PRICE, OPEN)
        return feed

    return deploy


@pytest.fixture(scope="module")
def feed(feed_of: Callable[[Any], Any], token: Any) -> Any:
    return feed_of(token)


@pytest.fixture(scope="module")
def synth(synth_deployer: Any, admin: str) -> Any:
    with boa.env.prank(admin):
        return synth_deployer.deploy("Equitoken Synthetic AAPL", "sAAPL")


@pytest.fixture(scope="module")
def vault(
    vault_deployer: Any,
    synth: Any,
    usdc: Any,
    feed: Any,
    token: Any,
    admin: str,
    writer: str,
    other_writer: str,
    liquidator: str,
    donor: str,
) -> Any:
    """The vault of sAAPL, its only minter; every actor holds USDC and has approved the vault."""
    with boa.env.prank(admin):
        vault = vault_deployer.deploy(
            usdc.address, synth.address, feed.address, token.address, MAX_AGE, 1, MAX_ANSWER
        )
        synth.set_minter(vault.address, True)
        for wallet in (writer, other_writer, liquidator, donor):
            usdc.mint(wallet, FUNDS)
    for wallet in (writer, other_writer, liquidator, donor):
        usdc.approve(vault.address, 2**256 - 1, sender=wallet)
    return vault


@pytest.fixture
def state(
    vault: Any, synth: Any, usdc: Any, writer: str, other_writer: str, liquidator: str, donor: str
) -> Snapshot:
    return snapshot_of(vault, synth, usdc, [writer, other_writer, liquidator, donor])
