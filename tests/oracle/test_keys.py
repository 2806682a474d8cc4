"""Reporter keys: created once, owner-only, and the same on every later call."""

import stat
from pathlib import Path

import pytest

from equitoken.oracle.keys import ReporterKeyError, key_path, load_key, reporter_keys


def test_keys_are_created_once_owner_only_and_reused(tmp_path: Path) -> None:
    first = reporter_keys(tmp_path, 3)
    again = reporter_keys(tmp_path, 4)

    assert len({key.address for key in first}) == 3
    assert [key.address for key in again[:3]] == [key.address for key in first]
    for index in range(1, 5):
        path = key_path(tmp_path, index)
        assert path == tmp_path / "oracle" / f"reporter-{index}.key"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list((tmp_path / "oracle").glob("*.partial")) == []


def test_a_bad_key_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.key"
    path.write_text("not a key\n")

    with pytest.raises(ReporterKeyError, match=r"bad\.key does not hold a 0x-hex private key"):
        load_key(path)
    with pytest.raises(ReporterKeyError, match=r"cannot read reporter key .*missing\.key"):
        load_key(tmp_path / "missing.key")
    with pytest.raises(ValueError, match="at least one reporter, not 0"):
        reporter_keys(tmp_path, 0)
