"""Consent capture, current state and history over HTTP."""

from __future__ import annotations

import httpx

from tests.support.api import CUSTOMERS, create_customer, record_consent


class TestConsent:
    async def test_the_seeds_body_records_a_grant(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """{"type": "EMAIL", "status": "GRANTED"} records a MARKETING consent on every e-mail address."""
        customer = await create_customer(client, headers)
        record = await record_consent(client, headers, customer["id"], type="EMAIL", status="GRANTED")
        assert (
            record["type"],
            record["purpose"],
            record["status"],
            record["contactPoint"],
        ) == ("EMAIL", "MARKETING", "GRANTED", None)

    async def test_no_record_means_no_consent(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A customer without records has an empty current state."""
        customer = await create_customer(client, headers)
        state = (await client.get(f"{CUSTOMERS}/{customer['id']}/consent", headers=headers)).json()
        assert state["items"] == []

    async def test_a_revocation_beats_an_older_grant(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A revocation captured after a grant wins, even when the grant is recorded later."""
        customer = await create_customer(client, headers)
        cid = customer["id"]
        await record_consent(
            client, headers, cid, type="SMS", status="REVOKED", evidence={"capturedAt": "2026-03-01T10:00:00Z"}
        )
        await record_consent(
            client, headers, cid, type="SMS", status="GRANTED", evidence={"capturedAt": "2026-01-01T10:00:00Z"}
        )
        state = (await client.get(f"{CUSTOMERS}/{cid}/consent", headers=headers)).json()["items"]
        assert [(s["type"], s["status"]) for s in state] == [("SMS", "REVOKED")]

    async def test_a_revocation_wins_a_tie(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A grant and a revocation captured at the same moment leave the consent revoked."""
        cid = (await create_customer(client, headers))["id"]
        moment = {"capturedAt": "2026-05-05T05:05:05Z"}
        await record_consent(client, headers, cid, type="CALL", status="REVOKED", evidence=moment)
        await record_consent(client, headers, cid, type="CALL", status="GRANTED", evidence=moment)
        state = (await client.get(f"{CUSTOMERS}/{cid}/consent", headers=headers)).json()["items"]
        assert [s["status"] for s in state] == ["REVOKED"]

    async def test_a_newer_grant_re_consents(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A grant captured after a revocation is the current state."""
        cid = (await create_customer(client, headers))["id"]
        await record_consent(client, headers, cid, type="EMAIL", status="REVOKED")
        await record_consent(client, headers, cid, type="EMAIL", status="GRANTED")
        state = (await client.get(f"{CUSTOMERS}/{cid}/consent", headers=headers)).json()["items"]
        assert [s["status"] for s in state] == ["GRANTED"]

    async def test_state_is_kept_per_purpose_and_contact_point(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Consent for one address or purpose does not speak for another."""
        cid = (
            await create_customer(client, headers, emails=[{"address": "a@example.com"}, {"address": "b@example.com"}])
        )["id"]
        await record_consent(
            client, headers, cid, type="EMAIL", status="GRANTED", contactPoint={"email": "A@example.com"}
        )
        await record_consent(client, headers, cid, type="EMAIL", status="REVOKED", purpose="NEWSLETTER")
        state = (await client.get(f"{CUSTOMERS}/{cid}/consent", headers=headers)).json()["items"]
        assert {("MARKETING", "EMAIL:a@example.com", "GRANTED"), ("NEWSLETTER", None, "REVOKED")} == {
            (
                s["purpose"],
                s["contactPoint"]["kind"] + ":" + s["contactPoint"]["value"] if s["contactPoint"] else None,
                s["status"],
            )
            for s in state
        }

    async def test_an_unknown_contact_point_is_refused(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Consent for an address the customer does not have is a 422."""
        cid = (await create_customer(client, headers))["id"]
        response = await client.post(
            f"{CUSTOMERS}/{cid}/consent",
            json={"type": "EMAIL", "status": "GRANTED", "contactPoint": {"email": "stranger@example.com"}},
            headers=headers,
        )
        assert (response.status_code, response.json()["error"]) == (422, "UNKNOWN_CONTACT_POINT")

    async def test_history_is_append_only_and_keeps_evidence(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Every record stays in the history (a web grant waits for double opt-in); web evidence keeps only
        hashes of IP and user agent."""
        cid = (await create_customer(client, headers))["id"]
        await record_consent(
            client,
            headers,
            cid,
            type="EMAIL",
            status="GRANTED",
            source="WEB",
            policyVersion="2026-01",
            evidence={"capturedBy": "web-form", "ipAddress": "203.0.113.9", "userAgent": "Mozilla/5.0"},
        )
        await record_consent(client, headers, cid, type="EMAIL", status="REVOKED")
        history = (await client.get(f"{CUSTOMERS}/{cid}/consent/history", headers=headers)).json()["items"]
        assert [h["status"] for h in history] == ["PENDING", "REVOKED"]
        evidence = history[0]["evidence"]
        assert "203.0.113.9" not in str(evidence)
        assert len(evidence["ipHash"]) == 64
        assert (evidence["capturedBy"], history[0]["policyVersion"]) == ("web-form", "2026-01")

    async def test_consent_changes_emit_events(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Recording consent writes a ConsentUpdatedEvent to the outbox."""
        cid = (await create_customer(client, headers))["id"]
        await record_consent(client, headers, cid, type="SMS", status="REVOKED")
        events = (await client.get("/api/v1/crm/events", headers=headers)).json()["items"]
        consent = [e for e in events if e["eventType"] == "ConsentUpdatedEvent"]
        assert [{"customerId": cid, "consentType": "SMS", "status": "REVOKED"}] == [
            {k: e["payload"][k] for k in ("customerId", "consentType", "status")} for e in consent
        ]
