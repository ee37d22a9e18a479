"""POST /consent/check: the allowed subset of many customers, decided in SQL, equal to the single check."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import insert, select

from customer360.bootstrap import Services
from customer360.domain.consent import ConsentRecord
from customer360.domain.consent_policy import decide, default_policy
from customer360.domain.ids import CONSENT_PREFIX, CUSTOMER_PREFIX, new_id
from customer360.domain.privacy import SUPPRESSED_FLAG
from customer360.domain.values import Channel
from customer360.infrastructure.persistence.consent_check import customer_context
from customer360.infrastructure.persistence.consent_repository import record_from_row
from customer360.infrastructure.persistence.database import DatabaseUrls, create_engine
from customer360.infrastructure.persistence.tables import consent_record, customer_profile
from tests.support.api import create_customer, record_consent
from tests.support.privacy import API, bulk_check, check

QUESTIONS = [(Channel.EMAIL, "MARKETING"), (Channel.EMAIL, "NEWSLETTER"), (Channel.SMS, "MARKETING")]
PREFERENCES: list[list[dict[str, Any]]] = [
    [],
    [{"channel": "EMAIL", "topic": "MARKETING", "optIn": False}],
    [{"channel": "EMAIL", "topic": "ALL", "optIn": False}],
    [{"channel": "EMAIL", "topic": "ALL", "optIn": False}, {"channel": "EMAIL", "topic": "MARKETING", "optIn": True}],
    [{"channel": "SMS", "topic": "ALL", "optIn": True}, {"channel": "EMAIL", "topic": "NEWSLETTER", "optIn": False}],
]


def _random_population(tenant: str, count: int, now: datetime, rng: random.Random) -> tuple[list[dict[str, Any]], ...]:
    """Profiles and records with every case the rule knows, and many ties (few distinct times)."""
    base = now - timedelta(days=10)
    moments = [base + timedelta(hours=h) for h in range(4)]
    profiles: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    for _ in range(count):
        customer_id = new_id(CUSTOMER_PREFIX)
        flags = [SUPPRESSED_FLAG] if rng.random() < 0.04 else []
        profiles.append(
            {
                "tenant_id": tenant,
                "id": customer_id,
                "kind": "PERSON",
                "status": "ERASED" if rng.random() < 0.04 else rng.choice(["ACTIVE", "ACTIVE", "INACTIVE"]),
                "name": "Synthetic Person",
                "search_text": "synthetic person",
                "communication": {"channels": rng.choice(PREFERENCES)},
                "privacy_flags": flags,
                "created_at": base,
                "created_by": "test",
                "updated_at": base,
                "updated_by": "test",
                "version": 1,
            }
        )
        for _ in range(rng.choice([0, 1, 1, 2, 3, 5])):
            channel, purpose = rng.choice(QUESTIONS)
            effective = rng.choice(moments)
            expires = rng.choice([None, None, now - timedelta(days=1), now + timedelta(days=1)])
            point = channel is Channel.EMAIL and rng.random() < 0.15
            records.append(
                {
                    "tenant_id": tenant,
                    "id": new_id(CONSENT_PREFIX),
                    "customer_id": customer_id,
                    "channel": channel.value,
                    "purpose": purpose,
                    "status": rng.choice(["GRANTED", "GRANTED", "REVOKED", "PENDING", "EXPIRED"]),
                    "contact_point_kind": "EMAIL" if point else None,
                    "contact_point_value": "someone@example.com" if point else None,
                    "legal_basis": rng.choice(["CONSENT", "CONSENT", "LEGITIMATE_INTEREST", "CONTRACT"]),
                    "source": "IMPORT",
                    "evidence": {},
                    "effective_at": effective,
                    "recorded_at": rng.choice(moments),
                    "recorded_by": "test",
                    "expires_at": expires if expires is None or expires > effective else None,
                }
            )
    return profiles, records


async def _single_answers(
    database: DatabaseUrls, tenant: str, ids: list[str], channel: Channel, purpose: str, now: datetime
) -> list[str]:
    """The single check's rule (domain.decide) over every customer, its data read in two queries."""
    engine = create_engine(database.admin, pooled=False)
    try:
        async with engine.connect() as connection:
            profiles = {
                row["id"]: row
                for row in (
                    await connection.execute(select(customer_profile).where(customer_profile.c.tenant_id == tenant))
                ).mappings()
            }
            by_customer: dict[str, list[ConsentRecord]] = defaultdict(list)
            for row in (
                await connection.execute(select(consent_record).where(consent_record.c.tenant_id == tenant))
            ).mappings():
                by_customer[row["customer_id"]].append(record_from_row(row))
    finally:
        await engine.dispose()
    policy = default_policy(purpose)
    return [
        customer_id
        for customer_id in ids
        if decide(
            by_customer[customer_id],
            channel=channel,
            purpose=purpose,
            contact_point=None,
            now=now,
            policy=policy,
            customer=customer_context(profiles[customer_id]),
        ).allowed
    ]


class TestBulkCheck:
    async def test_bulk_equals_single_on_ten_thousand_random_customers(
        self, database: DatabaseUrls, services: Services, tenant: str
    ) -> None:
        """For three questions, the SQL bulk answer is the domain's answer for each of 10,000 customers."""
        rng = random.Random(20261128)
        now = datetime.now(UTC)
        profiles, records = _random_population(tenant, 10_000, now, rng)
        engine = create_engine(database.admin, pooled=False)
        try:
            async with engine.begin() as connection:
                await connection.execute(insert(customer_profile), profiles)
                await connection.execute(insert(consent_record), records)
        finally:
            await engine.dispose()
        ids = [p["id"] for p in profiles]
        rng.shuffle(ids)
        for channel, purpose in QUESTIONS:
            bulk = await services.consent_checks.allowed(tenant, ids, channel, default_policy(purpose), now)
            single = await _single_answers(database, tenant, ids, channel, purpose, now)
            assert single == bulk, (channel, purpose)

    async def test_bulk_answers_as_the_single_endpoint_does(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Through HTTP: granted, revoked, pending and unknown customers; only the granted one is allowed."""
        ids = [(await create_customer(client, headers))["id"] for _ in range(3)]
        await record_consent(client, headers, ids[0], type="EMAIL", status="GRANTED")
        await record_consent(client, headers, ids[1], type="EMAIL", status="REVOKED")
        await record_consent(client, headers, ids[2], type="EMAIL", status="GRANTED", source="WEB")
        unknown = "CUST-01JDX3Y7ZK8V2N4Q6R8T0W2Y4A"
        single = [i for i in ids if (await check(client, headers, i))["allowed"]]
        assert single == await bulk_check(client, headers, [*ids, unknown]) == [ids[0]]

    async def test_plain_text_and_ndjson_bodies_carry_ids_one_per_line(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """text/plain and application/x-ndjson bodies answer like the JSON body; channel and purpose in the query."""
        ids = [(await create_customer(client, headers))["id"] for _ in range(2)]
        await record_consent(client, headers, ids[1], type="SMS", status="GRANTED")
        params = {"channel": "SMS", "purpose": "MARKETING"}
        plain = await client.post(
            f"{API}/consent/check",
            params=params,
            content="\n".join(ids) + "\n",
            headers={**headers, "Content-Type": "text/plain"},
        )
        ndjson = await client.post(
            f"{API}/consent/check",
            params=params,
            content=f'"{ids[0]}"\n{{"customerId": "{ids[1]}"}}\n',
            headers={**headers, "Content-Type": "application/x-ndjson"},
        )
        assert [[ids[1]], [ids[1]]] == [plain.json()["allowed"], ndjson.json()["allowed"]]

    async def test_the_bulk_route_takes_bodies_beyond_the_default_limit(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """100,000 ids (over MAX_BODY_BYTES) are accepted on the bulk route, while other routes still say 413."""
        ids = [new_id(CUSTOMER_PREFIX) for _ in range(100_000)]
        body = {"channel": "EMAIL", "purpose": "MARKETING", "customerIds": ids}
        bulk = await client.post(f"{API}/consent/check", json=body, headers=headers)
        elsewhere = await client.post(
            "/api/v1/crm/customers", json={"name": "x" * services.settings.max_body_bytes}, headers=headers
        )
        assert (bulk.status_code, bulk.json()["checked"], elsewhere.status_code) == (200, 100_000, 413)

    async def test_more_than_a_hundred_thousand_ids_are_refused(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """100,001 ids: 400 naming the limit."""
        body = "\n".join(f"CUST-{i}" for i in range(100_001))
        response = await client.post(
            f"{API}/consent/check",
            params={"channel": "EMAIL"},
            content=body,
            headers={**headers, "Content-Type": "text/plain"},
        )
        assert (response.status_code, response.json()["details"]["fields"][0]["field"]) == (400, "customerIds")

    async def test_strings_that_cannot_be_ids_are_simply_not_allowed(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Emoji, accents, empty strings: 200, none of them allowed."""
        body = b'{"channel": "EMAIL", "customerIds": ["\\ud83d\\ude00", "\\u00e9", ""]}'
        response = await client.post(
            f"{API}/consent/check", content=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert (response.status_code, response.json()["allowed"]) == (200, [])

    async def test_a_control_character_in_an_id_is_400_naming_it(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """A NUL is refused at the edge, as in every other body (the id's position is named)."""
        body = b'{"channel": "EMAIL", "customerIds": ["CUST-01JDX3Y7ZK8V2N4Q6R8T0W2Y4A", "\\u0000"]}'
        response = await client.post(
            f"{API}/consent/check", content=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert (response.status_code, response.json()["details"]["fields"][0]["field"]) == (400, "customerIds[1]")
