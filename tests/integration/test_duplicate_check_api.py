"""The real-time duplicate check: on create (409 with ranked, explained candidates; override with an
audited reason), ad hoc, for an existing profile, and on the lead path."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from customer360.application.leads import LeadIntake
from customer360.bootstrap import Services
from customer360.infrastructure.consumers.applier import EventApplier
from customer360.infrastructure.messaging.avro_codec import AvroEventCodec
from tests.support.api import CUSTOMERS
from tests.support.consumed import lead, message
from tests.support.duplicates import ANNA, ANNA_AGAIN, BERND, DUPLICATES, created


async def _customers(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    return [c["id"] for c in (await client.get(CUSTOMERS, headers=headers)).json()["items"]]


async def _audit(client: httpx.AsyncClient, headers: dict[str, str], customer_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"{CUSTOMERS}/{customer_id}/audit", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def _overridden(checking: httpx.AsyncClient, headers: dict[str, str]) -> tuple[str, str]:
    """Anna, then Anna again created anyway (override with a reason)."""
    anna = await created(checking, headers, ANNA)
    again = await created(checking, {**headers, "X-Override-Reason": "checked by phone"}, ANNA_AGAIN, override="true")
    return anna, again


class TestCheckOnCreate:
    async def test_a_likely_duplicate_is_refused_with_ranked_explained_candidates(
        self, checking: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """409 DUPLICATE_CUSTOMER naming the existing profile, its probability and each field's level."""
        anna = await created(checking, headers, ANNA)
        await created(checking, headers, BERND)
        response = await checking.post(CUSTOMERS, json=ANNA_AGAIN, headers=headers)
        body = response.json()
        [candidate] = body["details"]["candidates"]
        levels = {c["field"]: c["level"] for c in candidate["explanation"]}
        assert (response.status_code, body["error"], candidate["customerId"], candidate["probability"] >= 0.9) == (
            409,
            "DUPLICATE_CUSTOMER",
            anna,
            True,
        )
        assert (levels["prior"], levels["given_name"], levels["family_name"], levels["email"]) == (
            "baseline",
            "exact",
            "typo",
            "exact",
        )
        assert set(candidate["explanation"][0]) == {"field", "level", "weight"}

    async def test_the_refusal_carries_no_personal_data_and_creates_nothing(
        self, checking: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Ids, scores and level names only: no name, e-mail or date of either profile; no new profile."""
        anna = await created(checking, headers, ANNA)
        response = await checking.post(CUSTOMERS, json=ANNA_AGAIN, headers=headers)
        text = response.text.lower()
        leaked = [value for value in ("anna", "schmidt", "schmitt", "example.com", "1980") if value in text]
        assert (response.status_code, leaked, await _customers(checking, headers)) == (409, [], [anna])

    async def test_an_override_creates_it_and_audits_the_reason_and_the_candidates(
        self, checking: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """?override=true with X-Override-Reason (UTF-8, percent-encoded) → 201; the audit keeps both."""
        anna = await created(checking, headers, ANNA)
        reason = "Namensvetterin, andere Kundin (Rückruf bestätigt)"
        response = await checking.post(
            CUSTOMERS,
            json=ANNA_AGAIN,
            params={"override": "true"},
            headers={**headers, "X-Override-Reason": quote(reason)},
        )
        assert response.status_code == 201, response.text
        [entry] = [
            e for e in await _audit(checking, headers, response.json()["id"]) if e["action"] == "DUPLICATE_OVERRIDE"
        ]
        changes = {c["field"]: c["new"] for c in entry["changes"]}
        assert (changes["overrideReason"], [c["customerId"] for c in changes["candidates"]], entry["actor"]) == (
            reason,
            [anna],
            "steward-1",
        )

    async def test_an_override_without_a_reason_is_refused(
        self, checking: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """400 naming the header; nothing is created."""
        await created(checking, headers, ANNA)
        response = await checking.post(CUSTOMERS, json=ANNA_AGAIN, params={"override": "true"}, headers=headers)
        fields = [f["field"] for f in response.json()["details"]["fields"]]
        assert (response.status_code, fields) == (400, ["X-Override-Reason"])

    async def test_a_different_customer_is_created(self, checking: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Another person with the same family name in the same city is not a likely duplicate."""
        await created(checking, headers, ANNA)
        address = {
            "type": "BILLING",
            "lines": ["Gartenweg 12"],
            "city": "Berlin",
            "postalCode": "10117",
            "country": "DE",
        }
        other = {
            **ANNA,
            "givenName": "Jonas",
            "birthDate": "2001-01-09",
            "emails": [],
            "phones": [],
            "addresses": [address],
        }
        response = await checking.post(CUSTOMERS, json=other, headers=headers)
        assert response.status_code == 201, response.text

    async def test_the_overridden_pair_waits_in_the_review_queue(
        self, checking: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """ "Create anyway" is no verdict: the pair is in the queue as PENDING_REVIEW with the reason recorded."""
        anna, again = await _overridden(checking, headers)
        queue = (await checking.get(DUPLICATES, params={"status": "PENDING_REVIEW"}, headers=headers)).json()
        [item] = queue["items"]
        assert (
            item["pairId"],
            item["status"],
            item["probability"] >= 0.9,
            item["review"]["reason"],
            item["decision"],
        ) == (
            "~".join(sorted((anna, again))),
            "PENDING_REVIEW",
            True,
            "CREATE_OVERRIDE",
            None,
        )

    async def test_the_overridden_pair_is_still_a_candidate_of_both_profiles(
        self, checking: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Undecided pairs are listed: each profile's duplicates name the other until a steward decides."""
        anna, again = await _overridden(checking, headers)
        mine = await checking.get(f"{CUSTOMERS}/{again}/duplicates", headers=headers)
        theirs = await checking.get(f"{CUSTOMERS}/{anna}/duplicates", headers=headers)
        assert (
            [c["customerId"] for c in mine.json()["candidates"]],
            [c["customerId"] for c in theirs.json()["candidates"]],
        ) == (
            [anna],
            [again],
        )


class TestAdHocChecks:
    async def test_a_check_answers_candidates_without_creating_anything(
        self, checking: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """POST /duplicates/check takes the create body and answers what create would say."""
        anna = await created(checking, headers, ANNA)
        response = await checking.post(f"{DUPLICATES}/check", json=ANNA_AGAIN, headers=headers)
        body = response.json()
        assert (response.status_code, body["likelyDuplicate"], [c["customerId"] for c in body["candidates"]]) == (
            200,
            True,
            [anna],
        )
        assert await _customers(checking, headers) == [anna]

    async def test_an_existing_profile_lists_its_likely_twins(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """GET /customers/{id}/duplicates scores the profile against the others (the stranger is not listed)."""
        anna = await created(client, headers, ANNA)
        again = await created(client, headers, ANNA_AGAIN)
        await created(client, headers, BERND)
        response = await client.get(f"{CUSTOMERS}/{anna}/duplicates", headers=headers)
        assert [c["customerId"] for c in response.json()["candidates"]] == [again]

    async def test_checks_need_the_duplicates_read_permission(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """403 without crm.duplicates:read."""
        limited = {**headers, "X-User-Permissions": "crm.customer:read,crm.customer:write"}
        response = await client.post(f"{DUPLICATES}/check", json=ANNA, headers=limited)
        assert response.status_code == 403


class TestLeadPath:
    @pytest.fixture
    def applier(self, services: Services) -> EventApplier:
        return EventApplier(
            executor=services.executor, codec=AvroEventCodec(), consumer="crm-customer360-cg", lead_intake=LeadIntake()
        )

    async def test_a_lead_that_is_a_likely_duplicate_is_attached_to_the_existing_profile(
        self, applier: EventApplier, client: httpx.AsyncClient, headers: dict[str, str], tenant: str
    ) -> None:
        """Same person and phone (no exact key in common): the duplicate check attaches the lead."""
        anna = await created(client, headers, ANNA)
        sent = lead(tenant, "L-77", contactGivenName="Anna", contactFamilyName="Schmidt", phone="030 1234567")
        await applier.apply(message(sent))
        found = (await client.get(f"{CUSTOMERS}/lookup", params={"externalRef": "SALES:L-77"}, headers=headers)).json()
        assert ([p["id"] for p in found["items"]], await _customers(client, headers)) == ([anna], [anna])

    async def test_a_lead_below_the_threshold_creates_its_own_profile(
        self, applier: EventApplier, client: httpx.AsyncClient, headers: dict[str, str], tenant: str
    ) -> None:
        """The same name alone is not enough: a new profile is created."""
        anna = await created(client, headers, ANNA)
        await applier.apply(message(lead(tenant, "L-78", contactGivenName="Anna", contactFamilyName="Schmidt")))
        found = (await client.get(f"{CUSTOMERS}/lookup", params={"externalRef": "SALES:L-78"}, headers=headers)).json()
        [profile] = found["items"]
        assert (profile["id"] != anna, len(await _customers(client, headers))) == (True, 2)
