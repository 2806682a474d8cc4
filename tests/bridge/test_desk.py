"""The bridge desk over attester processes and the relayer: a send from an EVM chain and one from Solana
are burned, attested and minted, and read back with their progress and the supply per chain; every
refusal names its problem and changes nothing (balances, allowances, supply, transfers)."""

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import pytest
from solders.keypair import Keypair
from tests.support.bridge import BASE, ETHEREUM, ONE, BridgeWorld, bridge_world, mint_through_workflow
from tests.support.bridge_desk import make_desk

from equitoken.bridge.desk import BridgeDesk, BridgeRefusedError, UnknownTransferError
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource

pytestmark = pytest.mark.anvil

NOBODY = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[BridgeWorld]:
    with bridge_world(tmp_path_factory.mktemp("desk"), prices, calendar) as built:
        p = built.platform
        mint_through_workflow(p, built.issuer, "AAPL", ETHEREUM, p.wallet, "10")
        solana = built.solana.chain.chain_id
        mint_through_workflow(p, built.issuer, "AAPL", solana, str(built.solana_wallet.pubkey()), "10")
        yield built


@pytest.fixture(scope="module")
def desk(world: BridgeWorld) -> BridgeDesk:
    return make_desk(world)


def _solana(world: BridgeWorld) -> int:
    return world.solana.chain.chain_id


def _sol_wallet(world: BridgeWorld) -> str:
    return str(world.solana_wallet.pubkey())


def test_the_desk_names_its_chains_and_tickers(world: BridgeWorld, desk: BridgeDesk) -> None:
    assert desk.chains == {ETHEREUM: "Ethereum", BASE: "Base", _solana(world): "Solana"}
    assert {"AAPL", "MSTR", "HOOD"} <= set(desk.tickers)


def test_a_send_from_ethereum_and_one_from_solana_are_minted(world: BridgeWorld, desk: BridgeDesk) -> None:
    wallet, solana = world.wallet, _solana(world)
    before = desk.supply("AAPL")

    from_evm = desk.send("AAPL", ETHEREUM, wallet, BASE, wallet, 2 * ONE)
    from_solana = desk.send("AAPL", solana, _sol_wallet(world), BASE, wallet.lower(), ONE)
    world.relayer.discover()
    flying = desk.supply("AAPL")
    assert flying.in_flight == {BASE: 3 * ONE}
    assert flying.supply[ETHEREUM] == before.supply[ETHEREUM] - 2 * ONE
    assert flying.supply[solana] == before.supply[solana] - ONE
    world.relay()

    listed = {v.source_tx: v for v in desk.transfers(wallet=wallet)}
    evm, svm = listed[from_evm.source_tx], listed[from_solana.source_tx]
    assert (evm.id, svm.id) == (from_evm.transfer_id, from_solana.transfer_id)
    assert (evm.state, svm.state) == ("minted", "minted"), (evm.reason, svm.reason)
    assert (evm.sender, evm.receiver, evm.amount) == (wallet, wallet, 2 * ONE)
    assert (svm.sender, svm.source_chain, svm.dest_chain) == (_sol_wallet(world), solana, BASE)
    assert not evm.in_flight
    assert evm.events == ()
    detail = desk.transfer(evm.id.upper().replace("0X", "0x"))
    assert [e.state for e in detail.events] == ["burned", "attested", "minted"]
    assert [v.id for v in desk.transfers(wallet=_sol_wallet(world))] == [svm.id]
    assert desk.transfers(ticker="MSTR") == []
    after = desk.supply("AAPL")
    assert after.in_flight == {}
    assert after.supply[BASE] == before.supply[BASE] + 3 * ONE
    assert int(world.token(BASE, "AAPL").balanceOf(wallet)) == 3 * ONE
    with pytest.raises(UnknownTransferError):
        desk.transfer("0x" + "00" * 32)


def _state(world: BridgeWorld, desk: BridgeDesk) -> tuple[Any, ...]:
    """Everything a send could change."""
    wallet = world.wallet
    return (
        world.supply("AAPL"),
        [int(world.token(c, "AAPL").balanceOf(wallet)) for c in (ETHEREUM, BASE)],
        world.solana.chain.balance("AAPL", _sol_wallet(world)),
        [
            int(world.token(c, "AAPL").allowance(wallet, world.pool(c, "AAPL").address))
            for c in (ETHEREUM, BASE)
        ],
        world.relayer.discover(),  # nothing new burned
        [(v.id, v.state) for v in desk.transfers(limit=1000)],
        desk.supply("AAPL"),
    )


@contextmanager
def _paused(world: BridgeWorld) -> Iterator[None]:
    pool, pauser = world.pool(ETHEREUM, "AAPL"), world.platform.onchain.roles.pauser
    pool.pause(sender=pauser)
    try:
        yield
    finally:
        pool.unpause(sender=pauser)


Args = Callable[[BridgeWorld], tuple[Any, ...]]
Within = Callable[[BridgeWorld], AbstractContextManager[None]]


def _none(_world: BridgeWorld) -> AbstractContextManager[None]:
    return nullcontext()


REFUSALS: list[tuple[str, Args, str, Within]] = [
    ("unknown source", lambda w: ("AAPL", 999, w.wallet, BASE, w.wallet, ONE), "999", _none),
    ("unknown destination", lambda w: ("AAPL", ETHEREUM, w.wallet, 999, w.wallet, ONE), "999", _none),
    ("same chain", lambda w: ("AAPL", ETHEREUM, w.wallet, ETHEREUM, w.wallet, ONE), "the same", _none),
    (
        "unknown ticker",
        lambda w: ("TSLA", ETHEREUM, w.wallet, BASE, w.wallet, ONE),
        "TSLA is not bridged",
        _none,
    ),
    ("zero", lambda w: ("AAPL", ETHEREUM, w.wallet, BASE, w.wallet, 0), "not a positive multiple", _none),
    (
        "negative",
        lambda w: ("AAPL", ETHEREUM, w.wallet, BASE, w.wallet, -ONE),
        "not a positive multiple",
        _none,
    ),
    (
        "fraction",
        lambda w: ("AAPL", ETHEREUM, w.wallet, BASE, w.wallet, 1.5),
        "not a positive multiple",
        _none,
    ),
    ("too large", lambda w: ("AAPL", ETHEREUM, w.wallet, BASE, w.wallet, 10**30), "not 10000000", _none),
    ("more than held", lambda w: ("AAPL", ETHEREUM, w.wallet, BASE, w.wallet, 100 * ONE), "holds", _none),
    (
        "more than held on solana",
        lambda w: ("AAPL", _solana(w), _sol_wallet(w), BASE, w.wallet, 100 * ONE),
        "on Solana, not",
        _none,
    ),
    (
        "solana receiver on evm",
        lambda w: ("AAPL", ETHEREUM, w.wallet, BASE, _sol_wallet(w), ONE),
        "receiver:",
        _none,
    ),
    (
        "evm receiver on solana",
        lambda w: ("AAPL", ETHEREUM, w.wallet, _solana(w), w.wallet, ONE),
        "receiver:",
        _none,
    ),
    ("paused pool", lambda w: ("AAPL", ETHEREUM, w.wallet, BASE, w.wallet, ONE), "is paused", _paused),
    ("no key on evm", lambda w: ("AAPL", ETHEREUM, NOBODY, BASE, w.wallet, ONE), "holds no key", _none),
    (
        "no key on solana",
        lambda w: ("AAPL", _solana(w), str(Keypair().pubkey()), BASE, w.wallet, ONE),
        "holds no key",
        _none,
    ),
]


@pytest.mark.parametrize(
    ("args", "message", "within"), [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS]
)
def test_a_refused_send_names_the_problem_and_changes_nothing(
    world: BridgeWorld, desk: BridgeDesk, args: Args, message: str, within: Within
) -> None:
    with within(world):
        before = _state(world, desk)
        with pytest.raises(BridgeRefusedError, match=re.escape(message)) as refused:
            desk.send(*args(world))
        assert _state(world, desk) == before
    assert refused.value.code == "bridge_refused"


def test_a_send_above_the_rate_limit_is_refused_with_the_wait(world: BridgeWorld, desk: BridgeDesk) -> None:
    pool, admin = world.pool(ETHEREUM, "AAPL"), world.platform.onchain.roles.admin
    pool.set_rate_limits(BASE, True, 3 * ONE, 1, False, 0, 0, sender=admin)
    try:
        desk.send("AAPL", ETHEREUM, world.wallet, BASE, world.wallet, 2 * ONE)  # leaves about one
        world.relayer.discover()
        before = _state(world, desk)
        with pytest.raises(BridgeRefusedError, match="rate limited, wait") as limited:
            desk.send("AAPL", ETHEREUM, world.wallet, BASE, world.wallet, 2 * ONE)
        wait = int(re.findall(r"wait (\d+) s", str(limited.value))[0])
        assert 0 < wait <= ONE
        with pytest.raises(BridgeRefusedError, match="above the bridge's capacity"):
            desk.send("AAPL", ETHEREUM, world.wallet, BASE, world.wallet, 4 * ONE)
        assert _state(world, desk) == before
    finally:
        pool.set_rate_limits(BASE, False, 0, 0, False, 0, 0, sender=admin)
    world.relay()
    assert all(v.state == "minted" for v in desk.transfers())
