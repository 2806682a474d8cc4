"""`equitoken up` as a user runs it: the dashboard and API answer, a mint through the API settles, and a
SIGKILL of the process loses nothing (balances, requests, the indexer's position, demo data, API keys,
the proof secret) and takes its reporter processes with it; then minting goes on, the oracle's rounds
keep landing, and a served proof verifies against the served root."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from tests.ports import free_port
from tests.support.processes import interrupt

from equitoken.chain.errors import RevertError
from equitoken.chain.evm.accounts import SignerRegistry
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.deployment import IssuerRoles, deployment_records
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.chain.solana.chain import SOLANA_LOCAL
from equitoken.chain.solana.deployment import solana_deployment_records
from equitoken.chain.solana.rpc import SolanaRpcChain
from equitoken.indexer import IndexReader
from equitoken.issuer.onchain import IssuerChain
from equitoken.issuer.orders.deployment import processor_artifact
from equitoken.platform.local import ACCOUNTS, settlement_records
from equitoken.proofs.inclusion import InclusionProof, verify
from equitoken.store.database import Database, sqlite_url

pytestmark = pytest.mark.anvil

PARTICIPANT_WALLET = SignerRegistry.anvil(ACCOUNTS).addresses[10]
SPEED = 60
FINAL = {"completed", "failed", "held", "cancelled", "expired"}


@dataclass
class Up:
    """One `equitoken up` process on a data directory, and the ports it was given."""

    data_dir: Path
    rpc_port: int
    api_port: int
    solana_port: int
    base_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    runs: int = 0

    @property
    def log(self) -> Path:
        return self.data_dir / f"up-{self.runs}.log"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/api/v1"

    def start(self) -> None:
        self.runs += 1
        command = [sys.executable, "-m", "equitoken.cli", "up", "--data-dir", str(self.data_dir)]
        command += ["--rpc-port", str(self.rpc_port), "--port", str(self.api_port), "--instruments", "2"]
        command += ["--solana-rpc-port", str(self.solana_port), "--base-rpc-port", str(self.base_port)]
        # An hour of market time a wall minute: the feeds' hourly heartbeat comes within the test,
        # and the session (open at the start) stays open throughout.
        command += ["--speed", str(SPEED)]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while "running: processing requests" not in self.log.read_text():
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL the `up` process itself, as a crash would (its node is told by the kernel)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        deadline = time.monotonic() + 30
        ports = (self.rpc_port, self.api_port, self.solana_port, self.base_port)
        while any(_listening(port) for port in ports) or self.reporters() or self.attesters():
            assert time.monotonic() < deadline, "a node, the API, a reporter or an attester outlived up"
            time.sleep(0.1)

    def reporters(self) -> list[int]:
        """Return the process ids of the reporters running on this data directory."""
        return self._servers(b"equitoken.oracle.reporter_server")

    def attesters(self) -> list[int]:
        """Return the process ids of the bridge's attesters running on this data directory."""
        return self._servers(b"equitoken.bridge.attester_server")

    def _servers(self, module: bytes) -> list[int]:
        pids = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                argv = cmdline.read_bytes().split(b"\0")
            except OSError:  # the process ended in between
                continue
            if module in argv and any(str(self.data_dir).encode() in arg for arg in argv):
                pids.append(int(cmdline.parent.name))
        return pids

    def latest_round(self, ticker: str) -> int:
        """Return the id of the latest round of `ticker`'s price feed (0 before the first)."""
        with JsonRpcChain(f"http://127.0.0.1:{self.rpc_port}", SignerRegistry.anvil(ACCOUNTS)) as chain:
            deployment = deployment_records(self.data_dir / "deployments").load(chain.chain_id)
            assert deployment is not None
            feed = chain.at(deployment.instrument(ticker).price_feed, compile_contract("oracle/PriceFeed.vy"))
            try:
                return int(feed.latestRoundData()[0])
            except RevertError:
                return 0

    def wait_round_after(self, ticker: str, round_id: int) -> int:
        deadline = time.monotonic() + 120
        while (latest := self.latest_round(ticker)) <= round_id:
            assert time.monotonic() < deadline, f"no round of {ticker} after round {round_id}"
            time.sleep(0.5)
        return latest

    def interrupt(self) -> int:
        assert self.process is not None
        return interrupt(self.process, 60, self.log)

    def keys(self) -> dict[str, str]:
        saved = json.loads((self.data_dir / "api-keys.json").read_text())
        return {item["role"]: item["key"] for item in saved}  # one of the retail investors' keys

    def get(self, path: str, role: str = "operator") -> Any:
        response = httpx.get(f"{self.api}{path}", headers={"X-API-Key": self.keys()[role]}, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def mint(self, quantity: str, key: str, **where: object) -> str:
        """Mint AAPL through the API: on the EVM chain, or where `where` (chain_id, wallet...) says."""
        body = {"kind": "mint", "ticker": "AAPL", "quantity": quantity, "wallet": PARTICIPANT_WALLET} | where
        response = httpx.post(
            f"{self.api}/requests",
            headers={"X-API-Key": self.keys()["participant"], "Idempotency-Key": key},
            json=body,
            timeout=30,
        )
        assert response.status_code == 201, response.text
        request_id: str = response.json()["id"]
        return request_id

    def wait_final(self, request_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while True:
            view: dict[str, Any] = self.get(f"/requests/{request_id}", "participant")
            if view["state"] in FINAL:
                return view
            assert time.monotonic() < deadline, view
            time.sleep(0.5)

    def verified_proof(self, wallet: str, chain_id: int = 31337) -> int:
        """Fetch the root and `wallet`'s proof on `chain_id` (the participant's key) until both are of
        one tree; verify it and return the balance it proves."""
        deadline = time.monotonic() + 30
        while True:
            root = self.get("/proofs/AAPL/root", "participant")["root"]
            proof = InclusionProof.from_json(
                json.dumps(self.get(f"/proofs/AAPL/{chain_id}/{wallet}", "participant"))
            )
            if "0x" + proof.root.hex() == root:
                return verify(proof, root).balance
            assert time.monotonic() < deadline, "the indexer never stood still between two calls"

    def held_once_indexed(self, balance: int) -> list[tuple[str, str, int]]:
        """Return the participant's holdings once the indexer has seen the chain's `balance`.

        `/holdings` answers from the indexer, which follows the chain a poll behind: read straight
        after a mint it may still show the balance before it.
        """
        deadline = time.monotonic() + 30
        while ("AAPL", PARTICIPANT_WALLET, balance) not in (holdings := held(self)):
            assert time.monotonic() < deadline, f"the indexer never showed {balance}: {holdings}"
            time.sleep(0.5)
        return holdings

    def indexed_block(self) -> int | None:
        database = Database(sqlite_url(self.data_dir / "equitoken.sqlite"))
        try:
            cursor = IndexReader(database).cursor(31337)
        finally:
            database.close()
        return None if cursor is None else cursor.block_number

    def token_balance(self, wallet: str) -> int:
        with JsonRpcChain(f"http://127.0.0.1:{self.rpc_port}", SignerRegistry.anvil(ACCOUNTS)) as chain:
            deployment = deployment_records(self.data_dir / "deployments").load(chain.chain_id)
            usdc = settlement_records(self.data_dir / "deployments").load(chain.chain_id)
            assert deployment is not None
            assert usdc is not None
            onchain = IssuerChain(chain, deployment, IssuerRoles.from_accounts(chain.accounts), usdc)
            return int(onchain.token("AAPL").balanceOf(wallet))

    def attest_trade(self, body: dict[str, str], attempt: int) -> httpx.Response:
        """Mint or redeem through `/attestation/trades` for the participant's custodied wallet."""
        return httpx.post(
            f"{self.api}/attestation/trades",
            headers={
                "X-API-Key": self.keys()["participant"],
                "Idempotency-Key": f"restart-test-attest-{attempt}",
            },
            json=body,
            timeout=30,
        )

    def place_processor_order(self, body: dict[str, str]) -> int:
        """Quote an order through the API for the participant and place it on-chain from its wallet, as
        a wallet app would; return the processor's order id."""
        quoted = httpx.post(
            f"{self.api}/processor/quotes",
            headers={"X-API-Key": self.keys()["participant"]},
            json=body,
            timeout=30,
        )
        assert quoted.status_code == 200, quoted.text
        signed = quoted.json()
        order, quote = signed["order"], signed["quote"]
        with JsonRpcChain(f"http://127.0.0.1:{self.rpc_port}", SignerRegistry.anvil(ACCOUNTS)) as chain:
            processor = chain.at(signed["processor"], processor_artifact())
            usdc = settlement_records(self.data_dir / "deployments").load(chain.chain_id)
            assert usdc is not None
            usdc_contract = chain.at(usdc, compile_contract("settlement/TestUSDC.vy"))
            usdc_contract.approve.transact(processor.address, 10**12, sender=PARTICIPANT_WALLET)
            order_id = int(processor.next_order_id())
            terms = (
                order["recipient"],
                order["token"],
                order["sell"],
                order["order_type"],
                int(order["asset_quantity"]),
                int(order["payment_quantity"]),
                int(order["limit_price"]),
                order["time_in_force"],
            )
            processor.create_order.transact(
                terms,
                (quote["nonce"], quote["requester"], int(quote["fee"]), quote["deadline"]),
                bytes.fromhex(signed["signature"][2:]),
                sender=PARTICIPANT_WALLET,
            )
        return order_id

    def solana_wallet(self) -> str:
        keypair = json.loads((self.data_dir / "solana" / "participant-wallet.json").read_text())
        return str(Keypair.from_bytes(bytes(keypair)).pubkey())

    def solana_balance(self, wallet: str) -> int:
        """Read `wallet`'s AAPLx on Solana through the endpoint `up` serves, as a wallet would."""
        record = solana_deployment_records(self.data_dir / "solana").load(SOLANA_LOCAL)
        assert record is not None
        chain = SolanaRpcChain(f"http://127.0.0.1:{self.solana_port}", SOLANA_LOCAL)
        try:
            return chain.holder_balance(record.mint("AAPL"), Pubkey.from_string(wallet))
        finally:
            chain.close()


def held(up: Up) -> list[tuple[str, str, int]]:
    """Return the participant's holdings without their value, which moves with the price."""
    items = up.get("/holdings", "participant")["items"]
    return [(item["ticker"], item["wallet"], item["raw"]) for item in items]


def _proof_status(up: Up, wallet: str) -> int:
    response = httpx.get(
        f"{up.api}/proofs/AAPL/{SOLANA_LOCAL}/{wallet}",
        headers={"X-API-Key": up.keys()["participant"]},
        timeout=10,
    )
    return response.status_code


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    platform = Up(tmp_path, free_port(), free_port(), free_port())
    yield platform
    if platform.process is not None and platform.process.poll() is None:
        platform.process.kill()
        platform.process.wait()


def test_up_serves_the_dashboard_settles_an_api_mint_and_survives_sigkill(up: Up) -> None:
    up.start()
    dashboard = httpx.get(f"http://127.0.0.1:{up.api_port}/", timeout=10)
    assert dashboard.status_code == 200
    assert "text/html" in dashboard.headers["content-type"]
    assert "<html" in dashboard.text.lower()
    assert up.get("/me", "participant")["role"] == "participant"
    keys = up.keys()
    assert set(keys) == {"operator", "participant", "investor"}
    demo_first_mint = json.loads((up.data_dir / "demo.json").read_text())["mint_request"]
    assert up.wait_final(demo_first_mint)["state"] == "completed"
    minted = up.wait_final(up.mint("2", "restart-test-1"))
    assert minted["state"] == "completed"
    # The participant bridges 1 AAPLx to the second EVM chain through the API: the attester processes
    # sign, the relayer mints it there.
    sent = httpx.post(
        f"{up.api}/bridge/transfers",
        headers={"X-API-Key": keys["participant"], "Idempotency-Key": "restart-test-bridge"},
        json={
            "ticker": "AAPL",
            "source_chain": 31337,
            "dest_chain": 8453,
            "receiver": PARTICIPANT_WALLET,
            "amount": "1",
        },
        timeout=30,
    )
    assert sent.status_code == 200, sent.text
    deadline = time.monotonic() + 60
    while not any(
        t["source_tx"] == sent.json()["source_tx"] and t["state"] == "minted"
        for t in up.get("/bridge/transfers", "participant")
    ):
        assert time.monotonic() < deadline, up.get("/bridge/transfers", "participant")
        time.sleep(0.5)
    # The participant buys $500 of AAPLx through the order processor: the API quotes the fee, its
    # wallet places the order on-chain, the operator in the loop fills it from the broker.
    placed = up.place_processor_order(
        {"ticker": "AAPL", "side": "buy", "order_type": "market", "spend": "500"}
    )
    deadline = time.monotonic() + 60
    while not any(
        o["order_id"] == placed and o["state"] == "filled" for o in up.get("/processor/orders", "participant")
    ):
        assert time.monotonic() < deadline, up.get("/processor/orders", "participant")
        time.sleep(0.5)
    order = next(o for o in up.get("/processor/orders", "participant") if o["order_id"] == placed)
    assert int(order["filled_asset"]) > 0
    # The participant mints 1 AAPLx at once with an attestation quote, once the issuer has stocked the
    # inventory the mints draw on (a restock the loop buys at the broker).
    deadline = time.monotonic() + 60
    attempt = 0
    while (
        instant := up.attest_trade({"ticker": "AAPL", "side": "buy", "quantity": "1"}, attempt)
    ).status_code != 200:
        assert instant.json()["code"] == "inventory_exhausted", instant.text
        assert time.monotonic() < deadline, instant.text
        attempt += 1
        time.sleep(0.5)
    assert instant.json()["quantity"] == str(10**8)
    # The private company of the catalogue is deployed with its first valuation.
    [acme] = up.get("/private", "participant")
    assert (acme["ticker"], acme["valuation"]["method"]) == ("ACME", "priced_round")
    # The participant mints AAPLx on Solana through the API, paying USDC on the EVM chain.
    solana_wallet = up.solana_wallet()
    on_solana = {"chain_id": SOLANA_LOCAL, "wallet": solana_wallet, "payment_wallet": PARTICIPANT_WALLET}
    minted_on_solana = up.wait_final(up.mint("3", "restart-test-solana", **on_solana))
    assert minted_on_solana["state"] == "completed", minted_on_solana
    assert up.solana_balance(solana_wallet) == 3 * 10**8
    aapl = next(r for r in up.get("/reserves")["items"] if r["ticker"] == "AAPL")
    solana_reserve = next(c for c in aapl["chains"] if c["chain_id"] == SOLANA_LOCAL)
    assert (solana_reserve["family"], solana_reserve["outstanding_shares"]) == ("Solana", "3")
    assert aapl["backed"]
    # The CLI reaches the same Solana through the JSON-RPC `up` serves; a wallet of the wrong family
    # is refused with its reason and nothing is recorded.
    investor = up.get("/me", "participant")["investor_id"]
    cli = [sys.executable, "-m", "equitoken.cli", "mint", "--investor", investor, "--ticker", "AAPL"]
    cli += ["--data-dir", str(up.data_dir), "--rpc-url", f"http://127.0.0.1:{up.rpc_port}"]
    cli += ["--solana-rpc-url", f"http://127.0.0.1:{up.solana_port}", "--chain", str(SOLANA_LOCAL)]
    cli += ["--payment-wallet", PARTICIPANT_WALLET, "--quantity", "1"]
    refused = subprocess.run(
        [*cli, "--wallet", PARTICIPANT_WALLET, "--key", "cli-bad"], capture_output=True, text=True
    )
    assert refused.returncode == 2
    assert "is not a Solana address" in refused.stderr
    accepted = subprocess.run(
        [*cli, "--wallet", solana_wallet, "--key", "cli-solana"], capture_output=True, text=True
    )
    assert accepted.returncode == 0, accepted.stderr
    cli_request = accepted.stdout.split()[1]  # "request <id>"
    assert up.wait_final(cli_request)["chain_id"] == SOLANA_LOCAL
    assert up.wait_final(cli_request)["state"] == "completed"
    assert up.solana_balance(solana_wallet) == 4 * 10**8
    # The liabilities tree counts the Solana holder: its proof verifies against the served root.
    deadline = time.monotonic() + 30
    while _proof_status(up, solana_wallet) != 200:
        assert time.monotonic() < deadline, "the indexer never counted the Solana holder"
        time.sleep(0.5)
    assert up.verified_proof(solana_wallet, SOLANA_LOCAL) == 4 * 10**8
    balance = up.token_balance(PARTICIPANT_WALLET)
    holdings = up.held_once_indexed(balance)
    assert ("AAPL", solana_wallet, 4 * 10**8) in holdings  # indexed from Solana
    requests = up.get("/requests")["items"]
    investors = up.get("/investors")["items"]
    demo = (up.data_dir / "demo.json").read_text()
    indexed = up.indexed_block()
    assert indexed is not None
    secret = (up.data_dir / "proof-secret").read_bytes()
    assert (up.data_dir / "proof-secret").stat().st_mode & 0o777 == 0o600
    assert len(up.reporters()) == 4
    rounds = up.wait_round_after("AAPL", 0)

    up.kill()
    after_crash = up.indexed_block()
    up.start()

    assert up.keys() == keys  # the same keys still work
    assert up.token_balance(PARTICIPANT_WALLET) == balance
    assert up.solana_balance(solana_wallet) == 4 * 10**8
    assert held(up) == holdings
    assert [(r["id"], r["state"]) for r in up.get("/requests")["items"]] == [
        (r["id"], r["state"]) for r in requests
    ]
    assert up.get("/investors")["items"] == investors  # the demo was not seeded again
    assert (up.data_dir / "demo.json").read_text() == demo
    assert "seeding the demo" not in up.log.read_text()
    assert after_crash is not None
    assert after_crash >= indexed  # the indexer's position survived the kill
    deadline = time.monotonic() + 30
    while (up.indexed_block() or 0) <= after_crash:  # and it goes on from there
        assert time.monotonic() < deadline, "the indexer did not move after the restart"
        time.sleep(0.5)
    assert len(up.reporters()) == 4
    after_restart = max(rounds, up.latest_round("AAPL"))
    again = up.wait_final(up.mint("1", "restart-test-2"))
    assert again["state"] == "completed"
    assert up.token_balance(PARTICIPANT_WALLET) == balance + 10**8
    assert (up.data_dir / "proof-secret").read_bytes() == secret
    while up.indexed_block() is None or up.verified_proof(PARTICIPANT_WALLET) != balance + 10**8:
        assert time.monotonic() < deadline + 60, "the served proof never showed the second mint"
        time.sleep(0.5)
    up.wait_round_after("AAPL", after_restart)  # the oracle goes on
    assert up.interrupt() == 0
    assert "stopping:" in up.log.read_text()
    assert not up.reporters()
    assert not up.attesters()


def test_up_exit_deploys_and_stops(up: Up) -> None:
    command = [sys.executable, "-m", "equitoken.cli", "up", "--exit", "--data-dir", str(up.data_dir)]
    command += ["--rpc-port", str(up.rpc_port), "--port", str(up.api_port), "--instruments", "1"]
    command += ["--solana-rpc-port", str(up.solana_port), "--base-rpc-port", str(up.base_port)]

    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Deployed instruments on chain 31337" in result.stdout
    assert not _listening(up.rpc_port)
    assert not _listening(up.solana_port)
    assert not (up.data_dir / "api-keys.json").exists()
