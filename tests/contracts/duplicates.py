"""DuplicateIndex (``uow.duplicates``): candidates by shared keys, pair decisions, thresholds, the model."""

from __future__ import annotations

import dataclasses

import pytest

from customer360.domain.duplicates import match_record_of
from customer360.domain.errors import ConcurrentModification
from customer360.domain.matching import PreparedRecord, prepare
from customer360.domain.merge import PairDecision, PairStatus
from customer360.domain.values import CustomerStatus
from tests.contracts.units import T0, Units, profile, stored


def _subject(name: str, email: str) -> PreparedRecord:
    """A would-be profile (nothing stored) as the real-time check prepares it."""
    candidate = profile(name, emails=(email,))
    return prepare(match_record_of(candidate.id, candidate.attributes, candidate.contacts))


class DuplicateIndexContract:
    async def test_profiles_sharing_a_key_are_candidates_and_others_not(self, units: Units) -> None:
        """A stored profile with the subject's e-mail is a candidate; one sharing nothing is not."""
        twin, stranger = (
            profile("Acme GmbH", emails=("info@acme.example",)),
            profile("Zeta", emails=("z@zeta.example",)),
        )
        await stored(units, twin, stranger)
        async with units() as uow:
            found = await uow.duplicates.candidates(_subject("ACME GmbH", "info@acme.example"), exclude_decided=False)
        assert [r.record_id for r in found] == [twin.id]

    async def test_a_profile_is_never_its_own_candidate(self, units: Units) -> None:
        """Asked about a stored profile, the answer leaves that profile out."""
        stored_one, twin = profile(emails=("info@acme.example",)), profile("Acme", emails=("info@acme.example",))
        await stored(units, stored_one, twin)
        subject = prepare(match_record_of(stored_one.id, stored_one.attributes, stored_one.contacts))
        async with units() as uow:
            found = await uow.duplicates.candidates(subject, exclude_decided=False)
        assert [r.record_id for r in found] == [twin.id]

    async def test_merged_profiles_are_not_candidates(self, units: Units) -> None:
        """A profile merged into another is no longer matched."""
        survivor, merged = profile("Other", emails=("x@other.example",)), profile(emails=("info@acme.example",))
        merged.merge_into(survivor.id, actor="contract", now=T0)
        await stored(units, survivor, merged)
        async with units() as uow:
            assert merged.status is CustomerStatus.MERGED
            assert await uow.duplicates.candidates(_subject("Acme", "info@acme.example"), exclude_decided=False) == []

    async def test_decided_pairs_can_be_left_out(self, units: Units) -> None:
        """With exclude_decided, a pair already decided about the subject is not a candidate."""
        one, two = profile(emails=("info@acme.example",)), profile("Acme", emails=("info@acme.example",))
        await stored(units, one, two)
        decision = PairDecision.of(
            one.id, two.id, PairStatus.NOT_DUPLICATE, reason="DISMISSED", decided_by="contract", decided_at=T0
        )
        async with units() as uow:
            await uow.merges.decide_pair(decision)
        subject = prepare(match_record_of(one.id, one.attributes, one.contacts))
        async with units() as uow:
            kept = await uow.duplicates.candidates(subject, exclude_decided=False)
            left_out = await uow.duplicates.candidates(subject, exclude_decided=True)
            answer = await uow.duplicates.decision(decision.low_id, decision.high_id)
        assert ([r.record_id for r in kept], left_out, answer) == ([two.id], [], decision)

    async def test_a_check_reads_the_matching_the_subject_and_its_candidates_together(self, units: Units) -> None:
        """check_subject answers what matching(), the model's prepare and candidates() answer one by one."""
        one, two = profile(emails=("info@acme.example",)), profile("Acme", emails=("info@acme.example",))
        await stored(units, one, two)
        decision = PairDecision.of(
            one.id, two.id, PairStatus.NOT_DUPLICATE, reason="DISMISSED", decided_by="contract", decided_at=T0
        )
        async with units() as uow:
            await uow.merges.decide_pair(decision)
        record = match_record_of(one.id, one.attributes, one.contacts)
        async with units() as uow:
            matching = await uow.duplicates.matching()
            subject = matching.model.prepare(record)
            apart = [await uow.duplicates.candidates(subject, exclude_decided=e) for e in (False, True)]
            together = [await uow.duplicates.check_subject(record, exclude_decided=e) for e in (False, True)]
        assert together == [(matching, subject, found) for found in apart]
        assert [[r.record_id for r in found] for found in apart] == [[two.id], []]

    async def test_a_check_prepares_the_subject_by_the_model_it_reads(self, units: Units) -> None:
        """A model saved with a phone region since the last check reads a national number by it."""
        twin = profile("Zeta Ltd", phones=("+49 30 1234567",))
        await stored(units, twin)
        record = dataclasses.replace(match_record_of("new", profile("Omega").attributes, []), phones=("030 1234567",))
        async with units() as uow:
            _, _, before = await uow.duplicates.check_subject(record, exclude_decided=False)
            stored_model = await uow.duplicates.model_for_update()
            model = dataclasses.replace(stored_model.model, default_region="DE")
            await uow.duplicates.save_model(model, source="REFINED", actor="contract", now=T0)
        async with units() as uow:
            matching, subject, after = await uow.duplicates.check_subject(record, exclude_decided=False)
        assert (before, [r.record_id for r in after]) == ([], [twin.id])
        assert (matching.model.default_region, subject) == ("DE", model.prepare(record))

    async def test_thresholds_read_back_with_their_version(self, units: Units) -> None:
        """matching() has the default thresholds first, the saved ones after; a stale save is refused."""
        async with units() as uow:
            default = (await uow.duplicates.matching()).policy
            saved = await uow.duplicates.save_policy(
                dataclasses.replace(default, review_threshold=0.4), actor="contract", now=T0
            )
        async with units() as uow:
            current = (await uow.duplicates.matching()).policy

        async def save_stale() -> None:
            async with units() as uow:
                await uow.duplicates.save_policy(default, actor="contract", now=T0)

        with pytest.raises(ConcurrentModification):
            await save_stale()
        assert (default.version, saved, current) == (
            0,
            dataclasses.replace(default, review_threshold=0.4, version=1),
            saved,
        )

    async def test_a_saved_model_is_the_next_version(self, units: Units) -> None:
        """No model stored: version 0; each save is the next version, and matching() uses it."""
        async with units() as uow:
            stored_model = await uow.duplicates.model_for_update()
            version = await uow.duplicates.save_model(stored_model.model, source="REFINED", actor="contract", now=T0)
        async with units() as uow:
            again = await uow.duplicates.model_for_update()
            matching = await uow.duplicates.matching()
        assert (stored_model.version, version, again.version, again.source, matching.model_version) == (
            0,
            1,
            1,
            "REFINED",
            1,
        )
