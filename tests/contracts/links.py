"""CustomerLinks (``uow.links``): what points at a customer, and how a merge moves it and an unmerge back."""

from __future__ import annotations

from customer360.application.inputs import ExternalRefInput, ProfileInput
from customer360.application.profile_input import patched_profile
from customer360.domain.merge import RepointedRows
from customer360.domain.values import ExternalReference
from tests.contracts.units import T0, Units, consent, link, moments, profile, stored


def _keys(rows: tuple[RepointedRows, ...], table: str, column: str = "customer_id") -> set[tuple[object, ...]]:
    return {key for r in rows if (r.table, r.column) == (table, column) for key in r.keys}


class CustomerLinksContract:
    async def test_relationships_touching_either_end_are_listed_by_id(self, units: Units) -> None:
        """Links from or to any of the given profiles, ordered by id; others are not listed."""
        a, b, c, d = await stored(units, profile("A"), profile("B"), profile("C"), profile("D"))
        links = [link(a, b), link(c, a), link(c, d)]
        async with units() as uow:
            for rel in reversed(links):
                await uow.relationships.add(rel)
        async with units() as uow:
            touching = await uow.links.relationships_touching([a])
        assert [r.id for r in touching] == sorted(r.id for r in links[:2])

    async def test_retiring_keeps_an_earlier_retirement(self, units: Units) -> None:
        """retire_relationships sets removed_at on active links only."""
        a, b = await stored(units, profile("A"), profile("B"))
        at = moments()
        first, later = next(at), next(at)
        rel = link(a, b)
        async with units() as uow:
            await uow.relationships.add(rel)
            await uow.links.retire_relationships([rel.id], first)
        async with units() as uow:
            await uow.links.retire_relationships([rel.id], later)
        async with units() as uow:
            [found] = await uow.links.relationships_touching([a])
        assert found.removed_at == first

    async def test_restoring_brings_back_only_what_was_retired_at_that_time(self, units: Units) -> None:
        """restore_relationships un-retires links retired at the given moment; their ids, sorted."""
        a, b, c = await stored(units, profile("A"), profile("B"), profile("C"))
        at = moments()
        merge_time, other_time = next(at), next(at)
        by_merge = [link(a, b), link(a, c)]
        other = link(b, c)
        async with units() as uow:
            for rel in [*by_merge, other]:
                await uow.relationships.add(rel)
            await uow.links.retire_relationships([r.id for r in by_merge], merge_time)
            await uow.links.retire_relationships([other.id], other_time)
        async with units() as uow:
            restored = await uow.links.restore_relationships([other.id, *(r.id for r in by_merge)], merge_time)
            active = {r.id for r in await uow.links.relationships_touching([a, b, c]) if r.active}
        assert (restored, active) == (sorted(r.id for r in by_merge), {r.id for r in by_merge})

    async def test_repointing_moves_what_points_at_the_source(self, units: Units) -> None:
        """Consents, references and links of the source now point at the target; the rows are reported."""
        target, source, partner = profile("T"), profile("S", refs=(("ERP", "S-1"),)), profile("P")
        await stored(units, target, source, partner)
        record, rel = consent(source.id), link(partner.id, source.id)
        async with units() as uow:
            await uow.consents.add(record)
            await uow.relationships.add(rel)
        async with units() as uow:
            moved = await uow.links.repoint(source.id, target.id)
            consents = [r.id for r in await uow.consents.for_customer(target.id)]
            [moved_link] = await uow.links.relationships_touching([partner.id])
        assert (
            _keys(moved.rows, "consent_record"),
            _keys(moved.rows, "customer_relationship", "to_customer_id"),
            moved.external_refs,
            consents,
            moved_link.to_customer_id,
        ) == ({(record.id,)}, {(rel.id,)}, {ExternalReference("ERP", "S-1")}, [record.id], target.id)

    async def test_a_link_between_the_pair_stays_where_it_is(self, units: Units) -> None:
        """A source→target link is not re-pointed (it would link the target to itself)."""
        target, source = await stored(units, profile("T"), profile("S"))
        rel = link(source, target)
        async with units() as uow:
            await uow.relationships.add(rel)
        async with units() as uow:
            moved = await uow.links.repoint(source, target)
            [kept] = await uow.links.relationships_touching([source])
        assert (_keys(moved.rows, "customer_relationship", "from_customer_id"), kept.from_customer_id) == (
            set(),
            source,
        )

    async def test_moving_back_moves_only_what_still_points_at_the_target(self, units: Units) -> None:
        """Rows re-pointed by a merge go back; a reference the target dropped since is not reported."""
        target, source = profile("T"), profile("S", refs=(("ERP", "S-1"), ("CRM", "S-2")))
        await stored(units, target, source)
        kept = consent(source.id)
        async with units() as uow:
            await uow.consents.add(kept)
        async with units() as uow:
            moved = await uow.links.repoint(source.id, target.id)
        async with units() as uow:
            holder = await uow.customers.get_for_update(target.id)
            held = holder.attributes.external_refs
            dropped = patched_profile(
                holder.attributes,
                ProfileInput(external_refs=(ExternalRefInput(source_system="CRM", external_id="S-2"),)),
                region=None,
                today=T0.date(),
            )
            holder.revise(dropped, actor="contract", now=T0)
        async with units() as uow:
            back = await uow.links.move_back(moved.rows, source.id, target.id)
            consents = [r.id for r in await uow.consents.for_customer(source.id)]
        assert (set(held), back.external_refs, _keys(back.rows, "consent_record"), consents) == (
            {ExternalReference("ERP", "S-1"), ExternalReference("CRM", "S-2")},
            {ExternalReference("CRM", "S-2")},
            {(kept.id,)},
            [kept.id],
        )

    async def test_counts_name_what_points_at_a_customer(self, units: Units) -> None:
        """count() reports the consents and the links of each end."""
        a, b = await stored(units, profile("A"), profile("B"))
        async with units() as uow:
            await uow.consents.add(consent(a))
            await uow.consents.add(consent(a, now=T0))
            await uow.relationships.add(link(a, b))
        async with units() as uow:
            counts = await uow.links.count(a)
        assert (
            counts["consent_record.customer_id"],
            counts["customer_relationship.from_customer_id"],
            counts["customer_relationship.to_customer_id"],
        ) == (2, 1, 0)
