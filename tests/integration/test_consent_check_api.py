"""GET /customers/{id}/consent/check: allowed or not, and why (ConsentPolicyService)."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.api import CUSTOMERS, create_customer, record_consent
from tests.support.privacy import ago, ahead, check


class TestConsentCheck:
    async def test_no_record_is_a_default_deny(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Without any record the answer is no, with the reason NO_RECORD."""
        cid = (await create_customer(client, headers))["id"]
        answer = await check(client, headers, cid)
        assert (answer["allowed"], answer["reason"], answer["decidingConsentId"]) == (False, "NO_RECORD", None)

    async def test_a_grant_allows_and_names_its_record(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """A consent grant allows the channel for its purpose; the answer names the record."""
        cid = (await create_customer(client, headers))["id"]
        grant = await record_consent(client, headers, cid, type="EMAIL", status="GRANTED")
        answer = await check(client, headers, cid, purpose="MARKETING")
        assert (True, "GRANTED", grant["id"]) == (answer["allowed"], answer["reason"], answer["decidingConsentId"])

    async def test_a_revocation_denies(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A revocation after a grant denies with REVOKED."""
        cid = (await create_customer(client, headers))["id"]
        await record_consent(client, headers, cid, type="SMS", status="GRANTED")
        revocation = await record_consent(client, headers, cid, type="SMS", status="REVOKED")
        answer = await check(client, headers, cid, channel="SMS")
        assert (False, "REVOKED", revocation["id"]) == (
            answer["allowed"],
            answer["reason"],
            answer["decidingConsentId"],
        )

    async def test_an_expired_grant_denies(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A grant past its expiresAt counts as not given, before any sweep ran."""
        cid = (await create_customer(client, headers))["id"]
        await record_consent(
            client,
            headers,
            cid,
            type="EMAIL",
            status="GRANTED",
            evidence={"capturedAt": ago(days=2)},
            expiresAt=ago(days=1),
        )
        answer = await check(client, headers, cid)
        assert (answer["allowed"], answer["reason"]) == (False, "EXPIRED")

    async def test_a_grant_before_its_expiry_allows_and_says_until_when(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """An unexpired grant allows; the answer carries its expiry."""
        cid = (await create_customer(client, headers))["id"]
        grant = await record_consent(client, headers, cid, type="EMAIL", status="GRANTED", expiresAt=ahead(days=30))
        answer = await check(client, headers, cid)
        assert (True, grant["expiresAt"]) == (answer["allowed"], answer["expiresAt"])

    async def test_a_pending_double_opt_in_denies(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A web capture of marketing consent waits for confirmation: PENDING_CONFIRMATION."""
        cid = (await create_customer(client, headers))["id"]
        await record_consent(client, headers, cid, type="EMAIL", status="GRANTED", source="WEB")
        answer = await check(client, headers, cid)
        assert (answer["allowed"], answer["reason"]) == (False, "PENDING_CONFIRMATION")

    async def test_legitimate_interest_covers_marketing(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """A recorded legitimate interest allows marketing, with the reason LEGAL_BASIS."""
        cid = (await create_customer(client, headers))["id"]
        await record_consent(client, headers, cid, type="EMAIL", status="GRANTED", legalBasis="LEGITIMATE_INTEREST")
        answer = await check(client, headers, cid)
        assert (
            answer["allowed"],
            answer["reason"],
            answer["legalBasis"],
        ) == (True, "LEGAL_BASIS", "LEGITIMATE_INTEREST")

    async def test_an_objection_ends_legitimate_interest(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Revoking a legitimate interest is an objection: denied with OBJECTED."""
        cid = (await create_customer(client, headers))["id"]
        await record_consent(client, headers, cid, type="EMAIL", status="GRANTED", legalBasis="LEGITIMATE_INTEREST")
        await record_consent(client, headers, cid, type="EMAIL", status="REVOKED", legalBasis="LEGITIMATE_INTEREST")
        answer = await check(client, headers, cid)
        assert (answer["allowed"], answer["reason"]) == (False, "OBJECTED")

    async def test_a_contract_covers_service_messages(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """The contract is a legal basis of SERVICE messages."""
        cid = (await create_customer(client, headers))["id"]
        await record_consent(
            client, headers, cid, type="EMAIL", status="GRANTED", purpose="SERVICE", legalBasis="CONTRACT"
        )
        answer = await check(client, headers, cid, purpose="SERVICE")
        assert (answer["allowed"], answer["reason"]) == (True, "LEGAL_BASIS")

    async def test_a_basis_the_purpose_does_not_accept_is_refused_at_capture(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """PROFILING needs consent: a grant on legitimate interest is a 422."""
        cid = (await create_customer(client, headers))["id"]
        response = await client.post(
            f"{CUSTOMERS}/{cid}/consent",
            json={"type": "EMAIL", "status": "GRANTED", "purpose": "PROFILING", "legalBasis": "LEGITIMATE_INTEREST"},
            headers=headers,
        )
        assert (response.status_code, response.json()["error"]) == (422, "LEGAL_BASIS_NOT_ALLOWED")

    async def test_a_policy_change_leaves_old_grants_not_covered(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """When the tenant's policy stops accepting a basis, grants on it are NOT_COVERED."""
        cid = (await create_customer(client, headers))["id"]
        await record_consent(client, headers, cid, type="EMAIL", status="GRANTED", legalBasis="LEGITIMATE_INTEREST")
        policy = {"legalBases": ["CONSENT"], "doubleOptInSources": ["WEB"]}
        assert (
            await client.put("/api/v1/crm/consent/policies/MARKETING", json=policy, headers=headers)
        ).status_code == 200
        answer = await check(client, headers, cid)
        assert (answer["allowed"], answer["reason"]) == (False, "NOT_COVERED")

    async def test_channel_opt_out_in_the_preferences_denies(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Consent given, but the preferences opt e-mail out of the topic: CHANNEL_OPTED_OUT."""
        cid = (await create_customer(client, headers))["id"]
        await record_consent(client, headers, cid, type="EMAIL", status="GRANTED")
        patch = {"communication": {"channels": [{"channel": "EMAIL", "topic": "MARKETING", "optIn": False}]}}
        assert (await client.patch(f"{CUSTOMERS}/{cid}", json=patch, headers=headers)).status_code == 200
        answer = await check(client, headers, cid)
        assert (answer["allowed"], answer["reason"]) == (False, "CHANNEL_OPTED_OUT")

    async def test_quiet_hours_and_frequency_cap_come_with_the_answer(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Quiet hours covering the whole day except one minute: allowed, but not now; the cap is passed on."""
        communication = {
            "quietHours": {"start": "00:00", "end": "23:59"},
            "frequencyCap": {"maxMessages": 2, "period": "WEEK"},
        }
        locale = {"timeZone": "Pacific/Kiritimati"}
        cid = (await create_customer(client, headers, communication=communication, locale=locale))["id"]
        await record_consent(client, headers, cid, type="SMS", status="GRANTED")
        answer = await check(client, headers, cid, channel="SMS")
        expected = (True, "Pacific/Kiritimati", {"maxMessages": 2, "period": "WEEK"})
        assert expected == (answer["allowed"], answer["timeZone"], answer["frequencyCap"])
        assert answer["allowedNow"] == (answer["nextAllowedAt"] == answer["checkedAt"])

    async def test_a_point_specific_grant_answers_for_that_point_only(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """A grant for one address allows that address, not the channel as a whole."""
        emails = [{"address": "one@example.com"}, {"address": "two@example.com"}]
        cid = (await create_customer(client, headers, emails=emails))["id"]
        await record_consent(
            client, headers, cid, type="EMAIL", status="GRANTED", contactPoint={"email": "one@example.com"}
        )
        answers = [
            (await check(client, headers, cid, **params))["allowed"]
            for params in ({"contactPoint": "ONE@example.com"}, {"contactPoint": "two@example.com"}, {})
        ]
        assert answers == [True, False, False]

    async def test_a_later_channel_wide_revocation_beats_a_point_grant(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """A point-specific question weighs the point's records and the channel-wide ones: the latest wins."""
        cid = (await create_customer(client, headers, emails=[{"address": "one@example.com"}]))["id"]
        await record_consent(
            client, headers, cid, type="EMAIL", status="GRANTED", contactPoint={"email": "one@example.com"}
        )
        await record_consent(client, headers, cid, type="EMAIL", status="REVOKED")
        answer = await check(client, headers, cid, contactPoint="one@example.com")
        assert (answer["allowed"], answer["reason"]) == (False, "REVOKED")

    async def test_an_unknown_customer_is_404(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """The check of an id that is not a customer of the tenant is a 404."""
        response = await client.get(
            f"{CUSTOMERS}/CUST-01JDX3Y7ZK8V2N4Q6R8T0W2Y4A/consent/check", params={"channel": "EMAIL"}, headers=headers
        )
        assert response.status_code == 404


class TestPurposePolicyConcurrency:
    async def test_concurrent_first_saves_of_a_policy_all_succeed_in_turn(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Eight saves of a purpose nobody set yet, at once and without If-Match: each is a version, none a 500."""
        policy = {"legalBases": ["CONSENT"], "doubleOptInSources": ["WEB"]}
        url = "/api/v1/crm/consent/policies/NEWSLETTER"
        answers = await asyncio.gather(*(client.put(url, json=policy, headers=headers) for _ in range(8)))
        versions = sorted(answer.json()["version"] for answer in answers)
        assert ({answer.status_code for answer in answers}, versions) == ({200}, list(range(1, 9)))

    async def test_concurrent_first_saves_expecting_no_policy_let_one_win(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """With If-Match "0" (no policy yet), one save wins and the others are told the version moved (412)."""
        policy = {"legalBases": ["CONSENT"], "doubleOptInSources": ["WEB"]}
        url = "/api/v1/crm/consent/policies/NEWSLETTER"
        guarded = {**headers, "If-Match": '"0"'}
        answers = await asyncio.gather(*(client.put(url, json=policy, headers=guarded) for _ in range(8)))
        assert sorted(answer.status_code for answer in answers) == [200] + [412] * 7
