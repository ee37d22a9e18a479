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
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Producer

from customer360.bootstrap import Services
from customer360.infrastructure.persistence.database import DatabaseUrls
from tests.support.consumed import contract, encoded, lead, master_update, service_order
from tests.support.kafka_broker import TansuBroker, create_topics, producer_config
from tests.support.kafka_events import read_records
from tests.support.metrics import sample
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
    database: DatabaseUrls, services: Services, kafka_broker: TansuBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    """``serve`` with RELAY_IN_SERVE=true, and ``consume``, both pointed at the (migrated) database and the broker."""
    logs = tmp_path_factory.mktemp("kafka-journeys")
    env = settings_env(
        database,
        kafka_broker.bootstrap_servers,
        consumer_group=f"crm-customer360-e2e-{uuid.uuid4().hex[:8]}",
        consumer_session_timeout_ms=3000,
        consumer_retry_backoff_ms=50,
        consumer_metrics_port=0,
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
        service.start()
        consumer.wait_for_log("consumer subscribed")
        yield service
    finally:
        service.stop()
        consumer.stop()


@pytest.fixture
def journey(kafka_broker: TansuBroker, kafka_service: ServiceProcess) -> Journey:
    return Journey(kafka_broker, kafka_service)


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
