"""Matching data follows every write of a profile, in the same transaction: create, update, merge,
unmerge, erasure. Stored keys are always exactly the engine's keys of the profile as it now is."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from customer360.bootstrap import Services
from customer360.infrastructure.persistence.customer_repository import SqlCustomerRepository
from customer360.infrastructure.persistence.database import tenant_transaction
from customer360.infrastructure.persistence.match_codec import encode_features
from customer360.infrastructure.persistence.match_index import matching_rows
from tests.support.api import CUSTOMERS
from tests.support.duplicates import ANNA, ANNA_AGAIN, created
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


async def _expected(services: Services, tenant: str, *customer_ids: str) -> tuple[Stored, set[tuple[int, str]]]:
    """What the engine derives from the profiles as stored now."""
    expected: Stored = {}
    async with tenant_transaction(services.engine, tenant) as connection:
        repository = SqlCustomerRepository(connection, tenant)
        for customer_id in customer_ids:
            prepared, hashes = matching_rows(await repository.get(customer_id))
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
        assert (after, after[0][anna][1] != before[anna][1]) == (await _expected(services, tenant, anna), True)

    async def test_a_merged_source_leaves_matching_and_the_golden_record_is_reindexed(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """After a merge only the target is matchable, with the keys of the golden record."""
        anna = await created(client, headers, ANNA)
        again = await created(client, headers, ANNA_AGAIN)
        await merged(client, headers, anna, again)
        assert await _stored(services, tenant) == await _expected(services, tenant, anna)

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
