"""Property: merge → (random edits of the golden record) → unmerge gives both customers back.

Over random pairs of profiles (e-mails, phones, tags, contacts, consents, relationships, external
references, overlapping on purpose) and random edits after the merge:

- the merge keeps every contact, consent record and external reference of both sides, and each consent
  key ends in the most restrictive state of the two;
- after the unmerge the source's rows are exactly as before; the target's rows are as before plus the
  edits, which survive; an edit of a value that came from the source is reported as a conflict.

A fresh tenant per example; the example count is bounded (MERGE_PROPERTY_EXAMPLES, default 15).
"""

from __future__ import annotations

import os
import secrets
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customer360.bootstrap import Services
from tests.conftest import ALL_PERMISSIONS
from tests.support.api import CUSTOMERS, create_customer, record_consent
from tests.support.merges import merged, snapshot, unmerged

EXAMPLES = int(os.environ.get("MERGE_PROPERTY_EXAMPLES", "15"))

EMAILS = ["info@acme.example", "INFO@acme.example", "sales@acme.example", "ops@acme.example"]
PHONES = ["+49 30 1234567", "+49 89 7654321", "+33 1 42 68 53 00", "+44 20 7946 0958"]
TAGS = ["vip", "VIP", "north", "south", "key-account"]
SYSTEMS = ["MDG", "FINANCE", "SALES", "WEB"]
CONTACTS = [("Jane Roe", "jane@acme.example"), ("Bob Stone", "bob@acme.example"), ("Ana Lima", None)]
ROLES = ["BILLING", "SERVICE", "SALES"]
CHANNELS = ["EMAIL", "SMS", "CALL"]
LINK_TYPES = ["PARTNER_OF", "BILL_TO", "SHIP_TO"]
SCALAR_EDITS = {"segment": "EDITED-SEGMENT", "industry": "Edited industry", "name": "Edited Name AG"}

profiles = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["Acme", "Acme GmbH", "ACME Corporation"]),
        "segment": st.sampled_from([None, "SMB", "MID"]),
        "industry": st.sampled_from([None, "Retail", "Tools"]),
        "emails": st.lists(st.sampled_from(EMAILS), max_size=3, unique_by=str.lower),
        "primary_email": st.booleans(),
        "phones": st.lists(st.sampled_from(PHONES), max_size=2, unique=True),
        "tags": st.lists(st.sampled_from(TAGS), max_size=3, unique_by=str.casefold),
        "systems": st.lists(st.sampled_from(SYSTEMS), max_size=2, unique=True),
        "contacts": st.lists(st.tuples(st.sampled_from(CONTACTS), st.sampled_from(ROLES), st.booleans()), max_size=3),
        "consents": st.lists(
            st.tuples(st.sampled_from(CHANNELS), st.sampled_from(["GRANTED", "REVOKED"]), st.integers(1, 6)),
            max_size=3,
        ),
        "links": st.lists(st.tuples(st.sampled_from(LINK_TYPES), st.integers(0, 1)), max_size=2, unique=True),
    }
)
edits = st.lists(st.sampled_from([*SCALAR_EDITS, "tag", "email", "contact", "consent"]), max_size=3, unique=True)


async def _create(client: httpx.AsyncClient, headers: dict[str, str], spec: dict[str, Any], side: str) -> str:
    body: dict[str, Any] = {
        "name": spec["name"],
        "emails": [{"address": e, "primary": spec["primary_email"] and i == 0} for i, e in enumerate(spec["emails"])],
        "phones": [{"number": p} for p in spec["phones"]],
        "tags": spec["tags"],
        "externalRefs": [{"sourceSystem": s, "externalId": f"{side}-{s}"} for s in spec["systems"]],
        "contacts": [
            {"name": name, "role": role, "primary": primary, **({"email": email} if email else {})}
            for (name, email), role, primary in spec["contacts"]
        ],
    }
    for field in ("segment", "industry"):
        if spec[field] is not None:
            body[field] = spec[field]
    customer_id = str((await create_customer(client, headers, **body))["id"])
    for channel, status, month in spec["consents"]:
        evidence = {"capturedAt": f"2026-0{month}-01T00:00:00Z"}
        await record_consent(client, headers, customer_id, type=channel, status=status, evidence=evidence)
    return customer_id


async def _state(client: httpx.AsyncClient, headers: dict[str, str], customer_id: str) -> dict[str, str]:
    items = (await client.get(f"{CUSTOMERS}/{customer_id}/consent", headers=headers)).json()["items"]
    return {f"{s['type']}/{s['purpose']}": s["status"] for s in items}


def _ids(rows: list[dict[str, Any]]) -> set[Any]:
    return {r.get("id") or (r.get("source_system"), r.get("external_id")) for r in rows}


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(target_spec=profiles, source_spec=profiles, pair_link=st.booleans(), post_merge=edits)
async def test_merge_then_unmerge_gives_both_customers_back(
    client: httpx.AsyncClient,
    services: Services,
    target_spec: dict[str, Any],
    source_spec: dict[str, Any],
    pair_link: bool,
    post_merge: list[str],
) -> None:
    """Random profiles and random edits after the merge: the unmerge restores, keeps edits, reports conflicts."""
    tenant = f"p-{secrets.token_hex(6)}"
    headers = {"X-User-Id": "steward-1", "X-Tenant-ID": tenant, "X-User-Permissions": ALL_PERMISSIONS}
    others = [str((await create_customer(client, headers, name=f"Other {i}"))["id"]) for i in range(2)]
    target = await _create(client, headers, target_spec, "T")
    source = await _create(client, headers, source_spec, "S")
    for owner, spec in ((target, target_spec), (source, source_spec)):
        for link_type, other in spec["links"]:
            link = {"type": link_type, "toCustomerId": others[other]}
            assert (
                await client.post(f"{CUSTOMERS}/{owner}/relationships", json=link, headers=headers)
            ).status_code == 201
    if pair_link:
        link = {"type": "PARTNER_OF", "toCustomerId": target}
        assert (await client.post(f"{CUSTOMERS}/{source}/relationships", json=link, headers=headers)).status_code == 201
    before = {c: await snapshot(services.engine, tenant, c) for c in (target, source)}
    states = {c: await _state(client, headers, c) for c in (target, source)}

    # --- merge: nothing lost, most restrictive consent ------------------------------------------
    result = await merged(client, headers, target, source)
    during = await snapshot(services.engine, tenant, target)
    for table in ("contact.customer_id", "consent_record.customer_id", "external_reference.customer_id"):
        assert _ids(before[target][table]) | _ids(before[source][table]) <= _ids(during[table]), table
    golden_state = await _state(client, headers, target)
    for key in states[target].keys() & states[source].keys():
        if "REVOKED" in (states[target][key], states[source][key]):
            assert golden_state[key] == "REVOKED", key
    provenance = (await client.get(f"{CUSTOMERS}/{target}/provenance", headers=headers)).json()

    # --- random edits of the golden record --------------------------------------------------------
    golden = result["customer"]
    expected_conflicts = set()
    granted_after: set[str] = set()
    for edit in post_merge:
        if edit in SCALAR_EDITS:
            response = await client.patch(f"{CUSTOMERS}/{target}", json={edit: SCALAR_EDITS[edit]}, headers=headers)
            if provenance["fields"][edit]["sourceCustomerId"] == source:
                expected_conflicts.add((edit, "CHANGED_AFTER_MERGE", "KEPT_ON_TARGET"))
        elif edit == "tag":
            tags = [*golden["tags"], "post-merge"]
            response = await client.patch(f"{CUSTOMERS}/{target}", json={"tags": tags}, headers=headers)
        elif edit == "email":
            emails = [*golden["emails"], {"address": "new@post-merge.example"}]
            response = await client.patch(f"{CUSTOMERS}/{target}", json={"emails": emails}, headers=headers)
        elif edit == "contact":
            contact = {"name": "Zed Post"}
            response = await client.post(f"{CUSTOMERS}/{target}/contacts", json=contact, headers=headers)
        else:
            await record_consent(client, headers, target, type="EMAIL", status="GRANTED")
            granted_after.add("EMAIL/MARKETING")
            continue
        assert response.status_code in (200, 201), response.text
        golden = (await client.get(f"{CUSTOMERS}/{target}", headers=headers)).json()

    # --- unmerge -----------------------------------------------------------------------------------
    outcome = await unmerged(client, headers, target, source)
    assert {(c["field"], c["reason"], c["resolution"]) for c in outcome["conflicts"]} == expected_conflicts
    after = {c: await snapshot(services.engine, tenant, c) for c in (target, source)}
    assert after[source] == before[source]
    assert await _state(client, headers, source) == states[source]

    # The target: as before, plus the edits.
    was, now = before[target], after[target]
    profile_was, profile_now = dict(was["customer_profile"]), dict(now["customer_profile"])
    for edit in post_merge:
        if edit in SCALAR_EDITS:
            assert profile_now.pop(edit) == SCALAR_EDITS[edit]
            profile_was.pop(edit)
            if edit == "name":  # the name's search forms follow it
                for derived in ("search_text", "search_tokens"):
                    profile_now.pop(derived), profile_was.pop(derived)
        elif edit == "tag":
            assert profile_now.pop("tags") == [*profile_was.pop("tags"), "post-merge"]
        elif edit == "email":
            assert [e["address"] for e in profile_now.pop("emails")] == [
                *(e["address"] for e in profile_was.pop("emails")),
                "new@post-merge.example",
            ]
    assert profile_now == profile_was
    added_contacts = [c for c in now["contact.customer_id"] if c not in was["contact.customer_id"]]
    assert [c["name"] for c in added_contacts] == (["Zed Post"] if "contact" in post_merge else [])
    assert len(now["contact.customer_id"]) == len(was["contact.customer_id"]) + len(added_contacts)
    new_consents = [r for r in now["consent_record.customer_id"] if r not in was["consent_record.customer_id"]]
    assert len(now["consent_record.customer_id"]) == len(was["consent_record.customer_id"]) + len(new_consents)
    # New records on the target: the merge's derived ones, their re-instatement, and the edits' grants.
    assert sorted(r["source"] for r in new_consents if r["source"] != "MERGE") == ["API"] * len(granted_after)
    assert await _state(client, headers, target) == {**states[target], **dict.fromkeys(granted_after, "GRANTED")}
    compared_above = {
        "customer_profile",
        "contact.customer_id",
        "consent_record.customer_id",
        "customer_key.customer_id",
    }
    for table, rows in was.items():
        if table not in compared_above:
            assert now[table] == rows, table
    if "email" not in post_merge:
        assert now["customer_key.customer_id"] == was["customer_key.customer_id"]
