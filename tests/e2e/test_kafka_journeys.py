"""End to end through Kafka: the service (relay inside ``serve``) and ``customer360 consume`` as processes,
a real broker, the REST API as the only window on the effects.

Each consumed event type is produced to its topic the way its producer would (Avro with our .avsc, or a
JSON envelope) and its effect is read back over HTTP.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary
from cloudevents.core.formats.json import JSONFormat
from confluent_kafka import Producer

from customer360.bootstrap import Services
from customer360.infrastructure.persistence.database import DatabaseUrls
from customer360.infrastructure.trace_context import TraceParent, parse_traceparent, span_id_for, trace_id_for
from tests.support.consumed import contract, encoded, lead, master_update, service_order
from tests.support.kafka_broker import TansuBroker, create_topics, producer_config
from tests.support.kafka_events import read_records
from tests.support.metrics import sample
from tests.support.otlp_collector import OtlpCollector
from tests.support.relay import CliProcess, settings_env
from tests.support.service import ServiceProcess

CUSTOMERS = "/api/v1/crm/customers"
TOPICS = {
    "lead": "sales.pipeline.lead.created",
    "order": "service.orders.order.created",
    "contract": "service.contracts.contract.activated",
    "master": "mdg.customer.master.updated",
}


class Journey:
    def __init__(self, broker: TansuBroker, service: ServiceProcess) -> None:
        self.broker = broker
        self.service = service
        self.tenant = f"t-{secrets.token_hex(6)}"
        self.headers = {
            "X-User-Id": "e2e",
            "X-Tenant-ID": self.tenant,
            "X-User-Permissions": "crm.customer:read,crm.customer:write,crm.audit:read",
        }

    def get(self, path: str, **params: str) -> httpx.Response:
        return httpx.get(f"{self.service.url}{path}", params=params, headers=self.headers, timeout=10)

    def create_customer(self, **body: Any) -> dict[str, Any]:
        response = httpx.post(f"{self.service.url}{CUSTOMERS}", json=body, headers=self.headers, timeout=10)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def produce(self, topic: str, envelope: dict[str, Any], *, as_json: bool = False) -> None:
        key, value, headers = encoded(envelope, as_json=as_json)
        producer = Producer(producer_config(self.broker.bootstrap_servers))
        producer.produce(topic, key=key, value=value, headers=headers)
        assert producer.flush(30) == 0

    def eventually(self, probe: Callable[[], Any], timeout: float = 60.0) -> Any:
        """The probe's first truthy answer (the consumer works in its own process meanwhile)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = probe()
            if answer:
                return answer
            time.sleep(0.2)
        raise AssertionError(f"no effect within {timeout} s")


@pytest.fixture(scope="module")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TansuBroker]:
    broker = TansuBroker(log_path=tmp_path_factory.mktemp("tansu") / "broker.log")
    broker.start()
    create_topics(broker.bootstrap_servers, dict.fromkeys(TOPICS.values(), 3))
    yield broker
    broker.stop()


@pytest.fixture(scope="module")
def kafka_service(
    database: DatabaseUrls,
    services: Services,
    kafka_broker: TansuBroker,
    collector: OtlpCollector,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServiceProcess]:
    """``serve`` with RELAY_IN_SERVE=true, and ``consume``, both pointed at the (migrated) database and the
    broker, and both exporting spans to the test's collector."""
    logs = tmp_path_factory.mktemp("kafka-journeys")
    env = settings_env(
        database,
        kafka_broker.bootstrap_servers,
        consumer_group=f"crm-customer360-e2e-{uuid.uuid4().hex[:8]}",
        consumer_session_timeout_ms=3000,
        consumer_retry_backoff_ms=50,
        consumer_metrics_port=0,
        otel_exporter_otlp_endpoint=collector.url,
        otel_bsp_schedule_delay=100,
    )
    consumer = CliProcess("consume", env, logs / "consume.log")
    consumer.start()
    service = ServiceProcess(
        database.admin.render_as_string(hide_password=False),
        Path(logs / "serve.log"),
        **{name: value for name, value in env.items() if name != "DATABASE_URL"},
        RELAY_IN_SERVE="true",
        MIGRATE_ON_START="false",
    )
    try:
        service.start(timeout=120)  # a bound against hanging; a loaded CI machine starts slowly
        consumer.wait_for_log("consumer subscribed")
        yield service
    finally:
        service.stop()
        consumer.stop()


@pytest.fixture
def journey(kafka_broker: TansuBroker, kafka_service: ServiceProcess) -> Journey:
    return Journey(kafka_broker, kafka_service)


PRODUCER, CONSUMER, CLIENT = 4, 5, 3  # OTLP span kinds


def test_publishing_is_a_span_of_the_requests_trace_and_the_record_names_it(
    journey: Journey, collector: OtlpCollector
) -> None:
    """The relay's publish span is in the trace of the request's correlation id, and the record's traceparent
    names that span (sampled)."""
    correlation = f"publish-{secrets.token_hex(6)}"
    created = httpx.post(
        f"{journey.service.url}{CUSTOMERS}",
        json={"name": "Traced Publish GmbH"},
        headers={**journey.headers, "X-Correlation-ID": correlation},
        timeout=10,
    ).json()
    [record] = read_records(
        journey.broker.bootstrap_servers,
        ["crm.customer360.profile.created"],
        lambda got: bool(got),
        keep=lambda r: r.envelope.get("aggregateId") == created["id"],
    )
    trace_id = trace_id_for(correlation)
    spans = collector.wait_for(lambda got: any(s.trace_id == trace_id and s.kind == PRODUCER for s in got))
    [publish] = [s for s in spans if s.trace_id == trace_id and s.kind == PRODUCER]
    traceparent = parse_traceparent(record.headers["traceparent"].decode())
    assert (publish.name, traceparent) == (
        "crm.customer360.profile.created publish",
        TraceParent(trace_id, publish.span_id, sampled=True),
    )


def test_consuming_is_a_span_under_the_producers_with_its_sql(journey: Journey, collector: OtlpCollector) -> None:
    """A consumed LeadCreatedEvent is processed in a span that continues the producer's traceparent (the trace
    of its correlation id), with the use case's SQL statements under it."""
    sent = lead(journey.tenant, companyName="Traced Lead GmbH", country="DE")
    journey.produce(TOPICS["lead"], sent)
    trace_id = trace_id_for(sent["correlationId"])
    spans = collector.wait_for(
        lambda got: (
            any(s.trace_id == trace_id and s.kind == CONSUMER for s in got)
            and any(s.trace_id == trace_id and s.kind == CLIENT for s in got)
        )
    )
    [process] = [s for s in spans if s.trace_id == trace_id and s.kind == CONSUMER]
    assert (process.name, process.parent_span_id, process.service) == (
        "sales.pipeline.lead.created process",
        span_id_for(sent["eventId"]),
        "crm-customer360",
    )


def test_a_change_made_over_http_reaches_the_broker_through_the_relay_in_serve(journey: Journey) -> None:
    """POST /customers → CustomerProfileCreatedEvent on crm.customer360.profile.created; /metrics counts it."""
    created = journey.create_customer(name="Relayed in Serve GmbH")
    [record] = read_records(
        journey.broker.bootstrap_servers,
        ["crm.customer360.profile.created"],
        lambda got: bool(got),
        keep=lambda r: r.envelope.get("aggregateId") == created["id"],
    )
    metrics = httpx.get(f"{journey.service.url}/metrics", timeout=10).text
    published = sample(
        metrics, "crm_customer360_relay_published_events_total", {"event_type": "CustomerProfileCreatedEvent"}
    )
    assert (record.tenant, published >= 1) == (journey.tenant, True)


def test_lead_created_event_creates_a_profile_found_by_its_sales_reference(journey: Journey) -> None:
    """LeadCreatedEvent (Avro) → GET /customers/lookup?externalRef=SALES:<leadId> finds the new organisation."""
    lead_id = f"L-{secrets.token_hex(4)}"
    journey.produce(TOPICS["lead"], lead(journey.tenant, lead_id, companyName="Lead To Customer GmbH", country="DE"))
    items = journey.eventually(
        lambda: journey.get(f"{CUSTOMERS}/lookup", externalRef=f"SALES:{lead_id}").json()["items"]
    )
    assert [(p["kind"], p["name"]) for p in items] == [("ORGANIZATION", "Lead To Customer GmbH")]


def test_service_order_created_event_appears_in_the_service_history(journey: Journey) -> None:
    """ServiceOrderCreatedEvent (JSON envelope) → GET /customers/{id}/service-history lists the order."""
    customer = journey.create_customer(name="Serviced AG")
    sent = service_order(journey.tenant, customer["id"], orderNumber="SO-2026-0042", orderType="REPAIR")
    journey.produce(TOPICS["order"], sent, as_json=True)
    items = journey.eventually(lambda: journey.get(f"{CUSTOMERS}/{customer['id']}/service-history").json()["items"])
    assert [(o["orderNumber"], o["orderType"], o["status"]) for o in items] == [("SO-2026-0042", "REPAIR", "OPEN")]


def test_contract_activated_event_sets_the_entitlements_and_effective_sla(journey: Journey) -> None:
    """ContractActivatedEvent → GET /customers/{id}/entitlements?at= shows the contract and its SLA."""
    customer = journey.create_customer(name="Entitled KG")
    journey.produce(TOPICS["contract"], contract(journey.tenant, customer["id"], slaTier="PLATINUM"))

    def effective() -> Any:
        body = journey.get(f"{CUSTOMERS}/{customer['id']}/entitlements", at="2026-07-01").json()
        return body["effectiveSla"]

    sla = journey.eventually(effective)
    assert (sla["slaTier"], sla["responseTimeMinutes"], sla["resolutionTimeMinutes"]) == ("PLATINUM", 240, 1440)


def test_customer_master_updated_event_changes_the_profile_with_source_mdg_and_feeds_credit(journey: Journey) -> None:
    """CustomerMasterUpdatedEvent → new name on GET /customers/{id}, audit source MDG, credit on …/billing."""
    customer = journey.create_customer(name="Before MDG SE")
    sent = master_update(
        journey.tenant, customer["id"], name="After MDG SE", creditLimit="50000.00", creditCurrency="EUR"
    )
    journey.produce(TOPICS["master"], sent)
    profile = journey.eventually(
        lambda: (body := journey.get(f"{CUSTOMERS}/{customer['id']}").json())["name"] == "After MDG SE" and body
    )
    audit = journey.get(f"{CUSTOMERS}/{customer['id']}/audit").json()["items"]
    credit = journey.get(f"{CUSTOMERS}/{customer['id']}/billing").json()["credit"]
    assert (profile["version"], audit[-1]["source"], credit["creditLimit"]) == (2, "MDG", "50000.00")


PUBLISHED_TOPICS = [
    "crm.customer360.profile.created",
    "crm.customer360.profile.updated",
    "crm.customer360.profile.merged",
    "crm.customer360.consent.updated",
]
PUBLISHED_TYPES = {
    "CustomerProfileCreatedEvent",
    "CustomerProfileUpdatedEvent",
    "ConsentUpdatedEvent",
    "CustomerMergedEvent",
    "CustomerUnmergedEvent",
    "CustomerErasedEvent",
}


def _publish_every_event_type(journey: Journey, correlation: str) -> None:
    """Create, update, consent, merge, unmerge and erase over HTTP, all under one correlation id."""
    headers = {"X-User-Id": "e2e", "X-Tenant-ID": journey.tenant, "X-User-Roles": "TENANT_ADMIN"}
    headers["X-Correlation-ID"] = correlation

    def call(method: str, path: str, body: dict[str, Any], **extra: str) -> dict[str, Any]:
        response = httpx.request(
            method, f"{journey.service.url}{CUSTOMERS}{path}", json=body, headers={**headers, **extra}, timeout=10
        )
        assert response.status_code < 300, response.text
        return dict(response.json())

    target = call("POST", "", {"name": "Cloud Target GmbH", "emails": [{"address": "target@cloud.example"}]})
    source = call("POST", "", {"name": "Cloud Source AG"})
    target = call("PATCH", f"/{target['id']}", {"segment": "SMB"}, **{"If-Match": f'"{target["version"]}"'})
    call("POST", f"/{target['id']}/consent", {"type": "EMAIL", "status": "GRANTED"})
    target = httpx.get(f"{journey.service.url}{CUSTOMERS}/{target['id']}", headers=headers, timeout=10).json()
    merge = {"sourceCustomerId": source["id"], "sourceVersion": source["version"]}
    call("POST", f"/{target['id']}/merge", merge, **{"If-Match": f'"{target["version"]}"'})
    call("POST", f"/{target['id']}/unmerge", {"sourceCustomerId": source["id"]})
    call("POST", f"/{source['id']}/privacy/erasure", {"reason": "Art. 17 request", "requester": "TICKET-1"})


def test_every_published_event_type_reads_as_a_cloudevent_with_the_sdk(journey: Journey) -> None:
    """The CloudEvents SDK reads each record of each published type from the broker (binary content mode):
    id, type, source, time and subject match the envelope, the data is the Avro body, and traceparent puts
    the event in the trace of the request's correlation id."""
    correlation = f"cloud-{secrets.token_hex(6)}"
    _publish_every_event_type(journey, correlation)
    records = read_records(
        journey.broker.bootstrap_servers,
        PUBLISHED_TOPICS,
        lambda got: {r.envelope["eventType"] for r in got} >= PUBLISHED_TYPES,
        keep=lambda r: r.tenant == journey.tenant,
    )
    seen = set()
    for record in records:
        event = from_binary(KafkaMessage(record.headers, record.key, record.value), JSONFormat())
        envelope = record.envelope
        traceparent = parse_traceparent(record.headers["traceparent"].decode())
        assert (
            event.get_specversion(),
            event.get_id(),
            event.get_type(),
            event.get_source(),
            event.get_subject(),
            event.get_time(),
            event.get_data(),
            traceparent.trace_id if traceparent else None,
        ) == (
            "1.0",
            envelope["eventId"],
            f"com.erp.crm.customer360.events.{envelope['eventType']}",
            "/crm-customer360",
            record.key.decode(),
            datetime.fromisoformat(envelope["timestamp"]),
            record.value,
            trace_id_for(correlation),
        )
        seen.add(envelope["eventType"])
    assert seen == PUBLISHED_TYPES
