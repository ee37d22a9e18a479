"""Consent expiry: the sweep records expired grants once, with their events; the expiring list."""

from __future__ import annotations

import asyncio
import os
import sys

import httpx

from customer360.bootstrap import Services
from customer360.infrastructure.persistence.database import DatabaseUrls
from tests.support.api import CUSTOMERS, create_customer, record_consent
from tests.support.privacy import API, ago, ahead, check


async def _expired_grant(client: httpx.AsyncClient, headers: dict[str, str], **body: str) -> str:
    cid: str = (await create_customer(client, headers))["id"]
    await record_consent(
        client,
        headers,
        cid,
        type="EMAIL",
        status="GRANTED",
        evidence={"capturedAt": ago(days=3)},
        expiresAt=ago(hours=1),
        **body,
    )
    return cid


async def _statuses(client: httpx.AsyncClient, headers: dict[str, str], customer_id: str) -> list[str]:
    history = (await client.get(f"{CUSTOMERS}/{customer_id}/consent/history", headers=headers)).json()["items"]
    return [h["status"] for h in history]


class TestExpirySweep:
    async def test_the_sweep_appends_an_expired_record_effective_at_the_expiry(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """An expired grant gets an EXPIRED record dated when it expired; the check says EXPIRED by that record."""
        cid = await _expired_grant(client, headers)
        await services.consent_expiry.run_once()
        history = (await client.get(f"{CUSTOMERS}/{cid}/consent/history", headers=headers)).json()["items"]
        answer = await check(client, headers, cid)
        assert (["GRANTED", "EXPIRED"], history[0]["expiresAt"], "EXPIRED", history[1]["id"]) == (
            [h["status"] for h in history],
            history[1]["effectiveAt"],
            answer["reason"],
            answer["decidingConsentId"],
        )

    async def test_the_sweep_emits_consent_updated_with_status_expired(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """The change feed carries a ConsentUpdatedEvent with status EXPIRED."""
        cid = await _expired_grant(client, headers)
        await services.consent_expiry.run_once()
        events = (await client.get(f"{API}/events", headers=headers)).json()["items"]
        statuses = [e["payload"]["status"] for e in events if e["eventType"] == "ConsentUpdatedEvent"]
        assert (["GRANTED", "EXPIRED"], cid) == (statuses, events[-1]["payload"]["customerId"])

    async def test_a_second_sweep_changes_nothing(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """Idempotent: the second run appends no record and no event for the customer."""
        cid = await _expired_grant(client, headers)
        await services.consent_expiry.run_once()
        events_url = f"{API}/events"
        first = (await _statuses(client, headers, cid), (await client.get(events_url, headers=headers)).json()["items"])
        second_run = await services.consent_expiry.run_once()
        second = (
            await _statuses(client, headers, cid),
            (await client.get(events_url, headers=headers)).json()["items"],
        )
        assert (first, 0) == (second, second_run.expired)

    async def test_grants_that_are_not_due_are_left_alone(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """An unexpired grant and an expired grant already followed by a revocation get no EXPIRED record."""
        fresh = (await create_customer(client, headers))["id"]
        await record_consent(client, headers, fresh, type="EMAIL", status="GRANTED", expiresAt=ahead(days=5))
        revoked = await _expired_grant(client, headers)
        await record_consent(client, headers, revoked, type="EMAIL", status="REVOKED")
        await services.consent_expiry.run_once()
        assert (
            await _statuses(client, headers, fresh),
            await _statuses(client, headers, revoked),
        ) == (["GRANTED"], ["GRANTED", "REVOKED"])

    async def test_the_purpose_policy_gives_grants_their_validity(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """With a grant validity of 365 days, a grant without expiresAt expires 365 days after its capture."""
        policy = {"legalBases": ["CONSENT"], "grantValidityDays": 365}
        assert (await client.put(f"{API}/consent/policies/NEWSLETTER", json=policy, headers=headers)).status_code == 200
        cid = (await create_customer(client, headers))["id"]
        grant = await record_consent(
            client,
            headers,
            cid,
            type="EMAIL",
            status="GRANTED",
            purpose="NEWSLETTER",
            evidence={"capturedAt": "2026-01-01T00:00:00Z"},
        )
        assert grant["expiresAt"] == "2027-01-01T00:00:00Z"

    async def test_the_cli_command_sweeps(
        self, client: httpx.AsyncClient, headers: dict[str, str], database: DatabaseUrls
    ) -> None:
        """`customer360 consent expire` records the expiry and says how many grants expired."""
        cid = await _expired_grant(client, headers)
        env = {
            **os.environ,
            "DATABASE_URL": database.admin.render_as_string(hide_password=False),
            "MIGRATE_ON_START": "false",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "customer360", "consent", "expire", env=env, stdout=asyncio.subprocess.PIPE
        )
        stdout, _ = await process.communicate()
        assert (process.returncode, await _statuses(client, headers, cid)) == (0, ["GRANTED", "EXPIRED"])
        assert b"grants expired for" in stdout


class TestExpiringList:
    async def test_grants_expiring_within_the_window_are_listed_soonest_first(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """within=30d lists the grants expiring in 30 days, not later ones, not revoked ones."""
        ids = [(await create_customer(client, headers))["id"] for _ in range(4)]
        await record_consent(client, headers, ids[0], type="EMAIL", status="GRANTED", expiresAt=ahead(days=20))
        await record_consent(client, headers, ids[1], type="SMS", status="GRANTED", expiresAt=ahead(days=2))
        await record_consent(client, headers, ids[2], type="EMAIL", status="GRANTED", expiresAt=ahead(days=60))
        await record_consent(client, headers, ids[3], type="EMAIL", status="GRANTED", expiresAt=ahead(days=3))
        await record_consent(client, headers, ids[3], type="EMAIL", status="REVOKED")
        listed = (await client.get(f"{API}/consent/expiring", params={"within": "30d"}, headers=headers)).json()
        assert ([ids[1], ids[0]], None) == ([i["customerId"] for i in listed["items"]], listed["nextCursor"])

    async def test_the_list_is_paginated(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """limit and cursor walk the list without repeating or skipping."""
        ids = [(await create_customer(client, headers))["id"] for _ in range(3)]
        for days, cid in enumerate(ids, start=1):
            await record_consent(client, headers, cid, type="EMAIL", status="GRANTED", expiresAt=ahead(days=days))
        first = (await client.get(f"{API}/consent/expiring", params={"limit": 2}, headers=headers)).json()
        rest = (
            await client.get(
                f"{API}/consent/expiring", params={"limit": 2, "cursor": first["nextCursor"]}, headers=headers
            )
        ).json()
        assert ids == [i["customerId"] for i in first["items"] + rest["items"]]

    async def test_a_malformed_window_is_400(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """within must be days or hours."""
        response = await client.get(f"{API}/consent/expiring", params={"within": "soon"}, headers=headers)
        assert (response.status_code, response.json()["details"]["fields"][0]["field"]) == (400, "within")
