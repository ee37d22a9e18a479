"""Use cases of the merge workflow: MergeCustomerProfiles (the seed's), its preview, and unmerge.

Locking: both profiles are loaded ``FOR UPDATE`` in id order, so two merges of the same pair (in either
direction) queue instead of deadlocking, and the second finds new versions (412) or a merged profile
(409). The tenant's hierarchy lock is taken after them, and only when a parent/subsidiary link is
involved (the same order as changing a link's validity). Handlers never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from customer360.application.customers import profile_documents
from customer360.application.environment import HandlerEnv
from customer360.application.ports import MovedLinks, UnitOfWork
from customer360.application.queries import Answer
from customer360.domain import merge_consent
from customer360.domain.consent import ConsentRecord
from customer360.domain.customer import CustomerProfile
from customer360.domain.errors import BusinessRuleViolation, NotMerged, PreconditionRequired
from customer360.domain.ids import CONSENT_PREFIX, MERGE_PREFIX
from customer360.domain.merge import (
    ContactMove,
    MergeRecord,
    PairDecision,
    PairStatus,
    ProfileImage,
    check_can_merge,
    check_can_unmerge,
    contact_point_keys,
    merge_reason,
    move_contacts,
    relationships_to_retire,
)
from customer360.domain.profile_attributes import Contact
from customer360.domain.provenance import Provenance
from customer360.domain.relationships import Relationship, RelationshipType
from customer360.domain.survivorship import Candidate, GoldenRecord, field_choices, survive
from customer360.domain.unmerge import UnmergePlan, UnmergeReport, plan_unmerge


@dataclass(frozen=True, slots=True)
class MergeCustomers:
    target_id: str
    source_id: str
    reason: str = "DUPLICATE"
    field_choices: Mapping[str, str] = field(default_factory=dict)
    target_version: int | None = None
    source_version: int | None = None


@dataclass(frozen=True, slots=True)
class MergeOutcome:
    merge_id: str
    target_id: str
    source_id: str
    reason: str
    moved: dict[str, int]
    left_behind: dict[str, int]
    retired_contacts: tuple[str, ...]
    retired_relationships: tuple[str, ...]
    derived_consents: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MergePreview:
    target_id: str
    source_id: str
    golden: GoldenRecord
    contacts: list[Contact]
    provenance: Provenance
    would_move: dict[str, int]
    retired_contacts: tuple[str, ...]
    retired_relationships: tuple[str, ...]
    derived_consents: list[ConsentRecord]
    target_version: int
    source_version: int


@dataclass(frozen=True, slots=True)
class UnmergeCustomers:
    target_id: str
    source_id: str
    target_version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UnmergeOutcome(UnmergeReport):
    """What the unmerge did (its report, kept with the merge record) and which merge of which pair."""

    merge_id: str
    target_id: str
    source_id: str


@dataclass(frozen=True, slots=True)
class _MergePlan:
    """Everything a merge of the pair will do, decided before anything is written."""

    target: CustomerProfile
    source: CustomerProfile
    target_before: ProfileImage
    source_before: ProfileImage
    golden: GoldenRecord
    contacts: ContactMove
    target_provenance: Provenance
    provenance: Provenance
    relationships: list[Relationship]
    retired_relationships: list[str]
    derived_consents: list[ConsentRecord]
    merge_id: str
    policy: Mapping[str, Any]
    now: datetime


async def _load_pair(uow: UnitOfWork, first_id: str, second_id: str, *, lock: bool) -> dict[str, CustomerProfile]:
    """Both profiles, locked in id order (a fixed order: concurrent merges of a pair cannot deadlock)."""
    loaded = {}
    for customer_id in sorted({first_id, second_id}):
        load = uow.customers.get_for_update if lock else uow.customers.get
        loaded[customer_id] = await load(customer_id)
    return loaded


async def _candidate(uow: UnitOfWork, profile: CustomerProfile) -> Candidate:
    changed = await uow.merges.field_changed_at(profile.id)
    return Candidate(profile.id, profile.attributes, profile.updated_at, changed)


async def _provenance(uow: UnitOfWork, profile: CustomerProfile) -> Provenance:
    stored = await uow.merges.provenance(profile.id)
    if stored is None:
        return Provenance.native(profile.id, profile.attributes)
    return stored.reconciled(profile.attributes)


async def _plan_merge(cmd: MergeCustomers, uow: UnitOfWork, env: HandlerEnv, *, lock: bool) -> _MergePlan:
    choices = field_choices(cmd.field_choices)
    if cmd.target_id == cmd.source_id:
        raise BusinessRuleViolation("SELF_MERGE", "A profile cannot be merged into itself", {"id": cmd.target_id})
    pair = await _load_pair(uow, cmd.target_id, cmd.source_id, lock=lock)
    target, source = pair[cmd.target_id], pair[cmd.source_id]
    check_can_merge(target, source)
    target.check_version(cmd.target_version)
    source.check_version(cmd.source_version)
    now = env.clock.now()
    merge_id = env.new_id(MERGE_PREFIX)
    policy = await uow.merges.policy()
    golden = survive(await _candidate(uow, target), await _candidate(uow, source), policy, choices, today=now.date())
    contacts = move_contacts(target, source, now)
    target_provenance = await _provenance(uow, target)
    provenance = target_provenance.after_merge(await _provenance(uow, source), golden, merge_id, contacts.moved)
    relationships = await uow.links.relationships_touching([target.id, source.id])
    derived = merge_consent.most_restrictive(
        await uow.consents.for_customer(target.id),
        await uow.consents.for_customer(source.id),
        target_id=target.id,
        merge_id=merge_id,
        new_id=lambda: env.new_id(CONSENT_PREFIX),
        actor=env.context.actor,
        now=now,
    )
    return _MergePlan(
        target=target,
        source=source,
        target_before=ProfileImage.of(target),
        source_before=ProfileImage.of(source),
        golden=golden,
        contacts=contacts,
        target_provenance=target_provenance,
        provenance=provenance,
        relationships=relationships,
        retired_relationships=relationships_to_retire(target.id, source.id, relationships),
        derived_consents=derived,
        merge_id=merge_id,
        policy={**policy.to_document(), "version": policy.version},
        now=now,
    )


def _hierarchy_involved(relationships: list[Relationship]) -> bool:
    return any(r.type is RelationshipType.SUBSIDIARY_OF for r in relationships)


async def _check_no_cycle(uow: UnitOfWork, *customer_ids: str) -> None:
    for customer_id in customer_ids:
        if customer_id in await uow.relationships.ancestors(customer_id):
            raise BusinessRuleViolation(
                "HIERARCHY_CYCLE",
                "The change would put a profile above itself in the account hierarchy",
                {"customerId": customer_id},
            )


async def preview_merge(cmd: MergeCustomers, uow: UnitOfWork, env: HandlerEnv) -> MergePreview:
    """The golden record a merge would produce, and what it would move; nothing is locked or written."""
    plan = await _plan_merge(cmd, uow, env, lock=False)
    return MergePreview(
        target_id=plan.target.id,
        source_id=plan.source.id,
        golden=plan.golden,
        contacts=plan.contacts.contacts,
        provenance=plan.provenance,
        would_move=await uow.links.count(plan.source.id),
        retired_contacts=plan.contacts.retired,
        retired_relationships=tuple(plan.retired_relationships),
        derived_consents=plan.derived_consents,
        target_version=plan.target.version,
        source_version=plan.source.version,
    )


async def merge_customers(cmd: MergeCustomers, uow: UnitOfWork, env: HandlerEnv) -> MergeOutcome:
    """MergeCustomerProfiles: the source's data and everything pointing at it move to the target."""
    if cmd.target_version is None:
        raise PreconditionRequired("If-Match (or targetVersion)")
    if cmd.source_version is None:
        raise PreconditionRequired("sourceVersion")
    reason = merge_reason(cmd.reason)
    plan = await _plan_merge(cmd, uow, env, lock=True)
    moved = await _apply_merge(plan, reason, uow, env)
    return await _record_merge(plan, reason, cmd.field_choices, moved, uow, env)


async def _apply_merge(plan: _MergePlan, reason: str, uow: UnitOfWork, env: HandlerEnv) -> MovedLinks:
    """The rows first (links retired, references re-pointed, the hierarchy still a forest), then both
    profiles, the derived consents and the golden record's provenance."""
    target, source, now = plan.target, plan.source, plan.now
    hierarchy = _hierarchy_involved(plan.relationships)
    if hierarchy:
        await uow.relationships.lock_hierarchy()
    await uow.links.retire_relationships(plan.retired_relationships, now)
    moved = await uow.links.repoint(source.id, target.id)
    if hierarchy:
        await _check_no_cycle(uow, target.id)
    actor, origin = env.context.actor, env.context.source
    target.absorb(
        source.id,
        plan.golden,
        plan.contacts.contacts,
        merge_id=plan.merge_id,
        reason=reason,
        actor=actor,
        now=now,
        source=origin,
    )
    source.merge_into(target.id, actor=actor, now=now, source=origin)
    for consent in plan.derived_consents:
        await uow.consents.add(consent)
    await uow.merges.save_provenance(plan.provenance, now)
    return moved


async def _record_merge(
    plan: _MergePlan,
    reason: str,
    choices: Mapping[str, str],
    moved: MovedLinks,
    uow: UnitOfWork,
    env: HandlerEnv,
) -> MergeOutcome:
    """The merge record (what an unmerge needs), the pair's decision, and the outcome."""
    target, source, actor = plan.target, plan.source, env.context.actor
    record = MergeRecord(
        id=plan.merge_id,
        target_id=target.id,
        source_id=source.id,
        reason=reason,
        merged_at=plan.now,
        merged_by=actor,
        target_before=plan.target_before,
        source_before=plan.source_before,
        target_provenance_before=plan.target_provenance,
        golden=plan.golden.attributes,
        decisions=plan.golden.decisions,
        moved_contacts=plan.contacts.moved,
        retired_contacts=plan.contacts.retired,
        retired_relationships=tuple(plan.retired_relationships),
        derived_consents=tuple(r.id for r in plan.derived_consents),
        repointed=moved.rows,
        policy=plan.policy,
        choices=dict(choices),
    )
    await uow.merges.add(record)
    await uow.merges.decide_pair(
        PairDecision.of(
            target.id,
            source.id,
            PairStatus.MERGED,
            reason=reason,
            decided_by=actor,
            decided_at=plan.now,
            merge_id=plan.merge_id,
        )
    )
    counts = {f"{r.table}.{r.column}": len(r.keys) for r in moved.rows}
    counts["contact.customer_id"] = len(plan.contacts.moved)
    return MergeOutcome(
        merge_id=plan.merge_id,
        target_id=target.id,
        source_id=source.id,
        reason=reason,
        moved=counts,
        left_behind=moved.left_behind,
        retired_contacts=plan.contacts.retired,
        retired_relationships=tuple(plan.retired_relationships),
        derived_consents=record.derived_consents,
    )


@dataclass(frozen=True, slots=True)
class _UnmergePlan:
    """What an unmerge will do, decided once the rows the merge re-pointed are back."""

    target: CustomerProfile
    source: CustomerProfile
    record: MergeRecord
    profiles: UnmergePlan
    moved_back: MovedLinks
    restored_relationships: list[str]
    reinstated_consents: list[ConsentRecord]
    carried_consents: list[ConsentRecord]
    now: datetime


async def unmerge_customers(cmd: UnmergeCustomers, uow: UnitOfWork, env: HandlerEnv) -> UnmergeOutcome:
    """Undo a standing merge: the source comes back as it was; the target keeps later changes."""
    plan = await _plan_unmerge(cmd, uow, env)
    await _apply_unmerge(plan, uow, env)
    return await _record_unmerge(plan, uow, env)


async def _plan_unmerge(cmd: UnmergeCustomers, uow: UnitOfWork, env: HandlerEnv) -> _UnmergePlan:
    """Check the pair, move the re-pointed rows back (what came back decides the external references),
    then decide both profiles and the consents."""
    pair = await _load_pair(uow, cmd.target_id, cmd.source_id, lock=True)
    target, source = pair[cmd.target_id], pair[cmd.source_id]
    if target.id == source.id:
        raise NotMerged(target.id, source.id)
    record = check_can_unmerge(await uow.merges.active_merge(target.id, source.id), target, source)
    target.check_version(cmd.target_version)
    now = env.clock.now()
    relationships = await uow.links.relationships_touching([target.id, source.id])
    hierarchy = _hierarchy_involved(relationships)
    if hierarchy:
        await uow.relationships.lock_hierarchy()
    moved_back = await uow.links.move_back(record.repointed, source.id, target.id)
    restored = await uow.links.restore_relationships(record.retired_relationships, record.merged_at)
    history = {r.id: r for r in await uow.merges.merges_into(target.id)}
    profiles = plan_unmerge(
        record, target, await uow.merges.provenance(target.id), history, moved_back.external_refs, today=now.date()
    )
    reinstated, carried = merge_consent.after_unmerge(
        merge_id=record.id,
        merged_at=record.merged_at,
        derived_ids=set(record.derived_consents),
        target_id=target.id,
        target_records=await uow.consents.for_customer(target.id),
        source_id=source.id,
        source_records=await uow.consents.for_customer(source.id),
        source_points=contact_point_keys(record.source_before),
        new_id=lambda: env.new_id(CONSENT_PREFIX),
        actor=env.context.actor,
        now=now,
    )
    if hierarchy or restored:
        await _check_no_cycle(uow, target.id, source.id)
    return _UnmergePlan(target, source, record, profiles, moved_back, restored, reinstated, carried, now)


async def _apply_unmerge(plan: _UnmergePlan, uow: UnitOfWork, env: HandlerEnv) -> None:
    target, source, record, profiles = plan.target, plan.source, plan.record, plan.profiles
    actor, origin, now = env.context.actor, env.context.source, plan.now
    target.release(
        source.id,
        merge_id=record.id,
        attributes=profiles.target_attributes,
        contacts=profiles.target_contacts,
        conflicts=profiles.conflicts,
        actor=actor,
        now=now,
        source=origin,
    )
    source.restore(
        profiles.source_attributes,
        profiles.source_contacts,
        status=record.source_before.status,
        merged_into=record.source_before.merged_into,
        actor=actor,
        now=now,
        source=origin,
    )
    for consent in [*plan.reinstated_consents, *plan.carried_consents]:
        await uow.consents.add(consent)
    await uow.merges.save_provenance(profiles.target_provenance, now)


async def _record_unmerge(plan: _UnmergePlan, uow: UnitOfWork, env: HandlerEnv) -> UnmergeOutcome:
    """One report of what the unmerge did: kept with the merge record and returned to the caller."""
    record, actor = plan.record, env.context.actor
    moved_back = {f"{r.table}.{r.column}": len(r.keys) for r in plan.moved_back.rows}
    moved_back["contact.customer_id"] = len(plan.profiles.source_contacts)
    expected = sum(len(r.keys) for r in record.repointed)
    outcome = UnmergeOutcome(
        merge_id=record.id,
        target_id=plan.target.id,
        source_id=plan.source.id,
        conflicts=plan.profiles.conflicts,
        moved_back=moved_back,
        not_moved_back=expected - sum(len(r.keys) for r in plan.moved_back.rows),
        restored_relationships=tuple(plan.restored_relationships),
        reinstated_consents=tuple(r.id for r in plan.reinstated_consents),
        carried_consents=tuple(r.id for r in plan.carried_consents),
    )
    record.close(outcome.to_document(), actor=actor, now=plan.now)
    await uow.merges.close(record)
    await uow.merges.decide_pair(
        PairDecision.of(
            plan.target.id,
            plan.source.id,
            PairStatus.NOT_DUPLICATE,
            reason="UNMERGED",
            decided_by=actor,
            decided_at=plan.now,
            merge_id=record.id,
        )
    )
    return outcome


async def merge_answer(result: MergeOutcome, uow: UnitOfWork) -> Answer[MergeOutcome]:
    """What a merge answers with: the target holding the golden record."""
    return Answer(result, await profile_documents(uow, result.target_id))


async def unmerge_answer(result: UnmergeOutcome, uow: UnitOfWork) -> Answer[UnmergeOutcome]:
    """What an unmerge answers with: the target and the source, apart again."""
    return Answer(result, await profile_documents(uow, result.target_id, result.source_id))
