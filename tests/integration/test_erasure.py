"""Erasure (Art. 17) across the merge lineage: tombstones, proof, event, suppression, what stays refused.

The whole-database scan of the done-when test (every table, every payload, the service's log) is in
tests/e2e/test_erasure_scan.py; these tests pin down the behaviour piece by piece.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from customer360.application.leads import LeadIntake
from customer360.bootstrap import Services
from customer360.infrastructure.consumers.applier import EventApplier
from customer360.infrastructure.messaging.avro_codec import AvroEventCodec
from tests.support.api import CUSTOMERS, create_customer, record_consent
from tests.support.consumed import lead, message
from tests.support.privacy import API, check, create_duplicate, erase, merge_into

PERSON = {
    "kind": "PERSON",
    "givenName": "Ottilie",
    "familyName": "Wagenknecht",
    "emails": [{"address": "ottilie.w@example.org"}],
    "phones": [{"number": "+49 30 5550101"}],
}


async def _lineage(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    """A golden profile with two duplicates merged into it: [golden, duplicate, duplicate]."""
    golden = (await create_customer(client, headers, **PERSON))["id"]
    first = (await create_duplicate(client, headers, **{**PERSON, "emails": [{"address": "o.w@example.net"}]}))["id"]
    second = (await create_duplicate(client, headers, **{**PERSON, "phones": [{"number": "+49 30 5550102"}]}))["id"]
    await merge_into(client, headers, golden, first)
    await merge_into(client, headers, golden, second)
    return [golden, first, second]


async def _profile(client: httpx.AsyncClient, headers: dict[str, str], customer_id: str) -> dict[str, Any]:
    response = await client.get(f"{CUSTOMERS}/{customer_id}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


class TestErasure:
    async def test_every_profile_of_the_lineage_becomes_a_tombstone(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Golden and merged profiles: status ERASED, no personal values, merge links and ids kept."""
        ids = await _lineage(client, headers)
        request = (await erase(client, headers, ids[0])).json()
        profiles = [await _profile(client, headers, i) for i in ids]
        summary = [
            (p["status"], p["name"], p["emails"], p["phones"], p["givenName"], p["mergedInto"]) for p in profiles
        ]
        assert [
            ("ERASED", "[erased]", [], [], None, None),
            ("ERASED", "[erased]", [], [], None, ids[0]),
            ("ERASED", "[erased]", [], [], None, ids[0]),
        ] == summary
        assert [request["id"]] * 3 == [p["tombstone"]["erasureRequestId"] for p in profiles]

    async def test_erasing_a_merged_duplicate_erases_the_whole_lineage(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """The lineage is the person: naming a merged profile erases its survivor and the others too."""
        ids = await _lineage(client, headers)
        response = await erase(client, headers, ids[2])
        assert (201, "COMPLETED", sorted(ids)) == (
            response.status_code,
            response.json()["status"],
            sorted(response.json()["erasedCustomerIds"]),
        )

    async def test_the_erasure_is_announced_once_with_every_erased_id(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """One CustomerErasedEvent, keyed by the requested customer, lists every erased profile."""
        ids = await _lineage(client, headers)
        request = (await erase(client, headers, ids[0])).json()
        events = (await client.get(f"{API}/events", headers=headers)).json()["items"]
        erased = [e["payload"] for e in events if e["eventType"] == "CustomerErasedEvent"]
        lineage = [ids[0], *sorted(ids[1:])]  # the survivor first, then the merged profiles by id
        assert [{"customerId": ids[0], "erasureRequestId": request["id"], "erasedCustomerIds": lineage}] == erased

    async def test_the_proof_of_erasure_stays_in_the_audit_trail(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Who, when, which request and which classes of data; the values of older rows are gone."""
        ids = await _lineage(client, headers)
        request = (await erase(client, headers, ids[0])).json()
        audit = (await client.get(f"{CUSTOMERS}/{ids[0]}/audit", headers=headers)).json()["items"]
        proof = next(a for a in audit if a["action"] == "CUSTOMER_ERASED")
        changes = {c["field"]: c["new"] for c in proof["changes"]}
        assert (headers["X-User-Id"], request["id"], request["dataClasses"]) == (
            proof["actor"],
            changes["erasureRequestId"],
            changes["dataClasses"],
        )
        created = next(a for a in audit if a["action"] == "PROFILE_CREATED")
        assert "Wagenknecht" not in str(created["changes"])

    async def test_consent_history_keeps_statuses_without_contact_points_or_evidence_text(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Records stay (what was consented, when); the e-mail and the evidence text are erased."""
        cid = (await create_customer(client, headers, **PERSON))["id"]
        await record_consent(
            client,
            headers,
            cid,
            type="EMAIL",
            status="GRANTED",
            contactPoint={"email": "ottilie.w@example.org"},
            evidence={"text": "Ottilie ticked the box"},
        )
        await erase(client, headers, cid)
        [record] = (await client.get(f"{CUSTOMERS}/{cid}/consent/history", headers=headers)).json()["items"]
        assert (
            record["status"],
            record["contactPoint"]["value"],
            record["evidence"]["text"],
        ) == ("GRANTED", "[erased]", "[erased]")

    async def test_an_erased_lineage_cannot_be_unmerged(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Unmerge would bring the data back: refused with 422."""
        ids = await _lineage(client, headers)
        await erase(client, headers, ids[0])
        response = await client.post(
            f"{CUSTOMERS}/{ids[0]}/unmerge", json={"sourceCustomerId": ids[1]}, headers=headers
        )
        assert (response.status_code, response.json()["error"]) == (422, "CUSTOMER_ERASED")

    async def test_an_erased_profile_cannot_change_or_be_erased_again(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """A tombstone is read-only: PATCH and a second erasure are 422."""
        cid = (await create_customer(client, headers, **PERSON))["id"]
        await erase(client, headers, cid)
        patched = await client.patch(f"{CUSTOMERS}/{cid}", json={"segment": "X"}, headers=headers)
        again = await erase(client, headers, cid)
        assert [(r.status_code, r.json()["error"]) for r in (patched, again)] == [(422, "CUSTOMER_ERASED")] * 2

    async def test_an_erased_customer_is_never_contactable(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """The consent check answers CUSTOMER_ERASED, whatever was granted before."""
        cid = (await create_customer(client, headers, **PERSON))["id"]
        await record_consent(client, headers, cid, type="EMAIL", status="GRANTED")
        await erase(client, headers, cid)
        answer = await check(client, headers, cid)
        assert (answer["allowed"], answer["reason"]) == (False, "CUSTOMER_ERASED")

    async def test_erasure_needs_its_permission(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Without crm.privacy:erase: 403."""
        cid = (await create_customer(client, headers))["id"]
        limited = {**headers, "X-User-Permissions": "crm.customer:read,crm.customer:write"}
        assert (await erase(client, limited, cid)).status_code == 403


class TestSuppression:
    async def test_a_new_profile_with_an_erased_email_is_flagged_and_not_contactable(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Re-created after erasure: privacyFlags SUPPRESSED_CONTACT_POINT, and the check says SUPPRESSED."""
        await erase(client, headers, (await create_customer(client, headers, **PERSON))["id"])
        again = await create_customer(client, headers, name="O. W.", emails=[{"address": "OTTILIE.W@example.org"}])
        await record_consent(client, headers, again["id"], type="EMAIL", status="GRANTED")
        answer = await check(client, headers, again["id"])
        assert (
            again["privacyFlags"],
            answer["allowed"],
            answer["reason"],
        ) == (["SUPPRESSED_CONTACT_POINT"], False, "SUPPRESSED")

    async def test_a_steward_clears_the_flag_after_checking_fresh_consent(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """DELETE …/privacy/flags/SUPPRESSED_CONTACT_POINT: the fresh grant counts again."""
        await erase(client, headers, (await create_customer(client, headers, **PERSON))["id"])
        again = (await create_customer(client, headers, name="O. W.", phones=[{"number": "+49 30 5550101"}]))["id"]
        await record_consent(client, headers, again, type="SMS", status="GRANTED")
        cleared = await client.delete(f"{CUSTOMERS}/{again}/privacy/flags/SUPPRESSED_CONTACT_POINT", headers=headers)
        assert (
            cleared.status_code,
            cleared.json()["privacyFlags"],
            (await check(client, headers, again, channel="SMS"))["allowed"],
        ) == (200, [], True)

    async def test_other_contact_points_are_not_flagged(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """A profile sharing nothing with the erased person has no flag."""
        await erase(client, headers, (await create_customer(client, headers, **PERSON))["id"])
        other = await create_customer(client, headers, name="Someone Else", emails=[{"address": "else@example.org"}])
        assert other["privacyFlags"] == []

    @pytest.fixture
    def applier(self, services: Services) -> EventApplier:
        return EventApplier(
            executor=services.executor, codec=AvroEventCodec(), consumer="crm-customer360-cg", lead_intake=LeadIntake()
        )

    async def test_a_lead_re_creating_the_person_is_flagged(
        self, client: httpx.AsyncClient, headers: dict[str, str], applier: EventApplier, tenant: str
    ) -> None:
        """LeadCreatedEvent with the erased e-mail creates a flagged profile (the lead path's create)."""
        await erase(client, headers, (await create_customer(client, headers, **PERSON))["id"])
        sent = lead(
            tenant, "L-ERASED", contactGivenName="Ottilie", contactFamilyName="W", email="ottilie.w@example.org"
        )
        await applier.apply(message(sent))
        found = (
            await client.get(f"{CUSTOMERS}/lookup", params={"externalRef": "SALES:L-ERASED"}, headers=headers)
        ).json()
        assert [p["privacyFlags"] for p in found["items"]] == [["SUPPRESSED_CONTACT_POINT"]]
