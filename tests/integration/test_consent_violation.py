"""CONSENT_VIOLATION (422): changes that would contradict the customer's consent are refused."""

from __future__ import annotations

import httpx

from tests.support.api import CUSTOMERS, create_customer, record_consent


def _subscribe(channel: str, topic: str) -> dict[str, object]:
    return {"communication": {"channels": [{"channel": channel, "topic": topic, "optIn": True}]}}


class TestConsentViolation:
    async def test_a_revoked_channel_cannot_become_the_preferred_one(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """The customer revoked SMS: making SMS the preferred channel is a 422 CONSENT_VIOLATION."""
        cid = (await create_customer(client, headers))["id"]
        await record_consent(client, headers, cid, type="SMS", status="REVOKED")
        response = await client.patch(
            f"{CUSTOMERS}/{cid}", json={"communication": {"preferredChannel": "SMS"}}, headers=headers
        )
        assert (
            response.status_code,
            response.json()["error"],
            response.json()["details"]["field"],
        ) == (422, "CONSENT_VIOLATION", "communication.preferredChannel")

    async def test_a_channel_with_a_grant_for_some_purpose_can_be_preferred(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Revoked for marketing but granted for service messages: e-mail may still be preferred."""
        cid = (await create_customer(client, headers))["id"]
        await record_consent(client, headers, cid, type="EMAIL", status="REVOKED")
        await record_consent(
            client, headers, cid, type="EMAIL", status="GRANTED", purpose="SERVICE", legalBasis="CONTRACT"
        )
        response = await client.patch(
            f"{CUSTOMERS}/{cid}", json={"communication": {"preferredChannel": "EMAIL"}}, headers=headers
        )
        assert response.status_code == 200

    async def test_subscribing_to_a_topic_without_consent_is_refused(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Opting e-mail in for NEWSLETTER without a NEWSLETTER consent: 422, with the reason of the check."""
        cid = (await create_customer(client, headers))["id"]
        response = await client.patch(f"{CUSTOMERS}/{cid}", json=_subscribe("EMAIL", "NEWSLETTER"), headers=headers)
        assert (
            response.status_code,
            response.json()["error"],
            response.json()["details"]["reason"],
        ) == (422, "CONSENT_VIOLATION", "NO_RECORD")

    async def test_subscribing_with_consent_is_accepted(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """With a NEWSLETTER consent on e-mail the subscription is stored."""
        cid = (await create_customer(client, headers))["id"]
        await record_consent(client, headers, cid, type="EMAIL", status="GRANTED", purpose="NEWSLETTER")
        response = await client.patch(f"{CUSTOMERS}/{cid}", json=_subscribe("EMAIL", "NEWSLETTER"), headers=headers)
        assert (
            response.status_code,
            response.json()["communication"]["channels"],
        ) == (200, [{"channel": "EMAIL", "topic": "NEWSLETTER", "optIn": True}])

    async def test_subscribing_a_contact_without_consent_is_refused(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """A contact's own subscription needs consent too (for the contact or the whole channel)."""
        customer = await create_customer(client, headers, contacts=[{"name": "Anna Schmidt", "role": "SALES"}])
        contact_id = customer["contacts"][0]["id"]
        url = f"{CUSTOMERS}/{customer['id']}/contacts/{contact_id}"
        refused = await client.patch(url, json=_subscribe("SMS", "NEWSLETTER"), headers=headers)
        await record_consent(
            client,
            headers,
            customer["id"],
            type="SMS",
            status="GRANTED",
            purpose="NEWSLETTER",
            contactPoint={"contactId": contact_id},
        )
        accepted = await client.patch(url, json=_subscribe("SMS", "NEWSLETTER"), headers=headers)
        assert (refused.status_code, accepted.status_code) == (422, 200)

    async def test_an_unrelated_change_is_not_held_back_by_an_expired_subscription(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Only what a change newly opts in is checked: editing the segment of a subscribed customer works."""
        cid = (await create_customer(client, headers, **_subscribe("EMAIL", "NEWSLETTER")))["id"]
        response = await client.patch(f"{CUSTOMERS}/{cid}", json={"segment": "SMB"}, headers=headers)
        assert response.status_code == 200
