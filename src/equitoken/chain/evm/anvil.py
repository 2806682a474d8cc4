"""Run a local anvil node: the EVM devnet behind the JSON-RPC path, pinned by the repo's npm lockfile.

The binary comes from ``node_modules`` (``npm ci``, which ``./dev`` runs): the platform package
``@foundry-rs/anvil-<os>-<arch>`` is run directly, so signals reach anvil itself rather than the
Node.js wrapper in ``node_modules/.bin/anvil``. Set ``EQUITOKEN_ANVIL`` to use another binary.

A node given a ``clock`` starts (when it loads no state) at the clock's time, and the clients
``chain()`` returns stamp every block they send or mine with it, so the node keeps the platform's time
whatever the wall clock says.

A node listens on 127.0.0.1 only, on a port the OS picks (so parallel test workers never clash),
and writes its log to a file. With ``state_file`` it loads that file at start and dumps the chain
state into it on a clean stop and every ``state_interval`` seconds while it runs, so a crash
(SIGKILL) loses at most that many seconds.
"""

import atexit
import contextlib
import json
import os
import platform
import re
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import httpx

from equitoken.chain.evm.accounts import ANVIL_MNEMONIC, SignerRegistry, mnemonic_keys
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.model.errors import EquitokenError
from equitoken.model.time import Clock
from equitoken.processes.tethered import tethered

REPO_ROOT = Path(__file__).resolve().parents[4]
ANVIL_ENV = "EQUITOKEN_ANVIL"

_PLATFORM_PACKAGES = {
    ("linux", "x86_64"): "anvil-linux-amd64",
    ("linux", "amd64"): "anvil-linux-amd64",
    ("linux", "aarch64"): "anvil-linux-arm64",
    ("linux", "arm64"): "anvil-linux-arm64",
    ("darwin", "x86_64"): "anvil-darwin-amd64",
    ("darwin", "arm64"): "anvil-darwin-arm64",
    ("windows", "amd64"): "anvil-win32-amd64",
    ("windows", "x86_64"): "anvil-win32-amd64",
}
_LISTENING = re.compile(r"Listening on 127\.0\.0\.1:(\d+)")
_RUNNING: "weakref.WeakSet[AnvilNode]" = weakref.WeakSet()


class AnvilError(EquitokenError, RuntimeError):
    """Anvil is missing, would not start, or stopped unexpectedly."""

    code = "anvil_error"


def find_anvil(root: Path = REPO_ROOT) -> Path:
    """Return the anvil executable: ``$EQUITOKEN_ANVIL``, else the one installed in ``root/node_modules``."""
    configured = os.environ.get(ANVIL_ENV)
    if configured:
        path = Path(configured)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise AnvilError(f"${ANVIL_ENV} is set to {configured}, which is not an executable file")
        return path
    modules = root / "node_modules"
    system, machine = platform.system().lower(), platform.machine().lower()
    package = _PLATFORM_PACKAGES.get((system, machine))
    if package is not None:
        name = "anvil.exe" if system == "windows" else "anvil"
        native = modules / "@foundry-rs" / package / "bin" / name
        if native.is_file():
            return native
    wrapper = modules / ".bin" / "anvil"
    if wrapper.is_file():
        return wrapper
    raise AnvilError(
        f"anvil is not installed: {wrapper} is missing. Run ./dev bootstrap (or npm ci) in {root} "
        "to install the version pinned in package-lock.json"
    )


class AnvilNode:
    """A local anvil process. Use as a context manager, or call :meth:`start` and :meth:`stop`."""

    def __init__(
        self,
        *,
        chain_id: int = 31337,
        port: int = 0,
        mnemonic: str = ANVIL_MNEMONIC,
        accounts: int = 10,
        balance_eth: int = 10_000,
        state_file: str | Path | None = None,
        state_interval: int | None = 2,
        block_time: float | None = None,
        timestamp: int | None = None,
        no_mining: bool = False,
        hardfork: str | None = None,
        gas_limit: int | None = None,
        log_file: str | Path | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 30.0,
        binary: str | Path | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.chain_id = chain_id
        self.requested_port = port
        self.mnemonic = mnemonic
        self.account_count = accounts
        self.balance_eth = balance_eth
        self.state_file = Path(state_file) if state_file is not None else None
        self.state_interval = state_interval
        self.block_time = block_time
        self.timestamp = timestamp
        self.no_mining = no_mining
        self.hardfork = hardfork
        self.gas_limit = gas_limit
        self.extra_args = list(extra_args)
        self.startup_timeout = startup_timeout
        self.clock = clock
        self._binary = Path(binary) if binary is not None else None
        self._log_file = Path(log_file) if log_file is not None else None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_handle: IO[bytes] | None = None
        self._port: int | None = None
        self._lock = threading.Lock()

    # -- properties

    @property
    def port(self) -> int:
        """Return the TCP port the node listens on; raise if it is not running."""
        if self._port is None or not self.running:
            raise AnvilError("anvil is not running: call start() first")
        return self._port

    @property
    def url(self) -> str:
        """Return the node's JSON-RPC URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """Return the process id while the process exists."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """Return whether the anvil process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def log_file(self) -> Path:
        """Return the file anvil's output goes to (chosen at the first start if not given)."""
        if self._log_file is None:
            directory = Path(tempfile.mkdtemp(prefix="equitoken-anvil-"))
            self._log_file = directory / "anvil.log"
        return self._log_file

    @property
    def accounts(self) -> list[str]:
        """Return the addresses of the node's funded dev accounts."""
        return self.signers().addresses

    def signers(self) -> SignerRegistry:
        """Return a registry with the private keys of the node's dev accounts."""
        return SignerRegistry(mnemonic_keys(self.mnemonic, self.account_count))

    def chain(self, **options: Any) -> JsonRpcChain:
        """Return a :class:`JsonRpcChain` for this node that signs for its dev accounts and stamps its
        blocks with the node's clock (unless ``clock`` is among ``options``)."""
        options.setdefault("clock", self.clock)
        return JsonRpcChain(self.url, self.signers(), **options)

    def command(self) -> list[str]:
        """Return the command line the node runs with (port 0, the default: the OS picks a free one)."""
        binary = self._binary or find_anvil()
        args = [
            str(binary),
            "--host", "127.0.0.1",
            "--port", str(self.requested_port),
            "--chain-id", str(self.chain_id),
            "--mnemonic", self.mnemonic,
            "--accounts", str(self.account_count),
            "--balance", str(self.balance_eth),
            "--color", "never",
        ]  # fmt: skip
        if self.state_file is not None:
            args += ["--state", str(self.state_file)]
            if self.state_interval:
                args += ["--state-interval", str(self.state_interval)]
        if self.block_time is not None:
            args += ["--block-time", f"{self.block_time:g}"]
        genesis = self.timestamp
        if genesis is None and self.clock is not None and not self._loads_state():
            genesis = int(self.clock.now().timestamp())  # a new chain starts at the platform's time
        if genesis is not None:
            args += ["--timestamp", str(genesis)]
        if self.no_mining:
            args.append("--no-mining")
        if self.hardfork is not None:
            args += ["--hardfork", self.hardfork]
        if self.gas_limit is not None:
            args += ["--gas-limit", str(self.gas_limit)]
        return args + self.extra_args

    # -- lifecycle

    def start(self) -> Self:
        """Start anvil and wait until it answers JSON-RPC; raise :class:`AnvilError` with its log if not."""
        with self._lock:
            if self.running:
                return self
            self._check_state_file()
            if self.state_file is not None:
                self.state_file.parent.mkdir(parents=True, exist_ok=True)
            command = self.command()
            log_path = self.log_file
            log_path.parent.mkdir(parents=True, exist_ok=True)
            handle = log_path.open("ab")
            offset = handle.tell()
            shown = " ".join("<mnemonic>" if arg == self.mnemonic else arg for arg in command)
            handle.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} starting: {shown}\n".encode())
            handle.flush()
            env = {k: v for k, v in os.environ.items() if k != "ANVIL_IP_ADDR"}
            try:
                # Tethered: no orphan keeps the port, and the node still dumps its state on the way out.
                process = subprocess.Popen(
                    tethered(command),
                    stdin=subprocess.DEVNULL,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    env=env,
                )
            except OSError as exc:
                handle.close()
                raise AnvilError(f"cannot run {command[0]}: {exc}") from exc
            self._process, self._log_handle, self._port = process, handle, None
            _RUNNING.add(self)
        try:
            self._wait_ready(offset)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop anvil: SIGTERM (it dumps ``state_file``), then SIGKILL after ``timeout`` seconds.

        Return the exit code, or ``None`` if it was never started.
        """
        with self._lock:
            process = self._process
            if process is None:
                return None
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            self._close_log(f"stopped with exit code {process.returncode}")
            _RUNNING.discard(self)
            return process.returncode

    def kill(self) -> None:
        """Kill anvil with SIGKILL, as a crash would: state after the last periodic dump is lost."""
        with self._lock:
            process = self._process
            if process is None or process.poll() is not None:
                return
            process.send_signal(signal.SIGKILL)
            process.wait()
            self._close_log("killed with SIGKILL")
            _RUNNING.discard(self)

    def restart(self) -> Self:
        """Stop and start again (same options; with ``state_file`` the chain state carries over)."""
        self.stop()
        return self.start()

    def log_tail(self, lines: int = 20) -> str:
        """Return the last ``lines`` lines of the node's log."""
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f"port {self._port}" if self.running else "stopped"
        return f"<AnvilNode chain {self.chain_id} {where}>"

    # -- internals

    def _loads_state(self) -> bool:
        path = self.state_file
        return path is not None and path.is_file() and path.stat().st_size > 0

    def _check_state_file(self) -> None:
        path = self.state_file
        if path is None or not path.exists() or path.stat().st_size == 0:
            return
        try:
            json.loads(path.read_bytes())
        except ValueError as exc:
            raise AnvilError(
                f"the anvil state file {path} is not valid JSON (was anvil killed while writing it?); "
                "move it away to start from an empty chain"
            ) from exc

    def _wait_ready(self, offset: int) -> None:
        process = self._process
        assert process is not None
        deadline = time.monotonic() + self.startup_timeout
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise AnvilError(
                        f"anvil exited with code {process.returncode} while starting; "
                        f"log {self.log_file}:\n{self.log_tail()}"
                    )
                if self._port is None:
                    self._port = self._read_port(offset)
                if self._port is not None and self._answers(client):
                    return
                time.sleep(0.05)
        raise AnvilError(
            f"anvil did not answer within {self.startup_timeout:g}s; log {self.log_file}:\n{self.log_tail()}"
        )

    def _read_port(self, offset: int) -> int | None:
        try:
            with self.log_file.open("rb") as log:
                log.seek(offset)
                match = _LISTENING.search(log.read().decode(errors="replace"))
        except OSError:
            return None
        return int(match.group(1)) if match else None

    def _answers(self, client: httpx.Client) -> bool:
        payload = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        try:
            result = client.post(f"http://127.0.0.1:{self._port}", json=payload).json().get("result")
        except (httpx.HTTPError, ValueError, AttributeError):
            return False
        if result is None:
            return False
        if int(result, 16) != self.chain_id:
            raise AnvilError(
                f"the node on port {self._port} reports chain id {int(result, 16)}, not {self.chain_id}"
            )
        return True

    def _close_log(self, note: str) -> None:
        if self._log_handle is not None:
            try:
                self._log_handle.write(f"--- {note}\n".encode())
                self._log_handle.close()
            except (OSError, ValueError):
                pass
            self._log_handle = None


@atexit.register
def _stop_all() -> None:
    for node in list(_RUNNING):
        with contextlib.suppress(Exception):  # best effort at interpreter exit
            node.stop(timeout=5.0)
