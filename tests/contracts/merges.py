"""MergeRepository (``uow.merges``): merge records, provenance, pair decisions, the survivorship policy."""

from __future__ import annotations

from datetime import datetime

import pytest

from customer360.application.inputs import ProfileInput
from customer360.application.profile_input import patched_profile
from customer360.domain.customer import CustomerProfile
from customer360.domain.errors import ConcurrentModification
from customer360.domain.ids import MERGE_PREFIX, new_id
from customer360.domain.merge import MergeRecord, MergeStatus, PairDecision, PairStatus, ProfileImage
from customer360.domain.provenance import Provenance
from tests.contracts.units import T0, Units, moments, profile, stored


def merge_record(target: CustomerProfile, source: CustomerProfile, *, at: datetime = T0) -> MergeRecord:
    return MergeRecord(
        id=new_id(MERGE_PREFIX),
        target_id=target.id,
        source_id=source.id,
        reason="DUPLICATE",
        merged_at=at,
        merged_by="contract",
        target_before=ProfileImage.of(target),
        source_before=ProfileImage.of(source),
        target_provenance_before=Provenance.native(target.id, target.attributes),
        golden=target.attributes,
        decisions=(),
        moved_contacts=tuple(c.id for c in source.contacts),
        retired_contacts=(),
        retired_relationships=(),
        derived_consents=(),
    )


async def standing_merge(units: Units) -> tuple[CustomerProfile, CustomerProfile, MergeRecord]:
    """Two stored profiles and the committed record of merging the second into the first."""
    target, source = profile(), profile("Acme Inc", contacts=("Ann",))
    await stored(units, target, source)
    record = merge_record(target, source)
    async with units() as uow:
        await uow.merges.add(record)
    return target, source, record


class MergeRepositoryContract:
    async def test_without_a_stored_policy_the_default_applies(self, units: Units) -> None:
        """policy() is the service's default, version 0."""
        async with units() as uow:
            policy, default = await uow.merges.policy(), uow.merges.default_policy()
        assert (policy, policy.version) == (default, 0)

    async def test_a_saved_policy_reads_back_with_its_version(self, units: Units) -> None:
        """Saving version 0 stores version 1, read back equal."""
        async with units() as uow:
            revised = uow.merges.default_policy().revised({"name": "MOST_RECENT"}, ["MDG", "ERP"])
            saved = await uow.merges.save_policy(revised, actor="contract", now=T0)
        async with units() as uow:
            assert (await uow.merges.policy(), saved.version) == (saved, 1)

    async def test_a_policy_saved_over_a_newer_one_is_refused(self, units: Units) -> None:
        """Two saves from version 0: the second raises ConcurrentModification."""
        async with units() as uow:
            default = uow.merges.default_policy()
            await uow.merges.save_policy(default, actor="contract", now=T0)

        async def save_again() -> None:
            async with units() as uow:
                await uow.merges.save_policy(default, actor="contract", now=T0)

        # Refused when asked, or at the latest when the unit of work writes.
        with pytest.raises(ConcurrentModification):
            await save_again()

    async def test_provenance_reads_back_as_saved(self, units: Units) -> None:
        """The saved provenance of a profile, None for one without."""
        added, other = profile(), profile("Other GmbH")
        await stored(units, added, other)
        async with units() as uow:
            await uow.merges.save_provenance(Provenance.native(added.id, added.attributes), T0)
        async with units() as uow:
            assert (await uow.merges.provenance(added.id), await uow.merges.provenance(other.id)) == (
                Provenance.native(added.id, added.attributes),
                None,
            )

    async def test_a_standing_merge_reads_back_as_recorded(self, units: Units) -> None:
        """active_merge and merges_into answer the record as it was added."""
        target, source, record = await standing_merge(units)
        async with units() as uow:
            standing = await uow.merges.active_merge(target.id, source.id)
            listed = await uow.merges.merges_into(target.id)
        assert (standing, listed) == (record, [record])

    async def test_a_closed_merge_no_longer_stands_and_keeps_its_report(self, units: Units) -> None:
        """After close: no active merge; merges_into shows it UNMERGED with who, when and the report."""
        target, source, _ = await standing_merge(units)
        async with units() as uow:
            standing = await uow.merges.active_merge(target.id, source.id)
            assert standing is not None
            standing.close({"notMovedBack": 0}, actor="steward", now=T0)
            await uow.merges.close(standing)
        async with units() as uow:
            assert await uow.merges.active_merge(target.id, source.id) is None
            [closed] = await uow.merges.merges_into(target.id)
        assert (closed.status, closed.unmerged_by, closed.unmerged_at, closed.unmerge_report) == (
            MergeStatus.UNMERGED,
            "steward",
            T0,
            {"notMovedBack": 0},
        )

    async def test_a_merge_undone_twice_is_refused(self, units: Units) -> None:
        """Closing a record that is no longer standing raises ConcurrentModification."""
        _, _, record = await standing_merge(units)
        record.close({}, actor="steward", now=T0)
        async with units() as uow:
            await uow.merges.close(record)

        async def close_again() -> None:
            async with units() as uow:
                await uow.merges.close(record)

        with pytest.raises(ConcurrentModification):
            await close_again()

    async def test_merges_into_a_target_are_listed_oldest_first(self, units: Units) -> None:
        """By merge time, whatever order they were added in."""
        target, first, second = profile(), profile("B GmbH"), profile("C GmbH")
        await stored(units, target, first, second)
        at = moments()
        older, newer = merge_record(target, first, at=next(at)), merge_record(target, second, at=next(at))
        async with units() as uow:
            await uow.merges.add(newer)
            await uow.merges.add(older)
        async with units() as uow:
            assert [r.id for r in await uow.merges.merges_into(target.id)] == [older.id, newer.id]

    async def test_a_later_pair_decision_replaces_the_earlier(self, units: Units) -> None:
        """One decision per unordered pair: the last one stands."""
        a, b = await stored(units, profile(), profile("Acme Inc"))
        at = moments()
        merged = PairDecision.of(a, b, PairStatus.MERGED, reason="DUPLICATE", decided_by="x", decided_at=next(at))
        apart = PairDecision.of(b, a, PairStatus.NOT_DUPLICATE, reason="UNMERGED", decided_by="y", decided_at=next(at))
        async with units() as uow:
            await uow.merges.decide_pair(merged)
        async with units() as uow:
            await uow.merges.decide_pair(apart)
        async with units() as uow:
            assert await uow.duplicates.decision(apart.low_id, apart.high_id) == apart

    async def test_field_changes_are_dated_by_the_last_committed_change(self, units: Units) -> None:
        """field_changed_at: the creation dates every field it set; a later revision its own fields."""
        at = moments()
        created, revised = next(at), next(at)
        [customer_id] = await stored(units, profile(now=created))
        async with units() as uow:
            found = await uow.customers.get_for_update(customer_id)
            new = patched_profile(found.attributes, ProfileInput(segment="MID"), region=None, today=revised.date())
            found.revise(new, actor="contract", now=revised)
        async with units() as uow:
            changed = await uow.merges.field_changed_at(customer_id)
        assert (changed["name"], changed["segment"]) == (created, revised)
