"""Data-subject access (Art. 15/20): one document with everything held about the person."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from customer360.application.leads import LeadIntake
from customer360.bootstrap import Services
from customer360.infrastructure.consumers.applier import EventApplier
from customer360.infrastructure.messaging.avro_codec import AvroEventCodec
from tests.support.api import CUSTOMERS, create_customer, record_consent
from tests.support.consumed import contract, master_update, message, service_order
from tests.support.privacy import create_duplicate, merge_into, without


@pytest.fixture
def applier(services: Services) -> EventApplier:
    return EventApplier(
        executor=services.executor, codec=AvroEventCodec(), consumer="crm-customer360-cg", lead_intake=LeadIntake()
    )


async def _export(
    client: httpx.AsyncClient, headers: dict[str, str], customer_id: str, **params: str
) -> httpx.Response:
    return await client.get(f"{CUSTOMERS}/{customer_id}/privacy/export", params=params, headers=headers)


async def _merged_person(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[str, str, str]:
    golden = await create_customer(
        client,
        headers,
        kind="PERSON",
        givenName="Hedda",
        familyName="Gabler",
        emails=[{"address": "hedda@example.org"}],
    )
    duplicate = await create_duplicate(
        client,
        headers,
        kind="PERSON",
        givenName="Hedda",
        familyName="Tesman",
        phones=[{"number": "+47 22 00 00 00"}],
        contacts=[{"name": "Jørgen Tesman", "email": "jorgen@example.org", "role": "BILLING"}],
    )
    await record_consent(client, headers, golden["id"], type="EMAIL", status="GRANTED")
    await record_consent(client, headers, duplicate["id"], type="SMS", status="GRANTED", evidence={"text": "by phone"})
    await record_consent(client, headers, duplicate["id"], type="SMS", status="REVOKED")
    await merge_into(client, headers, golden["id"], duplicate["id"])
    return golden["id"], duplicate["id"], duplicate["contacts"][0]["id"]


class TestExport:
    async def test_the_export_of_a_merged_person_holds_every_profile_and_the_whole_consent_history(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Golden and merged profile with their own data, the contact, and all consent records with evidence."""
        golden, duplicate, contact = await _merged_person(client, headers)
        document = (await _export(client, headers, golden)).json()
        profiles = {p["id"]: p for p in document["profiles"]}
        history = await client.get(f"{CUSTOMERS}/{golden}/consent/history", headers=headers, params={"limit": 200})
        assert (
            [golden, duplicate],
            ["GOLDEN", "MERGED"],
            "Tesman",
            {r["id"] for r in history.json()["items"]},
        ) == (
            document["lineage"],
            [p["role"] for p in document["profiles"]],
            profiles[duplicate]["familyName"],
            {r["id"] for r in document["consentHistory"]},
        )
        assert contact in {c["id"] for c in document["contacts"]}
        assert "by phone" in {(r["evidence"] or {}).get("text") for r in document["consentHistory"]}

    async def test_exporting_a_merged_id_exports_the_same_person(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Asking with the duplicate's id gives the same lineage, golden profile first."""
        golden, duplicate, _ = await _merged_person(client, headers)
        document = (await _export(client, headers, duplicate)).json()
        assert ([golden, duplicate], golden) == (document["lineage"], document["goldenCustomerId"])

    async def test_the_export_includes_service_history_entitlements_credit_and_audit(
        self, client: httpx.AsyncClient, headers: dict[str, str], applier: EventApplier, tenant: str
    ) -> None:
        """The other sections come from the personal-data registry; the audit entries are there too."""
        cid = (await create_customer(client, headers, name="Registry Person"))["id"]
        await applier.apply(message(service_order(tenant, cid, summary="boiler repair")))
        await applier.apply(message(contract(tenant, cid)))
        await applier.apply(message(master_update(tenant, cid, creditLimit="1000.00", creditCurrency="EUR")))
        document = (await _export(client, headers, cid)).json()
        sections: dict[str, Any] = {
            "serviceHistory": [r["summary"] for r in document["serviceHistory"]],
            "entitlements": [r["slaTier"] for r in document["entitlements"]],
            "credit": [r["creditLimit"] for r in document["credit"]],
        }
        assert sections == {"serviceHistory": ["boiler repair"], "entitlements": ["GOLD"], "credit": ["1000.00"]}
        assert "PROFILE_CREATED" in {a["action"] for a in document["audit"]}

    async def test_the_export_downloads_as_a_file(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """download=true answers with Content-Disposition: attachment."""
        cid = (await create_customer(client, headers))["id"]
        response = await _export(client, headers, cid, download="true")
        assert f'attachment; filename="personal-data-{cid}.json"' == response.headers["content-disposition"]

    async def test_the_export_is_audited(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """An audit row PERSONAL_DATA_EXPORTED names who exported which profiles."""
        cid = (await create_customer(client, headers))["id"]
        await _export(client, headers, cid)
        audit = (await client.get(f"{CUSTOMERS}/{cid}/audit", headers=headers)).json()["items"]
        exported = [a for a in audit if a["action"] == "PERSONAL_DATA_EXPORTED"]
        assert [(headers["X-User-Id"], [cid])] == [
            (a["actor"], next(c["new"] for c in a["changes"] if c["field"] == "customerIds")) for a in exported
        ]

    async def test_without_the_export_permission_it_is_403(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """crm.privacy:export is required."""
        cid = (await create_customer(client, headers))["id"]
        response = await _export(client, without(headers, "crm.privacy:export"), cid)
        assert (response.status_code, response.json()["details"]["permission"]) == (403, "crm.privacy:export")
