"""Legal holds: placed, listed, released; while active anywhere in the lineage, erasure is a 409."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from customer360.infrastructure.persistence.database import DatabaseUrls, create_engine
from tests.support.api import CUSTOMERS, create_customer
from tests.support.privacy import ahead, erase, merge_into, place_hold, without


class TestLegalHolds:
    async def test_a_hold_blocks_erasure_with_409_naming_it(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Erasure of a held customer is 409 LEGAL_HOLD_ACTIVE with the hold's id."""
        cid = (await create_customer(client, headers))["id"]
        hold = await place_hold(client, headers, cid, expiresAt=ahead(days=90))
        response = await erase(client, headers, cid)
        assert (409, "LEGAL_HOLD_ACTIVE", hold["id"]) == (
            response.status_code,
            response.json()["error"],
            response.json()["details"]["holdId"],
        )

    async def test_a_hold_on_a_merged_duplicate_blocks_the_whole_lineage(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """The hold sits on a duplicate merged into the golden profile; erasing the golden one is refused."""
        golden = (await create_customer(client, headers, name="Held Golden"))["id"]
        duplicate = (await create_customer(client, headers, name="Held Duplicate"))["id"]
        hold = await place_hold(client, headers, duplicate)
        await merge_into(client, headers, golden, duplicate)
        response = await erase(client, headers, golden)
        assert (409, hold["id"], duplicate) == (
            response.status_code,
            response.json()["details"]["holdId"],
            response.json()["details"]["customerId"],
        )

    async def test_a_blocked_request_is_kept_on_record(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """The refused request is listed as BLOCKED by the hold; the profile is untouched."""
        cid = (await create_customer(client, headers, name="Kept Intact"))["id"]
        hold = await place_hold(client, headers, cid)
        await erase(client, headers, cid)
        requests = (await client.get(f"{CUSTOMERS}/{cid}/privacy/erasure-requests", headers=headers)).json()["items"]
        profile = (await client.get(f"{CUSTOMERS}/{cid}", headers=headers)).json()
        assert ([("BLOCKED", hold["id"])], "Kept Intact") == (
            [(r["status"], r["blockedBy"]) for r in requests],
            profile["name"],
        )

    async def test_after_release_erasure_proceeds(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A released hold blocks nothing."""
        cid = (await create_customer(client, headers))["id"]
        hold = await place_hold(client, headers, cid)
        released = await client.post(f"{CUSTOMERS}/{cid}/legal-holds/{hold['id']}/release", headers=headers)
        assert (
            released.status_code,
            released.json()["active"],
            (await erase(client, headers, cid)).status_code,
        ) == (200, False, 201)

    async def test_an_expired_hold_blocks_nothing(
        self, client: httpx.AsyncClient, headers: dict[str, str], database: DatabaseUrls, tenant: str
    ) -> None:
        """Past its expiry a hold is inactive."""
        cid = (await create_customer(client, headers))["id"]
        hold = await place_hold(client, headers, cid, expiresAt=ahead(days=1))
        engine = create_engine(database.admin, pooled=False)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "UPDATE crm_customer360.legal_hold SET expires_at = now() - interval '1 second' "
                        "WHERE tenant_id = :t AND id = :id"
                    ),
                    {"t": tenant, "id": hold["id"]},
                )
        finally:
            await engine.dispose()
        listed = (await client.get(f"{CUSTOMERS}/{cid}/legal-holds", headers=headers)).json()["items"]
        assert ([h["active"] for h in listed], (await erase(client, headers, cid)).status_code) == ([False], 201)

    async def test_a_hold_is_released_once(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Releasing a released hold is 422 LEGAL_HOLD_NOT_ACTIVE."""
        cid = (await create_customer(client, headers))["id"]
        hold = await place_hold(client, headers, cid)
        url = f"{CUSTOMERS}/{cid}/legal-holds/{hold['id']}/release"
        await client.post(url, headers=headers)
        again = await client.post(url, headers=headers)
        assert (again.status_code, again.json()["error"]) == (422, "LEGAL_HOLD_NOT_ACTIVE")

    async def test_a_hold_in_the_past_is_refused(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """expiresAt must be in the future: 400."""
        cid = (await create_customer(client, headers))["id"]
        response = await client.post(
            f"{CUSTOMERS}/{cid}/legal-holds",
            json={"reason": "case", "expiresAt": "2020-01-01T00:00:00Z"},
            headers=headers,
        )
        assert response.status_code == 400

    async def test_holds_need_their_permission(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Without crm.privacy:hold: 403 on place and list."""
        cid = (await create_customer(client, headers))["id"]
        limited = without(headers, "crm.privacy:hold")
        placed = await client.post(f"{CUSTOMERS}/{cid}/legal-holds", json={"reason": "case"}, headers=limited)
        listed = await client.get(f"{CUSTOMERS}/{cid}/legal-holds", headers=limited)
        assert [placed.status_code, listed.status_code] == [403, 403]

    async def test_placing_and_releasing_are_audited(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """The audit trail has LEGAL_HOLD_PLACED and LEGAL_HOLD_RELEASED, without the reason text."""
        cid = (await create_customer(client, headers))["id"]
        hold = await place_hold(client, headers, cid, reason="case Z-99")
        await client.post(f"{CUSTOMERS}/{cid}/legal-holds/{hold['id']}/release", headers=headers)
        audit = (await client.get(f"{CUSTOMERS}/{cid}/audit", headers=headers)).json()["items"]
        held = [a for a in audit if a["entityType"] == "LEGAL_HOLD"]
        assert (
            [a["action"] for a in held],
            "Z-99" in str(held),
        ) == (["LEGAL_HOLD_PLACED", "LEGAL_HOLD_RELEASED"], False)
