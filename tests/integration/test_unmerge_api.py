"""Unmerge and concurrent merges over HTTP on a real PostgreSQL."""

from __future__ import annotations

import asyncio

import httpx

from customer360.bootstrap import Services
from tests.support.api import CUSTOMERS, create_customer, record_consent
from tests.support.merges import merge, merged, rows, snapshot, unmerge, unmerged, version_of


async def _state(client: httpx.AsyncClient, headers: dict[str, str], customer_id: str) -> dict[str, str]:
    items = (await client.get(f"{CUSTOMERS}/{customer_id}/consent", headers=headers)).json()["items"]
    return {f"{s['type']}/{s['purpose']}": s["status"] for s in items}


class TestUnmerge:
    async def test_merge_then_unmerge_restores_both_profiles_row_for_row(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """Every row of both customers is as it was (the profile rows' version and update stamp excepted)."""
        target = await create_customer(
            client,
            headers,
            emails=[{"address": "a@acme.example", "primary": True}],
            tags=["a"],
            contacts=[{"name": "Jane", "email": "jane@acme.example", "role": "BILLING", "primary": True}],
        )
        source = await create_customer(
            client,
            headers,
            name="Acme GmbH",
            segment="SMB",
            emails=[{"address": "b@acme.example", "primary": True}],
            tags=["A", "b"],
            externalRefs=[{"sourceSystem": "FINANCE", "externalId": "F-1"}],
            contacts=[
                {"name": "Jane", "email": "jane@acme.example", "role": "BILLING"},
                {"name": "Bob", "role": "BILLING", "primary": True},
            ],
        )
        # The source's older revocation must outlive the target's newer grant while the merge stands.
        await record_consent(client, headers, source["id"], type="EMAIL", status="REVOKED")
        await record_consent(client, headers, target["id"], type="EMAIL", status="GRANTED")
        before = [await snapshot(services.engine, tenant, c["id"]) for c in (target, source)]
        await merged(client, headers, target["id"], source["id"])
        result = await unmerged(client, headers, target["id"], source["id"])
        after = [await snapshot(services.engine, tenant, c["id"]) for c in (target, source)]
        assert result["conflicts"] == []
        assert after[1] == before[1]
        # The target's history gained the merge's derived record and the unmerge's re-instatement.
        derived = {r["id"] for r in after[0]["consent_record.customer_id"]} - {
            r["id"] for r in before[0]["consent_record.customer_id"]
        }
        assert len(derived) == 2
        after[0]["consent_record.customer_id"] = [
            r for r in after[0]["consent_record.customer_id"] if r["id"] not in derived
        ]
        assert after[0] == before[0]
        assert await _state(client, headers, target["id"]) == {"EMAIL/MARKETING": "GRANTED"}
        assert await _state(client, headers, source["id"]) == {"EMAIL/MARKETING": "REVOKED"}

    async def test_a_source_value_changed_after_the_merge_stays_and_is_reported(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """The segment came from the source and was edited on the golden record: the edit stays on the target."""
        target = await create_customer(client, headers, industry="Retail")
        source = await create_customer(client, headers, name="Acme Oy", segment="SMB")
        await merged(client, headers, target["id"], source["id"])
        await client.patch(
            f"{CUSTOMERS}/{target['id']}", json={"segment": "ENTERPRISE", "industry": "Trade"}, headers=headers
        )
        result = await unmerged(client, headers, target["id"], source["id"])
        assert result["conflicts"] == [
            {"field": "segment", "reason": "CHANGED_AFTER_MERGE", "resolution": "KEPT_ON_TARGET"}
        ]
        assert (result["target"]["segment"], result["target"]["industry"]) == ("ENTERPRISE", "Trade")
        assert (result["source"]["segment"], result["source"]["status"]) == ("SMB", "ACTIVE")

    async def test_a_source_contact_edited_after_the_merge_goes_back_as_it_was(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """The contact belongs to the source; its post-merge edit is reported, not silently dropped."""
        target = await create_customer(client, headers)
        source = await create_customer(client, headers, name="Acme AS", contacts=[{"name": "Ola", "role": "SALES"}])
        contact_id = source["contacts"][0]["id"]
        await merged(client, headers, target["id"], source["id"])
        edited = await client.patch(
            f"{CUSTOMERS}/{target['id']}/contacts/{contact_id}", json={"jobTitle": "CEO"}, headers=headers
        )
        assert edited.status_code == 200, edited.text
        result = await unmerged(client, headers, target["id"], source["id"])
        assert result["conflicts"] == [
            {"field": f"contacts[{contact_id}]", "reason": "CHANGED_AFTER_MERGE", "resolution": "RESTORED_ON_SOURCE"}
        ]
        assert [(c["id"], c["jobTitle"]) for c in result["source"]["contacts"]] == [(contact_id, None)]
        assert result["target"]["contacts"] == []

    async def test_a_revocation_captured_during_the_merge_is_kept_for_the_source(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Someone said stop to the golden record: after the unmerge neither profile may be e-mailed."""
        target = await create_customer(client, headers)
        source = await create_customer(client, headers, name="Acme AB")
        await record_consent(client, headers, target["id"], type="EMAIL", status="GRANTED")
        await record_consent(client, headers, source["id"], type="EMAIL", status="GRANTED")
        await merged(client, headers, target["id"], source["id"])
        await record_consent(client, headers, target["id"], type="EMAIL", status="REVOKED")
        result = await unmerged(client, headers, target["id"], source["id"])
        assert len(result["carriedConsents"]) == 1
        assert await _state(client, headers, target["id"]) == {"EMAIL/MARKETING": "REVOKED"}
        assert await _state(client, headers, source["id"]) == {"EMAIL/MARKETING": "REVOKED"}

    async def test_chains_unmerge_in_any_order(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """A←B then A←C; undoing B first, then C, leaves A as it was and both sources restored."""
        a = await create_customer(client, headers, name="Alpha", emails=[{"address": "a@alpha.example"}])
        b = await create_customer(
            client, headers, name="Alpha B", segment="SMB", emails=[{"address": "b@alpha.example"}]
        )
        c = await create_customer(
            client, headers, name="Alpha C", segment="MID", industry="Tools", emails=[{"address": "c@alpha.example"}]
        )
        before = {x["id"]: await snapshot(services.engine, tenant, x["id"]) for x in (a, b, c)}
        await merged(client, headers, a["id"], b["id"])
        golden = (await merged(client, headers, a["id"], c["id"]))["customer"]
        assert (golden["segment"], golden["industry"]) == ("SMB", "Tools")
        assert [e["address"] for e in golden["emails"]] == ["a@alpha.example", "b@alpha.example", "c@alpha.example"]
        first = await unmerged(client, headers, a["id"], b["id"])
        # With B gone, A keeps what C gave it: C's e-mail and industry (C's segment lost to B's at the time).
        assert [e["address"] for e in first["target"]["emails"]] == ["a@alpha.example", "c@alpha.example"]
        assert (first["target"]["segment"], first["target"]["industry"]) == (None, "Tools")
        second = await unmerged(client, headers, a["id"], c["id"])
        assert [first["conflicts"], second["conflicts"]] == [[], []]
        for x in (a, b, c):
            assert await snapshot(services.engine, tenant, x["id"]) == before[x["id"]], x["name"]

    async def test_an_unmerged_pair_is_recorded_as_not_a_duplicate(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """The pair decision is NOT_DUPLICATE (lower id first) and a second unmerge is 409."""
        target = await create_customer(client, headers)
        source = await create_customer(client, headers, name="Acme SpA")
        result = await merged(client, headers, target["id"], source["id"])
        await unmerged(client, headers, target["id"], source["id"])
        again = await unmerge(client, headers, target["id"], source["id"])
        pairs = await rows(
            services.engine, tenant, "SELECT low_id, high_id, status, reason, merge_id FROM duplicate_pair"
        )
        low, high = sorted((target["id"], source["id"]))
        assert pairs == [
            {
                "low_id": low,
                "high_id": high,
                "status": "NOT_DUPLICATE",
                "reason": "UNMERGED",
                "merge_id": result["mergeId"],
            }
        ]
        assert (again.status_code, again.json()["error"]) == (409, "NOT_MERGED")

    async def test_the_target_of_a_later_merge_must_be_unmerged_first(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """B into A, then A into Z: unmerging B from A is 409 naming Z, until A is back."""
        a, b, z = [await create_customer(client, headers, name=n) for n in ("A AG", "B AG", "Z AG")]
        await merged(client, headers, a["id"], b["id"])
        await merged(client, headers, z["id"], a["id"])
        blocked = await unmerge(client, headers, a["id"], b["id"])
        assert (blocked.status_code, blocked.json()["details"]["mergedInto"]) == (409, z["id"])
        await unmerged(client, headers, z["id"], a["id"])
        await unmerged(client, headers, a["id"], b["id"])
        assert (await client.get(f"{CUSTOMERS}/{b['id']}", headers=headers)).json()["status"] == "ACTIVE"


class TestConcurrentMerges:
    async def test_two_stewards_merging_the_same_pair_cannot_both_win(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """Same pair at once: one merge, and a clean 409/412 for the other."""
        target = await create_customer(client, headers)
        source = await create_customer(client, headers, name="Acme Ltd")
        responses = await asyncio.gather(*(merge(client, headers, target["id"], source["id"]) for _ in range(2)))
        codes = sorted(r.status_code for r in responses)
        assert codes[0] == 200
        assert codes[1] in (409, 412), [r.text for r in responses]
        assert await rows(services.engine, tenant, "SELECT count(*) AS n FROM customer_merge") == [{"n": 1}]

    async def test_opposite_directions_at_once_leave_one_survivor(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """A←B and B←A at the same time: exactly one happens, the other is refused (no deadlock)."""
        a = await create_customer(client, headers)
        b = await create_customer(client, headers, name="Acme Limited")
        versions = {x: await version_of(client, headers, x) for x in (a["id"], b["id"])}

        async def steward(target: str, source: str) -> httpx.Response:
            return await client.post(
                f"{CUSTOMERS}/{target}/merge",
                json={"sourceCustomerId": source, "sourceVersion": versions[source]},
                headers={**headers, "If-Match": f'"{versions[target]}"'},
            )

        responses = await asyncio.gather(steward(a["id"], b["id"]), steward(b["id"], a["id"]))
        assert sorted(r.status_code for r in responses)[0] == 200
        assert sorted(r.status_code for r in responses)[1] in (409, 412), [r.text for r in responses]
        statuses = await rows(services.engine, tenant, "SELECT status FROM customer_profile ORDER BY status")
        assert [s["status"] for s in statuses] == ["ACTIVE", "MERGED"]

    async def test_one_source_into_two_targets_at_once(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """The source can be absorbed by only one of two targets racing for it."""
        first, second = (
            await create_customer(client, headers, name="One"),
            await create_customer(client, headers, name="Two"),
        )
        source = await create_customer(client, headers, name="Shared")
        responses = await asyncio.gather(
            merge(client, headers, first["id"], source["id"]), merge(client, headers, second["id"], source["id"])
        )
        assert sorted(r.status_code for r in responses)[0] == 200
        assert sorted(r.status_code for r in responses)[1] in (409, 412), [r.text for r in responses]
        assert await rows(services.engine, tenant, "SELECT count(*) AS n FROM customer_merge") == [{"n": 1}]
