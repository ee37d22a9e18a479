"""The relay under faults: the broker unreachable while the API keeps changing data, a relay killed
mid-batch while a standby waits. Delivery is at-least-once: nothing may be lost, and a duplicate is the
same event again (same eventId, same bytes).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import defaultdict
from pathlib import Path

import httpx
from fastapi import FastAPI
from typer.testing import CliRunner

from customer360 import cli
from customer360.bootstrap import Services
from customer360.infrastructure.persistence.database import DatabaseUrls
from tests.support.api import CUSTOMERS, create_customer
from tests.support.kafka_broker import TansuBroker
from tests.support.kafka_events import Record, read_records
from tests.support.polling import poll
from tests.support.relay import (
    CliProcess,
    kafka_settings,
    outbox_rows,
    published_topics,
    running_relay,
    settings_env,
)
from tests.support.service import free_port

PERMISSIONS = "crm.customer:read,crm.customer:write"
LEADER = "relay holds the publisher lock"
STANDBY = "another relay publishes; waiting as a standby"


def tenant_headers(tenant: str) -> dict[str, str]:
    return {"X-User-Id": "fault-test", "X-Tenant-ID": tenant, "X-User-Permissions": PERMISSIONS}


async def make_changes(client: httpx.AsyncClient, tenant: str, customers: int, patches: int) -> list[int]:
    """``customers`` creations, then ``patches`` updates of each; returns every HTTP status."""
    headers = tenant_headers(tenant)
    gate = asyncio.Semaphore(8)

    async def create(n: int) -> httpx.Response:
        async with gate:
            return await client.post(CUSTOMERS, json={"name": f"Outage Customer {n}"}, headers=headers)

    async def patch(customer_id: str, n: int) -> httpx.Response:
        async with gate:
            return await client.patch(f"{CUSTOMERS}/{customer_id}", json={"segment": f"S{n}"}, headers=headers)

    created = await asyncio.gather(*(create(n) for n in range(customers)))
    ids = [r.json()["id"] for r in created if r.status_code == 201]
    # Each customer's patches run one after another (a concurrent PATCH of one profile would be refused).
    patched: list[httpx.Response] = []

    async def patch_all(customer_id: str) -> None:
        for n in range(patches):
            patched.append(await patch(customer_id, n))

    await asyncio.gather(*(patch_all(customer_id) for customer_id in ids))
    return [r.status_code for r in [*created, *patched]]


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c360.test")


def read_tenant(broker: TansuBroker, topics: list[str], tenant: str, event_ids: set[str]) -> list[Record]:
    return read_records(
        broker.bootstrap_servers,
        topics,
        lambda got: event_ids <= {r.event_id for r in got},
        keep=lambda record: record.tenant == tenant,
        timeout=120,
    )


async def test_while_the_broker_is_down_the_api_answers_and_all_1000_events_arrive_afterwards(
    private_broker: TansuBroker, database: DatabaseUrls, services: Services, app: FastAPI
) -> None:
    """1,000 changes during an outage: every call succeeds, and after it every event arrives once."""
    tenant = f"t-{secrets.token_hex(6)}"
    settings = kafka_settings(database, private_broker.bootstrap_servers)
    topics = published_topics(settings)
    async with running_relay(settings, database) as relay, client_for(app) as client:
        # Published before the outage: the topics exist and the producer is connected.
        await create_customer(client, tenant_headers(tenant), name="Before the outage")
        before = {event_id for event_id, *_ in await outbox_rows(services.engine, tenant)}
        await asyncio.to_thread(read_tenant, private_broker, topics, tenant, before)
        with private_broker.outage():
            statuses = await make_changes(client, tenant, customers=200, patches=4)
            during = [row for row in await outbox_rows(services.engine, tenant) if row[0] not in before]
            pending_while_down = relay.metric("crm_customer360_outbox_pending_events")
        expected = {event_id for event_id, *_ in during}
        records = await asyncio.to_thread(read_tenant, private_broker, topics, tenant, expected)
    received = [r.event_id for r in records if r.event_id in expected]
    assert (statuses, len(expected)) == ([201] * 200 + [200] * 800, 1000)
    assert (1000, expected) == (len(received), set(received))
    assert pending_while_down > 0


async def test_a_relay_killed_mid_batch_loses_nothing_and_the_standby_takes_over(
    private_broker: TansuBroker, database: DatabaseUrls, services: Services, app: FastAPI, tmp_path: Path
) -> None:
    """SIGKILL while a batch waits for its acks: the standby publishes everything; duplicates are identical."""
    tenant = f"t-{secrets.token_hex(6)}"
    env = settings_env(database, private_broker.bootstrap_servers, log_level="DEBUG")
    topics = published_topics(kafka_settings(database, private_broker.bootstrap_servers))
    ports = {"first": free_port(), "second": free_port()}
    first = CliProcess("relay", {**env, "RELAY_METRICS_PORT": str(ports["first"])}, tmp_path / "first.log")
    second = CliProcess("relay", {**env, "RELAY_METRICS_PORT": str(ports["second"])}, tmp_path / "second.log")
    try:
        first.start()
        second.start()
        first, second = await asyncio.to_thread(leader_and_standby, first, second)
        # Each standalone relay serves its metrics on its own port: 1 for the publisher, 0 for the standby.
        roles = [leader_gauge(ports[name]) for name in ("first", "second")]
        leaders = sorted(roles)
        async with client_for(app) as client:
            warm_up = await create_customer(client, tenant_headers(tenant), name="Before the kill")
            warm_ids = {event_id for event_id, *_ in await outbox_rows(services.engine, tenant)}
            await asyncio.to_thread(read_tenant, private_broker, topics, tenant, warm_ids)
            with private_broker.outage():
                statuses = await make_changes(client, tenant, customers=60, patches=4)
                # The first relay has sent a batch of these changes and waits for the acks: kill it now.
                await asyncio.to_thread(first.wait_for_log, "batch produced, waiting for the acks")
                first.kill()
                await asyncio.to_thread(second.wait_for_log, LEADER)
        outbox = await outbox_rows(services.engine, tenant)
        expected = {event_id for event_id, *_ in outbox}
        records = await asyncio.to_thread(read_tenant, private_broker, topics, tenant, expected)

        async def all_published() -> list[tuple[str, str, str, bool]] | None:
            rows = await outbox_rows(services.engine, tenant)
            return rows if all(published for *_, published in rows) else None

        outbox = await poll(all_published, what="every outbox row of the tenant marked published")
    finally:
        first.kill()
        second.stop()
    values: dict[str, set[bytes]] = defaultdict(set)
    for record in records:
        values[record.event_id].add(record.value)
    assert leaders == [0.0, 1.0]
    assert warm_up["id"] in {aggregate for _, _, aggregate, _ in outbox}
    assert ([201] * 60 + [200] * 240, expected) == (statuses, set(values))
    assert ({1}, [True] * len(outbox)) == ({len(v) for v in values.values()}, [p for *_, p in outbox])


def leader_gauge(port: int) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    [line] = [line for line in text.splitlines() if line.startswith("crm_customer360_relay_leader ")]
    return float(line.split()[1])


def leader_and_standby(one: CliProcess, other: CliProcess) -> tuple[CliProcess, CliProcess]:
    """The two relays, the one that took the lock first; both have started."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        states = [(LEADER in p.log_events(), STANDBY in p.log_events()) for p in (one, other)]
        if states == [(True, False), (False, True)]:
            return one, other
        if states == [(False, True), (True, False)]:
            return other, one
        time.sleep(0.05)
    raise AssertionError("no leader and standby within 120 s")


def test_the_relay_refuses_to_start_without_a_broker(database: DatabaseUrls) -> None:
    """Without KAFKA_BOOTSTRAP_SERVERS `customer360 relay` exits with 2 and says why."""
    env = {"DATABASE_URL": database.admin.render_as_string(hide_password=False), "KAFKA_BOOTSTRAP_SERVERS": ""}
    result = CliRunner().invoke(cli.app, ["relay"], env=env)
    assert (result.exit_code, "KAFKA_BOOTSTRAP_SERVERS is not set" in result.output) == (2, True)
