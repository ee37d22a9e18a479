"""The integration look-ups: exact-key lookup (Pipeline), billing (Finance/AR), entitlements (Service Orders)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from customer360.application.leads import LeadIntake
from customer360.bootstrap import Services
from customer360.infrastructure.consumers.applier import EventApplier
from customer360.infrastructure.messaging.avro_codec import AvroEventCodec
from tests.support.api import CUSTOMERS, create_customer
from tests.support.consumed import contract, message

LOOKUP = f"{CUSTOMERS}/lookup"
UNKNOWN = "CUST-01JDX3Y7ZK8V2N4Q6R8T0W2Y4A"


@pytest.fixture
async def acme(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    return await create_customer(
        client,
        headers,
        name="Acme Maschinenbau GmbH",
        website="https://www.acme-maschinen.example/about",
        phones=[{"number": "+49 30 1234567", "type": "LANDLINE"}],
        taxIds=[{"country": "DE", "type": "VAT", "value": "DE136695976"}],
        externalRefs=[{"sourceSystem": "FINANCE_AR", "externalId": "D-1"}],
        addresses=[
            {"type": "SHIPPING", "lines": ["Hafenstr. 1"], "city": "Hamburg", "country": "DE"},
            {"type": "REGISTERED", "lines": ["Unter den Linden 1"], "city": "Berlin", "country": "DE"},
        ],
        contacts=[
            {"name": "Petra Payable", "email": "petra@acme-maschinen.example", "role": "BILLING"},
            {"name": "Sam Sales", "email": "sam@acme-maschinen.example", "role": "SALES"},
        ],
    )


async def found(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> list[str]:
    response = await client.get(LOOKUP, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


class TestLookup:
    async def test_each_exact_key_finds_the_profile(
        self, client: httpx.AsyncClient, headers: dict[str, str], acme: dict[str, Any]
    ) -> None:
        """A contact's e-mail, the web domain (or an e-mail's domain), any phone format, tax id, external ref."""
        queries = [
            {"email": "Petra@Acme-Maschinen.example"},
            {"domain": "acme-maschinen.example"},
            {"domain": "someone@acme-maschinen.example"},
            {"phone": "030 1234567"},
            {"taxId": "DE 136 695 976"},
            {"externalRef": "finance_ar:D-1"},
        ]
        results = [await found(client, headers, **q) for q in queries]
        assert [[acme["id"]]] * len(queries) == results

    async def test_several_keys_must_all_match(
        self, client: httpx.AsyncClient, headers: dict[str, str], acme: dict[str, Any]
    ) -> None:
        """The right domain with a wrong tax id finds nothing."""
        assert await found(client, headers, domain="acme-maschinen.example", taxId="DE999999999") == []

    async def test_a_lookup_returns_the_profile_with_its_contacts(
        self, client: httpx.AsyncClient, headers: dict[str, str], acme: dict[str, Any]
    ) -> None:
        """The whole profile document, contacts included, and the keys it matched on."""
        body = (await client.get(LOOKUP, params={"email": "sam@acme-maschinen.example"}, headers=headers)).json()
        names = sorted(c["name"] for c in body["items"][0]["contacts"])
        assert (body["matchedOn"], names) == (["email"], ["Petra Payable", "Sam Sales"])

    async def test_a_lookup_without_any_key_is_400(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """VALIDATION_ERROR naming the query."""
        response = await client.get(LOOKUP, headers=headers)
        assert (response.status_code, response.json()["error"]) == (400, "VALIDATION_ERROR")

    async def test_other_tenants_profiles_are_not_found(
        self, client: httpx.AsyncClient, headers: dict[str, str], acme: dict[str, Any]
    ) -> None:
        """Same key, another tenant: nothing."""
        other = {**headers, "X-Tenant-ID": f"{headers['X-Tenant-ID']}-other"}
        assert await found(client, other, email="petra@acme-maschinen.example") == []


class TestBilling:
    async def test_billing_shows_billing_contacts_the_registered_address_and_tax_ids(
        self, client: httpx.AsyncClient, headers: dict[str, str], acme: dict[str, Any]
    ) -> None:
        """No BILLING address: the REGISTERED one is used; no credit data yet."""
        body = (await client.get(f"{CUSTOMERS}/{acme['id']}/billing", headers=headers)).json()
        summary = (
            [c["name"] for c in body["billingContacts"]],
            body["billingAddress"]["city"],
            [t["value"] for t in body["taxIds"]],
            body["credit"],
        )
        assert summary == (["Petra Payable"], "Berlin", ["DE136695976"], None)

    async def test_billing_of_an_unknown_customer_is_404(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """CUSTOMER_NOT_FOUND."""
        response = await client.get(f"{CUSTOMERS}/{UNKNOWN}/billing", headers=headers)
        assert (response.status_code, response.json()["error"]) == (404, "CUSTOMER_NOT_FOUND")


class TestEntitlementsLookup:
    async def test_a_customer_without_contracts_has_no_effective_sla(
        self, client: httpx.AsyncClient, headers: dict[str, str], acme: dict[str, Any]
    ) -> None:
        """Empty list, null SLA."""
        body = (await client.get(f"{CUSTOMERS}/{acme['id']}/entitlements", headers=headers)).json()
        assert (body["entitlements"], body["effectiveSla"]) == ([], None)

    async def test_contracts_count_only_inside_their_validity(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        acme: dict[str, Any],
        services: Services,
        tenant: str,
    ) -> None:
        """Valid 2026-01-01..2026-12-31: active on both ends, not the day after."""
        applier = EventApplier(
            executor=services.executor, codec=AvroEventCodec(), consumer="crm-customer360-cg", lead_intake=LeadIntake()
        )
        await applier.apply(message(contract(tenant, acme["id"])))
        days = ["2026-01-01", "2026-12-31", "2027-01-01"]
        counts = []
        for day in days:
            body = (
                await client.get(f"{CUSTOMERS}/{acme['id']}/entitlements", params={"at": day}, headers=headers)
            ).json()
            counts.append(len(body["entitlements"]))
        assert counts == [1, 1, 0]

    async def test_a_malformed_date_is_400(
        self, client: httpx.AsyncClient, headers: dict[str, str], acme: dict[str, Any]
    ) -> None:
        """at=31.12.2026 → 400."""
        response = await client.get(
            f"{CUSTOMERS}/{acme['id']}/entitlements", params={"at": "31.12.2026"}, headers=headers
        )
        assert response.status_code == 400
