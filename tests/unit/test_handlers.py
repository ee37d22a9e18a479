"""Handlers against in-memory fakes: they apply the domain rules and never commit."""

from __future__ import annotations

from typing import Any

import pytest

from customer360.application import consents, customers, relationships
from customer360.application.executor import CommandExecutor
from customer360.domain.errors import (
    BusinessRuleViolation,
    CustomerNotFound,
    DuplicateExternalReference,
    HierarchyCycle,
    VersionMismatch,
)
from customer360.domain.events import ConsentUpdated, CustomerProfileCreated, CustomerProfileUpdated
from tests.support.inputs import contact_inputs, profile_input
from tests.unit.fakes import FakeUnitOfWork, FixedClock, Store, env


async def _run(store: Store, handler: Any, command: Any) -> Any:
    uow = FakeUnitOfWork(store)
    result = await handler(command, uow, env())
    assert not uow.committed, "handlers never commit"
    await uow.commit()
    return result


async def _create(store: Store, **attributes: Any) -> str:
    attributes.setdefault("name", "Acme")
    result = await _run(
        store, customers.create_customer_profile, customers.CreateCustomerProfile(profile_input(attributes))
    )
    return str(result.customer_id)


class TestProfileHandlers:
    async def test_create_records_one_created_event(self) -> None:
        """Creating a profile publishes CustomerProfileCreated with its primary contact."""
        store = Store()
        command = customers.CreateCustomerProfile(
            profile_input({"name": "Acme"}),
            contacts=contact_inputs(({"name": "Jane", "role": "BILLING", "primary": True},)),
        )
        result = await _run(store, customers.create_customer_profile, command)
        [event] = store.published
        assert isinstance(event, CustomerProfileCreated)
        assert (result.customer_id, result.contact_id) == (event.customer_id, event.primary_contact_id)

    async def test_update_with_stale_version_is_refused(self) -> None:
        """An expected version other than the current one raises VersionMismatch."""
        store = Store()
        customer_id = await _create(store)
        with pytest.raises(VersionMismatch):
            await _run(
                store,
                customers.update_customer_profile,
                customers.UpdateCustomerProfile(customer_id, profile_input({"segment": "X"}), 7),
            )

    async def test_an_update_without_change_records_nothing(self) -> None:
        """Patching a field to its current value is not a change."""
        store = Store()
        customer_id = await _create(store, segment="SMB")
        store.published.clear()
        await _run(
            store,
            customers.update_customer_profile,
            customers.UpdateCustomerProfile(customer_id, profile_input({"segment": "SMB"})),
        )
        assert (store.published, store.profiles[customer_id].version) == ([], 1)

    async def test_an_external_reference_of_another_customer_is_refused(self) -> None:
        """Claiming another customer's external reference raises DuplicateExternalReference."""
        store = Store()
        ref = [{"source_system": "SAP", "external_id": "1"}]
        await _create(store, external_refs=ref)
        with pytest.raises(DuplicateExternalReference):
            await _create(store, name="Other", external_refs=ref)

    async def test_unknown_customers_are_not_found(self) -> None:
        """Updating an id nobody has raises CustomerNotFound."""
        with pytest.raises(CustomerNotFound):
            await _run(
                Store(), customers.update_customer_profile, customers.UpdateCustomerProfile("CUST-X", profile_input({}))
            )


class TestConsentHandler:
    async def test_a_grant_for_a_known_address_is_recorded(self) -> None:
        """A grant for one of the customer's e-mails becomes a record and a ConsentUpdated event."""
        store = Store()
        customer_id = await _create(store, emails=["ann@example.com"])
        store.published.clear()
        command = consents.RecordConsent(customer_id, "EMAIL", "GRANTED", contact_email="ANN@example.com")
        await _run(store, consents.record_consent, command)
        [event] = store.published
        assert isinstance(event, ConsentUpdated)
        assert (event.contact_point, event.status) == ("EMAIL:ann@example.com", "GRANTED")

    async def test_evidence_keeps_only_hashes(self) -> None:
        """The IP address and user agent are stored as hashes."""
        store = Store()
        customer_id = await _create(store)
        command = consents.RecordConsent(customer_id, "SMS", "REVOKED", ip_address="198.51.100.1", user_agent="UA")
        await _run(store, consents.record_consent, command)
        evidence = store.consents[0].evidence
        assert (evidence.ip_hash, evidence.user_agent_hash) == ("hash:12", "hash:2")

    async def test_consent_for_a_foreign_phone_is_refused(self) -> None:
        """A phone the customer does not have cannot receive consent."""
        store = Store()
        customer_id = await _create(store)
        command = consents.RecordConsent(customer_id, "SMS", "GRANTED", contact_phone="+49 30 1234567")
        with pytest.raises(BusinessRuleViolation, match="contact points"):
            await _run(store, consents.record_consent, command)


class TestRelationshipHandlers:
    async def test_a_cycle_is_refused(self) -> None:
        """Closing a loop in the hierarchy raises HierarchyCycle."""
        store = Store()
        a, b = await _create(store, name="A"), await _create(store, name="B")
        await _run(store, relationships.add_relationship, relationships.AddRelationship(a, b, "SUBSIDIARY_OF"))
        with pytest.raises(HierarchyCycle):
            await _run(store, relationships.add_relationship, relationships.AddRelationship(b, a, "SUBSIDIARY_OF"))

    async def test_a_link_is_a_change_of_the_source_profile(self) -> None:
        """Adding a link records an update of the 'from' profile and bumps its version."""
        store = Store()
        a, b = await _create(store, name="A"), await _create(store, name="B")
        store.published.clear()
        await _run(store, relationships.add_relationship, relationships.AddRelationship(a, b, "PARTNER_OF"))
        [event] = store.published
        assert isinstance(event, CustomerProfileUpdated)
        assert (a, "RELATIONSHIP_ADDED", 2) == (event.customer_id, event.what, store.profiles[a].version)


class TestExecutor:
    async def test_the_executor_commits_once_and_stores_the_reply(self) -> None:
        """With a replay key the rendered reply is saved in the same unit of work before the commit."""
        store = Store()
        executor = CommandExecutor(
            lambda context: FakeUnitOfWork(store), clock=FixedClock(), phone_region=None, hasher=str
        )
        from customer360.application.ports import StoredResponse

        async def present(result: Any, uow: Any) -> str:
            return str(result.customer_id)

        output = await executor.execute(
            env().context,
            customers.create_customer_profile,
            customers.CreateCustomerProfile(profile_input({"name": "Acme"})),
            present=present,
            replay_key="k1",
            remember=lambda out: StoredResponse("fp", 201, out.encode(), {}),
        )
        assert ([output], output.encode()) == (list(store.profiles), store.replies["k1"].body)
