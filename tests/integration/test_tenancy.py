"""Tenant isolation, through the API and through raw SQL as the service's own database role."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from customer360.infrastructure.persistence.database import DatabaseUrls, create_engine
from tests.support.api import CUSTOMERS, create_customer

TABLES = (
    "customer_profile",
    "contact",
    "customer_key",
    "external_reference",
    "customer_relationship",
    "consent_record",
    "audit_log",
    "event_outbox",
    "idempotency_record",
)


class TestThroughTheApi:
    async def test_another_tenants_id_is_not_found(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A customer of tenant A is a 404 for tenant B, on reads and on writes."""
        created = await create_customer(client, headers)
        other = {**headers, "X-Tenant-ID": "someone-else"}
        url = f"{CUSTOMERS}/{created['id']}"
        assert (await client.get(url, headers=other)).status_code == 404
        assert (await client.patch(url, json={"segment": "X"}, headers=other)).status_code == 404
        assert (await client.get(f"{url}/consent/history", headers=other)).status_code == 404
        assert (
            await client.post(f"{url}/consent", json={"type": "EMAIL", "status": "GRANTED"}, headers=other)
        ).status_code == 404

    async def test_lists_and_searches_stay_within_the_tenant(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Another tenant's list and search do not show the customer."""
        await create_customer(client, headers, name="Isolated Widgets Ltd")
        other = {**headers, "X-Tenant-ID": "tenant-isolation-probe"}
        listed = (await client.get(CUSTOMERS, headers=other)).json()["items"]
        found = (await client.get(f"{CUSTOMERS}/search", params={"name": "Isolated Widgets"}, headers=other)).json()
        assert ([i for i in listed if i["name"] == "Isolated Widgets Ltd"], found["items"]) == ([], [])

    async def test_a_request_without_tenant_is_refused(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """No X-Tenant-ID: 401 TENANT_REQUIRED (an incomplete identity), never a default tenant."""
        without = {k: v for k, v in headers.items() if k != "X-Tenant-ID"}
        response = await client.get(CUSTOMERS, headers=without)
        assert (response.status_code, response.json()["error"]) == (401, "TENANT_REQUIRED")


class TestThroughSql:
    @pytest.fixture
    async def app_engine(self, database: DatabaseUrls) -> AsyncIterator[AsyncEngine]:
        engine = create_engine(database.app, pooled=False)
        yield engine
        await engine.dispose()

    async def test_the_service_role_is_neither_superuser_nor_bypassrls(self, app_engine: AsyncEngine) -> None:
        """The role the service connects as cannot bypass row-level security."""
        async with app_engine.connect() as connection:
            row = (
                await connection.execute(
                    text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
                )
            ).one()
        assert tuple(row) == (False, False)

    async def test_no_tenant_set_sees_no_rows(
        self, client: httpx.AsyncClient, headers: dict[str, str], app_engine: AsyncEngine
    ) -> None:
        """A session without app.tenant_id sees nothing in any table, though rows exist."""
        await create_customer(client, headers, contacts=[{"name": "A", "email": "a@example.com"}])
        async with app_engine.connect() as connection:
            counts = {t: (await connection.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in TABLES}
        assert dict.fromkeys(TABLES, 0) == counts

    async def test_another_tenant_set_sees_none_of_the_rows(
        self, client: httpx.AsyncClient, headers: dict[str, str], app_engine: AsyncEngine
    ) -> None:
        """Querying by a known id with another tenant set returns nothing; with the right tenant, the row."""
        created = await create_customer(client, headers)
        query = text("SELECT count(*) FROM customer_profile WHERE id = :id")
        counts = []
        for tenant in ("not-the-owner", headers["X-Tenant-ID"]):
            async with app_engine.begin() as connection:
                await connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": tenant})
                counts.append((await connection.execute(query, {"id": created["id"]})).scalar_one())
        assert counts == [0, 1]

    async def test_rows_cannot_be_written_into_another_tenant(self, app_engine: AsyncEngine) -> None:
        """The policy's WITH CHECK refuses an insert carrying a tenant other than the session's."""
        from sqlalchemy.exc import DBAPIError

        async with app_engine.begin() as connection:
            await connection.execute(text("SELECT set_config('app.tenant_id', 'mine', true)"))
            with pytest.raises(DBAPIError, match="row-level security"):
                await connection.execute(
                    text(
                        "INSERT INTO audit_log (tenant_id, entity_type, entity_id, action, actor, source,"
                        " correlation_id, occurred_at) VALUES ('theirs', 'X', 'X', 'X', 'X', 'X', 'X', now())"
                    )
                )

    async def test_the_fuzzy_word_function_keeps_to_the_sessions_tenant(
        self, client: httpx.AsyncClient, headers: dict[str, str], app_engine: AsyncEngine
    ) -> None:
        """search_word_matches (SECURITY DEFINER) offers a word only to its own tenant, nothing without one."""
        await create_customer(client, headers, name="Quellwasser Kontor")
        query = text("SELECT count(*) FROM search_word_matches('n:quelwasser') WHERE token = 'n:quellwasser'")
        counts = []
        for tenant in (None, "not-the-owner", headers["X-Tenant-ID"]):
            async with app_engine.begin() as connection:
                if tenant is not None:
                    await connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": tenant})
                counts.append((await connection.execute(query)).scalar_one())
        assert counts == [0, 0, 1]

    async def test_the_search_function_finds_only_the_given_tenants_profiles(
        self, client: httpx.AsyncClient, headers: dict[str, str], app_engine: AsyncEngine
    ) -> None:
        """customer_search answers another tenant's name search with nothing."""
        created = await create_customer(client, headers, name="Quellwasser Kontor")
        query = text(
            "SELECT customer_search(:tenant, ARRAY['n:quellwasser'], '{}', '{}', '{}', '{}', '{}', '{}', '{}',"
            " '{}', false, 10)"
        )
        found = []
        for tenant in ("not-the-owner", headers["X-Tenant-ID"]):
            async with app_engine.connect() as connection:
                found.append(created["id"] in (await connection.execute(query, {"tenant": tenant})).scalar_one())
        assert found == [False, True]
