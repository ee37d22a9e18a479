"""The access log: reads of personal data per user, without the data, queryable with crm.audit:read."""

from __future__ import annotations

from typing import Any

import httpx

from customer360.bootstrap import Services
from tests.support.api import CUSTOMERS, create_customer
from tests.support.polling import poll
from tests.support.privacy import API, without


async def _entries(
    client: httpx.AsyncClient, headers: dict[str, str], services: Services, **params: str
) -> list[dict[str, Any]]:
    await services.access_log.flush()
    response = await client.get(f"{API}/access-log", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


class TestAccessLog:
    async def test_profile_reads_searches_and_exports_are_recorded_per_user(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """GET, search and export of a customer leave one entry each, with the reader's id."""
        cid = (await create_customer(client, headers, name="Watched Widgets Ltd"))["id"]
        reader = {**headers, "X-User-Id": "analyst-7"}
        await client.get(f"{CUSTOMERS}/{cid}", headers=reader)
        await client.get(f"{CUSTOMERS}/search", params={"name": "Watched Widgets"}, headers=reader)
        await client.get(f"{CUSTOMERS}/{cid}/privacy/export", headers=reader)
        entries = await _entries(client, headers, services, customerId=cid)
        assert [(e["actor"], e["action"]) for e in entries] == [
            ("analyst-7", "PROFILE_READ"),
            ("analyst-7", "SEARCH"),
            ("analyst-7", "EXPORT"),
        ]

    async def test_integration_look_ups_are_recorded(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """Finance's billing read, Service Orders' entitlement read and Pipeline's look-up are reads too."""
        cid = (await create_customer(client, headers, emails=[{"address": "ap@lookup.example"}]))["id"]
        await client.get(f"{CUSTOMERS}/{cid}/billing", headers=headers)
        await client.get(f"{CUSTOMERS}/{cid}/entitlements", headers=headers)
        await client.get(f"{CUSTOMERS}/lookup", params={"email": "ap@lookup.example"}, headers=headers)
        entries = await _entries(client, headers, services, customerId=cid)
        assert [e["action"] for e in entries] == ["BILLING_READ", "ENTITLEMENTS_READ", "LOOKUP"]

    async def test_entries_hold_ids_not_personal_values(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """A search by e-mail is logged with the found id only, never the search term."""
        await create_customer(client, headers, emails=[{"address": "secret.person@example.org"}])
        await client.get(f"{CUSTOMERS}/search", params={"email": "secret.person@example.org"}, headers=headers)
        entries = await _entries(client, headers, services, actor=headers["X-User-Id"])
        assert ("secret.person" in str(entries), ["SEARCH"]) == (
            False,
            [e["action"] for e in entries if e["action"] == "SEARCH"],
        )

    async def test_the_log_can_be_filtered_by_user(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """actor=… lists that user's reads only."""
        cid = (await create_customer(client, headers))["id"]
        await client.get(f"{CUSTOMERS}/{cid}", headers={**headers, "X-User-Id": "alice"})
        await client.get(f"{CUSTOMERS}/{cid}", headers={**headers, "X-User-Id": "bob"})
        assert [e["actor"] for e in await _entries(client, headers, services, actor="bob")] == ["bob"]

    async def test_reading_the_log_needs_audit_permission(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Without crm.audit:read: 403."""
        response = await client.get(f"{API}/access-log", headers=without(headers, "crm.audit:read"))
        assert response.status_code == 403

    async def test_a_background_flush_writes_without_being_asked(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """The buffer reaches the database by itself (interval ACCESS_LOG_FLUSH_INTERVAL_SECONDS)."""
        cid = (await create_customer(client, headers))["id"]
        await client.get(f"{CUSTOMERS}/{cid}", headers=headers)

        async def written() -> dict[str, Any] | None:
            page: dict[str, Any] = (
                await client.get(f"{API}/access-log", params={"customerId": cid}, headers=headers)
            ).json()
            return page if page["items"] else None

        listed = await poll(written, what="the access log entry written by the background flush")
        assert [e["action"] for e in listed["items"]] == ["PROFILE_READ"]
