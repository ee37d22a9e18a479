"""ConsentRepository (``uow.consents``): an append-only history per customer."""

from __future__ import annotations

from tests.contracts.units import Units, abandoned, consent, moments, profile, stored


class ConsentRepositoryContract:
    async def test_records_read_back_in_the_order_they_were_recorded(self, units: Units) -> None:
        """Committed records come back equal, by recording time, whatever order they were added in."""
        [customer_id] = await stored(units, profile())
        at = moments()
        first, second = consent(customer_id, now=next(at)), consent(customer_id, now=next(at))
        async with units() as uow:
            await uow.consents.add(second)
            await uow.consents.add(first)
        async with units() as uow:
            found = await uow.consents.for_customer(customer_id)
        assert found == [first, second]

    async def test_records_of_the_unit_follow_the_committed_ones(self, units: Units) -> None:
        """Within a unit, the records it added come after the stored ones, and seen() lists them."""
        [customer_id] = await stored(units, profile())
        at = moments()
        older = consent(customer_id, now=next(at))
        async with units() as uow:
            await uow.consents.add(older)
        newer = consent(customer_id, now=next(at))
        async with units() as uow:
            await uow.consents.add(newer)
            assert ([r.id for r in await uow.consents.for_customer(customer_id)], uow.consents.seen()) == (
                [older.id, newer.id],
                [newer],
            )

    async def test_other_customers_records_are_not_listed(self, units: Units) -> None:
        """for_customer answers the records of that customer only."""
        one, other = await stored(units, profile(), profile("Other GmbH"))
        async with units() as uow:
            await uow.consents.add(consent(other))
        async with units() as uow:
            assert await uow.consents.for_customer(one) == []

    async def test_nothing_is_kept_without_a_commit(self, units: Units) -> None:
        """A record added in a unit that raises is not there afterwards."""
        [customer_id] = await stored(units, profile())
        await abandoned(units, lambda uow: uow.consents.add(consent(customer_id)))
        async with units() as uow:
            assert await uow.consents.for_customer(customer_id) == []
