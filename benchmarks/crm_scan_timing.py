"""The batch scan's time against Splink's on the 20,000-customer CRM data set, three runs each.

Needs the database that a 20,000-customer run of benchmarks/matching_crm.py leaves in
benchmarks/.cache/pgdata-crm (``c360_crm_29193``): the scan job runs again on it through the API (its
startedAt → finishedAt, as matching_crm.py measures it), then Splink runs on the same generated data set.
Run it in a quiet window; each figure is printed with the load average. ``--first``: the tenant's stored
pairs and clusters are deleted before each scan, which then writes every pair as a tenant's first scan
does (without it, the second and third scans find the pairs of the one before).

    .venv/bin/python benchmarks/crm_scan_timing.py [--first]
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.cached_server import database_server
from benchmarks.crm_baselines import final_rows, splink
from benchmarks.crm_dataset import generate
from benchmarks.crm_engine import refusal
from benchmarks.crm_service import TENANT, _Client, bench_service

from customer360.infrastructure.persistence.tables import SCHEMA

DATABASE = "c360_crm_29193"
RUNS = 3


async def _forget_pairs(admin: URL) -> None:
    """The tenant as before its first scan: no stored pairs, no clusters (the rows' space reclaimed)."""
    connection = await asyncpg.connect(
        host=admin.query.get("host") or admin.host, port=admin.port, user=admin.username, database=admin.database
    )
    try:
        for table in ("duplicate_candidate", "duplicate_cluster"):
            await connection.execute(f"DELETE FROM {SCHEMA}.{table} WHERE tenant_id = $1", TENANT)
        await connection.execute(f"VACUUM {SCHEMA}.duplicate_candidate")
    finally:
        await connection.close()


async def _scan(base_url: str) -> float:
    client = _Client(base_url)
    try:
        await client.scan()
    finally:
        await client.http.aclose()
    return client.run.scan_seconds


def main() -> None:
    first = "--first" in sys.argv[1:]
    print(f"load average at start {os.getloadavg()[0]:.2f}")
    admin = database_server("pgdata-crm").set(drivername="postgresql+asyncpg", database=DATABASE)
    with bench_service(admin) as url:
        for run in range(1, RUNS + 1):
            if first:
                asyncio.run(_forget_pairs(admin))
            seconds = asyncio.run(_scan(url))
            kind = "first scan" if first else "scan"
            print(f"{kind} {run}: {seconds:.2f} s  (load {os.getloadavg()[0]:.2f})", flush=True)
    rows = final_rows(generate(20000, 1), refusal)
    for run in range(1, RUNS + 1):
        started = time.perf_counter()
        splink(rows, 0.5)
        print(f"splink {run}: {time.perf_counter() - started:.2f} s  (load {os.getloadavg()[0]:.2f})", flush=True)


if __name__ == "__main__":
    main()
