"""The proof secret of `equitoken up`: made once, owner-only, the same on every later start, and a
damaged one refused by name rather than replaced."""

from pathlib import Path

import pytest

from equitoken.platform.local import PlatformUnavailableError
from equitoken.platform.up import PROOF_SECRET_FILE, proof_secret


def test_the_secret_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    first = proof_secret(tmp_path)
    again = proof_secret(tmp_path)

    path = tmp_path / PROOF_SECRET_FILE
    assert len(first) == 32
    assert again == first == path.read_bytes()
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [PROOF_SECRET_FILE]
    assert proof_secret(tmp_path / "another") != first


def test_a_damaged_secret_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / PROOF_SECRET_FILE
    path.write_bytes(b"too short")

    with pytest.raises(PlatformUnavailableError, match=f"{path} holds 9 bytes; the proof secret is 32 to 64"):
        proof_secret(tmp_path)

    assert path.read_bytes() == b"too short"
