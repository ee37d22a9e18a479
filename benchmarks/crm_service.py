"""The CRM benchmark through the service's own API, as a tenant would use it: the service as its own
process on PostgreSQL (embedded, or BENCH_DATABASE_URL), ``POST /duplicates/check`` before each
``POST /customers``, the profile updates as ``PATCH``, then ``POST /duplicates/scan`` and the review
queue (``GET /duplicates``).

A record the service refuses (400: a value it cannot accept) is sent again without the list holding that
value, as an integration would; the count of such records is reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from benchmarks.crm_dataset import Dataset, Record, Update
from sqlalchemy.engine import URL
from tests.support.service import ServiceProcess

Pair = frozenset[str]
TENANT = "crm-bench"
API = "/api/v1/crm"
HEADERS = {
    "X-User-Id": "bench",
    "X-Tenant-ID": TENANT,
    "X-User-Permissions": "crm.customer:read,crm.customer:write,crm.duplicates:read,crm.duplicates:write",
}
_CAMEL = {"tax_ids": "taxIds", "external_refs": "externalRefs"}


@dataclass
class ServiceRun:
    check: dict[Pair, float] = field(default_factory=dict)
    scan: dict[Pair, float] = field(default_factory=dict)
    refused: int = 0
    check_latencies: list[float] = field(default_factory=list)
    load_seconds: float = 0.0
    scan_seconds: float = 0.0
    scan_result: Mapping[str, Any] = field(default_factory=dict)


def _refused_list(response: httpx.Response) -> str | None:
    if response.status_code != 400:
        return None
    for problem in response.json().get("details", {}).get("fields", []):
        head = str(problem.get("field", "")).split("[")[0].split(".")[0]
        return _CAMEL.get(head, head)
    return None


class _Client:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url + API, headers=HEADERS, timeout=120)
        self.ids: dict[str, str] = {}  # record id -> customer id
        self.records: dict[str, str] = {}  # customer id -> record id
        self.run = ServiceRun()

    async def post_accepted(self, path: str, body: dict[str, Any]) -> tuple[httpx.Response, dict[str, Any]]:
        """POST ``body``; on a 400 naming a list, again without it (as an integration retries)."""
        dropped = False
        while True:
            response = await self.http.post(path, json=body)
            name = _refused_list(response)
            if name is None or name not in body:
                if dropped and path == "/customers":
                    self.run.refused += 1
                return response, body
            body = {k: v for k, v in body.items() if k != name}
            dropped = True

    async def create(self, record: Record, review: float) -> None:
        started = time.perf_counter()
        response, body = await self.post_accepted("/duplicates/check", record.body)
        self.run.check_latencies.append(time.perf_counter() - started)
        response.raise_for_status()
        for candidate in response.json()["candidates"]:
            other = self.records[candidate["customerId"]]
            if candidate["probability"] >= review:
                pair = frozenset((record.record_id, other))
                self.run.check[pair] = max(self.run.check.get(pair, 0.0), candidate["probability"])
        response, _ = await self.post_accepted("/customers", body)
        response.raise_for_status()
        customer_id = response.json()["id"]
        self.ids[record.record_id] = customer_id
        self.records[customer_id] = record.record_id

    async def update(self, step: Update) -> None:
        response = await self.http.patch(f"/customers/{self.ids[step.record_id]}", json=step.patch)
        if response.status_code == 400 and (name := _refused_list(response)) in step.patch:
            response = await self.http.patch(
                f"/customers/{self.ids[step.record_id]}", json={k: v for k, v in step.patch.items() if k != name}
            )
        response.raise_for_status()

    async def scan(self) -> None:
        response = await self.http.post("/duplicates/scan")
        response.raise_for_status()
        job = response.json()["jobId"]
        while True:
            await asyncio.sleep(1.0)
            status = (await self.http.get(f"/duplicates/scan/{job}")).json()
            if status["status"] in ("COMPLETED", "FAILED"):
                break
        if status["status"] == "FAILED":
            raise RuntimeError(f"the scan failed: {status.get('error')}")
        started = _instant(status["startedAt"])
        self.run.scan_seconds = _instant(status["finishedAt"]) - started
        self.run.scan_result = status["result"]

    async def queue(self) -> None:
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"status": "OPEN", "limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = (await self.http.get("/duplicates", params=params)).json()
            for item in page["items"]:
                pair = frozenset((self.records[item["left"]["id"]], self.records[item["right"]["id"]]))
                self.run.scan[pair] = item["probability"]
            cursor = page.get("nextCursor")
            if not cursor:
                return


def _instant(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


async def _fresh_database(server: URL, name: str) -> URL:
    from customer360.infrastructure.persistence.migrate import migrate

    connect = {"host": server.host or server.query.get("host"), "port": server.port, "user": server.username}
    root = await asyncpg.connect(database=server.database or "postgres", **connect)
    try:
        await root.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await root.execute(f'CREATE DATABASE "{name}"')
    finally:
        await root.close()
    admin = server.set(drivername="postgresql+asyncpg", database=name)
    await migrate(admin)
    return admin


async def _drive(base_url: str, dataset: Dataset, review: float, progress: bool) -> ServiceRun:
    client = _Client(base_url)
    try:
        started = time.perf_counter()
        for number, step in enumerate(dataset.steps, start=1):
            if isinstance(step, Record):
                await client.create(step, review)
            else:
                await client.update(step)
            if progress and number % 5000 == 0:
                print(
                    f"    {number:,} / {len(dataset.steps):,} steps ({time.perf_counter() - started:.0f} s)", flush=True
                )
        client.run.load_seconds = time.perf_counter() - started
        await client.scan()
        await client.queue()
        return client.run
    finally:
        await client.http.aclose()


def run(dataset: Dataset, server: URL, *, review: float = 0.5, progress: bool = True) -> ServiceRun:
    """Load ``dataset`` through the API of a fresh service and database, scan, read the queue."""
    name = f"c360_crm_{len(dataset.steps)}"
    admin = asyncio.run(_fresh_database(server, name))
    with bench_service(admin) as url:
        return asyncio.run(_drive(url, dataset, review, progress))


@contextlib.contextmanager
def bench_service(admin: URL) -> Iterator[str]:
    """The service as its own process on the benchmark's database; yields its base URL."""
    with tempfile.TemporaryDirectory(prefix="c360-crm-") as tmp:
        service = ServiceProcess(
            admin.render_as_string(hide_password=False),
            Path(tmp) / "service.log",
            MIGRATE_ON_START="false",
            LOG_LEVEL="WARNING",
            ACCESS_LOG_ENABLED="false",
            # Each record is checked first (POST /duplicates/check), then created: the check on create
            # would refuse the likely duplicates the benchmark means to load.
            DUPLICATE_CHECK_ON_CREATE="false",
        )
        service.start()
        try:
            yield service.url
        finally:
            service.stop()
