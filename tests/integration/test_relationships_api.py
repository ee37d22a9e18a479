"""Relationships and the account hierarchy."""

from __future__ import annotations

import httpx

from tests.support.api import CUSTOMERS, create_customer, link


class TestHierarchy:
    async def test_a_cycle_is_refused(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A under B under C; putting C under A would close a cycle: 422."""
        a, b, c = [(await create_customer(client, headers, name=n))["id"] for n in "ABC"]
        assert (await link(client, headers, a, b)).status_code == 201
        assert (await link(client, headers, b, c)).status_code == 201
        response = await link(client, headers, c, a)
        assert (response.status_code, response.json()["error"]) == (422, "HIERARCHY_CYCLE")

    async def test_a_self_link_is_refused(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A profile cannot be its own parent."""
        a = (await create_customer(client, headers))["id"]
        assert (await link(client, headers, a, a)).status_code == 422

    async def test_a_second_parent_is_refused(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A subsidiary has one parent at a time."""
        a, b, c = [(await create_customer(client, headers, name=n))["id"] for n in "ABC"]
        await link(client, headers, a, b)
        response = await link(client, headers, a, c)
        assert (response.status_code, response.json()["error"]) == (422, "MULTIPLE_PARENTS")

    async def test_ancestors_and_descendants(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """The hierarchy of the middle node lists its parent chain and its subtree."""
        root, mid, leaf1, leaf2 = [
            (await create_customer(client, headers, name=n))["id"] for n in ("R", "M", "L1", "L2")
        ]
        await link(client, headers, mid, root)
        await link(client, headers, leaf1, mid)
        await link(client, headers, leaf2, mid)
        tree = (await client.get(f"{CUSTOMERS}/{mid}/hierarchy", headers=headers)).json()
        assert [(root, 1)] == [(n["id"], n["depth"]) for n in tree["ancestors"]]
        assert {(leaf1, mid, 1), (leaf2, mid, 1)} == {(n["id"], n["parentId"], n["depth"]) for n in tree["descendants"]}

    async def test_ended_links_leave_the_hierarchy(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A link valid only in the past is not part of today's hierarchy, but is on a past date."""
        child, parent = [(await create_customer(client, headers, name=n))["id"] for n in ("C", "P")]
        await client.post(
            f"{CUSTOMERS}/{child}/relationships",
            json={"type": "SUBSIDIARY_OF", "toCustomerId": parent, "validFrom": "2020-01-01", "validTo": "2021-12-31"},
            headers=headers,
        )
        today = (await client.get(f"{CUSTOMERS}/{child}/hierarchy", headers=headers)).json()
        then = (await client.get(f"{CUSTOMERS}/{child}/hierarchy", params={"on": "2021-06-01"}, headers=headers)).json()
        assert ([], [parent]) == ([n["id"] for n in today["ancestors"]], [n["id"] for n in then["ancestors"]])


class TestRelationships:
    async def test_works_for_links_a_person_to_an_organization(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """WORKS_FOR is listed on both sides with the direction."""
        org = (await create_customer(client, headers, name="Org"))["id"]
        person = (await create_customer(client, headers, name=None, kind="PERSON", givenName="Ann", familyName="Lee"))[
            "id"
        ]
        assert (await link(client, headers, person, org, "WORKS_FOR")).status_code == 201
        listed = (await client.get(f"{CUSTOMERS}/{org}/relationships", headers=headers)).json()["items"]
        assert [("WORKS_FOR", "INCOMING", person)] == [
            (r["type"], r["direction"], r["otherCustomer"]["id"]) for r in listed
        ]

    async def test_works_for_needs_a_person(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """An organization cannot WORK_FOR another."""
        a, b = [(await create_customer(client, headers, name=n))["id"] for n in "AB"]
        assert (await link(client, headers, a, b, "WORKS_FOR")).status_code == 422

    async def test_a_removed_relationship_disappears(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """DELETE ends the link; it no longer lists, and the audit keeps it."""
        a, b = [(await create_customer(client, headers, name=n))["id"] for n in "AB"]
        rel = (await link(client, headers, a, b, "BILL_TO")).json()
        assert (await client.delete(f"{CUSTOMERS}/{a}/relationships/{rel['id']}", headers=headers)).status_code == 204
        listed = (await client.get(f"{CUSTOMERS}/{a}/relationships", headers=headers)).json()["items"]
        audit = (await client.get(f"{CUSTOMERS}/{a}/audit", headers=headers)).json()["items"]
        assert listed == []
        assert [e["action"] for e in audit if e["entityType"] == "RELATIONSHIP"] == [
            "RELATIONSHIP_ADDED",
            "RELATIONSHIP_REMOVED",
        ]
