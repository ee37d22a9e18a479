"""Duplicate-detection handlers against in-memory fakes: refusal, override, dismissal, the lead matcher."""

from __future__ import annotations

from typing import Any

import pytest

from customer360.application import customers, duplicates
from customer360.application.lead_matching import LikelyDuplicateMatcher
from customer360.application.leads import lead_candidate
from customer360.domain.duplicates import DuplicateActivity
from customer360.domain.errors import DuplicateCustomer
from customer360.domain.merge import PairStatus
from tests.support.inputs import profile_input
from tests.unit.fakes import FakeUnitOfWork, Store, env
from tests.unit.test_integration_handlers import FakeIntegrationStore, lead

ANNA: dict[str, Any] = {
    "kind": "PERSON",
    "given_name": "Anna",
    "family_name": "Schmidt",
    "birth_date": "1980-05-17",
    "emails": [{"address": "anna.schmidt@example.com"}],
    "phones": [{"number": "+49 30 1234567"}],
}
ANNA_AGAIN: dict[str, Any] = {**ANNA, "family_name": "Schmitt", "phones": []}


async def _create(store: Store, attributes: dict[str, Any], check: duplicates.DuplicateCheck | None = None) -> str:
    uow = FakeUnitOfWork(store)
    command = customers.CreateCustomerProfile(profile_input(attributes), duplicate_check=check)
    created = await customers.create_customer_profile(command, uow, env())
    assert not uow.committed, "handlers never commit"
    await uow.commit()
    return created.customer_id


class TestCheckOnCreate:
    async def test_a_likely_duplicate_is_refused_with_its_candidate(self) -> None:
        """DuplicateCustomer names the existing profile; nothing is stored."""
        store = Store()
        anna = await _create(store, ANNA)
        with pytest.raises(DuplicateCustomer) as refused:
            await _create(store, ANNA_AGAIN, duplicates.DuplicateCheck())
        [candidate] = refused.value.details["candidates"]
        assert (candidate["customerId"], len(store.profiles)) == (anna, 1)

    async def test_without_a_check_the_profile_is_created(self) -> None:
        """Imports and consumers create without asking (no DuplicateCheck on the command)."""
        store = Store()
        await _create(store, ANNA)
        await _create(store, ANNA_AGAIN)
        assert len(store.profiles) == 2

    async def test_an_override_creates_audits_and_queues_the_pairs_for_review(self) -> None:
        """The reason and candidates go to an audit-only event; each pair is PENDING_REVIEW, in the queue."""
        store = Store()
        anna = await _create(store, ANNA)
        again = await _create(store, ANNA_AGAIN, duplicates.DuplicateCheck(override_reason="twin sister"))
        [activity] = store.duplicates.audited
        assert isinstance(activity, DuplicateActivity)
        changes = {c.field: c.new for c in activity.changes}
        pair = (min(anna, again), max(anna, again))
        decision = store.pairs[pair]
        assert (
            activity.what,
            changes["overrideReason"],
            decision.status,
            decision.reason,
            list(store.duplicates.queued),
        ) == (
            "DUPLICATE_OVERRIDE",
            "twin sister",
            PairStatus.PENDING_REVIEW,
            "CREATE_OVERRIDE",
            [pair],
        )

    async def test_a_pair_queued_by_an_override_can_be_dismissed(self) -> None:
        """PENDING_REVIEW is no verdict: a steward's dismissal records NOT_DUPLICATE and refines the model."""
        store = Store()
        anna = await _create(store, ANNA)
        again = await _create(store, ANNA_AGAIN, duplicates.DuplicateCheck(override_reason="twin sister"))
        uow = FakeUnitOfWork(store)
        low, high = sorted((anna, again))
        decision = await duplicates.dismiss_pair(duplicates.DismissPair(low, high), uow, env())
        await uow.commit()
        assert (decision.status, decision.reason, store.duplicates.model_sources) == (
            PairStatus.NOT_DUPLICATE,
            "DISMISSED",
            ["REFINED"],
        )


class TestDismissal:
    async def test_a_dismissal_is_recorded_audited_on_both_sides_and_refines_the_model(self) -> None:
        """NOT_DUPLICATE with reason DISMISSED, two audit events, a REFINED model version."""
        store = Store()
        low, high = sorted([await _create(store, ANNA), await _create(store, ANNA_AGAIN)])
        uow = FakeUnitOfWork(store)
        decision = await duplicates.dismiss_pair(duplicates.DismissPair(low, high, "different people"), uow, env())
        await uow.commit()
        audited = [
            (e.customer_id, e.other_customer_id) for e in store.duplicates.audited if isinstance(e, DuplicateActivity)
        ]
        assert (decision.status, decision.reason, audited, store.duplicates.model_sources) == (
            PairStatus.NOT_DUPLICATE,
            "DISMISSED",
            [(low, high), (high, low)],
            ["REFINED"],
        )


class TestLeadMatcher:
    async def test_a_lead_matching_a_profile_probabilistically_names_it(self) -> None:
        """Same name and phone, no exact key: the matcher answers the profile."""
        store = Store()
        anna = await _create(store, ANNA)
        sent = lead(given_name="Anna", family_name="Schmidt", phone="030 1234567")
        match = await LikelyDuplicateMatcher().match(
            lead_candidate(sent, region="DE"), FakeUnitOfWork(store), FakeIntegrationStore()
        )
        assert match is not None
        assert (match.customer_id, match.matched_on) == (anna, "duplicateCheck")

    async def test_a_lead_with_only_the_same_name_is_no_match(self) -> None:
        """The name alone does not reach the likely-duplicate threshold."""
        store = Store()
        await _create(store, ANNA)
        sent = lead(given_name="Anna", family_name="Schmidt")
        match = await LikelyDuplicateMatcher().match(
            lead_candidate(sent, region="DE"), FakeUnitOfWork(store), FakeIntegrationStore()
        )
        assert match is None
