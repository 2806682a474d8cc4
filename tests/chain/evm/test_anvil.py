"""The anvil process: start, stop, logs, state kept across restarts and crashes."""

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.support.processes import alive, gone_within

from equitoken.chain.evm.anvil import AnvilError, AnvilNode, find_anvil
from equitoken.chain.evm.artifacts import Artifact

pytestmark = pytest.mark.anvil


def test_node_answers_on_loopback_and_stops_cleanly(tmp_path: Path) -> None:
    node = AnvilNode(chain_id=4242, log_file=tmp_path / "anvil.log")

    with node:
        assert node.url.startswith("http://127.0.0.1:")
        with node.chain() as chain:
            assert chain.chain_id == 4242
            assert chain.balance(chain.accounts[0]) == 10_000 * 10**18
        pid = node.pid
    code = node.stop()

    assert pid is not None
    assert not node.running
    assert code == 0
    assert "Listening on 127.0.0.1" in (tmp_path / "anvil.log").read_text()


def test_two_nodes_get_different_ports(tmp_path: Path) -> None:
    with AnvilNode(log_file=tmp_path / "a.log") as a, AnvilNode(log_file=tmp_path / "b.log") as b:
        assert a.port != b.port


def test_port_of_a_stopped_node_is_an_error() -> None:
    with pytest.raises(AnvilError, match="not running"):
        _ = AnvilNode().url


def test_missing_binary_points_at_dev_bootstrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EQUITOKEN_ANVIL", raising=False)

    with pytest.raises(AnvilError, match=r"\./dev bootstrap \(or npm ci\)"):
        find_anvil(tmp_path)


def test_startup_failure_reports_the_log(tmp_path: Path) -> None:
    node = AnvilNode(log_file=tmp_path / "anvil.log", extra_args=["--no-such-flag"])

    with pytest.raises(AnvilError, match="exited with code") as caught:
        node.start()

    assert "--no-such-flag" in str(caught.value)
    assert not node.running


def test_state_file_keeps_contracts_and_storage_across_restart(
    tmp_path: Path, sanctions_artifact: Artifact
) -> None:
    state = tmp_path / "data" / "anvil" / "state.json"  # folders are created as needed
    node = AnvilNode(state_file=state, log_file=tmp_path / "anvil.log")
    with node, node.chain() as chain:
        owner, sanctioned = chain.accounts[:2]
        address = chain.deploy(sanctions_artifact, sender=owner)
        chain.at(address, sanctions_artifact).addToSanctionsList([sanctioned], sender=owner)
        height = chain.block_number()

    with node, node.chain() as chain:
        sanctions = chain.at(address, sanctions_artifact)
        assert sanctions.isSanctioned(sanctioned) is True
        assert sanctions.owner() == owner
        assert chain.block_number() == height
        receipt = sanctions.removeFromSanctionsList([sanctioned], sender=owner)
        assert receipt.block_number == height + 1
        assert sanctions.isSanctioned(sanctioned) is False


def test_periodic_dump_survives_a_crash(tmp_path: Path, sanctions_artifact: Artifact) -> None:
    state = tmp_path / "state.json"
    node = AnvilNode(state_file=state, state_interval=1, log_file=tmp_path / "anvil.log")
    with node.start().chain() as chain:
        owner = chain.accounts[0]
        address = chain.deploy(sanctions_artifact, sender=owner)
        time.sleep(2.5)  # at least one periodic dump after the deployment
        node.kill()

    with node, node.chain() as chain:
        assert chain.code(address) == sanctions_artifact.runtime_bytecode


def test_corrupt_state_file_is_reported(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"block": {"num')

    with pytest.raises(AnvilError, match="not valid JSON"):
        AnvilNode(state_file=state, log_file=tmp_path / "anvil.log").start()


def test_killed_node_no_longer_answers(tmp_path: Path) -> None:
    node = AnvilNode(log_file=tmp_path / "anvil.log").start()
    url = node.url

    node.kill()

    assert not node.running
    with pytest.raises(httpx.TransportError):
        httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})


def test_node_stops_when_its_parent_is_killed(tmp_path: Path) -> None:
    script = (
        "import time\n"
        "from equitoken.chain.evm.anvil import AnvilNode\n"
        f"node = AnvilNode(log_file={str(tmp_path / 'anvil.log')!r}).start()\n"
        "print(node.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    anvil_pid = int(parent.stdout.readline())
    assert alive(anvil_pid)
    parent.kill()
    parent.wait()
    assert gone_within(anvil_pid, 10)
