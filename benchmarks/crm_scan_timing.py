"""The batch scan's time against Splink's on the 20,000-customer CRM data set, three runs each.

Needs the database that a 20,000-customer run of benchmarks/matching_crm.py leaves in
benchmarks/.cache/pgdata-crm (``c360_crm_29193``): the scan job runs again on it through the API (its
startedAt → finishedAt, as matching_crm.py measures it), then Splink runs on the same generated data set.
Run it in a quiet window; each figure is printed with the load average.

    .venv/bin/python benchmarks/crm_scan_timing.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.cached_server import database_server
from benchmarks.crm_baselines import final_rows, splink
from benchmarks.crm_dataset import generate
from benchmarks.crm_engine import refusal
from benchmarks.crm_service import _Client, bench_service

DATABASE = "c360_crm_29193"
RUNS = 3


async def _scan(base_url: str) -> float:
    client = _Client(base_url)
    try:
        await client.scan()
    finally:
        await client.http.aclose()
    return client.run.scan_seconds


def main() -> None:
    print(f"load average at start {os.getloadavg()[0]:.2f}")
    admin = database_server("pgdata-crm").set(drivername="postgresql+asyncpg", database=DATABASE)
    with bench_service(admin) as url:
        for run in range(1, RUNS + 1):
            seconds = asyncio.run(_scan(url))
            print(f"scan {run}: {seconds:.2f} s  (load {os.getloadavg()[0]:.2f})", flush=True)
    rows = final_rows(generate(20000, 1), refusal)
    for run in range(1, RUNS + 1):
        started = time.perf_counter()
        splink(rows, 0.5)
        print(f"splink {run}: {time.perf_counter() - started:.2f} s  (load {os.getloadavg()[0]:.2f})", flush=True)


if __name__ == "__main__":
    main()
