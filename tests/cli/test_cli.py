"""The command line: `equitoken up` deploys once and reuses; an operator onboards, funds, mints, redeems
and reconciles through the CLI against a real local platform on anvil."""

import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import pytest
from tests.ports import free_port
from tests.support.processes import interrupt
from typer.testing import CliRunner, Result

from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.deployment import IssuerRoles, deployment_records
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.cli import app
from equitoken.issuer.onchain import IssuerChain
from equitoken.market.clock import DEFAULT_REPLAY_START
from equitoken.model.holders import HolderBalance
from equitoken.model.quantities import Price
from equitoken.oracle.halts import Halt, HaltBook
from equitoken.oracle.policy import PushReason
from equitoken.oracle.transmitter import TransmitOutcome, TransmitResult
from equitoken.platform.local import ACCOUNTS, USDC, LocalIssuer, LocalPlatform, settlement_records
from equitoken.platform.oracle_network import OracleNetwork
from equitoken.proofs.inclusion import InclusionProof
from equitoken.proofs.merkle_sum import MerkleSumTree

# -- equitoken up --------------------------------------------------------------------------------


def run_up(data_dir: Path, port: int, instruments: int) -> str:
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
            "--solana-rpc-port",
            str(free_port()),
            "--base-rpc-port",
            str(free_port()),
            "--instruments",
            str(instruments),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return result.stdout


@pytest.mark.anvil
def test_up_deploys_then_reuses_and_extends_the_deployment(tmp_path: Path) -> None:
    port = free_port()
    first = run_up(tmp_path, port, instruments=2)
    record = deployment_records(tmp_path / "deployments").load(31337)
    usdc = settlement_records(tmp_path / "deployments").load(31337)
    assert record is not None
    assert usdc is not None
    assert [d.ticker for d in record.instruments] == ["AAPL", "MSFT"]
    assert record.instrument("AAPL").token in first
    assert usdc in first
    assert f"http://127.0.0.1:{port}" in first
    clock = json.loads((tmp_path / "clock.json").read_text())
    assert clock["anchor"] == DEFAULT_REPLAY_START.isoformat()

    second = run_up(tmp_path, port, instruments=3)

    assert "reusing the contracts deployed on an earlier run" in second
    extended = deployment_records(tmp_path / "deployments").load(31337)
    assert extended is not None
    assert extended.instruments[:2] == record.instruments
    assert [d.ticker for d in extended.instruments] == ["AAPL", "MSFT", "NVDA"]
    assert extended.identity_registry == record.identity_registry
    assert settlement_records(tmp_path / "deployments").load(31337) == usdc
    assert "deploying the test USDC" not in second


@pytest.mark.anvil
def test_up_settles_requests_while_it_runs_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "up.log"
    command = [sys.executable, "-m", "equitoken.cli", "up", "--data-dir", str(tmp_path)]
    # Every port its own: the README's test runs `up` on the default ports beside this one.
    solana = ["--solana-rpc-port", str(free_port()), "--base-rpc-port", str(free_port())]
    with log.open("w") as out:
        up = subprocess.Popen(
            [*command, "--rpc-port", str(port), "--port", str(free_port()), "--instruments", "1", *solana],
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + 60
        while "running: processing requests" not in log.read_text():
            assert up.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        running = Running(tmp_path, f"http://127.0.0.1:{port}")
        wallet = dev_wallet(16)  # the demo and the venues hold 10-15, 17 and 18
        investor = onboard(running, wallet, "Jane Street Financial Ltd")
        running.ok("dev", "fund", "--wallet", wallet, "--usdc", "1000")
        mint_id = request_id(running.ok(*order("mint", investor, wallet, "AAPL", "1", "up-1")))

        shown = running.wait_until_done(mint_id, process=False)

        assert re.search(r"state\s*│\s*completed", shown), shown
        assert f"{mint_id}: ordered -> completed" in log.read_text()
    finally:
        assert interrupt(up, 30, log) == 0, log.read_text()
    assert "stopping: the API, the workflow, the oracle's reporters, then the node" in log.read_text()


@pytest.mark.anvil
def test_a_second_ctrl_c_stops_up_at_once_showing_where_it_waited(tmp_path: Path) -> None:
    log = tmp_path / "up.log"
    ports = {
        option: free_port() for option in ("--rpc-port", "--port", "--solana-rpc-port", "--base-rpc-port")
    }
    command = [sys.executable, "-m", "equitoken.cli", "up", "--data-dir", str(tmp_path), "--instruments", "1"]
    with log.open("w") as out:
        up = subprocess.Popen(
            [*command, *(part for o, p in ports.items() for part in (o, str(p)))], stdout=out, stderr=out
        )
    deadline = time.monotonic() + 60
    while "deploying the issuance contracts" not in log.read_text():  # which takes seconds
        assert up.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    up.send_signal(signal.SIGINT)
    time.sleep(0.2)

    code = interrupt(up, 30, log)

    text = log.read_text()
    assert code == 130, text  # a shell's code for a process ended by SIGINT
    assert "stopping after the pass under way; Ctrl-C again stops at once" in text
    assert "Current thread" in text  # each thread's stack, the one the second Ctrl-C stopped first
    assert "stopping: the API, the workflow, the oracle's reporters, then the node" in text
    assert "running: processing requests" not in text
    with socket.socket() as node_port:  # the node was stopped with it
        node_port.bind(("127.0.0.1", ports["--rpc-port"]))


@pytest.mark.anvil
def test_up_refuses_a_data_directory_its_reporters_cannot_serve(tmp_path: Path) -> None:
    port = free_port()
    run_up(tmp_path, port, instruments=1)
    records = deployment_records(tmp_path / "deployments")
    deployed = records.load(31337)
    assert deployed is not None
    [aapl] = deployed.instruments
    # A feed of an earlier version has code but no reporters: the reserve feed looks just like one.
    records.save(31337, replace(deployed, instruments=(replace(aapl, price_feed=aapl.reserve_feed),)))
    command = [sys.executable, "-m", "equitoken.cli", "up", "--exit", "--data-dir", str(tmp_path)]
    command += ["--rpc-port", str(port), "--instruments", "1", "--solana-rpc-port", str(free_port())]
    command += ["--base-rpc-port", str(free_port())]

    legacy = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)

    assert legacy.returncode == 1, legacy.stdout + legacy.stderr
    said = " ".join(legacy.stdout.split())
    assert f"the data directory {tmp_path} predates the oracle network" in said
    assert f"delete {tmp_path}" in said
    assert "Traceback" not in legacy.stdout + legacy.stderr

    records.save(31337, deployed)
    for key in (tmp_path / "oracle").iterdir():
        key.unlink()  # new keys are made: the feeds do not know them

    rekeyed = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)

    assert rekeyed.returncode == 1, rekeyed.stdout + rekeyed.stderr
    assert f"registers other reporters than the keys in {tmp_path / 'oracle'}" in " ".join(
        rekeyed.stdout.split()
    )


def test_instruments_lists_the_catalogue() -> None:
    result = CliRunner().invoke(app, ["instruments"])
    assert result.exit_code == 0
    assert "US0378331005" in result.stdout
    assert "GOOGLx" in result.stdout


# -- operating the issuer ---------------------------------------------------------------------


@dataclass
class Running:
    """A local platform started in this process, and the CLI pointed at it."""

    data_dir: Path
    url: str

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(app, [*args, "--data-dir", str(self.data_dir), "--rpc-url", self.url])

    def ok(self, *args: str) -> str:
        result = self.cli(*args)
        assert result.exit_code == 0, f"{args}: exit {result.exit_code}\n{result.output}"
        return result.stdout

    def wait_until_done(self, request_id: str, *, process: bool = True, rounds: int = 40) -> str:
        for _ in range(rounds):
            if process:
                self.ok("process")
            shown = self.ok("request", "show", request_id)
            if re.search(r"state\s*│\s*(completed|failed|held|cancelled|expired)", shown):
                return shown
            time.sleep(0.25)
        raise AssertionError(f"{request_id} still open:\n{shown}")

    @contextmanager
    def onchain(self) -> Iterator[IssuerChain]:
        with JsonRpcChain(self.url, SignerRegistry.anvil(ACCOUNTS)) as chain:
            deployment = deployment_records(self.data_dir / "deployments").load(chain.chain_id)
            usdc = settlement_records(self.data_dir / "deployments").load(chain.chain_id)
            assert deployment is not None
            assert usdc is not None
            yield IssuerChain(chain, deployment, IssuerRoles.from_accounts(chain.accounts), usdc)

    def usdc_balance(self, wallet: str) -> int:
        with self.onchain() as onchain:
            return int(onchain.usdc.balanceOf(wallet))

    def token_balance(self, ticker: str, wallet: str) -> int:
        with self.onchain() as onchain:
            return int(onchain.token(ticker).balanceOf(wallet))


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    data_dir = tmp_path_factory.mktemp("platform")
    platform = LocalPlatform(
        data_dir=data_dir, rpc_port=free_port(), solana_rpc_port=free_port(), base_rpc_port=free_port()
    )
    # The clock starts at a session open, so the paper broker fills a second after an order.
    platform.start(lambda _: None, instruments=3)
    yield Running(data_dir, platform.node.url)
    platform.stop()


def dev_wallet(index: int) -> str:
    return SignerRegistry.anvil(ACCOUNTS).addresses[index]


def onboard(running: Running, wallet: str, name: str) -> str:
    out = running.ok(
        "investor",
        "onboard",
        "--name",
        name,
        "--jurisdiction",
        "GB",
        "--category",
        "authorised_participant",
        "--kyc-expires",
        "2031-01-01",
        "--wallet",
        wallet,
    )
    investor_id = out.strip()
    assert re.fullmatch(r"inv-[0-9a-f]{12}", investor_id), out
    return investor_id


def order(kind: str, investor: str, wallet: str, ticker: str, quantity: str, key: str) -> list[str]:
    return [
        kind,
        "--investor",
        investor,
        "--wallet",
        wallet,
        "--ticker",
        ticker,
        "--quantity",
        quantity,
        "--key",
        key,
    ]


def request_id(out: str) -> str:
    match = re.search(r"request (req-[0-9a-f]+)", out)
    assert match, out
    return match.group(1)


@pytest.mark.anvil
def test_onboard_fund_mint_redeem_and_reconcile(running: Running) -> None:
    wallet = dev_wallet(10)
    investor = onboard(running, wallet, "Jane Street Financial Ltd")
    assert investor in running.ok("investor", "list")
    funded = running.ok("dev", "fund", "--wallet", wallet, "--usdc", "100000")
    assert "approved for the issuer: USDC, AAPLx, MSFTx, NVDAx" in funded
    assert running.usdc_balance(wallet) == 100_000 * USDC

    minted = running.ok(*order("mint", investor, wallet, "AAPL", "2", "m1"))
    mint_id = request_id(minted)
    assert "state: accepted" in minted
    assert "escrow:" in minted
    shown = running.wait_until_done(mint_id)
    assert re.search(r"state\s*│\s*completed", shown), shown
    assert "history" in shown
    assert running.token_balance("AAPL", wallet) == 2 * 10**8
    assert "OK" in running.ok("reconcile")

    redeemed = running.ok(*order("redeem", investor, wallet, "AAPL", "1", "r1"))
    redeem_id = request_id(redeemed)
    shown = running.wait_until_done(redeem_id)
    assert re.search(r"state\s*│\s*completed", shown), shown
    assert running.token_balance("AAPL", wallet) == 1 * 10**8
    reconciled = running.ok("reconcile")
    assert re.search(r"AAPL\s*│\s*1\s*│\s*1\s*│\s*0\s*│\s*OK", reconciled), reconciled


@pytest.mark.anvil
@pytest.mark.parametrize(
    ("ticker", "quantity", "error"),
    [
        ("AAPLE", "1", "error[unknown_instrument]: unknown instrument 'AAPLE'; did you mean AAPL"),
        ("AAPL", "0", "error[invalid_request]: quantity must be positive"),
    ],
)
def test_a_bad_mint_exits_2_with_the_error_and_changes_nothing(
    running: Running, ticker: str, quantity: str, error: str
) -> None:
    wallet = dev_wallet(11 if ticker == "AAPLE" else 12)
    investor = onboard(running, wallet, f"Participant {ticker}")
    running.ok("dev", "fund", "--wallet", wallet, "--usdc", "5000")
    requests_before = running.ok("request", "list")

    result = running.cli(*order("mint", investor, wallet, ticker, quantity, "bad"))

    assert result.exit_code == 2
    assert error in result.stderr
    assert "Traceback" not in result.output
    assert running.ok("request", "list") == requests_before
    assert running.usdc_balance(wallet) == 5000 * USDC


@pytest.mark.anvil
def test_an_unknown_request_exits_2(running: Running) -> None:
    result = running.cli("request", "show", "req-missing")
    assert result.exit_code == 2
    assert "error[unknown_request]: no request 'req-missing'" in result.stderr


def test_an_unreachable_node_exits_2_and_says_to_start_the_platform(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(app, ["investor", "list", "--data-dir", str(tmp_path), "--rpc-url", url])
    assert result.exit_code == 2
    assert result.stderr.startswith("error[platform_unavailable]: cannot reach the node at")
    assert "equitoken up" in result.stderr


@pytest.mark.anvil
def test_a_request_cancelled_before_processing_takes_nothing(running: Running) -> None:
    wallet = dev_wallet(13)
    investor = onboard(running, wallet, "Participant who changes its mind")
    running.ok("dev", "fund", "--wallet", wallet, "--usdc", "5000")
    mint_id = request_id(running.ok(*order("mint", investor, wallet, "MSFT", "1", "cancel-1")))

    cancelled = running.ok("request", "cancel", mint_id)
    shown = running.wait_until_done(mint_id)

    assert "cancellation requested" in cancelled
    assert re.search(r"state\s*│\s*cancelled", shown), shown
    assert running.usdc_balance(wallet) == 5000 * USDC
    assert running.token_balance("MSFT", wallet) == 0


@pytest.mark.anvil
def test_a_redemption_with_an_unreached_limit_returns_the_tokens_and_only_held_requests_resolve(
    running: Running,
) -> None:
    wallet = dev_wallet(14)
    investor = onboard(running, wallet, "Participant with a floor")
    running.ok("dev", "fund", "--wallet", wallet, "--usdc", "5000")
    mint_id = request_id(running.ok(*order("mint", investor, wallet, "NVDA", "2", "floor-mint")))
    running.wait_until_done(mint_id)

    redeem = order("redeem", investor, wallet, "NVDA", "1", "floor-1")
    redeem_id = request_id(running.ok(*redeem, "--limit-price", "99999"))
    running.ok("process")
    assert running.token_balance("NVDA", wallet) == 10**8  # burned while the order rests above the market
    running.ok("request", "cancel", redeem_id)
    shown = running.wait_until_done(redeem_id)
    assert re.search(r"state\s*│\s*cancelled", shown), shown
    assert running.token_balance("NVDA", wallet) == 2 * 10**8
    history = running.ok("request", "list")

    result = running.cli("request", "resolve", redeem_id, "retry", "--note", "why not")

    assert result.exit_code == 2
    assert f"error[request_not_held]: request {redeem_id} is cancelled, not held" in result.stderr
    assert running.ok("request", "list") == history


# -- proofs ----------------------------------------------------------------------------------------


def test_verify_proof_is_a_command_of_the_cli(tmp_path: Path) -> None:
    holder, other = dev_wallet(11), dev_wallet(12)
    balances = [HolderBalance(31337, holder, 3 * 10**8), HolderBalance(31337, other, 10**8)]
    tree = MerkleSumTree.build("AAPL", balances, b"a secret of the issuer, 32 bytes")
    proof = tmp_path / "proof.json"
    proof.write_text(InclusionProof.of(tree, 31337, holder).to_json())

    valid = CliRunner().invoke(app, ["verify-proof", str(proof), "--root", tree.root_hex])
    forged = CliRunner().invoke(app, ["verify-proof", str(proof), "--root", "0x" + "ab" * 32])

    assert valid.exit_code == 0, valid.output
    assert f"valid: {holder} holds" in valid.stdout
    assert forged.exit_code == 2
    assert forged.stderr.startswith("error[")


# -- the oracle ------------------------------------------------------------------------------------


@dataclass
class OracleRunning:
    """A local platform with its oracle network, and the CLI pointed at it."""

    running: Running
    local: LocalIssuer
    network: OracleNetwork

    def tick_after(self, at: datetime) -> dict[str, TransmitResult]:
        """Let the node's clock pass `at` and the latest rounds' observations, then send the due rounds."""
        transmitter = self.network.transmitter
        assert transmitter is not None
        observed = [
            state.latest.started_at for t in ("AAPL", "MSFT") if (state := transmitter.state(t)).latest
        ]
        while self.local.chain.timestamp("pending") <= max([int(at.timestamp()), *observed]):
            time.sleep(0.2)
        return {result.ticker: result for result in self.network.tick()}

    def halts(self, ticker: str) -> list[Halt]:
        return HaltBook(self.local.database, ["AAPL", "MSFT"]).halts(ticker)


@pytest.fixture(scope="module")
def oracle_running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OracleRunning]:
    data_dir = tmp_path_factory.mktemp("oracle-platform")
    platform = LocalPlatform(
        data_dir=data_dir, rpc_port=free_port(), solana_rpc_port=free_port(), base_rpc_port=free_port()
    )
    platform.start(lambda _: None, instruments=2)  # market time runs from a session open
    local = LocalIssuer(data_dir, platform.url)
    network = OracleNetwork(
        data_dir, local.database.url, local.chain, local.roles.price_updater, local.deployment.issuance
    )
    with network:
        yield OracleRunning(Running(data_dir, platform.url), local, network)
    local.close()
    platform.stop()


def status_row(out: str, ticker: str) -> list[str]:
    line = next(line for line in out.splitlines() if line.startswith(f"│ {ticker} "))
    return [cell.strip() for cell in line.strip("│").split("│")]


@pytest.mark.anvil
def test_oracle_status_halt_and_resume_on_the_running_network(oracle_running: OracleRunning) -> None:
    cli, local = oracle_running.running, oracle_running.local
    assert status_row(cli.ok("oracle", "status"), "AAPL")[1:4] == ["-", "-", "no round yet"]
    first = oracle_running.tick_after(local.clock.now())
    assert {r.outcome for r in first.values()} == {TransmitOutcome.SENT}

    shown = status_row(cli.ok("oracle", "status"), "AAPL")

    assert shown[0:2] == ["AAPL", "1"]
    assert shown[2] == str(Price(first["AAPL"].answer or 0))
    assert shown[3] == "OPEN"
    assert shown[7] == "3 of 4"

    halted = cli.ok("oracle", "halt", "aapl", "--reason", "news pending")
    [halt] = oracle_running.halts("AAPL")
    assert (halt.end, halt.reason) == (None, "news pending")
    assert f"AAPL halted from {halt.start:%Y-%m-%d %H:%M:%S} UTC" in halted
    after_halt = oracle_running.tick_after(halt.start)
    assert after_halt["AAPL"].reason is PushReason.STATUS_CHANGE
    assert after_halt["MSFT"].outcome is TransmitOutcome.NOT_DUE
    before_halt = local.prices.quote("AAPL", halt.start).price  # the price a halt freezes
    assert after_halt["AAPL"].answer == before_halt.units
    assert status_row(cli.ok("oracle", "status"), "AAPL")[1:4] == ["2", str(before_halt), "HALTED"]

    resumed = cli.ok("oracle", "resume", "AAPL")
    [lifted] = oracle_running.halts("AAPL")
    assert lifted.end is not None
    assert "AAPL resumed at" in resumed
    assert oracle_running.tick_after(lifted.end)["AAPL"].reason is PushReason.STATUS_CHANGE
    assert status_row(cli.ok("oracle", "status"), "AAPL")[1:4:2] == ["3", "OPEN"]


@pytest.mark.anvil
@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["halt", "NOPE"], "error[unknown_ticker]: unknown ticker 'NOPE'; halts are kept for: AAPL, MSFT"),
        (["resume", "MSFT"], "error[no_halt]: no halt of MSFT is in force at"),
        (["halt", "MSFT", "--until", "tomorrow"], "error[invalid_halt]: --until 'tomorrow' is not an ISO"),
        (["halt", "MSFT", "--until", "2025-11-28T15:00:00Z"], "error[invalid_halt]: halt of MSFT ends at"),
        (["halt", "MSFT", "--reason", " "], "error[invalid_halt]: halt reason must be 1 to 200 characters"),
    ],
)
def test_a_bad_halt_or_resume_exits_2_and_stores_nothing(
    oracle_running: OracleRunning, args: list[str], error: str
) -> None:
    result = oracle_running.running.cli("oracle", *args)

    assert result.exit_code == 2, result.output
    assert error in result.stderr
    assert "Traceback" not in result.output
    assert oracle_running.halts("MSFT") == []


@pytest.mark.anvil
def test_a_halt_overlapping_one_in_force_is_refused(oracle_running: OracleRunning) -> None:
    cli = oracle_running.running
    cli.ok("oracle", "halt", "MSFT", "--until", "2026-01-02T00:00:00+00:00")
    [halt] = oracle_running.halts("MSFT")

    again = cli.cli("oracle", "halt", "MSFT")

    assert again.exit_code == 2
    assert "error[halt_conflict]" in again.stderr
    assert oracle_running.halts("MSFT") == [halt]
    cli.ok("oracle", "resume", "MSFT")
