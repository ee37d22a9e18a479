"""Matching data follows every write of a profile, in the same transaction: create, update, merge,
unmerge, erasure. Stored keys are always exactly the engine's keys of the profile as it now is, with
the history of what it was before (previous addresses, phones, e-mails)."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from customer360.bootstrap import Services
from customer360.infrastructure.persistence.customer_repository import SqlCustomerRepository
from customer360.infrastructure.persistence.database import tenant_transaction
from customer360.infrastructure.persistence.match_codec import decode_features, encode_features
from customer360.infrastructure.persistence.match_sync import matching_rows
from tests.support.api import CUSTOMERS
from tests.support.duplicates import ANNA, ANNA_AGAIN, DUPLICATES, created
from tests.support.merges import merged, unmerged
from tests.support.privacy import erase

Stored = dict[str, tuple[list[object], list[int]]]


async def _stored(services: Services, tenant: str) -> tuple[Stored, set[tuple[int, str]]]:
    """(features, keys) per profile in match_record, and every (key, profile) posting in match_key."""
    async with tenant_transaction(services.engine, tenant) as connection:
        records = await connection.execute(
            text("SELECT customer_id, features, keys FROM match_record WHERE tenant_id = :t"), {"t": tenant}
        )
        postings = await connection.execute(
            text("SELECT key_hash, customer_id FROM match_key WHERE tenant_id = :t"), {"t": tenant}
        )
        return {r.customer_id: (r.features, list(r.keys)) for r in records}, {(k, c) for k, c in postings}


async def _expected(
    services: Services, tenant: str, *customer_ids: str, before: Stored | None = None
) -> tuple[Stored, set[tuple[int, str]]]:
    """What the engine derives from the profiles as stored now (with the history of ``before``)."""
    expected: Stored = {}
    async with tenant_transaction(services.engine, tenant) as connection:
        repository = SqlCustomerRepository(connection, tenant)
        for customer_id in customer_ids:
            previous = decode_features(customer_id, before[customer_id][0]) if before else None
            prepared, hashes = matching_rows(await repository.get(customer_id), previous)
            expected[customer_id] = (encode_features(prepared), hashes)
    return expected, {(h, c) for c, (_, hashes) in expected.items() for h in hashes}


class TestMatchDataFollowsTheProfile:
    async def test_created_profiles_are_indexed(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """Prepared record and key postings of each new profile, nothing else."""
        anna = await created(client, headers, ANNA)
        again = await created(client, headers, ANNA_AGAIN)
        assert await _stored(services, tenant) == await _expected(services, tenant, anna, again)

    async def test_an_update_replaces_exactly_the_changed_keys(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """A new e-mail and family name: old postings are gone, new ones are there."""
        anna = await created(client, headers, ANNA)
        before, _ = await _stored(services, tenant)
        patch = {"familyName": "Berger", "emails": [{"address": "anna.berger@example.com"}]}
        response = await client.patch(f"{CUSTOMERS}/{anna}", json=patch, headers=headers)
        assert response.status_code == 200, response.text
        after = await _stored(services, tenant)
        expected = await _expected(services, tenant, anna, before=before)
        assert (after, after[0][anna][1] != before[anna][1]) == (expected, True)

    async def test_a_moved_customer_keeps_the_old_address_and_phone_as_matching_data(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """After a move the old address and phone still block: a record with them finds the profile."""
        anna = await created(client, headers, ANNA)
        moved = {
            "addresses": [
                {"type": "BILLING", "lines": ["Seestraße 9"], "postalCode": "20095", "city": "Hamburg", "country": "DE"}
            ],
            "phones": [{"number": "+49 40 7654321"}],
        }
        response = await client.patch(f"{CUSTOMERS}/{anna}", json=moved, headers=headers)
        assert response.status_code == 200, response.text
        stale = {
            "kind": "PERSON",
            "givenName": "Anna",
            "familyName": "Schmidt",
            **{k: ANNA[k] for k in ("addresses", "phones")},
        }
        response = await client.post(f"{DUPLICATES}/check", json=stale, headers=headers)
        assert response.status_code == 200, response.text
        assert [c["customerId"] for c in response.json()["candidates"]] == [anna]

    async def test_a_merged_source_leaves_matching_and_the_golden_record_is_reindexed(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """After a merge only the target is matchable, with the keys of the golden record."""
        anna = await created(client, headers, ANNA)
        again = await created(client, headers, ANNA_AGAIN)
        before, _ = await _stored(services, tenant)
        await merged(client, headers, anna, again)
        assert await _stored(services, tenant) == await _expected(services, tenant, anna, before=before)

    async def test_an_unmerge_gives_both_profiles_their_matching_data_back(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """Merge then unmerge: the same rows as before the merge."""
        anna = await created(client, headers, ANNA)
        again = await created(client, headers, ANNA_AGAIN)
        before = await _stored(services, tenant)
        await merged(client, headers, anna, again)
        await unmerged(client, headers, anna, again)
        assert (await _stored(services, tenant), before) == (before, await _expected(services, tenant, anna, again))

    async def test_an_erased_profile_has_no_matching_data(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """Erasure removes its prepared record and every key posting (they hold normalised personal values)."""
        anna = await created(client, headers, ANNA)
        other = await created(client, headers, {**ANNA_AGAIN, "givenName": "Berta"})
        response = await erase(client, headers, anna)
        assert response.status_code == 201, response.text
        assert await _stored(services, tenant) == await _expected(services, tenant, other)
