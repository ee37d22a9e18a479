"""Applying the ERP's events to the database (no broker here: the Kafka loop has its own tests).

Each message is applied by the consumer's applier in one transaction with its inbox row; the effects
are read back through the REST API, as Sales, Service Orders and Finance/AR would.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from customer360.application.leads import LeadIntake
from customer360.bootstrap import Services
from customer360.domain.errors import CustomerNotFound
from customer360.infrastructure.consumers.applier import ConsumedMessage, EventApplier, Outcome, PoisonMessage
from customer360.infrastructure.messaging.avro_codec import AvroEventCodec
from tests.support.api import CUSTOMERS, create_customer
from tests.support.consumed import CODEC, contract, lead, master_update, message, service_order


@pytest.fixture
def applier(services: Services) -> EventApplier:
    return EventApplier(
        executor=services.executor, codec=AvroEventCodec(), consumer="crm-customer360-cg", lead_intake=LeadIntake()
    )


async def lookup(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    response = await client.get(f"{CUSTOMERS}/lookup", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


class TestLeadCreated:
    async def test_a_new_lead_creates_an_organisation_with_its_contact_person(
        self, applier: EventApplier, client: httpx.AsyncClient, headers: dict[str, str], tenant: str
    ) -> None:
        """Company → ORGANIZATION with external ref SALES:<leadId> and the person as primary SALES contact."""
        sent = lead(
            tenant,
            "L-100",
            companyName="Nordwind Logistik GmbH",
            contactGivenName="Jana",
            contactFamilyName="Berg",
            email="jana.berg@nordwind.example",
        )
        applied = await applier.apply(message(sent))
        [profile] = await lookup(client, headers, externalRef="SALES:L-100")
        contact = profile["contacts"][0]
        summary = (profile["kind"], profile["name"], contact["name"], contact["primaryRoles"], applied.outcome)
        assert summary == ("ORGANIZATION", "Nordwind Logistik GmbH", "Jana Berg", ["SALES"], Outcome.APPLIED)

    async def test_a_lead_is_attached_to_the_profile_with_its_email(
        self, applier: EventApplier, client: httpx.AsyncClient, headers: dict[str, str], tenant: str
    ) -> None:
        """An existing contact's e-mail finds the profile: no second profile, the SALES ref is added."""
        existing = await create_customer(
            client, headers, contacts=[{"name": "Ole Hansen", "email": "ole@hansen.example", "role": "SALES"}]
        )
        await applier.apply(message(lead(tenant, "L-200", companyName="Hansen AS", email="OLE@hansen.example")))
        found = await lookup(client, headers, externalRef="SALES:L-200")
        everyone = (await client.get(CUSTOMERS, headers=headers)).json()["items"]
        assert ([existing["id"]], 1) == ([p["id"] for p in found], len(everyone))

    async def test_a_lead_is_attached_by_tax_id_and_keeps_an_existing_sales_reference(
        self, applier: EventApplier, client: httpx.AsyncClient, headers: dict[str, str], tenant: str
    ) -> None:
        """Tax id match; the profile already has SALES:L-1, so the new lead is only linked."""
        existing = await create_customer(
            client,
            headers,
            taxIds=[{"country": "DE", "type": "VAT", "value": "DE136695976"}],
            externalRefs=[{"sourceSystem": "SALES", "externalId": "L-1"}],
        )
        applied = await applier.apply(message(lead(tenant, "L-300", companyName="Other Name", taxId="DE 136 695 976")))
        profile = (await client.get(f"{CUSTOMERS}/{existing['id']}", headers=headers)).json()
        assert ([{"sourceSystem": "SALES", "externalId": "L-1"}], applied.outcome) == (
            profile["externalRefs"],
            Outcome.APPLIED,
        )

    async def test_the_same_lead_in_a_second_event_creates_nothing_new(
        self, applier: EventApplier, client: httpx.AsyncClient, headers: dict[str, str], tenant: str
    ) -> None:
        """Two events (two eventIds) for lead L-400: one profile."""
        for _ in range(2):
            await applier.apply(message(lead(tenant, "L-400", contactGivenName="Eva", contactFamilyName="Lind")))
        everyone = (await client.get(CUSTOMERS, headers=headers)).json()["items"]
        assert [(p["kind"], p["name"]) for p in everyone] == [("PERSON", "Eva Lind")]

    async def test_invalid_optional_values_are_dropped_not_the_lead(
        self, applier: EventApplier, client: httpx.AsyncClient, headers: dict[str, str], tenant: str
    ) -> None:
        """A malformed e-mail and phone do not stop the profile from being created."""
        await applier.apply(message(lead(tenant, "L-500", companyName="Webform Ltd", email="not-an-email", phone="x")))
        [profile] = await lookup(client, headers, externalRef="SALES:L-500")
        assert (profile["emails"], profile["phones"]) == ([], [])


class TestRedelivery:
    async def test_a_message_delivered_twice_changes_the_database_once(
        self, applier: EventApplier, client: httpx.AsyncClient, headers: dict[str, str], tenant: str
    ) -> None:
        """Same eventId twice: applied, then duplicate; one audit entry, one version bump."""
        customer = await create_customer(client, headers, name="Once Only")
        update = master_update(tenant, customer["id"], segment="ENTERPRISE")
        outcomes = [(await applier.apply(message(update, offset=n))).outcome for n in range(2)]
        profile = (await client.get(f"{CUSTOMERS}/{customer['id']}", headers=headers)).json()
        audit = (await client.get(f"{CUSTOMERS}/{customer['id']}/audit", headers=headers)).json()["items"]
        assert (outcomes, profile["version"], len(audit)) == ([Outcome.APPLIED, Outcome.DUPLICATE], 2, 2)


class TestServiceOrders:
    async def test_a_service_order_joins_the_service_history(
        self, applier: EventApplier, client: httpx.AsyncClient, headers: dict[str, str], tenant: str
    ) -> None:
        """GET …/service-history lists it, newest first."""
        customer = await create_customer(client, headers)
        first = service_order(tenant, customer["id"], openedAt="2026-11-01T09:00:00Z", orderType="repair")
        second = service_order(tenant, customer["id"], openedAt="2026-11-02T09:00:00Z", priority="HIGH")
        for sent in (first, second):
            await applier.apply(message(sent, as_json=True))
        history = (await client.get(f"{CUSTOMERS}/{customer['id']}/service-history", headers=headers)).json()
        expected = [(second["payload"]["serviceOrderId"], "HIGH"), (first["payload"]["serviceOrderId"], None)]
        assert expected == [(o["serviceOrderId"], o["priority"]) for o in history["items"]]

    async def test_an_order_for_an_unknown_customer_fails(self, applier: EventApplier, tenant: str) -> None:
        """CustomerNotFound: the consumer retries it and then dead-letters it."""
        with pytest.raises(CustomerNotFound):
            await applier.apply(message(service_order(tenant, "CUST-01JDX3Y7ZK8V2N4Q6R8T0W2Y4A")))


class TestEntitlements:
    async def test_the_effective_sla_is_the_fastest_active_contract(
        self, applier: EventApplier, client: httpx.AsyncClient, headers: dict[str, str], tenant: str
    ) -> None:
        """GOLD (240 min) beats SILVER (480); an expired PLATINUM does not count."""
        customer = await create_customer(client, headers)
        for tier, minutes, valid_to in (
            ("SILVER", 480, None),
            ("GOLD", 240, "2026-12-31"),
            ("PLATINUM", 60, "2025-12-31"),
        ):
            sent = contract(
                tenant,
                customer["id"],
                slaTier=tier,
                responseTimeMinutes=minutes,
                resolutionTimeMinutes=minutes * 4,
                validFrom="2025-01-01",
                validTo=valid_to,
            )
            await applier.apply(message(sent))
        body = (
            await client.get(f"{CUSTOMERS}/{customer['id']}/entitlements", params={"at": "2026-06-01"}, headers=headers)
        ).json()
        tiers = [e["slaTier"] for e in body["entitlements"]]
        assert (
            tiers,
            body["effectiveSla"]["slaTier"],
            body["effectiveSla"]["responseTimeMinutes"],
        ) == (["GOLD", "SILVER"], "GOLD", 240)

    async def test_an_older_activation_never_overwrites_a_newer_one(
        self, applier: EventApplier, client: httpx.AsyncClient, headers: dict[str, str], tenant: str
    ) -> None:
        """Upsert by contract id, guarded by the event time."""
        customer = await create_customer(client, headers)
        newer = contract(tenant, customer["id"], contractId="CTR-1", slaTier="GOLD")
        older = contract(tenant, customer["id"], contractId="CTR-1", slaTier="BRONZE")
        older["timestamp"] = "2020-01-01T00:00:00.000Z"
        for sent in (newer, older):
            await applier.apply(message(sent))
        body = (
            await client.get(f"{CUSTOMERS}/{customer['id']}/entitlements", params={"at": "2026-06-01"}, headers=headers)
        ).json()
        assert [(e["contractId"], e["slaTier"]) for e in body["entitlements"]] == [("CTR-1", "GOLD")]


class TestMasterUpdates:
    async def test_master_attributes_are_applied_with_source_mdg(
        self, applier: EventApplier, client: httpx.AsyncClient, headers: dict[str, str], tenant: str
    ) -> None:
        """Name and status change; the audit entries and the published event say source MDG."""
        customer = await create_customer(client, headers, name="Old Name AG")
        await applier.apply(message(master_update(tenant, customer["id"], name="New Name AG", status="ON_HOLD")))
        profile = (await client.get(f"{CUSTOMERS}/{customer['id']}", headers=headers)).json()
        audit = (await client.get(f"{CUSTOMERS}/{customer['id']}/audit", headers=headers)).json()["items"]
        feed = (await client.get("/api/v1/crm/events", headers=headers)).json()["items"]
        updates = [e["payload"]["source"] for e in feed if e["eventType"] == "CustomerProfileUpdatedEvent"]
        assert (
            (profile["name"], profile["status"]),
            [a["source"] for a in audit[1:]],
            updates,
        ) == (("New Name AG", "ON_HOLD"), ["MDG", "MDG"], ["MDG", "MDG"])

    async def test_an_update_that_changes_nothing_publishes_nothing(
        self, applier: EventApplier, client: httpx.AsyncClient, headers: dict[str, str], tenant: str
    ) -> None:
        """The same name again: no event that MDG could receive back."""
        customer = await create_customer(client, headers, name="Stable GmbH")
        await applier.apply(message(master_update(tenant, customer["id"], name="Stable GmbH")))
        feed = (await client.get("/api/v1/crm/events", headers=headers)).json()["items"]
        assert [e["eventType"] for e in feed] == ["CustomerProfileCreatedEvent"]

    async def test_credit_data_feeds_the_billing_view_and_null_means_unchanged(
        self, applier: EventApplier, client: httpx.AsyncClient, headers: dict[str, str], tenant: str
    ) -> None:
        """Limit and terms from one update, the block from a later one; the limit stays."""
        customer = await create_customer(
            client,
            headers,
            externalRefs=[{"sourceSystem": "FINANCE_AR", "externalId": "D-4711"}],
            contacts=[{"name": "Billing Desk", "email": "billing@desk.example", "role": "BILLING"}],
        )
        first = master_update(
            tenant,
            None,
            sourceSystem="FINANCE_AR",
            externalId="D-4711",
            creditLimit="250000.00",
            creditCurrency="eur",
            paymentTerms="net30",
        )
        second = master_update(tenant, customer["id"], sourceSystem="FINANCE_AR", creditBlocked=True)
        for sent in (first, second):
            await applier.apply(message(sent))
        billing = (await client.get(f"{CUSTOMERS}/{customer['id']}/billing", headers=headers)).json()
        credit = billing["credit"]
        assert (
            (credit["creditLimit"], credit["currency"], credit["paymentTerms"], credit["creditBlocked"]),
            [c["name"] for c in billing["billingContacts"]],
        ) == (("250000.00", "EUR", "NET30", True), ["Billing Desk"])


class TestMessagesThatCannotBeApplied:
    async def test_an_avro_event_with_an_empty_tenant_is_poison(self, applier: EventApplier) -> None:
        """Dead-lettered at once, reason no-tenant."""
        _, record = CODEC.envelope_to_record(lead("placeholder", "L-1"))
        value = CODEC.encode("LeadCreatedEvent", {**record, "tenantId": ""})
        with pytest.raises(PoisonMessage) as raised:
            await applier.apply(ConsumedMessage("t", 0, 0, b"L-1", value, []))
        assert raised.value.reason == "no-tenant"

    async def test_a_json_envelope_without_a_tenant_is_poison(self, applier: EventApplier) -> None:
        """The JSON envelope lacks tenantId: dead-lettered at once as an invalid envelope."""
        sent = {"eventType": "LeadCreatedEvent", "eventId": "e-1", "timestamp": "2026-01-01T00:00:00Z"}
        value = json.dumps({**sent, "payload": {"leadId": "L-1", "source": "WEB"}}).encode()
        with pytest.raises(PoisonMessage) as raised:
            await applier.apply(ConsumedMessage("t", 0, 0, None, value, [("content-type", b"application/json")]))
        assert raised.value.reason == "undecodable:invalid-envelope"

    async def test_bytes_that_are_no_event_are_poison(self, applier: EventApplier, tenant: str) -> None:
        """A value that is neither Avro nor JSON: undecodable."""
        with pytest.raises(PoisonMessage) as raised:
            await applier.apply(ConsumedMessage("t", 0, 0, None, b"\xc3\x01garbage!", []))
        assert raised.value.reason.startswith("undecodable:")

    async def test_an_unknown_event_type_is_skipped(self, applier: EventApplier, tenant: str) -> None:
        """JSON with an eventType we do not know: skipped, nothing written."""
        value = b'{"eventType": "InvoicePaidEvent", "eventId": "e", "tenantId": "t"}'
        assert (await applier.apply(ConsumedMessage("t", 0, 0, None, value, []))).outcome == Outcome.SKIPPED
