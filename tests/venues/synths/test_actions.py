"""`SynthsClient` on the in-process chain: each action moves what it says once per key, and each bad
input is refused with its reason before anything is signed (no nonce used, no outbox row, no change).

At $200 a token, 3,000 USDC carry at most 10 sAAPL (2,000 USDC of debt at the 150% minimum).
"""

from collections.abc import Callable

import pytest
from tests.support.synths import SYNTH, SynthsWorld, synths
from tests.support.venue_world import USDC

from equitoken.model.errors import InsufficientFundsError
from equitoken.model.quantities import Usd
from equitoken.oracle.observation import MarketStatus
from equitoken.venues.synths.actions import SynthAction, SynthReceipt
from equitoken.venues.synths.errors import (
    NotPositionOwnerError,
    PositionClosedError,
    SynthAmountError,
    SynthFundsError,
    SynthsError,
    SynthSuspendedError,
    UndercollateralisedError,
    UnknownSynthError,
)
from equitoken.venues.synths.parameters import SynthAmount


def dollars(whole: int) -> Usd:
    return Usd(whole * USDC)


def refused(world: SynthsWorld, error: type[Exception], match: str, action: Callable[[], object]) -> None:
    """Assert that `action` raises `error` and sends nothing: no nonce, no row, no change of the vault."""
    wallets = (world.writer, world.other_writer)
    nonces, rows = [world.chain.nonce(w, "latest") for w in wallets], world.stored_rows()
    before = [world.reader.vault(t) for t in world.synths.synths]
    positions = [world.reader.positions(t) for t in world.synths.synths]
    usdc = [int(world.usdc.balanceOf(w)) for w in wallets]

    with pytest.raises(error, match=match):
        action()

    assert [world.chain.nonce(w, "latest") for w in wallets] == nonces
    assert world.stored_rows() == rows
    assert [world.reader.vault(t) for t in world.synths.synths] == before
    assert [world.reader.positions(t) for t in world.synths.synths] == positions
    assert [int(world.usdc.balanceOf(w)) for w in wallets] == usdc


def open_at_minimum(world: SynthsWorld, key: str = "open") -> SynthReceipt:
    return world.client.open_position(world.writer, "AAPL", dollars(3_000), synths(10), key=key)


# ------------------------------------------------------------------------------------ happy paths


def test_open_position_once_per_key(world: SynthsWorld) -> None:
    client = world.client
    usdc_before = int(world.usdc.balanceOf(world.writer))

    opened = open_at_minimum(world)
    again = open_at_minimum(world)

    assert opened == SynthReceipt(
        SynthAction.OPEN, "AAPL", world.writer, 1, dollars(3_000), synths(10), opened.tx_hash, True
    )
    assert again == SynthReceipt(
        SynthAction.OPEN, "AAPL", world.writer, 1, dollars(3_000), synths(10), opened.tx_hash, False
    )
    assert int(world.usdc.balanceOf(world.writer)) == usdc_before - 3_000 * USDC
    assert int(world.synth("AAPL").balanceOf(world.writer)) == 10 * SYNTH
    view = world.reader.position("AAPL", 1)
    assert (view.owner, view.collateral, view.debt) == (world.writer, dollars(3_000), synths(10))
    assert str(view.collateral_ratio) == "1.5"
    assert view.liquidation_price is not None
    assert view.liquidation_price.units == 200 * 10**8
    assert (view.max_mint, view.liquidatable) == (synths(0), False)
    assert (
        client.purpose(world.writer, "AAPL", SynthAction.OPEN, "open")
        == f"synths:{world.writer}:AAPL:open_position:open"
    )


def test_deposit_withdraw_mint_burn_close(world: SynthsWorld) -> None:
    client = world.client
    position = open_at_minimum(world).position_id

    deposited = client.deposit(world.other_writer, "AAPL", position, dollars(1_000), key="top-up")
    minted = client.mint(world.writer, "AAPL", position, synths("3.3"), key="mint")
    burned = client.burn(world.writer, "AAPL", position, synths("1.3"), key="burn")
    withdrawn = client.withdraw(world.writer, "AAPL", position, None, key="take-spare")

    assert (deposited.collateral, minted.synth, burned.synth) == (
        dollars(1_000),
        synths("3.3"),
        synths("1.3"),
    )
    # 12 sAAPL owed at $200 lock 3,600 USDC at 150%: 400 of the 4,000 are spare.
    assert withdrawn.collateral == dollars(400)
    view = world.reader.position("AAPL", position)
    assert (view.collateral, view.debt, str(view.collateral_ratio)) == (dollars(3_600), synths(12), "1.5")

    closed = client.close(world.writer, "AAPL", position, key="close")

    assert (closed.collateral, closed.synth) == (dollars(3_600), synths(12))
    assert not world.reader.position("AAPL", position).is_open
    vault = world.reader.vault("AAPL")
    assert (vault.total_collateral, vault.total_debt, vault.supply) == (dollars(0), synths(0), synths(0))
    # The writer's own 3,000 back, and the 1,000 another wallet deposited for it.
    assert int(world.usdc.balanceOf(world.writer)) == 101_000 * USDC


def test_deposits_and_debt_free_withdrawals_in_every_state(world: SynthsWorld) -> None:
    client = world.client
    position = client.open_position(world.writer, "AAPL", dollars(500), synths(0), key="collateral-only")
    world.publish("AAPL", 200, MarketStatus.HALTED)

    client.deposit(world.writer, "AAPL", position.position_id, dollars(100), key="d")
    client.withdraw(world.writer, "AAPL", position.position_id, None, key="w")

    assert world.reader.position("AAPL", position.position_id).collateral == dollars(0)


# ------------------------------------------------------------------------------------ refusals


def test_bad_input_is_refused_before_signing(world: SynthsWorld) -> None:
    client = world.client
    position = open_at_minimum(world).position_id
    cases: list[tuple[type[Exception], str, Callable[[], object]]] = [
        (
            UnknownSynthError,
            "no synthetic for 'TSLA'",
            lambda: client.deposit(world.writer, "TSLA", 1, dollars(1), key="k"),
        ),
        (
            SynthsError,
            "request key",
            lambda: client.deposit(world.writer, "AAPL", position, dollars(1), key="a:b"),
        ),
        (
            SynthsError,
            "cannot sign",
            lambda: client.deposit("0x" + "12" * 20, "AAPL", position, dollars(1), key="k"),
        ),
        (
            SynthAmountError,
            "must be positive",
            lambda: client.deposit(world.writer, "AAPL", position, dollars(0), key="k"),
        ),
        (
            SynthAmountError,
            "must be positive",
            lambda: client.mint(world.writer, "AAPL", position, synths(0), key="k"),
        ),
        (
            SynthAmountError,
            "more than the 3000 USDC",
            lambda: client.withdraw(world.writer, "AAPL", position, dollars(3_001), key="k"),
        ),
        (
            SynthAmountError,
            "more than the 10 sAAPL",
            lambda: client.burn(world.writer, "AAPL", position, synths(11), key="k"),
        ),
        (
            UndercollateralisedError,
            "below the vault's minimum of 150%",
            lambda: client.mint(world.writer, "AAPL", position, SynthAmount(1), key="k"),
        ),
        (
            UndercollateralisedError,
            "carries at most 10 sAAPL",
            lambda: client.open_position(
                world.writer, "AAPL", dollars(3_000), SynthAmount(10 * SYNTH + 1), key="k"
            ),
        ),
        (
            UndercollateralisedError,
            "no collateral above",
            lambda: client.withdraw(world.writer, "AAPL", position, None, key="k"),
        ),
        (
            UndercollateralisedError,
            "withdrawing 0.000001 USDC",
            lambda: client.withdraw(world.writer, "AAPL", position, Usd(1), key="k"),
        ),
        (
            NotPositionOwnerError,
            "belongs to",
            lambda: client.mint(world.other_writer, "AAPL", position, synths(1), key="k"),
        ),
        (
            NotPositionOwnerError,
            "belongs to",
            lambda: client.close(world.other_writer, "AAPL", position, key="k"),
        ),
        (
            PositionClosedError,
            "has no position 9",
            lambda: client.deposit(world.writer, "AAPL", 9, dollars(1), key="k"),
        ),
        (
            PositionClosedError,
            "has no position 0",
            lambda: client.deposit(world.writer, "AAPL", 0, dollars(1), key="k"),
        ),
        (
            SynthFundsError,
            "less than the 200000 USDC",
            lambda: client.open_position(world.writer, "AAPL", dollars(200_000), synths(0), key="k"),
        ),
        (
            SynthFundsError,
            "0 sAAPL, less than the 10 sAAPL",
            lambda: (
                client.close(world.writer, "MSFT", 1, key="k")
                if False
                else client.burn(world.other_writer, "AAPL", position, None, key="k")
            ),
        ),
        (
            InsufficientFundsError,
            "sAAPL",
            lambda: client.burn(world.other_writer, "AAPL", position, synths(1), key="k"),
        ),
    ]
    for error, match, action in cases:
        refused(world, error, match, action)


def test_closed_positions_and_suspension_are_refused(world: SynthsWorld) -> None:
    client = world.client
    position = open_at_minimum(world).position_id
    spare = client.open_position(world.other_writer, "AAPL", dollars(100), synths(0), key="spare")
    client.close(world.other_writer, "AAPL", spare.position_id, key="close-spare")
    refused(
        world,
        PositionClosedError,
        "is closed",
        lambda: client.deposit(world.writer, "AAPL", spare.position_id, dollars(1), key="k"),
    )

    for status, dollars_, match in (
        (MarketStatus.CLOSED, 200, "market is closed"),
        (MarketStatus.HALTED, 200, "halted"),
    ):
        world.publish("AAPL", dollars_, status)
        assert world.reader.price_state("AAPL").state.label == (
            "closed" if status == MarketStatus.CLOSED else "halted"
        )
        refused(
            world,
            SynthSuspendedError,
            match,
            lambda: client.burn(world.writer, "AAPL", position, synths(1), key="k"),
        )
        refused(
            world, SynthSuspendedError, match, lambda: client.close(world.writer, "AAPL", position, key="k")
        )
        refused(
            world,
            SynthSuspendedError,
            match,
            lambda: client.open_position(world.writer, "AAPL", dollars(100), synths(0), key="k"),
        )
    world.publish("AAPL", 200)
    world.wait(61)
    assert world.reader.price_state("AAPL").state.label == "no price"
    refused(
        world,
        SynthSuspendedError,
        "stale",
        lambda: client.mint(world.writer, "AAPL", position, synths(1), key="k"),
    )
    assert world.reader.position("AAPL", position).max_mint == synths(0)
