"""One synthetic-stock world per module, rewound after every test."""

from collections.abc import Iterator

import pytest
from tests.support.synths import SynthsWorld, build_world
from tests.support.venue_world import USDC


@pytest.fixture(scope="module")
def world_once(tmp_path_factory: pytest.TempPathFactory) -> SynthsWorld:
    world = build_world(tmp_path_factory.mktemp("synths"), ["AAPL", "MSFT"], pools=True)
    for wallet in (world.writer, world.other_writer, world.liquidator):
        world.fund(wallet, 100_000 * USDC)
    return world


@pytest.fixture
def world(world_once: SynthsWorld) -> Iterator[SynthsWorld]:
    yield from world_once.rewound()
