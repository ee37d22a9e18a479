"""The database stopped (as in a crash) under load: 503 with Retry-After meanwhile, automatic recovery, and
every acknowledged write still there afterwards."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support.database import FreshDatabase, StoppablePostgres
from tests.support.service import ServiceProcess

API = "/api/v1/crm/customers"
HEADERS = {"X-User-Id": "load", "X-Tenant-ID": "outage-tenant", "X-User-Roles": "TENANT_ADMIN"}
WORKERS = 8


@dataclass
class Load:
    """What the clients saw: acknowledged creates, and every answer while it lasted."""

    acknowledged: list[str] = field(default_factory=list)
    answers: list[httpx.Response] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def count(self, status: int) -> int:
        return sum(1 for answer in self.answers if answer.status_code == status)

    async def until(self, status: int, more: int) -> None:
        """Until ``more`` further answers with ``status`` arrived (a bound of 120 s against hanging)."""
        target = self.count(status) + more
        for _ in range(1200):
            if self.count(status) >= target:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"fewer than {more} answers {status} within 120 s")


async def _client(http: httpx.AsyncClient, load: Load, worker: int) -> None:
    sequence = 0
    while not load.stop.is_set():
        sequence += 1
        if sequence % 2 and load.acknowledged:
            # Reads go through the lookup's own asyncpg pool, writes through SQLAlchemy's.
            answer = await http.get(f"{API}/{load.acknowledged[-1]}", headers=HEADERS)
        else:
            answer = await http.post(API, json={"name": f"Outage {worker}-{sequence}"}, headers=HEADERS)
            if answer.status_code == 201:
                load.acknowledged.append(answer.json()["id"])
        load.answers.append(answer)


@pytest.fixture
def own_postgres() -> Iterator[StoppablePostgres]:
    server = StoppablePostgres()
    try:
        yield server
    finally:
        server.close()


async def test_a_database_stopped_under_load_gives_503_and_loses_no_acknowledged_write(
    own_postgres: StoppablePostgres, tmp_path: Path
) -> None:
    """While it is down: 503 SERVICE_UNAVAILABLE with Retry-After and the error body, never a 500; one
    warning in the log (nothing else warns); after it is back: creates succeed again and every 201 is readable."""
    database = await FreshDatabase(own_postgres.url).create()
    service = ServiceProcess(database.render_as_string(hide_password=False), tmp_path / "service.log")
    await asyncio.to_thread(service.start)
    load = Load()
    try:
        async with httpx.AsyncClient(base_url=service.url, timeout=60) as http:
            clients = [asyncio.create_task(_client(http, load, worker)) for worker in range(WORKERS)]
            await load.until(201, 50)
            await asyncio.to_thread(own_postgres.stop, "immediate")
            await load.until(503, 50)
            await asyncio.to_thread(own_postgres.start)
            await load.until(201, 50)
            load.stop.set()
            await asyncio.gather(*clients)
            readback = [(await http.get(f"{API}/{cid}", headers=HEADERS)).status_code for cid in load.acknowledged]
            metrics = (await http.get("/metrics")).text
    finally:
        await asyncio.to_thread(service.stop)

    unavailable = [answer for answer in load.answers if answer.status_code == 503]
    assert {answer.status_code for answer in load.answers} <= {200, 201, 503}
    assert {(a.json()["error"], a.headers["retry-after"]) for a in unavailable} == {("SERVICE_UNAVAILABLE", "5")}
    assert all({"error", "message", "details", "timestamp", "traceId"} == set(a.json()) for a in unavailable)
    assert readback == [200] * len(load.acknowledged)
    assert "crm_customer360_database_unavailable_responses_total" in metrics
    log = [json.loads(line) for line in service.log_path.read_text().splitlines() if line.startswith("{")]
    warnings = [entry["event"] for entry in log if entry["level"] in ("warning", "error", "critical")]
    assert warnings == ["database unreachable: answering 503 until it is back"]
