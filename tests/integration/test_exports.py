"""Bulk export: the list's filters, NDJSON and CSV (re-importable), one consistent snapshot, on record."""

from __future__ import annotations

import csv
import io

import httpx
import orjson

from customer360.application.queries import CustomerFilter
from customer360.bootstrap import Services

EXPORTS = "/api/v1/crm/exports"
CUSTOMERS = "/api/v1/crm/customers"


async def _create(client: httpx.AsyncClient, headers: dict[str, str], **body: object) -> str:
    response = await client.post(CUSTOMERS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


class TestExport:
    async def test_ndjson_gives_every_profile_document_in_id_order_filtered_like_the_list(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """kind=PERSON leaves the organisation out; each line is the profile document."""
        anna = await _create(client, headers, kind="PERSON", givenName="Anna", familyName="Berg")
        await _create(client, headers, name="Acme AG")
        bernd = await _create(client, headers, kind="PERSON", givenName="Bernd", familyName="Adler")
        response = await client.get(EXPORTS, params={"kind": "PERSON"}, headers=headers)
        documents = [orjson.loads(line) for line in response.text.splitlines()]
        assert response.headers["content-type"].startswith("application/x-ndjson")
        assert [(d["id"], d["name"]) for d in documents] == [(anna, "Anna Berg"), (bernd, "Bernd Adler")]

    async def test_a_csv_export_imports_again_as_updates_that_change_nothing(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """The CSV has the import's columns; imported back, every row names its customer and is unchanged."""
        await _create(client, headers, name="Acme AG", emails=[{"address": "info@acme.example"}], segment="SMB")
        await _create(client, headers, name="Beta GmbH", externalRefs=[{"sourceSystem": "ERP", "externalId": "7"}])
        exported = (await client.get(EXPORTS, params={"format": "csv"}, headers=headers)).text
        rows = list(csv.DictReader(io.StringIO(exported)))
        response = await client.post(
            "/api/v1/crm/imports", content=exported.encode(), headers={**headers, "Content-Type": "text/csv"}
        )
        await services.imports.wait()
        job = (await client.get(f"/api/v1/crm/imports/{response.json()['id']}", headers=headers)).json()
        assert [(r["name"], r["email"], r["externalRef"]) for r in rows] == [
            ("Acme AG", "info@acme.example", ""),
            ("Beta GmbH", "", "ERP:7"),
        ]
        assert (job["counts"]["unchanged"], job["counts"]["created"], job["counts"]["invalid"]) == (2, 0, 0)

    async def test_every_exported_profile_is_in_the_access_log(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """Who exported whose data: one BULK_EXPORT entry per profile, by the caller."""
        ids = [await _create(client, headers, name=f"Firma {i} GmbH") for i in range(3)]
        await client.get(EXPORTS, headers=headers)
        log = (await client.get("/api/v1/crm/access-log", params={"actor": "steward-1"}, headers=headers)).json()
        exported = sorted(e["customerId"] for e in log["items"] if e["action"] == "BULK_EXPORT")
        assert exported == sorted(ids)

    async def test_exporting_needs_the_export_permission(self, client: httpx.AsyncClient, tenant: str) -> None:
        """crm.customer:read lets one read profiles, not take the whole tenant away: 403."""
        headers = {"X-User-Id": "u", "X-Tenant-ID": tenant, "X-User-Permissions": "crm.customer:read"}
        assert (await client.get(EXPORTS, headers=headers)).status_code == 403


class TestSnapshot:
    async def test_an_export_is_the_tenant_as_it_was_when_it_started(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """A profile created (and committed) while the export streams is not in it: one snapshot."""
        before = [await _create(client, headers, name=f"Firma {i} GmbH") for i in range(3)]
        batches = services.exports.documents(tenant, CustomerFilter(), actor="steward-1", correlation_id="c", batch=1)
        seen = [customer_id for customer_id, _ in await anext(batches)]
        await _create(client, headers, name="Spät GmbH")
        async for batch in batches:
            seen += [customer_id for customer_id, _ in batch]
        assert seen == before
