"""Merge and unmerge handlers against in-memory fakes: rules, events, records; they never commit."""

from __future__ import annotations

from typing import Any

import pytest

from customer360.application import consents, customers, golden_record, merges
from customer360.domain.errors import NotMerged, PreconditionRequired, VersionMismatch
from customer360.domain.events import CustomerMerged, CustomerProfileUpdated, CustomerUnmerged
from customer360.domain.merge import PairStatus
from customer360.domain.values import CustomerStatus
from tests.support.inputs import contact_inputs, profile_input
from tests.unit.fakes import FakeUnitOfWork, Store, env


async def _run(store: Store, handler: Any, command: Any) -> Any:
    uow = FakeUnitOfWork(store)
    result = await handler(command, uow, env())
    assert not uow.committed, "handlers never commit"
    await uow.commit()
    return result


async def _create(store: Store, **attributes: Any) -> str:
    attributes.setdefault("name", "Acme")
    contacts = tuple(attributes.pop("contacts", ()))
    command = customers.CreateCustomerProfile(profile_input(attributes), contacts=contact_inputs(contacts))
    return str((await _run(store, customers.create_customer_profile, command)).customer_id)


def _merge(store: Store, target: str, source: str, **values: Any) -> merges.MergeCustomers:
    return merges.MergeCustomers(
        target,
        source,
        target_version=store.profiles[target].version,
        source_version=store.profiles[source].version,
        **values,
    )


class TestMergeHandler:
    async def test_both_versions_are_required(self) -> None:
        """A merge must name the versions it was decided on."""
        store = Store()
        target, source = await _create(store), await _create(store, name="Acme Inc")
        with pytest.raises(PreconditionRequired):
            await _run(store, merges.merge_customers, merges.MergeCustomers(target, source, source_version=1))
        with pytest.raises(PreconditionRequired):
            await _run(store, merges.merge_customers, merges.MergeCustomers(target, source, target_version=1))

    async def test_a_stale_source_version_is_refused(self) -> None:
        """The source changed since the steward looked: VersionMismatch."""
        store = Store()
        target, source = await _create(store), await _create(store, name="Acme Inc")
        with pytest.raises(VersionMismatch):
            await _run(
                store, merges.merge_customers, merges.MergeCustomers(target, source, target_version=1, source_version=9)
            )

    async def test_the_merge_records_events_the_record_and_the_pair(self) -> None:
        """Both profiles change, CustomerMerged is recorded, the source's consent moves, the pair is MERGED."""
        store = Store()
        target = await _create(store, tags=["a"])
        source = await _create(store, name="Acme Inc", segment="SMB", tags=["b"], contacts=[{"name": "Ana"}])
        await _run(store, consents.record_consent, consents.RecordConsent(source, "EMAIL", "GRANTED"))
        store.published.clear()
        outcome = await _run(store, merges.merge_customers, _merge(store, target, source, reason="duplicate"))
        # Profiles are loaded in id order, so the two updates' order depends on the ids.
        assert sorted(type(e).__name__ for e in store.published) == [
            CustomerMerged.__name__,
            CustomerProfileUpdated.__name__,
            CustomerProfileUpdated.__name__,
        ]
        [merged_event] = [e for e in store.published if isinstance(e, CustomerMerged)]
        assert (merged_event.customer_id, merged_event.source_customer_id, merged_event.merge_reason) == (
            target,
            source,
            "DUPLICATE",
        )
        golden, absorbed = store.profiles[target], store.profiles[source]
        assert (golden.attributes.tags, golden.attributes.segment, len(golden.contacts)) == (("a", "b"), "SMB", 1)
        assert (absorbed.status, absorbed.merged_into, absorbed.contacts) == (CustomerStatus.MERGED, target, [])
        assert [r.customer_id for r in store.consents] == [target]
        assert store.merges[outcome.merge_id].source_before.attributes.segment == "SMB"
        assert [d.status for d in store.pairs.values()] == [PairStatus.MERGED]


class TestUnmergeHandler:
    async def test_unmerge_gives_the_source_back_and_the_target_its_own_values(self) -> None:
        """Attributes, contacts and consent go back; CustomerUnmerged is recorded; the pair is NOT_DUPLICATE."""
        store = Store()
        target = await _create(store, emails=[{"address": "a@acme.example"}])
        source = await _create(
            store, name="Acme Inc", industry="Tools", emails=["b@acme.example"], contacts=[{"name": "Ana"}]
        )
        await _run(store, consents.record_consent, consents.RecordConsent(source, "SMS", "REVOKED"))
        original = {c: (store.profiles[c].attributes, list(store.profiles[c].contacts)) for c in (target, source)}
        await _run(store, merges.merge_customers, _merge(store, target, source))
        store.published.clear()
        outcome = await _run(store, merges.unmerge_customers, merges.UnmergeCustomers(target, source))
        assert outcome.conflicts == ()
        for customer_id in (target, source):
            profile = store.profiles[customer_id]
            assert (profile.attributes, profile.contacts) == original[customer_id]
            assert (profile.status, profile.merged_into) == (CustomerStatus.ACTIVE, None)
        assert [r.customer_id for r in store.consents] == [source]
        assert any(isinstance(e, CustomerUnmerged) for e in store.published)
        assert [d.status for d in store.pairs.values()] == [PairStatus.NOT_DUPLICATE]

    async def test_a_pair_that_is_not_merged_cannot_be_unmerged(self) -> None:
        """NotMerged, before anything changes."""
        store = Store()
        target, source = await _create(store), await _create(store, name="Acme Inc")
        with pytest.raises(NotMerged):
            await _run(store, merges.unmerge_customers, merges.UnmergeCustomers(target, source))

    async def test_merges_into_one_target_unmerge_in_either_order(self) -> None:
        """A←B, A←C; undo B then C: every profile is back as it was."""
        store = Store()
        a = await _create(store, tags=["a"])
        b = await _create(store, name="B", segment="SMB", tags=["b"])
        c = await _create(store, name="C", segment="MID", industry="Tools", tags=["c"])
        original = {x: store.profiles[x].attributes for x in (a, b, c)}
        await _run(store, merges.merge_customers, _merge(store, a, b))
        await _run(store, merges.merge_customers, _merge(store, a, c))
        await _run(store, merges.unmerge_customers, merges.UnmergeCustomers(a, b))
        assert (store.profiles[a].attributes.tags, store.profiles[a].attributes.industry) == (("a", "c"), "Tools")
        await _run(store, merges.unmerge_customers, merges.UnmergeCustomers(a, c))
        assert {x: store.profiles[x].attributes for x in (a, b, c)} == original


class TestPolicyHandlers:
    async def test_a_policy_is_replaced_as_a_whole_and_guarded_by_its_version(self) -> None:
        """Unlisted fields take the default again; a stale version is refused."""
        store = Store()
        first = await _run(
            store, golden_record.set_policy, golden_record.SetSurvivorshipPolicy({"name": "MOST_RECENT"})
        )
        second = await _run(
            store, golden_record.set_policy, golden_record.SetSurvivorshipPolicy({"segment": "MOST_COMPLETE"}, None, 1)
        )
        assert (first.version, second.version, second.rule_for("name").value) == (1, 2, "KEEP_TARGET")
        with pytest.raises(VersionMismatch):
            await _run(store, golden_record.set_policy, golden_record.SetSurvivorshipPolicy({}, None, 1))
