"""`equitoken up`'s options: what runs where, and a clear error (exit 2, nothing started) for what cannot."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from equitoken.cli import app
from equitoken.platform.settings import BrokerChoice, PostgresChoice, SettingsError, UpSettings

ALPACA_KEYS = {"APCA_API_KEY_ID": "key", "APCA_API_SECRET_KEY": "secret"}


def test_defaults_start_anvil_on_sqlite_with_the_paper_broker(tmp_path: Path) -> None:
    settings = UpSettings.checked(data_dir=tmp_path, environ={})

    assert settings.manages_node
    assert (settings.database_url, settings.postgres, settings.broker) == (None, None, BrokerChoice.PAPER)
    assert not settings.wall_clock


def test_the_database_url_comes_from_the_flag_or_the_environment(tmp_path: Path) -> None:
    url = "postgresql://equitoken@db.internal/equitoken"
    assert UpSettings.checked(database_url=url, environ={}).database_url == url
    assert UpSettings.checked(environ={"EQUITOKEN_DATABASE_URL": url}).database_url == url
    assert UpSettings.checked(postgres="embedded", environ={}).postgres is PostgresChoice.EMBEDDED


def test_alpaca_runs_on_the_wall_clock_with_keys_from_the_environment() -> None:
    settings = UpSettings.checked(broker="alpaca", environ=ALPACA_KEYS)

    assert settings.broker is BrokerChoice.ALPACA
    assert settings.wall_clock
    assert settings.alpaca_paper
    assert not UpSettings.checked(
        broker="alpaca", environ={**ALPACA_KEYS, "EQUITOKEN_ALPACA_LIVE": "1"}
    ).alpaca_paper


@pytest.mark.parametrize(
    ("options", "environ", "message"),
    [
        (
            {"speed": 0},
            {},
            "--speed: clock speed must be a whole number from 1 (real time) to 100,000, not 0",
        ),
        ({"speed": 60, "rpc_url": "http://10.0.0.5:8545"}, {}, "another node's (--rpc-url) keeps real time"),
        ({"rpc_url": "10.0.0.5:8545"}, {}, "--rpc-url must be an http:// or https:// URL"),
        ({"broker": "ibkr"}, {}, "--broker must be one of: paper, alpaca; not 'ibkr'"),
        (
            {"broker": "alpaca"},
            {},
            "--broker alpaca needs API keys: set APCA_API_KEY_ID and APCA_API_SECRET_KEY",
        ),
        ({"broker": "alpaca", "speed": 600}, ALPACA_KEYS, "--broker alpaca trades in real time"),
        ({"postgres": "docker"}, {}, "--postgres takes 'embedded'"),
        (
            {"postgres": "embedded", "database_url": "postgresql://x/y"},
            {},
            "--postgres embedded starts a server of its own",
        ),
        ({"database_url": "mysql://x/y"}, {}, "must be an SQLite or PostgreSQL URL"),
        ({"api_port": 70_000}, {}, "--port must be a TCP port from 0 to 65535, not 70000"),
    ],
)
def test_a_combination_that_cannot_run_is_refused_with_the_reason(
    options: dict[str, object], environ: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        UpSettings.checked(environ=environ, **options)  # type: ignore[arg-type]

    assert message in refused.value.message


def test_up_refuses_bad_options_with_exit_2_before_starting_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APCA_API_KEY_ID", raising=False)
    monkeypatch.delenv("APCA_API_SECRET_KEY", raising=False)

    result = CliRunner().invoke(app, ["up", "--data-dir", str(tmp_path), "--broker", "alpaca"])

    assert result.exit_code == 2
    assert result.stderr.startswith("error[invalid_settings]: --broker alpaca needs API keys")
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []  # no clock, no node state, no database
