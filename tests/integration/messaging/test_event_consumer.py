"""The consumer loop against a real broker: redelivery is a no-op, poison goes to the DLQ, the loop goes on.

One consumer (group of its own) runs as a task of the test process for the whole module; each test
uses its own tenant and waits for the effect it expects.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from confluent_kafka import Producer
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy import text

from customer360.bootstrap import Services
from customer360.infrastructure.consumers.runtime import build_consumer, consumed_topics
from customer360.infrastructure.persistence.database import DatabaseUrls, tenant_transaction
from customer360.settings import Settings
from tests.support.api import CUSTOMERS, create_customer
from tests.support.consumed import encoded, lead, master_update, service_order
from tests.support.kafka_broker import TansuBroker, create_topics, producer_config
from tests.support.kafka_events import read_records
from tests.support.relay import kafka_settings

PERMISSIONS = "crm.customer:read,crm.customer:write,crm.audit:read"


@dataclass
class RunningConsumer:
    settings: Settings
    registry: CollectorRegistry

    def count(self, outcome: str, event_type: str) -> float:
        labels = {"event_type": event_type, "outcome": outcome}
        return self.registry.get_sample_value("crm_customer360_consumer_messages_total", labels) or 0.0


@pytest.fixture(scope="module")
async def consumer(broker: TansuBroker, database: DatabaseUrls, services: Services) -> AsyncIterator[RunningConsumer]:
    settings = kafka_settings(
        database,
        broker.bootstrap_servers,
        consumer_group=f"crm-customer360-it-{uuid.uuid4().hex[:8]}",
        consumer_session_timeout_ms=3000,
        consumer_retry_backoff_ms=50,
    )
    create_topics(broker.bootstrap_servers, dict.fromkeys((*consumed_topics(settings), settings.topic_dlq), 3))
    registry = CollectorRegistry()
    loop = build_consumer(settings, services.executor, registry)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    yield RunningConsumer(settings, registry)
    stop.set()
    await asyncio.wait_for(task, 30)


KafkaRecord = tuple[bytes | None, bytes, list[tuple[str, str | bytes | None]]]


def produce(broker: TansuBroker, topic: str, records: Sequence[KafkaRecord]) -> None:
    producer = Producer(producer_config(broker.bootstrap_servers))
    for key, value, headers in records:
        producer.produce(topic, key=key, value=value, headers=headers)
    assert producer.flush(30) == 0


async def eventually(condition: Callable[[], Any]) -> None:
    """Await until the (async) condition is truthy; the consumer works in the background meanwhile."""
    async with asyncio.timeout(60):
        while not await condition():  # noqa: ASYNC110 - the condition is a database/API read, not an event
            await asyncio.sleep(0.1)


def headers_for(tenant: str) -> dict[str, str]:
    return {"X-User-Id": "consumer-test", "X-Tenant-ID": tenant, "X-User-Permissions": PERMISSIONS}


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c360.test")


async def test_a_message_delivered_twice_changes_the_database_once(
    broker: TansuBroker, consumer: RunningConsumer, services: Services, app: FastAPI
) -> None:
    """The same record twice on the topic: one update, one inbox row, one redelivery ignored."""
    tenant = f"t-{secrets.token_hex(6)}"
    async with client_for(app) as client:
        customer = await create_customer(client, headers_for(tenant), name="Twice Delivered")
        record = encoded(master_update(tenant, customer["id"], segment="KEY_ACCOUNT"))
        duplicates_before = consumer.count("duplicate", "CustomerMasterUpdatedEvent")
        await asyncio.to_thread(produce, broker, consumer.settings.topic_customer_master_updated, [record, record])

        async def redelivery_seen() -> bool:
            return consumer.count("duplicate", "CustomerMasterUpdatedEvent") > duplicates_before

        await eventually(redelivery_seen)
        profile = (await client.get(f"{CUSTOMERS}/{customer['id']}", headers=headers_for(tenant))).json()
        audit = (await client.get(f"{CUSTOMERS}/{customer['id']}/audit", headers=headers_for(tenant))).json()
    async with tenant_transaction(services.engine, tenant) as connection:
        inbox = (await connection.execute(text("SELECT count(*) FROM consumer_inbox"))).scalar_one()
    assert (profile["segment"], profile["version"], len(audit["items"]), inbox) == ("KEY_ACCOUNT", 2, 2, 1)


async def test_poison_goes_to_the_dead_letter_topic_and_the_consumer_keeps_going(
    broker: TansuBroker, consumer: RunningConsumer, app: FastAPI
) -> None:
    """Garbage, an unknown event type, then a good lead: the lead is applied; only the garbage is dead-lettered."""
    tenant = f"t-{secrets.token_hex(6)}"
    marker = secrets.token_hex(4).encode()
    garbage: KafkaRecord = (b"poison", b"\xc3\x01not avro at all", [("tenant-id", tenant.encode()), ("trace", marker)])
    unknown: KafkaRecord = (None, b'{"eventType": "InvoicePaidEvent", "eventId": "e-1", "tenantId": "t"}', [])
    good = encoded(lead(tenant, "L-after-poison", companyName="Still Consumed GmbH"))
    await asyncio.to_thread(produce, broker, consumer.settings.topic_lead_created, [garbage, unknown, good])
    async with client_for(app) as client:

        async def lead_applied() -> bool:
            response = await client.get(
                f"{CUSTOMERS}/lookup", params={"externalRef": "SALES:L-after-poison"}, headers=headers_for(tenant)
            )
            return bool(response.json()["items"])

        await eventually(lead_applied)
    [dead] = await asyncio.to_thread(
        read_records,
        broker.bootstrap_servers,
        [consumer.settings.topic_dlq],
        lambda got: bool(got),
        keep=lambda r: r.headers.get("trace") == marker,
    )
    summary = (dead.key, dead.value, dead.headers["tenant-id"], dead.headers["dlq-reason"])
    assert (b"poison", b"\xc3\x01not avro at all", tenant.encode(), b"undecodable:unknown-fingerprint") == summary


async def test_a_message_that_keeps_failing_is_dead_lettered_after_three_attempts(
    broker: TansuBroker, consumer: RunningConsumer
) -> None:
    """A service order for a customer that does not exist: 3 attempts, then the DLQ with the error code."""
    tenant = f"t-{secrets.token_hex(6)}"
    sent = service_order(tenant, "CUST-01JDX3Y7ZK8V2N4Q6R8T0W2Y4A")
    await asyncio.to_thread(produce, broker, consumer.settings.topic_service_order_created, [encoded(sent)])
    [dead] = await asyncio.to_thread(
        read_records,
        broker.bootstrap_servers,
        [consumer.settings.topic_dlq],
        lambda got: bool(got),
        keep=lambda r: r.headers.get("tenant-id") == tenant.encode(),
    )
    headers = dead.headers
    assert (b"failed:CUSTOMER_NOT_FOUND", b"3", b"crm-customer360-it", sent["eventId"]) == (
        headers["dlq-reason"],
        headers["dlq-attempts"],
        headers["dlq-consumer-group"][:18],
        dead.event_id,
    )
