"""The outbox relay publishes every committed change to the seed's topics, once, in per-customer order.

Changes are made through the API (in-process) while the relay runs as a task of the test process
against a real Tansu broker; what reached the broker is read back partition by partition.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from customer360.application.context import RequestContext
from customer360.application.customers import CreateCustomerProfile, create_customer_profile
from customer360.application.environment import HandlerEnv
from customer360.application.ports import UnitOfWork
from customer360.bootstrap import Services
from customer360.infrastructure.persistence.database import DatabaseUrls, create_engine
from tests.support.api import CUSTOMERS, create_customer, record_consent
from tests.support.inputs import profile_input
from tests.support.kafka_broker import TansuBroker, topic_partitions
from tests.support.kafka_events import Record, apache_avro_decode, fastavro_decode, read_records
from tests.support.polling import poll
from tests.support.relay import kafka_settings, outbox_rows, published_topics, running_relay

PERMISSIONS = "crm.customer:read,crm.customer:write,crm.consent:read,crm.consent:write,crm.events:read"
TOPIC_OF = {
    "CustomerProfileCreatedEvent": "crm.customer360.profile.created",
    "CustomerProfileUpdatedEvent": "crm.customer360.profile.updated",
    "ConsentUpdatedEvent": "crm.customer360.consent.updated",
}


def tenant_headers(tenant: str) -> dict[str, str]:
    return {"X-User-Id": "relay-test", "X-Tenant-ID": tenant, "X-User-Permissions": PERMISSIONS}


@dataclass(frozen=True)
class Delivery:
    tenant: str
    outbox: list[tuple[str, str, str, bool]]
    records: list[Record]
    published_metric: float
    latency_count: float


@pytest.fixture(scope="module")
async def delivery(broker: TansuBroker, database: DatabaseUrls, services: Services, app: FastAPI) -> Delivery:
    """12 customers: created, patched three times (interleaved), a consent each (60 events); all read back."""
    tenant = f"t-{secrets.token_hex(6)}"
    headers = tenant_headers(tenant)
    settings = kafka_settings(database, broker.bootstrap_servers)
    async with (
        running_relay(settings, database) as relay,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c360.test") as client,
    ):
        customers = [await create_customer(client, headers, name=f"Relay Customer {n}") for n in range(12)]
        for round_ in range(3):
            for customer in customers:
                response = await client.patch(
                    f"{CUSTOMERS}/{customer['id']}", json={"segment": f"SEGMENT-{round_}"}, headers=headers
                )
                assert response.status_code == 200, response.text
        for customer in customers:
            await record_consent(client, headers, customer["id"], type="EMAIL", status="GRANTED")
        expected = len(await outbox_rows(services.engine, tenant))
        records = await asyncio.to_thread(
            read_records,
            broker.bootstrap_servers,
            published_topics(settings),
            lambda got: len(got) >= expected,
            keep=lambda record: record.tenant == tenant,
        )
        outbox = await _wait_until_published(services, tenant)
        published_metric = sum(
            relay.metric("crm_customer360_relay_published_events_total", {"event_type": t}) for t in TOPIC_OF
        )
        latency_count = relay.metric("crm_customer360_relay_publish_latency_seconds_count")
    return Delivery(tenant, outbox, records, published_metric, latency_count)


async def _wait_until_published(services: Services, tenant: str) -> list[tuple[str, str, str, bool]]:
    async def all_published() -> list[tuple[str, str, str, bool]] | None:
        rows = await outbox_rows(services.engine, tenant)
        return rows if all(published for *_, published in rows) else None

    return await poll(all_published, what="every outbox row of the tenant marked published")


class TestPublishing:
    def test_every_committed_change_arrives_exactly_once(self, delivery: Delivery) -> None:
        """The multiset of eventIds on the topics equals the tenant's outbox (60 events, none twice)."""
        expected = Counter(event_id for event_id, *_ in delivery.outbox)
        assert (60, expected) == (len(delivery.outbox), Counter(r.event_id for r in delivery.records))

    def test_each_customers_events_arrive_in_commit_order(self, delivery: Delivery) -> None:
        """Per topic and key, the records' order is the outbox (commit) order."""
        committed: dict[tuple[str, str], list[str]] = defaultdict(list)
        for event_id, event_type, aggregate_id, _ in delivery.outbox:
            committed[(TOPIC_OF[event_type], aggregate_id)].append(event_id)
        received: dict[tuple[str, str], list[str]] = defaultdict(list)
        for record in sorted(delivery.records, key=lambda r: (r.topic, r.partition, r.offset)):
            received[(record.topic, record.key.decode())].append(record.event_id)
        assert dict(committed) == dict(received)

    def test_events_go_to_the_seed_topics_keyed_by_customer_id(self, delivery: Delivery) -> None:
        """Created/updated/consent events on their topics; the key is the envelope's customerId."""
        routed = {
            (r.envelope["eventType"], r.topic, r.key.decode() == r.envelope["payload"]["customerId"])
            for r in delivery.records
        }
        assert {(event, topic, True) for event, topic in TOPIC_OF.items()} == routed

    def test_headers_name_type_tenant_correlation_and_content_type(self, delivery: Delivery) -> None:
        """Every record carries event-type, tenant-id, correlation-id and the Avro content-type."""
        headers = {
            (
                r.headers["event-type"].decode() == r.envelope["eventType"],
                r.headers["tenant-id"].decode(),
                r.headers["correlation-id"].decode() == r.envelope["correlationId"],
                r.headers["content-type"].decode().split(";")[0],
            )
            for r in delivery.records
        }
        assert {(True, delivery.tenant, True, "application/vnd.apache.avro+binary")} == headers

    def test_fastavro_and_apache_avro_decode_every_value_from_the_avsc_files(self, delivery: Delivery) -> None:
        """Both libraries read eventId and customerId back from the bytes alone."""
        expected = {(r.event_id, r.envelope["payload"]["customerId"]) for r in delivery.records}
        values = [r.value for r in delivery.records]
        by_fastavro = {(d["eventId"], d["customerId"]) for d in map(fastavro_decode, values)}
        by_apache = {(d["eventId"], d["customerId"]) for d in map(apache_avro_decode, values)}
        assert (expected, expected) == (by_fastavro, by_apache)

    def test_rows_are_marked_published_and_counted(self, delivery: Delivery) -> None:
        """Every outbox row of the tenant is marked published; the counters saw at least these 60."""
        counted = (delivery.published_metric >= 60, delivery.latency_count >= 60)
        everything = [True] * 62
        assert everything == [*(published for *_, published in delivery.outbox), *counted]

    def test_missing_topics_are_created_with_the_seed_partition_counts(
        self, broker: TansuBroker, delivery: Delivery
    ) -> None:
        """profile.created/updated/merged get 6 partitions, consent.updated 3."""
        partitions = topic_partitions(broker.bootstrap_servers)
        expected = {
            "crm.customer360.profile.created": 6,
            "crm.customer360.profile.updated": 6,
            "crm.customer360.profile.merged": 6,
            "crm.customer360.consent.updated": 3,
        }
        assert expected == {topic: partitions.get(topic) for topic in expected}


async def test_nothing_arrives_for_a_rolled_back_change(
    broker: TansuBroker, database: DatabaseUrls, services: Services, app: FastAPI
) -> None:
    """A change that fails after writing leaves no event; the next committed change is the only one."""
    tenant = f"t-{secrets.token_hex(6)}"

    async def create_then_fail(cmd: CreateCustomerProfile, uow: UnitOfWork, env: HandlerEnv) -> Any:
        await create_customer_profile(cmd, uow, env)
        await uow.flush()
        raise RuntimeError("failure after the write")

    settings = kafka_settings(database, broker.bootstrap_servers)
    async with (
        running_relay(settings, database),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c360.test") as client,
    ):
        context = RequestContext(tenant_id=tenant, actor="test", correlation_id="rolled-back")
        with pytest.raises(RuntimeError):
            await services.executor.execute(
                context, create_then_fail, CreateCustomerProfile(profile_input({"name": "Doomed"}))
            )
        sentinel = await create_customer(client, tenant_headers(tenant), name="Committed")
        records = await asyncio.to_thread(
            read_records,
            broker.bootstrap_servers,
            published_topics(settings),
            lambda got: any(r.envelope["aggregateId"] == sentinel["id"] for r in got),
            keep=lambda record: record.tenant == tenant,
        )
    assert [("CustomerProfileCreatedEvent", sentinel["id"])] == [
        (r.envelope["eventType"], r.envelope["aggregateId"]) for r in records
    ]


async def test_an_event_that_cannot_be_published_holds_back_only_its_own_customer(
    broker: TansuBroker, database: DatabaseUrls, services: Services, app: FastAPI
) -> None:
    """A row of an unknown event type for customer A: A's next event waits, B's goes out; the row is counted failed."""
    tenant = f"t-{secrets.token_hex(6)}"
    stuck = "CUST-01JDX3Y7ZK8V2N4Q6R8T0W2Y4A"
    admin = create_engine(database.admin, pooled=False)
    poison = {"eventType": "MysteryEvent", "eventId": f"evt-mystery-{tenant}", "aggregateId": stuck}
    later = {
        "eventType": "CustomerProfileUpdatedEvent",
        "eventId": f"evt-after-mystery-{tenant}",
        "timestamp": "2026-11-27T12:00:00.000Z",
        "aggregateId": stuck,
        "tenantId": tenant,
        "payload": {"customerId": stuck, "changedFields": ["segment"], "updatedBy": "u", "source": "API", "version": 2},
    }
    settings = kafka_settings(database, broker.bootstrap_servers)
    try:
        async with admin.begin() as connection:
            for envelope in (poison, later):
                await connection.execute(
                    text(
                        "INSERT INTO crm_customer360.event_outbox (tenant_id, event_id, event_type, aggregate_id, "
                        "correlation_id, envelope, created_at) VALUES (:t, :id, :type, :agg, 'c', :env, now())"
                    ),
                    {
                        "t": tenant,
                        "id": envelope["eventId"],
                        "type": envelope["eventType"],
                        "agg": stuck,
                        "env": json.dumps(envelope),
                    },
                )
        async with (
            running_relay(settings, database) as relay,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c360.test") as client,
        ):
            other = await create_customer(client, tenant_headers(tenant), name="Not Held Back")
            records = await asyncio.to_thread(
                read_records,
                broker.bootstrap_servers,
                published_topics(settings),
                lambda got: any(r.envelope["aggregateId"] == other["id"] for r in got),
                keep=lambda record: record.tenant == tenant,
            )
            failed = relay.metric("crm_customer360_relay_failed_events_total", {"reason": "no-topic"})
    finally:
        async with admin.begin() as connection:
            await connection.execute(
                text("DELETE FROM crm_customer360.event_outbox WHERE tenant_id = :t AND aggregate_id = :agg"),
                {"t": tenant, "agg": stuck},
            )
        await admin.dispose()
    assert ([other["id"]], True) == ([r.envelope["aggregateId"] for r in records], failed >= 1)
