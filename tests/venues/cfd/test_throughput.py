"""The benchmark's measure of CFD orders per second runs, journaled and not."""

from pathlib import Path

import pytest

from equitoken.venues.cfd.throughput import measure_orders_per_second
from equitoken.venues.exchange.journal import FsyncPolicy


@pytest.mark.parametrize("fsync", [None, FsyncPolicy.PER_BATCH, FsyncPolicy.PER_RECORD])
def test_measure_orders_per_second_returns_a_positive_rate(fsync: FsyncPolicy | None, tmp_path: Path) -> None:
    rate = measure_orders_per_second(200, accounts=10, fsync=fsync, batch=50, directory=tmp_path)

    assert rate > 0
    assert list(tmp_path.iterdir()) == []  # its temporary journal is gone


def test_measure_orders_per_second_refuses_a_non_positive_count() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        measure_orders_per_second(0)
