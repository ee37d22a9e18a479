"""Idempotency-Key on POST: a retry returns the first response and applies nothing twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import insert, select

from customer360.bootstrap import Services
from customer360.infrastructure.persistence.database import tenant_transaction
from customer360.infrastructure.persistence.tables import idempotency_record
from tests.support.api import CUSTOMERS


class TestIdempotentPost:
    async def test_a_replay_returns_the_first_response(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """The same key and body twice: one customer, the same body, marked as replayed."""
        keyed = {**headers, "Idempotency-Key": "create-acme-1"}
        first = await client.post(CUSTOMERS, json={"name": "Acme"}, headers=keyed)
        second = await client.post(CUSTOMERS, json={"name": "Acme"}, headers=keyed)
        listed = (await client.get(CUSTOMERS, headers=headers)).json()["items"]
        assert (201, 201, first.json()) == (first.status_code, second.status_code, second.json())
        assert second.headers["idempotent-replayed"] == "true"
        assert len(listed) == 1

    async def test_the_same_key_with_another_body_is_refused(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Reusing a key for a different request is a 422."""
        keyed = {**headers, "Idempotency-Key": "create-2"}
        await client.post(CUSTOMERS, json={"name": "One"}, headers=keyed)
        response = await client.post(CUSTOMERS, json={"name": "Two"}, headers=keyed)
        assert (response.status_code, response.json()["error"]) == (422, "IDEMPOTENCY_KEY_REUSED")

    async def test_concurrent_retries_create_one_customer(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Five simultaneous requests with one key create a single customer and all get its id."""
        keyed = {**headers, "Idempotency-Key": "burst-1"}
        responses = await asyncio.gather(
            *(client.post(CUSTOMERS, json={"name": "Burst"}, headers=keyed) for _ in range(5))
        )
        ids = {r.json()["id"] for r in responses}
        listed = (await client.get(CUSTOMERS, headers=headers)).json()["items"]
        assert ({201}, 1, 1) == ({r.status_code for r in responses}, len(ids), len(listed))

    async def test_keys_are_scoped_to_the_tenant(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Another tenant using the same key gets its own customer."""
        first = await client.post(CUSTOMERS, json={"name": "A"}, headers={**headers, "Idempotency-Key": "k"})
        other = {**headers, "X-Tenant-ID": headers["X-Tenant-ID"] + "-b", "Idempotency-Key": "k"}
        second = await client.post(CUSTOMERS, json={"name": "A"}, headers=other)
        assert first.json()["id"] != second.json()["id"]


class TestPurge:
    async def test_responses_older_than_the_ttl_are_purged(self, services: Services, tenant: str) -> None:
        """The purge deletes remembered responses past IDEMPOTENCY_TTL_HOURS and keeps the recent ones."""
        now = datetime.now(UTC)
        async with tenant_transaction(services.engine, tenant) as connection:
            for key, age in (("old", timedelta(hours=25)), ("recent", timedelta(minutes=5))):
                await connection.execute(
                    insert(idempotency_record).values(
                        tenant_id=tenant, key=key, fingerprint="f", status_code=201, body=b"{}", created_at=now - age
                    )
                )
        await services.idempotency_purge.run_once()
        async with tenant_transaction(services.engine, tenant) as connection:
            keys = (await connection.execute(select(idempotency_record.c.key))).scalars().all()
        assert list(keys) == ["recent"]
