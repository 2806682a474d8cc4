"""The run loop of `equitoken up`: periodic tasks one pass a second, and the API served beside them.

Each task (the issuer's workflow, the price feeds, the indexer...) runs in turn in the loop's
thread, so they never race each other; the API runs in uvicorn's thread and shares the issuer,
whose every change is one database transaction. A task that fails is logged and tried again at the
next pass: a node or broker that is briefly away must not stop the platform.
"""

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from equitoken.issuer.service import Issuer
from equitoken.model.errors import EquitokenError

Log = Callable[[str], None]


@dataclass(frozen=True)
class LoopTask:
    """One piece of periodic work; `run` returns what to log, if anything."""

    name: str
    run: Callable[[], str | None]


class PlatformLoop:
    """Run tasks in turn, a pass every `interval` seconds, until stopped."""

    def __init__(self, tasks: Sequence[LoopTask], log: Log, interval: float = 1.0) -> None:
        self.tasks = list(tasks)
        self.log = log
        self.interval = interval
        self.passes = 0

    def run_once(self) -> None:
        """Run every task once; a failure is logged, and the other tasks still run."""
        for task in self.tasks:
            try:
                message = task.run()
            except Exception as error:  # any failure: the loop must outlive it and retry
                self.log(f"{task.name} failed: {type(error).__name__}: {error}; retrying at the next pass")
                continue
            if message:
                self.log(message)
        self.passes += 1

    def run(self, stopped: threading.Event) -> None:
        """Run passes until `stopped` is set; the pass under way when it is set finishes first."""
        while not stopped.is_set():
            started = time.monotonic()
            self.run_once()
            stopped.wait(max(0.0, self.interval - (time.monotonic() - started)))


def process_pass(issuer: Issuer) -> tuple[int, list[str]]:
    """Advance every open request once; return the steps taken and each request's state change."""
    before = {view.id: view.state for view in issuer.requests(open_only=True)}
    steps = issuer.process()
    if not steps:
        return 0, []
    after = {view.id: view.state for view in issuer.requests(open_only=True)}
    for request_id in before.keys() - after.keys():
        after[request_id] = issuer.request(request_id).state
    changes = [
        f"{request_id}: {before.get(request_id, 'new')} -> {state}"
        for request_id, state in after.items()
        if before.get(request_id) != state
    ]
    return steps, changes


class ApiServerError(EquitokenError, RuntimeError):
    """The API server could not start (the port is taken, say)."""

    code = "api_unavailable"


class ApiServer:
    """Serve an ASGI app with uvicorn in a thread of its own."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self.host = host
        self.port = port
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="api", daemon=True)

    @property
    def url(self) -> str:
        """Return the base URL the API answers on."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Start serving; raise `ApiServerError` if the server stops or is not up within `timeout`."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise ApiServerError(
                    f"the API could not listen on {self.host}:{self.port} (is the port in use? try --port)"
                )
            if time.monotonic() > deadline:
                raise ApiServerError(f"the API did not start on {self.host}:{self.port} in {timeout:g}s")
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting requests, let those under way finish, and wait for the thread."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
