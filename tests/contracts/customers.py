"""CustomerRepository (``uow.customers``): what every adapter of the port does, fake or SQL."""

from __future__ import annotations

import pytest

from customer360.application.ports import UnitOfWork
from customer360.domain.errors import ConcurrentModification, CustomerNotFound, DuplicateExternalReference
from customer360.domain.ids import CUSTOMER_PREFIX, new_id
from customer360.domain.values import CustomerStatus, ExternalReference
from tests.contracts.units import T0, Units, abandoned, profile, stored


class CustomerRepositoryContract:
    async def test_an_added_profile_reads_back_as_it_was(self, units: Units) -> None:
        """Attributes, contacts, status, version and who made it: equal after the commit."""
        added = profile(emails=("info@acme.example",), refs=(("ERP", "K-1"),), contacts=("Ann", "Bob"))
        await stored(units, added)
        async with units() as uow:
            found = await uow.customers.get(added.id)
        assert (found.attributes, found.contacts, found.status, found.version, found.created_by) == (
            added.attributes,
            sorted(added.contacts, key=lambda c: c.id),
            added.status,
            1,
            "contract",
        )

    async def test_an_unknown_id_is_not_found(self, units: Units) -> None:
        """Reading or locking an id nobody has raises CustomerNotFound."""
        async with units() as uow:
            with pytest.raises(CustomerNotFound):
                await uow.customers.get(new_id(CUSTOMER_PREFIX))
            with pytest.raises(CustomerNotFound):
                await uow.customers.get_for_update(new_id(CUSTOMER_PREFIX))

    async def test_a_unit_sees_one_instance_of_a_profile(self, units: Units) -> None:
        """get and get_for_update in one unit of work answer the same object, and seen() lists it."""
        [customer_id] = await stored(units, profile())
        async with units() as uow:
            first = await uow.customers.get(customer_id)
            again = await uow.customers.get_for_update(customer_id)
            assert (first is again, [p.id for p in uow.customers.seen()]) == (True, [customer_id])

    async def test_a_change_reads_back_with_its_new_version(self, units: Units) -> None:
        """A status change committed is there, one version up."""
        [customer_id] = await stored(units, profile())
        async with units() as uow:
            found = await uow.customers.get_for_update(customer_id)
            found.change_status(CustomerStatus.ON_HOLD, actor="contract", now=T0, reason=None)
        async with units() as uow:
            again = await uow.customers.get(customer_id)
        assert (again.status.value, again.version) == ("ON_HOLD", 2)

    async def test_nothing_is_kept_without_a_commit(self, units: Units) -> None:
        """A unit of work that raises leaves neither the new profile nor the change of an old one."""
        [old] = await stored(units, profile())
        new = profile("Other GmbH")

        async def add_and_change(uow: UnitOfWork) -> None:
            await uow.customers.add(new)
            (await uow.customers.get_for_update(old)).change_status(
                CustomerStatus.INACTIVE, actor="contract", now=T0, reason=None
            )

        await abandoned(units, add_and_change)
        async with units() as uow:
            with pytest.raises(CustomerNotFound):
                await uow.customers.get(new.id)
            assert (await uow.customers.get(old)).version == 1

    async def test_a_profile_changed_meanwhile_is_not_overwritten(self, units: Units) -> None:
        """Two units read version 1; the second to commit raises ConcurrentModification."""
        [customer_id] = await stored(units, profile())

        async def write_stale() -> None:
            async with units() as late:
                stale = await late.customers.get(customer_id)
                async with units() as early:
                    (await early.customers.get(customer_id)).change_status(
                        CustomerStatus.INACTIVE, actor="contract", now=T0, reason=None
                    )
                stale.change_status(CustomerStatus.ON_HOLD, actor="contract", now=T0, reason=None)

        with pytest.raises(ConcurrentModification):
            await write_stale()

    async def test_the_owner_of_an_external_reference_is_found(self, units: Units) -> None:
        """The profile holding SYSTEM:id, or None for a reference nobody holds."""
        [customer_id] = await stored(units, profile(refs=(("ERP", "K-7"),)))
        async with units() as uow:
            owner = await uow.customers.owner_of_external_ref(ExternalReference("ERP", "K-7"))
            nobody = await uow.customers.owner_of_external_ref(ExternalReference("ERP", "K-8"))
        assert (owner, nobody) == (customer_id, None)

    async def test_a_reference_is_held_by_one_profile_only(self, units: Units) -> None:
        """A second profile with the same reference is refused when written."""
        await stored(units, profile(refs=(("ERP", "K-9"),)))
        with pytest.raises(DuplicateExternalReference):
            await stored(units, profile("Copy GmbH", refs=(("ERP", "K-9"),)))

    async def test_contacts_read_back_in_id_order(self, units: Units) -> None:
        """Whatever order the aggregate held them in, contacts come back ordered by id."""
        added = profile(contacts=("Ann", "Bob", "Cleo"))
        added.contacts.reverse()
        await stored(units, added)
        async with units() as uow:
            found = await uow.customers.get(added.id)
        assert [c.id for c in found.contacts] == sorted(c.id for c in added.contacts)

    async def test_references_of_one_write_read_back_by_system_and_id(self, units: Units) -> None:
        """References stored together come back ordered by source system, then id."""
        added = profile(refs=(("SAP", "2"), ("CRM", "9"), ("SAP", "1")))
        await stored(units, added)
        async with units() as uow:
            found = await uow.customers.get(added.id)
        assert [(r.source_system, r.external_id) for r in found.attributes.external_refs] == [
            ("CRM", "9"),
            ("SAP", "1"),
            ("SAP", "2"),
        ]
