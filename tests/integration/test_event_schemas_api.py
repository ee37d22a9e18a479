"""GET /api/v1/crm/events/schemas: the catalog of every .avsc we publish or consume."""

from __future__ import annotations

import httpx

SCHEMAS = "/api/v1/crm/events/schemas"


class TestEventSchemasApi:
    async def test_the_list_holds_every_version_of_every_event(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """12 versions: 8 produced, 4 consumed (docs/events.md, "Schemas")."""
        items = (await client.get(SCHEMAS, headers=headers)).json()["items"]
        directions = sorted(item["direction"] for item in items)
        assert directions == ["consumed"] * 4 + ["produced"] * 8

    async def test_latest_only_gives_one_version_per_event_type(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """CustomerMergedEvent appears once, as v2, with latestOnly=true."""
        items = (await client.get(SCHEMAS, params={"latestOnly": "true"}, headers=headers)).json()["items"]
        merged = [(i["version"], i["latest"]) for i in items if i["name"] == "CustomerMergedEvent"]
        assert merged == [(2, True)]

    async def test_a_name_gives_its_versions_oldest_first(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Short and full names both work."""
        short = (await client.get(f"{SCHEMAS}/CustomerProfileCreatedEvent", headers=headers)).json()
        full = (
            await client.get(f"{SCHEMAS}/com.erp.crm.customer360.events.CustomerProfileCreatedEvent", headers=headers)
        ).json()
        assert ([1, 2], short) == ([i["version"] for i in short["items"]], full)

    async def test_one_version_carries_the_avsc_and_its_fingerprints(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """CustomerMergedEvent v2: fingerprint 588a51f72bfbf849 = Java 5330286325244463704; schema is the .avsc."""
        body = (await client.get(f"{SCHEMAS}/CustomerMergedEvent/versions/2", headers=headers)).json()
        summary = (body["fingerprint"], body["fingerprintLong"], body["schema"]["name"], body["fullName"])
        expected = (
            "588a51f72bfbf849",
            5330286325244463704,
            "CustomerMergedEvent",
            "com.erp.crm.customer360.events.CustomerMergedEvent",
        )
        assert expected == summary

    async def test_a_fingerprint_finds_its_schema_in_either_spelling(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Hex in wire order and Java's signed long name the same schema (LeadCreatedEvent v1)."""
        by_hex = (await client.get(f"{SCHEMAS}/fingerprints/ad075308d780e4bc", headers=headers)).json()
        by_long = (await client.get(f"{SCHEMAS}/fingerprints/-4835598438843086931", headers=headers)).json()
        assert ("LeadCreatedEvent", "consumed", by_hex) == (by_hex["name"], by_hex["direction"], by_long)

    async def test_unknown_names_versions_and_fingerprints_are_404(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """EVENT_SCHEMA_NOT_FOUND for each."""
        paths = [f"{SCHEMAS}/NoSuchEvent", f"{SCHEMAS}/LeadCreatedEvent/versions/9", f"{SCHEMAS}/fingerprints/0"]
        answers = [(r.status_code, r.json()["error"]) for r in [await client.get(p, headers=headers) for p in paths]]
        assert answers == [(404, "EVENT_SCHEMA_NOT_FOUND")] * 3

    async def test_reading_schemas_needs_the_events_permission(self, client: httpx.AsyncClient, tenant: str) -> None:
        """Without crm.events:read: 403."""
        headers = {"X-User-Id": "u", "X-Tenant-ID": tenant, "X-User-Permissions": "crm.customer:read"}
        assert (await client.get(SCHEMAS, headers=headers)).status_code == 403
