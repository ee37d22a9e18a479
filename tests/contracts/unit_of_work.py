"""The unit of work: what its ports wrote is kept by its commit, and by nothing else."""

from __future__ import annotations

import pytest

from customer360.application.ports import UnitOfWork
from customer360.domain.consent_policy import default_policy
from customer360.domain.errors import CustomerNotFound
from customer360.domain.ids import LEGAL_HOLD_PREFIX, new_id
from customer360.domain.merge import PairDecision, PairStatus
from customer360.domain.privacy import ContactPointValue, LegalHold
from customer360.domain.provenance import Provenance
from tests.contracts.merges import merge_record
from tests.contracts.units import T0, Units, abandoned, consent, link, profile, stored

GONE = ContactPointValue("EMAIL", "gone@example.org")


class UnitOfWorkContract:
    async def test_a_unit_that_raises_leaves_nothing_of_what_its_ports_wrote(self, units: Units) -> None:
        """Profiles, consents, links, merge records, provenance, decisions, holds, suppression, flags,
        policies, models: after a unit of work that wrote them all and raised, none is there."""
        target, source = profile("T"), profile("S")
        await stored(units, target, source)
        new = profile("New")
        record = merge_record(target, source)
        hold = LegalHold.place(
            id=new_id(LEGAL_HOLD_PREFIX), customer_id=target.id, reason="r", expires_at=None, actor="c", now=T0
        )
        decision = PairDecision.of(
            target.id, source.id, PairStatus.NOT_DUPLICATE, reason="DISMISSED", decided_by="c", decided_at=T0
        )

        async def write_everything(uow: UnitOfWork) -> None:
            await uow.customers.add(new)
            await uow.consents.add(consent(new.id))
            await uow.consents.add(consent(target.id))
            await uow.relationships.add(link(target.id, source.id))
            await uow.merges.add(record)
            await uow.merges.save_provenance(Provenance.native(target.id, target.attributes), T0)
            await uow.merges.decide_pair(decision)
            await uow.merges.save_policy(uow.merges.default_policy(), actor="c", now=T0)
            await uow.privacy.add_hold(hold)
            await uow.privacy.suppress({GONE}, "ERA-1", T0)
            await uow.privacy.set_flags(target.id, ["SUPPRESSED_CONTACT_POINT"])
            await uow.consent_rules.save_policy(default_policy("NEWS"), expected_version=None, actor="c", now=T0)
            await uow.duplicates.save_policy((await uow.duplicates.matching()).policy, actor="c", now=T0)
            model = await uow.duplicates.model_for_update()
            await uow.duplicates.save_model(model.model, source="REFINED", actor="c", now=T0)

        await abandoned(units, write_everything)
        async with units() as uow:
            with pytest.raises(CustomerNotFound):
                await uow.customers.get(new.id)
            left = [
                [p.id for p in await uow.links.relationships_touching([target.id])],
                await uow.consents.for_customer(target.id),
                await uow.merges.merges_into(target.id),
                await uow.merges.provenance(target.id),
                await uow.duplicates.decision(decision.low_id, decision.high_id),
                (await uow.merges.policy()).version,
                await uow.privacy.holds([target.id]),
                await uow.privacy.suppressed({GONE}),
                await uow.privacy.flags(target.id),
                await uow.consent_rules.stored_policies(),
                (await uow.duplicates.matching()).policy.version,
                (await uow.duplicates.matching()).model_version,
            ]
            lineage = await uow.privacy.lineage(target.id)
        assert (left, lineage) == ([[], [], [], None, None, 0, [], False, [], [], 0, 0], [target.id])

    async def test_rows_queued_after_a_new_profile_may_refer_to_it_without_a_flush(self, units: Units) -> None:
        """A consent, a link and a decision added right after their new profile are kept by the commit."""
        [existing] = await stored(units, profile("Old"))
        new = profile("New")
        decision = PairDecision.of(
            new.id, existing, PairStatus.NOT_DUPLICATE, reason="DISMISSED", decided_by="c", decided_at=T0
        )
        async with units() as uow:
            await uow.customers.add(new)
            await uow.consents.add(consent(new.id))
            await uow.relationships.add(link(new.id, existing))
            await uow.merges.decide_pair(decision)
        async with units() as uow:
            kept = (
                len(await uow.consents.for_customer(new.id)),
                [r.id for r in await uow.links.relationships_touching([new.id])] != [],
                await uow.duplicates.decision(decision.low_id, decision.high_id) is not None,
            )
        assert kept == (1, True, True)
