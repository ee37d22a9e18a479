"""Merge over HTTP on a real PostgreSQL: what moves, what survives, consent, reads of merged ids, audit."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from customer360.bootstrap import Services
from customer360.infrastructure.persistence.database import tenant_transaction
from tests.support.api import CUSTOMERS, create_customer, link, record_consent
from tests.support.merges import count_rows, merge, merged, rows, unmerged, version_of

EVENTS = "/api/v1/crm/events"


async def _consent_state(client: httpx.AsyncClient, headers: dict[str, str], customer_id: str) -> dict[str, str]:
    response = await client.get(f"{CUSTOMERS}/{customer_id}/consent", headers=headers)
    assert response.status_code == 200, response.text
    return {f"{s['type']}/{s['purpose']}": s["status"] for s in response.json()["items"]}


class TestWhatAMergeKeeps:
    async def test_every_contact_consent_and_external_reference_of_both_sides_is_kept(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Nothing is lost: the target holds both sides' contacts, consent records and external references."""
        target = await create_customer(
            client,
            headers,
            name="Acme",
            externalRefs=[{"sourceSystem": "SALES", "externalId": "S-1"}],
            contacts=[{"name": "Jane Roe", "email": "jane@acme.example", "role": "BILLING", "primary": True}],
        )
        source = await create_customer(
            client,
            headers,
            name="ACME Corporation",
            externalRefs=[{"sourceSystem": "SALES", "externalId": "S-2"}, {"sourceSystem": "MDG", "externalId": "M-9"}],
            contacts=[{"name": "Max Muster", "email": "max@acme.example", "role": "BILLING", "primary": True}],
        )
        consents = [
            (await record_consent(client, headers, target["id"], type="EMAIL", status="GRANTED"))["id"],
            (await record_consent(client, headers, source["id"], type="SMS", status="GRANTED"))["id"],
            (await record_consent(client, headers, source["id"], type="CALL", status="REVOKED"))["id"],
        ]
        result = await merged(client, headers, target["id"], source["id"])

        golden = result["customer"]
        assert {c["id"] for c in golden["contacts"]} == {target["contacts"][0]["id"], source["contacts"][0]["id"]}
        assert {(r["sourceSystem"], r["externalId"]) for r in golden["externalRefs"]} == {
            ("SALES", "S-1"),
            ("SALES", "S-2"),
            ("MDG", "M-9"),
        }
        history = (await client.get(f"{CUSTOMERS}/{target['id']}/consent/history", headers=headers)).json()["items"]
        assert set(consents) <= {h["id"] for h in history}
        # The target's primary billing contact keeps the role; the source's is an ordinary billing contact.
        roles = {c["id"]: c["primaryRoles"] for c in golden["contacts"]}
        assert (roles[target["contacts"][0]["id"]], roles[source["contacts"][0]["id"]]) == (["BILLING"], [])
        assert result["moved"]["consent_record.customer_id"] == 2

    async def test_lists_are_united_without_duplicates(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """E-mails, phones and tags of both sides, each once; the target's primary e-mail stays the only one."""
        target = await create_customer(
            client,
            headers,
            emails=[{"address": "info@acme.example", "primary": True}],
            phones=[{"number": "+49 30 1234567"}],
            tags=["vip", "north"],
        )
        source = await create_customer(
            client,
            headers,
            emails=[{"address": "INFO@acme.example"}, {"address": "sales@acme.example", "primary": True}],
            phones=[{"number": "030 1234567"}, {"number": "+49 89 7654321"}],
            tags=["VIP", "south"],
        )
        golden = (await merged(client, headers, target["id"], source["id"]))["customer"]
        assert [(e["address"].lower(), e["primary"]) for e in golden["emails"]] == [
            ("info@acme.example", True),
            ("sales@acme.example", False),
        ]
        assert [p["e164"] for p in golden["phones"]] == ["+49301234567", "+49897654321"]
        assert golden["tags"] == ["vip", "north", "south"]

    async def test_records_of_other_systems_move_to_the_target(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """Service history, entitlements and lead links move; credit data moves only where the target has none."""
        target = await create_customer(client, headers)
        source = await create_customer(client, headers, name="Acme GmbH")
        inserts = [
            "INSERT INTO service_history (tenant_id, service_order_id, customer_id, status, opened_at, event_id,"
            " recorded_at) VALUES (:t, 'SO-1', :s, 'OPEN', now(), 'e1', now())",
            "INSERT INTO entitlement (tenant_id, contract_id, customer_id, services, sla_tier, response_time_minutes,"
            " resolution_time_minutes, valid_from, activated_at, event_id, updated_at)"
            " VALUES (:t, 'C-1', :s, '{support}', 'GOLD', 60, 480, '2026-01-01', now(), 'e2', now())",
            "INSERT INTO lead_link (tenant_id, lead_id, customer_id, outcome, lead_source, event_id, linked_at)"
            " VALUES (:t, 'L-1', :s, 'CREATED', 'WEB', 'e3', now())",
            "INSERT INTO customer_credit (tenant_id, customer_id, source_system, source_updated_at, event_id,"
            " updated_at) VALUES (:t, :s, 'FINANCE', now(), 'e4', now())",
        ]
        async with tenant_transaction(services.engine, tenant) as connection:
            for statement in inserts:
                await connection.execute(text(statement), {"t": tenant, "s": source["id"]})
        result = await merged(client, headers, target["id"], source["id"])
        moved = {k: v for k, v in result["moved"].items() if v}
        assert {
            "service_history.customer_id": 1,
            "entitlement.customer_id": 1,
            "lead_link.customer_id": 1,
            "customer_credit.customer_id": 1,
        }.items() <= moved.items()
        for table in ("service_history", "entitlement", "lead_link", "customer_credit"):
            assert (
                await count_rows(
                    services.engine, tenant, f"SELECT count(*) FROM {table} WHERE customer_id = :id", id=target["id"]
                )
                == 1
            ), table
        await unmerged(client, headers, target["id"], source["id"])
        for table in ("service_history", "entitlement", "lead_link", "customer_credit"):
            assert (
                await count_rows(
                    services.engine, tenant, f"SELECT count(*) FROM {table} WHERE customer_id = :id", id=source["id"]
                )
                == 1
            ), table


class TestConsentAfterMerge:
    async def test_a_revocation_of_the_source_survives_a_newer_grant_of_the_target(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Most restrictive wins: the source said stop, so the golden record says stop."""
        target = await create_customer(client, headers)
        source = await create_customer(client, headers, name="Acme Inc")
        await record_consent(
            client,
            headers,
            source["id"],
            type="EMAIL",
            status="REVOKED",
            evidence={"capturedAt": "2026-01-01T00:00:00Z"},
        )
        await record_consent(client, headers, target["id"], type="EMAIL", status="GRANTED")
        result = await merged(client, headers, target["id"], source["id"])
        assert await _consent_state(client, headers, target["id"]) == {"EMAIL/MARKETING": "REVOKED"}
        assert len(result["derivedConsents"]) == 1

    async def test_a_revocation_of_the_target_survives_a_newer_grant_of_the_source(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """The rule is symmetric."""
        target = await create_customer(client, headers)
        source = await create_customer(client, headers, name="Acme Inc")
        await record_consent(
            client, headers, target["id"], type="SMS", status="REVOKED", evidence={"capturedAt": "2026-01-01T00:00:00Z"}
        )
        await record_consent(client, headers, source["id"], type="SMS", status="GRANTED")
        await merged(client, headers, target["id"], source["id"])
        assert await _consent_state(client, headers, target["id"]) == {"SMS/MARKETING": "REVOKED"}

    async def test_both_histories_are_kept_and_a_later_grant_on_the_golden_record_wins(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """The merge appends a record; it never rewrites one, and the customer can consent again later."""
        target = await create_customer(client, headers)
        source = await create_customer(client, headers, name="Acme Inc")
        revoked = await record_consent(client, headers, source["id"], type="EMAIL", status="REVOKED")
        granted = await record_consent(client, headers, target["id"], type="EMAIL", status="GRANTED")
        await merged(client, headers, target["id"], source["id"])
        history = (await client.get(f"{CUSTOMERS}/{target['id']}/consent/history", headers=headers)).json()["items"]
        assert {revoked["id"], granted["id"]} <= {h["id"] for h in history}
        derived = [h for h in history if h["source"] == "MERGE"]
        assert [(d["status"], d["evidence"]["capturedBy"]) for d in derived] == [("REVOKED", "customer360-merge")]
        await record_consent(client, headers, target["id"], type="EMAIL", status="GRANTED")
        assert await _consent_state(client, headers, target["id"]) == {"EMAIL/MARKETING": "GRANTED"}

    async def test_callers_cannot_capture_consent_as_the_merge_workflow(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Source MERGE is reserved for records the merge derives."""
        customer = await create_customer(client, headers)
        response = await client.post(
            f"{CUSTOMERS}/{customer['id']}/consent",
            json={"type": "EMAIL", "status": "GRANTED", "source": "MERGE"},
            headers=headers,
        )
        assert response.status_code == 400, response.text


class TestReadingAMergedId:
    async def test_the_merged_profile_names_its_survivor(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """GET on the merged id answers its own (MERGED) profile, with mergedInto and a canonical Link."""
        target = await create_customer(client, headers)
        source = await create_customer(client, headers, name="Acme Ltd")
        await merged(client, headers, target["id"], source["id"])
        response = await client.get(f"{CUSTOMERS}/{source['id']}", headers=headers)
        body = response.json()
        assert (body["status"], body["mergedInto"]) == ("MERGED", target["id"])
        assert response.headers["link"] == f'<{CUSTOMERS}/{target["id"]}>; rel="canonical"'

    async def test_resolve_answers_with_the_survivor_through_a_chain(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """B merged into A, then A into Z: GET B?resolve=true is Z's profile, Content-Location names Z."""
        a, b, z = [await create_customer(client, headers, name=n) for n in ("A Corp", "B Corp", "Z Corp")]
        await merged(client, headers, a["id"], b["id"])
        await merged(client, headers, z["id"], a["id"])
        response = await client.get(f"{CUSTOMERS}/{b['id']}", params={"resolve": "true"}, headers=headers)
        assert (response.status_code, response.json()["id"]) == (200, z["id"])
        assert response.headers["content-location"] == f"{CUSTOMERS}/{z['id']}"

    async def test_search_and_lists_no_longer_return_the_merged_profile(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """The golden record is found by the source's e-mail; the source itself is not."""
        target = await create_customer(client, headers, name="Zyxwv Holding")
        source = await create_customer(client, headers, name="Zyxwv Holdings", emails=[{"address": "hq@zyxwv.example"}])
        await merged(client, headers, target["id"], source["id"])
        by_email = (
            await client.get(f"{CUSTOMERS}/search", params={"email": "hq@zyxwv.example"}, headers=headers)
        ).json()
        by_name = (await client.get(f"{CUSTOMERS}/search", params={"name": "zyxwv"}, headers=headers)).json()
        assert [h["customer"]["id"] for h in by_email["items"]] == [target["id"]]
        assert [h["customer"]["id"] for h in by_name["items"]] == [target["id"]]

    async def test_a_merged_profile_cannot_be_changed(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Writes to the merged id are 409 CUSTOMER_MERGED with the survivor's id."""
        target = await create_customer(client, headers)
        source = await create_customer(client, headers, name="Acme AG")
        await merged(client, headers, target["id"], source["id"])
        response = await client.patch(f"{CUSTOMERS}/{source['id']}", json={"segment": "X"}, headers=headers)
        assert (response.status_code, response.json()["details"]["mergedInto"]) == (409, target["id"])


class TestMergePreconditions:
    async def test_both_versions_are_required(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Without If-Match (or targetVersion) or sourceVersion the merge is 428."""
        target = await create_customer(client, headers)
        source = await create_customer(client, headers, name="Acme SA")
        without_target = await client.post(
            f"{CUSTOMERS}/{target['id']}/merge",
            json={"sourceCustomerId": source["id"], "sourceVersion": 1},
            headers=headers,
        )
        without_source = await client.post(
            f"{CUSTOMERS}/{target['id']}/merge",
            json={"sourceCustomerId": source["id"]},
            headers={**headers, "If-Match": '"1"'},
        )
        assert [without_target.status_code, without_source.status_code] == [428, 428]

    async def test_a_stale_version_is_412(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A steward who looked at an older version of the source merges nothing."""
        target = await create_customer(client, headers)
        source = await create_customer(client, headers, name="Acme SA")
        await client.patch(f"{CUSTOMERS}/{source['id']}", json={"segment": "SMB"}, headers=headers)
        response = await merge(client, headers, target["id"], source["id"], sourceVersion=1)
        assert (response.status_code, response.json()["error"]) == (412, "VERSION_MISMATCH")

    async def test_self_merges_and_kind_mismatches_are_refused(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """A profile cannot absorb itself, and an organization cannot absorb a person."""
        org = await create_customer(client, headers)
        person = await create_customer(client, headers, kind="PERSON", givenName="Erika", familyName="Mustermann")
        itself = await merge(client, headers, org["id"], org["id"])
        kinds = await merge(client, headers, org["id"], person["id"])
        assert [itself.json()["error"], kinds.json()["error"]] == ["SELF_MERGE", "MERGE_KIND_MISMATCH"]

    async def test_merging_requires_the_merge_permission(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """crm.customer:write is not enough."""
        target = await create_customer(client, headers)
        source = await create_customer(client, headers, name="Acme BV")
        writer = {**headers, "X-User-Permissions": "crm.customer:read,crm.customer:write"}
        response = await merge(client, writer, target["id"], source["id"])
        assert (response.status_code, response.json()["details"]["permission"]) == (403, "crm.customer:merge")


class TestPreviewPolicyAndProvenance:
    async def test_the_preview_changes_nothing(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """The preview shows the golden record and the versions to merge with; both profiles stay as they were."""
        target = await create_customer(client, headers, emails=[{"address": "a@acme.example"}])
        source = await create_customer(
            client, headers, name="Acme plc", segment="SMB", emails=[{"address": "b@acme.example"}]
        )
        response = await client.post(
            f"{CUSTOMERS}/{target['id']}/merge/preview", json={"sourceCustomerId": source["id"]}, headers=headers
        )
        preview = response.json()
        assert response.status_code == 200, response.text
        assert [e["address"] for e in preview["golden"]["emails"]] == ["a@acme.example", "b@acme.example"]
        assert (preview["golden"]["segment"], preview["provenance"]["fields"]["segment"]["sourceCustomerId"]) == (
            "SMB",
            source["id"],
        )
        assert [await version_of(client, headers, c["id"]) for c in (target, source)] == [1, 1]
        assert (await client.get(f"{CUSTOMERS}/{source['id']}", headers=headers)).json()["status"] == "ACTIVE"

    async def test_the_tenant_policy_and_field_choices_decide_the_values(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """SOURCE_PRIORITY prefers the MDG-mastered record; a steward's choice beats the policy."""
        policy = await client.put(
            "/api/v1/crm/survivorship-policy",
            json={"rules": {"name": "SOURCE_PRIORITY", "segment": "MOST_COMPLETE"}},
            headers=headers,
        )
        assert (policy.status_code, policy.json()["rules"]["name"], policy.json()["version"]) == (
            200,
            "SOURCE_PRIORITY",
            1,
        )
        target = await create_customer(client, headers, name="Acme (web)", segment="SMB", industry="Retail")
        source = await create_customer(
            client,
            headers,
            name="Acme Holding AG",
            segment="Small business",
            industry="Wholesale",
            externalRefs=[{"sourceSystem": "MDG", "externalId": "100"}],
        )
        result = await merged(client, headers, target["id"], source["id"], fieldChoices={"industry": "SOURCE"})
        golden = result["customer"]
        assert (golden["name"], golden["segment"], golden["industry"]) == (
            "Acme Holding AG",
            "Small business",
            "Wholesale",
        )
        provenance = (await client.get(f"{CUSTOMERS}/{target['id']}/provenance", headers=headers)).json()
        rules = {f: (p["rule"], p["sourceCustomerId"]) for f, p in provenance["fields"].items()}
        assert rules["name"] == ("SOURCE_PRIORITY", source["id"])
        assert rules["industry"] == ("STEWARD_CHOICE", source["id"])
        assert rules["legalName"] == ("KEEP_TARGET", target["id"])

    async def test_a_stale_policy_version_is_412_and_bad_rules_are_400(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """If-Match guards the policy; UNION on a single value and unknown fields are refused."""
        url = "/api/v1/crm/survivorship-policy"
        assert (await client.get(url, headers=headers)).json()["version"] == 0
        stale = await client.put(url, json={"rules": {}}, headers={**headers, "If-Match": '"7"'})
        union = await client.put(url, json={"rules": {"name": "UNION"}}, headers=headers)
        unknown = await client.put(url, json={"rules": {"shoeSize": "KEEP_TARGET"}}, headers=headers)
        assert [stale.status_code, union.status_code, unknown.status_code] == [412, 400, 400]

    async def test_provenance_marks_values_changed_after_the_merge(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """A field edited after the merge is the profile's own again (rule UPDATED)."""
        target = await create_customer(client, headers)
        source = await create_customer(client, headers, name="Acme SE", segment="SMB", tags=["x"])
        await merged(client, headers, target["id"], source["id"])
        await client.patch(f"{CUSTOMERS}/{target['id']}", json={"segment": "ENTERPRISE"}, headers=headers)
        provenance = (await client.get(f"{CUSTOMERS}/{target['id']}/provenance", headers=headers)).json()
        assert (provenance["fields"]["segment"]["rule"], provenance["fields"]["segment"]["sourceCustomerId"]) == (
            "UPDATED",
            target["id"],
        )
        assert provenance["lists"]["tags"]["items"] == [
            {
                "index": 0,
                "sources": [{"customerId": source["id"], "mergeId": provenance["fields"]["name"]["decidedBy"]}],
            }
        ]


class TestRelationships:
    async def test_links_move_and_the_link_between_the_pair_is_retired(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """The source's parent link moves to the target; a link between the two would be a self-link."""
        parent = await create_customer(client, headers, name="Parent Group")
        target = await create_customer(client, headers)
        source = await create_customer(client, headers, name="Acme Subsidiary")
        assert (await link(client, headers, source["id"], parent["id"])).status_code == 201
        assert (await link(client, headers, source["id"], target["id"], "PARTNER_OF")).status_code == 201
        result = await merged(client, headers, target["id"], source["id"])
        assert len(result["retiredRelationships"]) == 1
        hierarchy = (await client.get(f"{CUSTOMERS}/{target['id']}/hierarchy", headers=headers)).json()
        assert parent["id"] in str(hierarchy)
        await unmerged(client, headers, target["id"], source["id"])
        restored = await rows(
            services.engine,
            tenant,
            "SELECT type, to_customer_id, removed_at FROM customer_relationship"
            " WHERE from_customer_id = :id ORDER BY type",
            id=source["id"],
        )
        assert [(r["type"], r["to_customer_id"], r["removed_at"]) for r in restored] == [
            ("PARTNER_OF", target["id"], None),
            ("SUBSIDIARY_OF", parent["id"], None),
        ]

    async def test_a_merge_that_would_make_a_hierarchy_cycle_is_refused(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Target under X and X under source: after the merge the target would be its own ancestor."""
        target = await create_customer(client, headers)
        middle = await create_customer(client, headers, name="Middle Co")
        source = await create_customer(client, headers, name="Acme Top")
        assert (await link(client, headers, target["id"], middle["id"])).status_code == 201
        assert (await link(client, headers, middle["id"], source["id"])).status_code == 201
        response = await merge(client, headers, target["id"], source["id"])
        assert (response.status_code, response.json()["error"]) == (422, "HIERARCHY_CYCLE")
        assert (await client.get(f"{CUSTOMERS}/{source['id']}", headers=headers)).json()["status"] == "ACTIVE"


class TestEventsAndAudit:
    async def test_merge_and_unmerge_write_events_and_audit_rows(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """CustomerMergedEvent and CustomerUnmergedEvent through the outbox; the merge record keeps both images."""
        target = await create_customer(client, headers)
        source = await create_customer(
            client, headers, name="Acme KG", externalRefs=[{"sourceSystem": "WEB", "externalId": "w1"}]
        )
        result = await merged(client, headers, target["id"], source["id"], mergeReason="duplicate")
        await unmerged(client, headers, target["id"], source["id"])
        events = (await client.get(EVENTS, headers=headers)).json()["items"]
        by_type = {e["eventType"]: e for e in events}
        assert by_type["CustomerMergedEvent"]["payload"] == {
            "targetCustomerId": target["id"],
            "sourceCustomerId": source["id"],
            "mergeReason": "DUPLICATE",
            "mergeId": result["mergeId"],
        }
        assert by_type["CustomerMergedEvent"]["aggregateId"] == target["id"]
        assert by_type["CustomerUnmergedEvent"]["payload"] == {
            "targetCustomerId": target["id"],
            "sourceCustomerId": source["id"],
            "mergeId": result["mergeId"],
        }
        audit = await rows(
            services.engine,
            tenant,
            "SELECT customer_id, entity_type, action FROM audit_log WHERE action IN "
            "('CUSTOMER_MERGED', 'MERGED_INTO_TARGET', 'CUSTOMER_UNMERGED', 'UNMERGE_RESTORED') ORDER BY id",
        )
        assert {(a["customer_id"], a["action"]) for a in audit} == {
            (target["id"], "CUSTOMER_MERGED"),
            (source["id"], "MERGED_INTO_TARGET"),
            (target["id"], "CUSTOMER_UNMERGED"),
            (source["id"], "UNMERGE_RESTORED"),
        }
        record = (await client.get(f"/api/v1/crm/merges/{result['mergeId']}", headers=headers)).json()
        assert (record["status"], record["record"]["sourceBefore"]["status"]) == ("UNMERGED", "ACTIVE")
        assert record["record"]["targetBefore"]["customerId"] == target["id"]
        repointed = {(r["table"], r["column"]): r["keys"] for r in record["record"]["repointed"]}
        assert repointed[("external_reference", "customer_id")] == [["WEB", "w1"]]
        history = (await client.get(f"{CUSTOMERS}/{source['id']}/merges", headers=headers)).json()["items"]
        assert [(m["id"], m["status"]) for m in history] == [(result["mergeId"], "UNMERGED")]
