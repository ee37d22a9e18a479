"""Double opt-in: a web grant stays PENDING until its single-use, expiring token confirms it."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from customer360.application.consent_workflows import token_hash
from customer360.infrastructure.persistence.database import DatabaseUrls, create_engine
from tests.support.api import CUSTOMERS, create_customer, record_consent
from tests.support.privacy import API, check

CONFIRM = f"{API}/consent/confirm"


async def _web_grant(client: httpx.AsyncClient, headers: dict[str, str], customer_id: str) -> dict[str, Any]:
    return await record_consent(
        client,
        headers,
        customer_id,
        type="EMAIL",
        status="GRANTED",
        source="WEB",
        evidence={"capturedBy": "signup-form", "ipAddress": "198.51.100.7", "text": "Yes, send me offers"},
    )


class TestDoubleOptIn:
    async def test_a_web_grant_is_pending_with_a_token(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """The capture answers PENDING and, once, the confirmation token."""
        cid = (await create_customer(client, headers))["id"]
        pending = await _web_grant(client, headers, cid)
        assert (pending["status"], len(pending["confirmationToken"]) >= 40) == ("PENDING", True)

    async def test_the_token_confirms_and_the_history_keeps_both_steps(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Confirmation appends a GRANTED record naming the pending one; the check allows afterwards."""
        cid = (await create_customer(client, headers))["id"]
        pending = await _web_grant(client, headers, cid)
        confirmed = await client.post(
            CONFIRM, json={"token": pending["confirmationToken"], "ipAddress": "198.51.100.8"}, headers=headers
        )
        history = (await client.get(f"{CUSTOMERS}/{cid}/consent/history", headers=headers)).json()["items"]
        steps = [(h["status"], h["evidence"]["capturedBy"], h["evidence"]["text"]) for h in history]
        expected = [
            ("PENDING", "signup-form", "Yes, send me offers"),
            ("GRANTED", "double-opt-in", f"confirms {pending['id']}"),
        ]
        assert (201, expected, True) == (confirmed.status_code, steps, (await check(client, headers, cid))["allowed"])
        assert all(h["evidence"]["ipHash"] for h in history)

    async def test_a_token_is_single_use(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A second confirmation with the same token is refused: USED."""
        cid = (await create_customer(client, headers))["id"]
        token = (await _web_grant(client, headers, cid))["confirmationToken"]
        await client.post(CONFIRM, json={"token": token}, headers=headers)
        again = await client.post(CONFIRM, json={"token": token}, headers=headers)
        assert (
            again.status_code,
            again.json()["error"],
            again.json()["details"]["reason"],
        ) == (422, "CONFIRMATION_REFUSED", "USED")

    async def test_an_expired_token_is_refused(
        self, client: httpx.AsyncClient, headers: dict[str, str], database: DatabaseUrls, tenant: str
    ) -> None:
        """Past its expiry the token confirms nothing and the grant stays pending."""
        cid = (await create_customer(client, headers))["id"]
        token = (await _web_grant(client, headers, cid))["confirmationToken"]
        engine = create_engine(database.admin, pooled=False)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "UPDATE crm_customer360.consent_confirmation SET expires_at = now() - interval '1 minute' "
                        "WHERE tenant_id = :tenant AND token_hash = :hash"
                    ),
                    {"tenant": tenant, "hash": token_hash(token)},
                )
        finally:
            await engine.dispose()
        response = await client.post(CONFIRM, json={"token": token}, headers=headers)
        answer = await check(client, headers, cid)
        assert (response.json()["details"]["reason"], answer["reason"]) == ("EXPIRED", "PENDING_CONFIRMATION")

    async def test_an_unknown_token_is_refused(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A token nobody was given: UNKNOWN."""
        response = await client.post(CONFIRM, json={"token": "x" * 43}, headers=headers)
        assert (response.status_code, response.json()["details"]["reason"]) == (422, "UNKNOWN")

    async def test_a_revocation_before_the_confirmation_wins(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """A customer who said stop after the web form cannot be re-subscribed by the old link: SUPERSEDED."""
        cid = (await create_customer(client, headers))["id"]
        token = (await _web_grant(client, headers, cid))["confirmationToken"]
        await record_consent(client, headers, cid, type="EMAIL", status="REVOKED")
        response = await client.post(CONFIRM, json={"token": token}, headers=headers)
        assert response.json()["details"]["reason"] == "SUPERSEDED"

    async def test_only_the_hash_of_the_token_is_stored(
        self, client: httpx.AsyncClient, headers: dict[str, str], database: DatabaseUrls, tenant: str
    ) -> None:
        """Neither the token table nor a replayable stored response holds the token itself."""
        cid = (await create_customer(client, headers))["id"]
        body = {"type": "EMAIL", "status": "GRANTED", "source": "WEB"}
        keyed = {**headers, "Idempotency-Key": "doi-1"}
        first = (await client.post(f"{CUSTOMERS}/{cid}/consent", json=body, headers=keyed)).json()
        replay = (await client.post(f"{CUSTOMERS}/{cid}/consent", json=body, headers=keyed)).json()
        engine = create_engine(database.admin, pooled=False)
        try:
            async with engine.connect() as connection:
                stored = (
                    await connection.execute(
                        text(
                            "SELECT (SELECT string_agg(token_hash, ',') FROM crm_customer360.consent_confirmation "
                            "WHERE tenant_id = :t) || (SELECT string_agg(encode(body, 'escape'), ',') "
                            "FROM crm_customer360.idempotency_record WHERE tenant_id = :t)"
                        ),
                        {"t": tenant},
                    )
                ).scalar_one()
        finally:
            await engine.dispose()
        assert (
            first["confirmationToken"] in stored,
            replay.get("confirmationToken"),
            token_hash(first["confirmationToken"]) in stored,
        ) == (False, None, True)
