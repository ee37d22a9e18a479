"""The erasure done-when test: a person with two merged duplicates, contacts, consents, audit history and
events is erased through the running service; then every table (all columns, all rows of the tenant),
every outbox/feed payload and the service's own log are scanned for the person's original values.

The service runs as its own process with the outbox relay inside (a real Kafka-protocol broker), so the
CustomerErasedEvent is read back from the broker as downstream systems receive it.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from customer360.infrastructure.persistence.database import DatabaseUrls, create_engine
from tests.support.kafka_broker import TansuBroker
from tests.support.kafka_events import Record, read_records
from tests.support.service import ServiceProcess

API = "/api/v1/crm"
CUSTOMERS = f"{API}/customers"
ERASURE_TOPIC = "crm.customer360.profile.updated"


@dataclass
class Stack:
    service: ServiceProcess
    broker: TansuBroker
    log: Path


@pytest.fixture(scope="module")
def stack(database: DatabaseUrls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("erasure")
    broker = TansuBroker(log_path=directory / "broker.log")
    broker.start()
    log = directory / "service.log"
    service = ServiceProcess(
        database.admin.render_as_string(hide_password=False),
        log,
        KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers,
        RELAY_IN_SERVE="true",
    )
    service.start()
    try:
        yield Stack(service, broker, log)
    finally:
        service.stop()
        broker.stop()


@dataclass(frozen=True)
class Person:
    """Original values of one person over three duplicate profiles; every one must disappear."""

    tag: str

    @property
    def given(self) -> str:
        return f"Zephyrine{self.tag}"

    @property
    def family(self) -> str:
        return f"Quackenbusch{self.tag}"

    @property
    def emails(self) -> list[str]:
        return [f"zq.{self.tag}@example.org", f"zephyrine.{self.tag}@example.net", f"billing.{self.tag}@example.com"]

    @property
    def phones(self) -> list[tuple[str, str]]:
        """(as typed, E.164)"""
        digits = [str(int(self.tag[i : i + 2], 16) % 90 + 10) for i in (0, 2, 4)]
        return [(f"+49 30 555 {d}{d}", f"+4930555{d}{d}") for d in digits]

    @property
    def streets(self) -> list[str]:
        return [f"Lindenweg {self.tag} 7", f"Am Kreuzgarten {self.tag} 12"]

    @property
    def city(self) -> str:
        return f"Bad Wolkenheim{self.tag}"

    @property
    def postal_code(self) -> str:
        return f"QX{self.tag[:4].upper()}"

    @property
    def contact_name(self) -> str:
        return f"Waldemar Quackenbusch{self.tag}"

    def needles(self) -> list[str]:
        values = [self.given, self.family, self.city, self.postal_code, self.contact_name, "1961-04-17"]
        values += self.emails + self.streets + [p for pair in self.phones for p in pair]
        return values

    def profile(self, email: int, phone: int, street: int) -> dict[str, Any]:
        return {
            "kind": "PERSON",
            "givenName": self.given,
            "familyName": self.family,
            "birthDate": "1961-04-17",
            "emails": [{"address": self.emails[email], "type": "PERSONAL"}],
            "phones": [{"number": self.phones[phone][0], "type": "MOBILE"}],
            "addresses": [
                {
                    "type": "BILLING",
                    "lines": [self.streets[street]],
                    "city": self.city,
                    "postalCode": self.postal_code,
                    "country": "DE",
                }
            ],
        }


async def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


async def _merge(http: httpx.AsyncClient, headers: dict[str, str], target: str, source: str) -> None:
    versions = [(await _ok(await http.get(f"{CUSTOMERS}/{i}", headers=headers)))["version"] for i in (target, source)]
    await _ok(
        await http.post(
            f"{CUSTOMERS}/{target}/merge",
            json={"sourceCustomerId": source, "sourceVersion": versions[1]},
            headers={**headers, "If-Match": f'"{versions[0]}"'},
        )
    )


async def _build_history(http: httpx.AsyncClient, headers: dict[str, str], person: Person, tenant: str) -> list[str]:
    """Three profiles of the person with contacts, consents, changes, a stored response; merged."""
    keyed = {**headers, "Idempotency-Key": f"create-{person.tag}"}
    golden = await _ok(await http.post(CUSTOMERS, json=person.profile(0, 0, 0), headers=keyed), 201)
    # The same person twice more: past the real-time duplicate check, as a steward's import would be.
    override = {**headers, "X-Override-Reason": "known duplicate"}
    first = await _ok(
        await http.post(CUSTOMERS, json=person.profile(1, 1, 1), params={"override": "true"}, headers=override), 201
    )
    second = await _ok(
        await http.post(CUSTOMERS, json=person.profile(2, 2, 0), params={"override": "true"}, headers=override), 201
    )
    ids = [golden["id"], first["id"], second["id"]]
    contact = {"name": person.contact_name, "email": person.emails[2], "phone": person.phones[2][0], "role": "BILLING"}
    added = await _ok(await http.post(f"{CUSTOMERS}/{ids[1]}/contacts", json=contact, headers=headers), 201)
    await _ok(
        await http.patch(f"{CUSTOMERS}/{ids[0]}", json={"phones": [{"number": person.phones[1][0]}]}, headers=headers)
    )
    for customer_id, email in zip(ids, person.emails, strict=True):
        grant = {
            "type": "EMAIL",
            "status": "GRANTED",
            "contactPoint": {"email": email},
            "evidence": {"capturedBy": "crm-ui", "text": f"Signed by {person.given} {person.family}"},
        }
        await _ok(await http.post(f"{CUSTOMERS}/{customer_id}/consent", json=grant, headers=headers), 201)
    web = {"type": "EMAIL", "status": "GRANTED", "source": "WEB", "contactPoint": {"email": person.emails[0]}}
    pending = await _ok(await http.post(f"{CUSTOMERS}/{ids[0]}/consent", json=web, headers=headers), 201)
    await _ok(
        await http.post(f"{API}/consent/confirm", json={"token": pending["confirmationToken"]}, headers=headers), 201
    )
    sms = {"type": "SMS", "status": "REVOKED", "contactPoint": {"phone": person.phones[2][0]}}
    await _ok(await http.post(f"{CUSTOMERS}/{ids[2]}/consent", json=sms, headers=headers), 201)
    await _merge(http, headers, ids[0], ids[1])
    await _merge(http, headers, ids[0], ids[2])
    removed = await http.delete(f"{CUSTOMERS}/{ids[0]}/contacts/{added['id']}", headers=headers)
    assert removed.status_code == 204, removed.text
    await _ok(await http.get(f"{CUSTOMERS}/search", params={"email": person.emails[1]}, headers=headers))
    await _ok(await http.get(f"{CUSTOMERS}/{ids[0]}/privacy/export", headers=headers))
    return ids


async def _consumed_data(database: DatabaseUrls, tenant: str, customer_id: str, person: Person) -> None:
    """What the Kafka consumers would have stored: a service order and Finance/AR's credit data."""
    engine = create_engine(database.admin, pooled=False)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO crm_customer360.service_history (tenant_id, service_order_id, customer_id, "
                    "status, opened_at, summary, event_id, recorded_at) "
                    "VALUES (:t, :so, :c, 'OPEN', now(), :summary, :e, now())"
                ),
                {
                    "t": tenant,
                    "so": f"SO-{person.tag}",
                    "c": customer_id,
                    "summary": f"Visit {person.streets[0]}",
                    "e": "evt-so",
                },
            )
            await connection.execute(
                text(
                    "INSERT INTO crm_customer360.customer_credit (tenant_id, customer_id, credit_limit, currency, "
                    "payment_terms, source_system, source_updated_at, event_id, updated_at) "
                    "VALUES (:t, :c, 5000, 'EUR', 'NET30', 'FINANCE', now(), 'evt-credit', now())"
                ),
                {"t": tenant, "c": customer_id},
            )
    finally:
        await engine.dispose()


async def _tenant_rows(database: DatabaseUrls, tenant: str) -> dict[str, list[str]]:
    """Every row of every table of the schema that belongs to the tenant, as JSON text (all columns)."""
    engine = create_engine(database.admin, pooled=False)
    rows: dict[str, list[str]] = {}
    try:
        async with engine.connect() as connection:
            tables = (
                await connection.execute(
                    text(
                        "SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t "
                        "USING (table_schema, table_name) WHERE c.table_schema = 'crm_customer360' "
                        "AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE' ORDER BY 1"
                    )
                )
            ).scalars()
            for table in list(tables):
                found = await connection.execute(
                    text(f"SELECT row_to_json(r)::text FROM crm_customer360.{table} r WHERE r.tenant_id = :t"),
                    {"t": tenant},
                )
                rows[table] = list(found.scalars())
    finally:
        await engine.dispose()
    return rows


def _hits(texts: dict[str, list[str]], needles: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for where, values in texts.items():
        lowered = [v.lower() for v in values]
        hits = [n for n in needles if any(n.lower() in v for v in lowered)]
        if hits:
            found[where] = hits
    return found


class TestErasureScan:
    async def test_nothing_of_the_person_remains_but_ids_links_and_the_tombstone(
        self, stack: Stack, database: DatabaseUrls
    ) -> None:
        """After erasure no table, payload or log line holds the person's values; the skeleton stays."""
        person = Person(secrets.token_hex(3))
        tenant = f"t-erase-{person.tag}"
        headers = {"X-User-Id": "dpo-1", "X-Tenant-ID": tenant, "X-User-Roles": "TENANT_ADMIN"}
        async with httpx.AsyncClient(base_url=stack.service.url, timeout=30) as http:
            ids = await _build_history(http, headers, person, tenant)
            await _consumed_data(database, tenant, ids[0], person)
            before = await _tenant_rows(database, tenant)
            # The scan sees every value before the erasure: finding none afterwards means they are gone.
            assert set(person.needles()) == {n for hits in _hits(before, person.needles()).values() for n in hits}
            request = await _ok(
                await http.post(
                    f"{CUSTOMERS}/{ids[1]}/privacy/erasure",
                    json={"reason": "Art. 17", "requester": "ticket DSR-42"},
                    headers=headers,
                ),
                201,
            )
            profiles = [await _ok(await http.get(f"{CUSTOMERS}/{i}", headers=headers)) for i in ids]
            feed = (await _ok(await http.get(f"{API}/events", params={"limit": 1000}, headers=headers)))["items"]
        erased = await asyncio.to_thread(
            read_records,
            stack.broker.bootstrap_servers,
            [ERASURE_TOPIC],
            lambda records: any(r.envelope["eventType"] == "CustomerErasedEvent" for r in records),
            keep=lambda record: record.tenant == tenant,
        )
        after = await _tenant_rows(database, tenant)
        log = stack.log.read_text(encoding="utf-8", errors="replace")

        texts = {**after, "feed": [str(e) for e in feed], "service log": [log]}
        assert _hits(texts, person.needles()) == {}

        assert [("ERASED", None), ("ERASED", ids[0]), ("ERASED", ids[0])] == [
            (p["status"], p["mergedInto"]) for p in profiles
        ]
        assert [request["id"]] * 3 == [p["tombstone"]["erasureRequestId"] for p in profiles]
        counts = {
            table: len(after[table]) for table in ("customer_profile", "contact", "consent_record", "customer_merge")
        }
        assert {table: len(before[table]) for table in counts} == counts
        announced = [_payload(r) for r in erased if r.envelope["eventType"] == "CustomerErasedEvent"]
        assert [(ids[1], request["id"], sorted(ids))] == announced


def _payload(record: Record) -> tuple[str, str, list[str]]:
    payload = record.envelope["payload"]
    return payload["customerId"], payload["erasureRequestId"], sorted(payload["erasedCustomerIds"])
