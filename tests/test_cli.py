"""The README's main command: `equitoken up` deploys once, and a restart reuses the persisted node state."""

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from equitoken.chain.deployment import DeploymentRecords

pytestmark = pytest.mark.anvil


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_up(data_dir: Path, port: int) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "equitoken.cli",
            "up",
            "--exit",
            "--data-dir",
            str(data_dir),
            "--rpc-port",
            str(port),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return result.stdout


def test_up_deploys_then_reuses_the_deployment(tmp_path: Path) -> None:
    port = free_port()
    first = run_up(tmp_path, port)
    record = DeploymentRecords(tmp_path / "deployments").load(31337)
    assert record is not None
    assert len(record.instruments) >= 15
    aapl = record.instrument("AAPL")
    assert aapl.token in first
    assert f"http://127.0.0.1:{port}" in first

    second = run_up(tmp_path, port)
    assert "reusing the contracts deployed on an earlier run" in second
    assert DeploymentRecords(tmp_path / "deployments").load(31337) == record


def test_instruments_lists_the_catalogue() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "equitoken.cli", "instruments"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "US0378331005" in result.stdout
    assert "GOOGLx" in result.stdout
