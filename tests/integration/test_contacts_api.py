"""Contacts: add, update, remove; at most one primary contact per role."""

from __future__ import annotations

import httpx

from tests.support.api import CUSTOMERS, create_customer


class TestContacts:
    async def test_a_new_primary_takes_the_role_over(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Adding a primary BILLING contact demotes the previous one for BILLING only."""
        customer = await create_customer(
            client, headers, contacts=[{"name": "Old", "roles": ["BILLING", "SALES"], "primary": True}]
        )
        url = f"{CUSTOMERS}/{customer['id']}/contacts"
        added = await client.post(url, json={"name": "New", "role": "BILLING", "primary": True}, headers=headers)
        assert added.status_code == 201
        contacts = {c["name"]: c["primaryRoles"] for c in (await client.get(url, headers=headers)).json()["items"]}
        assert contacts == {"Old": ["SALES"], "New": ["BILLING"]}

    async def test_update_patches_and_remove_hides(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A contact's job title changes by patch; after DELETE it is no longer listed."""
        customer = await create_customer(client, headers, contacts=[{"name": "Ann", "email": "ann@example.com"}])
        contact_id = customer["contacts"][0]["id"]
        url = f"{CUSTOMERS}/{customer['id']}/contacts/{contact_id}"
        patched = await client.patch(url, json={"jobTitle": "CFO"}, headers=headers)
        assert (patched.json()["jobTitle"], patched.json()["emails"][0]["address"]) == ("CFO", "ann@example.com")
        assert (await client.delete(url, headers=headers)).status_code == 204
        listed = (await client.get(f"{CUSTOMERS}/{customer['id']}/contacts", headers=headers)).json()["items"]
        assert listed == []
        assert (await client.patch(url, json={"jobTitle": "CEO"}, headers=headers)).status_code == 404

    async def test_primary_only_for_roles_held(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A contact cannot be primary for a role it does not have."""
        customer = await create_customer(client, headers)
        response = await client.post(
            f"{CUSTOMERS}/{customer['id']}/contacts",
            json={"name": "X", "roles": ["SALES"], "primaryRoles": ["BILLING"]},
            headers=headers,
        )
        assert (response.status_code, response.json()["details"]["fields"][0]["field"]) == (400, "primaryRoles")

    async def test_every_change_is_audited_with_old_and_new_values(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """The audit trail records who changed which field from what to what, with the correlation id."""
        customer = await create_customer(client, headers, segment="SMB")
        await client.patch(
            f"{CUSTOMERS}/{customer['id']}", json={"segment": "MID"}, headers={**headers, "X-Correlation-ID": "corr-9"}
        )
        entries = (await client.get(f"{CUSTOMERS}/{customer['id']}/audit", headers=headers)).json()["items"]
        update = entries[-1]
        assert (
            update["action"],
            update["actor"],
            update["correlationId"],
        ) == ("PROFILE_UPDATED", "steward-1", "corr-9")
        assert update["changes"] == [{"field": "segment", "old": "SMB", "new": "MID"}]
