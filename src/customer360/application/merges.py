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

from customer360.application.environment import HandlerEnv
from customer360.application.ports import UnitOfWork
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
    apply_merge,
    check_can_merge,
    check_can_unmerge,
    contact_point_keys,
    merge_reason,
    move_contacts,
    relationships_to_retire,
)
from customer360.domain.provenance import Provenance
from customer360.domain.relationships import Relationship, RelationshipType
from customer360.domain.survivorship import Candidate, GoldenRecord, field_choices, survive
from customer360.domain.unmerge import UnmergeConflict, apply_unmerge, plan_unmerge


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
    contacts: list[Any]
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


@dataclass(frozen=True, slots=True)
class UnmergeOutcome:
    merge_id: str
    target_id: str
    source_id: str
    conflicts: tuple[UnmergeConflict, ...]
    moved_back: dict[str, int]
    not_moved_back: int
    restored_relationships: tuple[str, ...]
    reinstated_consents: tuple[str, ...]
    carried_consents: tuple[str, ...]


@dataclass(slots=True)
class _Prepared:
    target: CustomerProfile
    source: CustomerProfile
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


async def _prepare(cmd: MergeCustomers, uow: UnitOfWork, env: HandlerEnv, *, lock: bool) -> _Prepared:
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
    return _Prepared(
        target=target,
        source=source,
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
    prepared = await _prepare(cmd, uow, env, lock=False)
    return MergePreview(
        target_id=prepared.target.id,
        source_id=prepared.source.id,
        golden=prepared.golden,
        contacts=prepared.contacts.contacts,
        provenance=prepared.provenance,
        would_move=await uow.links.count(prepared.source.id),
        retired_contacts=prepared.contacts.retired,
        retired_relationships=tuple(prepared.retired_relationships),
        derived_consents=prepared.derived_consents,
        target_version=prepared.target.version,
        source_version=prepared.source.version,
    )


async def merge_customers(cmd: MergeCustomers, uow: UnitOfWork, env: HandlerEnv) -> MergeOutcome:
    """MergeCustomerProfiles: the source's data and everything pointing at it move to the target."""
    if cmd.target_version is None:
        raise PreconditionRequired("If-Match (or targetVersion)")
    if cmd.source_version is None:
        raise PreconditionRequired("sourceVersion")
    reason = merge_reason(cmd.reason)
    p = await _prepare(cmd, uow, env, lock=True)
    target, source, now, actor = p.target, p.source, p.now, env.context.actor
    hierarchy = _hierarchy_involved(p.relationships)
    if hierarchy:
        await uow.relationships.lock_hierarchy()
    record = MergeRecord(
        id=p.merge_id,
        target_id=target.id,
        source_id=source.id,
        reason=reason,
        merged_at=now,
        merged_by=actor,
        target_before=ProfileImage.of(target),
        source_before=ProfileImage.of(source),
        target_provenance_before=p.target_provenance,
        golden=p.golden.attributes,
        decisions=p.golden.decisions,
        moved_contacts=p.contacts.moved,
        retired_contacts=p.contacts.retired,
        retired_relationships=tuple(p.retired_relationships),
        derived_consents=tuple(r.id for r in p.derived_consents),
        policy=p.policy,
        choices=dict(cmd.field_choices),
    )
    await uow.links.retire_relationships(p.retired_relationships, now)
    moved = await uow.links.repoint(source.id, target.id)
    record.repointed = moved.rows
    if hierarchy:
        await _check_no_cycle(uow, target.id)
    apply_merge(target, source, p.golden, p.contacts, merge_id=p.merge_id, reason=reason, actor=actor, now=now)
    for consent in p.derived_consents:
        await uow.consents.add(consent)
    await uow.merges.save_provenance(p.provenance, now)
    await uow.merges.add(record)
    await uow.merges.decide_pair(
        PairDecision.of(
            target.id,
            source.id,
            PairStatus.MERGED,
            reason=reason,
            decided_by=actor,
            decided_at=now,
            merge_id=p.merge_id,
        )
    )
    counts = {f"{r.table}.{r.column}": len(r.keys) for r in moved.rows}
    counts["contact.customer_id"] = len(p.contacts.moved)
    return MergeOutcome(
        merge_id=p.merge_id,
        target_id=target.id,
        source_id=source.id,
        reason=reason,
        moved=counts,
        left_behind=moved.left_behind,
        retired_contacts=p.contacts.retired,
        retired_relationships=tuple(p.retired_relationships),
        derived_consents=record.derived_consents,
    )


async def unmerge_customers(cmd: UnmergeCustomers, uow: UnitOfWork, env: HandlerEnv) -> UnmergeOutcome:
    """Undo a standing merge: the source comes back as it was; the target keeps later changes."""
    pair = await _load_pair(uow, cmd.target_id, cmd.source_id, lock=True)
    target, source = pair[cmd.target_id], pair[cmd.source_id]
    if target.id == source.id:
        raise NotMerged(target.id, source.id)
    record = check_can_unmerge(await uow.merges.active_merge(target.id, source.id), target, source)
    target.check_version(cmd.target_version)
    now, actor = env.clock.now(), env.context.actor
    relationships = await uow.links.relationships_touching([target.id, source.id])
    hierarchy = _hierarchy_involved(relationships)
    if hierarchy:
        await uow.relationships.lock_hierarchy()
    moved_back = await uow.links.move_back(record.repointed, source.id, target.id)
    restored = await uow.links.restore_relationships(record.retired_relationships, record.merged_at)
    history = {r.id: r for r in await uow.merges.merges_into(target.id)}
    plan = plan_unmerge(
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
        actor=actor,
        now=now,
    )
    if hierarchy or restored:
        await _check_no_cycle(uow, target.id, source.id)
    apply_unmerge(target, source, record, plan, actor=actor, now=now)
    for consent in [*reinstated, *carried]:
        await uow.consents.add(consent)
    await uow.merges.save_provenance(plan.target_provenance, now)
    counts = {f"{r.table}.{r.column}": len(r.keys) for r in moved_back.rows}
    counts["contact.customer_id"] = len(plan.source_contacts)
    expected = sum(len(r.keys) for r in record.repointed)
    outcome = UnmergeOutcome(
        merge_id=record.id,
        target_id=target.id,
        source_id=source.id,
        conflicts=plan.conflicts,
        moved_back=counts,
        not_moved_back=expected - sum(len(r.keys) for r in moved_back.rows),
        restored_relationships=tuple(restored),
        reinstated_consents=tuple(r.id for r in reinstated),
        carried_consents=tuple(r.id for r in carried),
    )
    record.unmerge_report = {
        "conflicts": [{"field": c.field, "reason": c.reason, "resolution": c.resolution} for c in plan.conflicts],
        "movedBack": counts,
        "notMovedBack": outcome.not_moved_back,
        "restoredRelationships": list(restored),
        "reinstatedConsents": list(outcome.reinstated_consents),
        "carriedConsents": list(outcome.carried_consents),
    }
    await uow.merges.close(record)
    await uow.merges.decide_pair(
        PairDecision.of(
            target.id,
            source.id,
            PairStatus.NOT_DUPLICATE,
            reason="UNMERGED",
            decided_by=actor,
            decided_at=now,
            merge_id=record.id,
        )
    )
    return outcome
