"""Every change a profile records names the source system of the request that made it (API, SALES, MDG…)."""

from __future__ import annotations

import dataclasses
from typing import Any

from customer360.application import customers, merges, relationships
from customer360.application.environment import HandlerEnv
from customer360.application.inputs import ContactInput, ProfileInput
from customer360.domain.events import CustomerProfileUpdated
from tests.unit.fakes import FakeUnitOfWork, Store, env


def _from(source: str) -> HandlerEnv:
    handler_env = env()
    return dataclasses.replace(handler_env, context=dataclasses.replace(handler_env.context, source=source))


async def _run(store: Store, handler: Any, command: Any, source: str = "API") -> Any:
    uow = FakeUnitOfWork(store)
    result = await handler(command, uow, _from(source))
    await uow.commit()
    return result


async def _create(store: Store, name: str) -> str:
    command = customers.CreateCustomerProfile(ProfileInput(name=name), contacts=(ContactInput(name="Jane"),))
    return str((await _run(store, customers.create_customer_profile, command)).customer_id)


def _sources(store: Store) -> list[tuple[str, str]]:
    return [(e.what, e.source) for e in store.published if isinstance(e, CustomerProfileUpdated)]


class TestChangeSources:
    async def test_contact_changes_carry_the_request_source(self) -> None:
        """Adding, changing and removing a contact from a SALES request records SALES, not API."""
        store = Store()
        customer_id = await _create(store, "Acme")
        store.published.clear()
        added = await _run(
            store, customers.add_contact, customers.AddContact(customer_id, ContactInput(name="Ann")), "SALES"
        )
        patch = customers.UpdateContact(customer_id, added.contact_id, ContactInput(job_title="CFO"))
        await _run(store, customers.update_contact, patch, "SALES")
        await _run(store, customers.remove_contact, customers.RemoveContact(customer_id, added.contact_id), "SALES")
        assert _sources(store) == [
            ("CONTACT_ADDED", "SALES"),
            ("CONTACT_UPDATED", "SALES"),
            ("CONTACT_REMOVED", "SALES"),
        ]

    async def test_relationship_changes_carry_the_request_source(self) -> None:
        """A link added by an MDG request is an MDG change of the 'from' profile."""
        store = Store()
        a, b = await _create(store, "A"), await _create(store, "B")
        store.published.clear()
        await _run(store, relationships.add_relationship, relationships.AddRelationship(a, b, "PARTNER_OF"), "MDG")
        assert _sources(store) == [("RELATIONSHIP_ADDED", "MDG")]

    async def test_merge_and_unmerge_carry_the_request_source(self) -> None:
        """Both profiles' updates of a merge and of its unmerge name the source of their request."""
        store = Store()
        target, source = await _create(store, "Acme"), await _create(store, "Acme Inc")
        store.published.clear()
        versions = store.profiles[target].version, store.profiles[source].version
        merge = merges.MergeCustomers(target, source, target_version=versions[0], source_version=versions[1])
        await _run(store, merges.merge_customers, merge, "STEWARDSHIP")
        await _run(store, merges.unmerge_customers, merges.UnmergeCustomers(target, source), "MDG")
        assert sorted(_sources(store)) == [
            ("MERGED_INTO_TARGET", "STEWARDSHIP"),
            ("MERGE_ABSORBED", "STEWARDSHIP"),
            ("UNMERGE_RELEASED", "MDG"),
            ("UNMERGE_RESTORED", "MDG"),
        ]
