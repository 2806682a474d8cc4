"""What `equitoken up` runs on: the node, the database, the broker and the clock, checked up front."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from equitoken.brokers.alpaca import KEY_ENV, SECRET_ENV
from equitoken.market.clock import ClockSpeedError, check_speed
from equitoken.model.errors import EquitokenError
from equitoken.platform.local import (
    DATABASE_URL_ENV,
    DEFAULT_BASE_RPC_PORT,
    DEFAULT_DATA_DIR,
    DEFAULT_INSTRUMENTS,
    DEFAULT_RPC_PORT,
    DEFAULT_SOLANA_RPC_PORT,
)

DEFAULT_API_PORT = 8000
ALPACA_LIVE_ENV = "EQUITOKEN_ALPACA_LIVE"


class SettingsError(EquitokenError, ValueError):
    """A combination of `up` options that cannot run; the message says which and why."""

    code = "invalid_settings"


class BrokerChoice(StrEnum):
    PAPER = "paper"
    ALPACA = "alpaca"


class PostgresChoice(StrEnum):
    EMBEDDED = "embedded"


@dataclass(frozen=True)
class UpSettings:
    """The checked options of one `equitoken up`.

    `rpc_url` None starts anvil on `rpc_port`; `database_url` None uses the embedded PostgreSQL
    server when `postgres` says so, else `local_database_url`; `speed` None keeps the recorded one.
    """

    data_dir: Path = DEFAULT_DATA_DIR
    rpc_port: int = DEFAULT_RPC_PORT
    rpc_url: str | None = None
    api_host: str = "127.0.0.1"
    api_port: int = DEFAULT_API_PORT
    database_url: str | None = None
    postgres: PostgresChoice | None = None
    broker: BrokerChoice = BrokerChoice.PAPER
    alpaca_paper: bool = True
    speed: int | None = None
    instruments: int | None = DEFAULT_INSTRUMENTS
    solana_rpc_port: int = DEFAULT_SOLANA_RPC_PORT
    base_rpc_port: int = DEFAULT_BASE_RPC_PORT

    @property
    def manages_node(self) -> bool:
        """Return whether `up` runs the node itself (and so may move its clock)."""
        return self.rpc_url is None

    @property
    def wall_clock(self) -> bool:
        """Return whether market time is the real time (a real broker trades now, not in replay)."""
        return self.broker is BrokerChoice.ALPACA

    @classmethod
    def checked(
        cls,
        *,
        data_dir: Path = DEFAULT_DATA_DIR,
        rpc_port: int = DEFAULT_RPC_PORT,
        rpc_url: str | None = None,
        api_host: str = "127.0.0.1",
        api_port: int = DEFAULT_API_PORT,
        database_url: str | None = None,
        postgres: str | None = None,
        broker: str = BrokerChoice.PAPER,
        speed: int | None = None,
        instruments: int | None = DEFAULT_INSTRUMENTS,
        solana_rpc_port: int = DEFAULT_SOLANA_RPC_PORT,
        base_rpc_port: int = DEFAULT_BASE_RPC_PORT,
        environ: Mapping[str, str] = os.environ,
    ) -> "UpSettings":
        """Return the settings, or raise `SettingsError` naming the first problem."""
        ports = (
            ("--rpc-port", rpc_port),
            ("--port", api_port),
            ("--solana-rpc-port", solana_rpc_port),
            ("--base-rpc-port", base_rpc_port),
        )
        for name, port in ports:
            if not 0 <= port <= 65_535:
                raise SettingsError(f"{name} must be a TCP port from 0 to 65535, not {port}")
        if rpc_url is not None and not rpc_url.startswith(("http://", "https://")):
            raise SettingsError(f"--rpc-url must be an http:// or https:// URL, not {rpc_url!r}")
        try:
            chosen_broker = BrokerChoice(broker.strip().lower())
        except ValueError:
            raise SettingsError(f"--broker must be one of: paper, alpaca; not {broker!r}") from None
        chosen_postgres = _postgres(postgres)
        database_url = database_url or environ.get(DATABASE_URL_ENV) or None
        if chosen_postgres is not None and database_url is not None:
            raise SettingsError(
                "--postgres embedded starts a server of its own: leave out --database-url "
                f"(and ${DATABASE_URL_ENV})"
            )
        if database_url is not None and not database_url.startswith(("sqlite", "postgresql")):
            raise SettingsError(
                f"--database-url must be an SQLite or PostgreSQL URL (sqlite:///..., postgresql://...), "
                f"not {database_url.split(':', 1)[0]!r}"
            )
        if speed is not None:
            try:
                check_speed(speed)
            except ClockSpeedError as error:
                raise SettingsError(f"--speed: {error}") from None
        moves_clock = speed not in (None, 1)
        if moves_clock and rpc_url is not None:
            raise SettingsError(
                "--speed needs the node `up` starts itself, whose block time it moves with the market "
                "clock; another node's (--rpc-url) keeps real time: leave out --speed"
            )
        if chosen_broker is BrokerChoice.ALPACA:
            if moves_clock:
                raise SettingsError("--broker alpaca trades in real time: leave out --speed")
            missing = [name for name in (KEY_ENV, SECRET_ENV) if not environ.get(name)]
            if missing:
                raise SettingsError(
                    f"--broker alpaca needs API keys: set {' and '.join(missing)} "
                    "(paper-trading keys from https://app.alpaca.markets)"
                )
        return cls(
            data_dir=data_dir,
            rpc_port=rpc_port,
            rpc_url=rpc_url,
            api_host=api_host,
            api_port=api_port,
            database_url=database_url,
            postgres=chosen_postgres,
            broker=chosen_broker,
            alpaca_paper=environ.get(ALPACA_LIVE_ENV, "") != "1",
            speed=speed,
            instruments=instruments,
            solana_rpc_port=solana_rpc_port,
            base_rpc_port=base_rpc_port,
        )


def _postgres(value: str | None) -> PostgresChoice | None:
    if value is None:
        return None
    try:
        return PostgresChoice(value.strip().lower())
    except ValueError:
        raise SettingsError(
            f"--postgres takes 'embedded' (a server in the data directory), not {value!r}; "
            "for another server pass --database-url postgresql://..."
        ) from None
