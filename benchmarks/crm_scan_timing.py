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
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.cached_server import database_server
from benchmarks.crm_baselines import final_rows, splink
from benchmarks.crm_dataset import generate
from benchmarks.crm_engine import refusal
from benchmarks.crm_service import API, HEADERS, _instant
from tests.support.service import ServiceProcess

DATABASE = "c360_crm_29193"
RUNS = 3


async def _scan(base_url: str) -> float:
    async with httpx.AsyncClient(base_url=base_url + API, headers=HEADERS, timeout=300) as http:
        response = await http.post("/duplicates/scan")
        response.raise_for_status()
        job = response.json()["jobId"]
        while True:
            await asyncio.sleep(0.5)
            status = (await http.get(f"/duplicates/scan/{job}")).json()
            if status["status"] in ("COMPLETED", "FAILED"):
                break
        if status["status"] == "FAILED":
            raise RuntimeError(f"the scan failed: {status.get('error')}")
        return _instant(status["finishedAt"]) - _instant(status["startedAt"])


def main() -> None:
    print(f"load average at start {os.getloadavg()[0]:.2f}")
    admin = database_server("pgdata-crm").set(drivername="postgresql+asyncpg", database=DATABASE)
    with tempfile.TemporaryDirectory(prefix="c360-scan-") as tmp:
        service = ServiceProcess(
            admin.render_as_string(hide_password=False),
            Path(tmp) / "service.log",
            MIGRATE_ON_START="false",
            LOG_LEVEL="WARNING",
            ACCESS_LOG_ENABLED="false",
        )
        service.start()
        try:
            for run in range(1, RUNS + 1):
                seconds = asyncio.run(_scan(service.url))
                print(f"scan {run}: {seconds:.2f} s  (load {os.getloadavg()[0]:.2f})", flush=True)
        finally:
            service.stop()
    rows = final_rows(generate(20000, 1), refusal)
    for run in range(1, RUNS + 1):
        started = time.perf_counter()
        splink(rows, 0.5)
        print(f"splink {run}: {time.perf_counter() - started:.2f} s  (load {os.getloadavg()[0]:.2f})", flush=True)


if __name__ == "__main__":
    main()
