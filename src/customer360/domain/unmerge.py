"""Undoing a merge: the source comes back as it was, the target keeps what changed after the merge.

- The source is restored from its before-image (attributes, status, contacts in their before-merge
  state); the rows the merge re-pointed move back (persistence does that, by primary key).
- A single value of the target that came from the source through this merge goes back to the target's
  own value before the merge, unless it was changed after the merge: then the change stays and a
  conflict is reported. In a chain (A←B, then A←C) "the value before" skips merges already undone, so
  the merges of one target can be undone in any order.
- List items that only this merge brought are taken off the target, unless they were changed after it
  (kept, reported); target items that the merge's rule dropped come back.
- Everything else of the target stays as it is: its own values changed after the merge, contacts and
  items added after it.
- A source contact changed on the target after the merge still goes back to the source, in its
  before-merge state; the conflict is reported (the change itself is in the target's audit trail).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from customer360.domain.customer import CustomerProfile
from customer360.domain.merge import MergeRecord
from customer360.domain.profile_attributes import Contact, ProfileAttributes
from customer360.domain.provenance import (
    ORIGINAL,
    UPDATED,
    FieldProvenance,
    ItemProvenance,
    ListProvenance,
    Origin,
    Provenance,
    fingerprint,
    item_key,
)
from customer360.domain.survivorship import FIELDS, FieldSpec
from customer360.domain.values import ExternalReference

CHANGED_AFTER_MERGE = "CHANGED_AFTER_MERGE"
REMOVED_AFTER_MERGE = "REMOVED_AFTER_MERGE"
PRIMARY_CONFLICT = "PRIMARY_CONFLICT"
KEPT_ON_TARGET = "KEPT_ON_TARGET"
RESTORED_ON_SOURCE = "RESTORED_ON_SOURCE"
NOT_RESTORED = "NOT_RESTORED"


@dataclass(frozen=True, slots=True)
class UnmergeConflict:
    """Something changed after the merge that the unmerge could not simply take back (no values)."""

    field: str
    reason: str
    resolution: str


@dataclass(frozen=True, slots=True)
class UnmergeReport:
    """What an unmerge did: kept with the merge record and answered to the caller (ids and counts only)."""

    conflicts: tuple[UnmergeConflict, ...]
    #: Rows moved back to the source per ``table.column`` (contacts as ``contact.customer_id``).
    moved_back: Mapping[str, int]
    #: Re-pointed rows that no longer pointed at the target.
    not_moved_back: int
    restored_relationships: tuple[str, ...]
    reinstated_consents: tuple[str, ...]
    carried_consents: tuple[str, ...]

    def to_document(self) -> dict[str, Any]:
        return {
            "conflicts": [{"field": c.field, "reason": c.reason, "resolution": c.resolution} for c in self.conflicts],
            "movedBack": dict(self.moved_back),
            "notMovedBack": self.not_moved_back,
            "restoredRelationships": list(self.restored_relationships),
            "reinstatedConsents": list(self.reinstated_consents),
            "carriedConsents": list(self.carried_consents),
        }


@dataclass(frozen=True, slots=True)
class UnmergePlan:
    target_attributes: ProfileAttributes
    target_contacts: list[Contact]
    target_provenance: Provenance
    source_attributes: ProfileAttributes
    source_contacts: list[Contact]
    conflicts: tuple[UnmergeConflict, ...]


class _Plan:
    def __init__(self, record: MergeRecord, target: CustomerProfile, stored: Provenance) -> None:
        self.record = record
        self.target = target
        self.stored = stored
        self.values: dict[str, Any] = {
            f.name: getattr(target.attributes, f.name) for f in dataclasses.fields(ProfileAttributes)
        }
        self.fields = dict(stored.fields)
        self.lists = dict(stored.lists)
        self.conflicts: list[UnmergeConflict] = []

    def conflict(self, field: str, reason: str, resolution: str) -> None:
        found = UnmergeConflict(field, reason, resolution)
        if found not in self.conflicts:
            self.conflicts.append(found)

    def single(self, spec: FieldSpec, history: Mapping[str, MergeRecord]) -> None:
        entry = self.stored.fields.get(spec.name)
        if entry is None:
            return
        current = self.values[spec.attribute]
        if entry.origin.merge_id == self.record.id:
            if fingerprint(current) != entry.fingerprint:
                self.conflict(spec.name, CHANGED_AFTER_MERGE, KEPT_ON_TARGET)
                self.fields[spec.name] = FieldProvenance(Origin(self.target.id), UPDATED, None, fingerprint(current))
                return
            image, before = value_before(spec, self.record, history)
            value = getattr(image, spec.attribute)
            self.values[spec.attribute] = value
            if spec.name == "website":
                self.values["domain"] = image.domain
            self.fields[spec.name] = before or FieldProvenance(
                Origin(self.target.id), ORIGINAL, None, fingerprint(value)
            )
        elif entry.replaced_merge == self.record.id:
            self.conflict(spec.name, CHANGED_AFTER_MERGE, KEPT_ON_TARGET)
            self.fields[spec.name] = dataclasses.replace(entry, replaced_merge=None)

    def items(self, spec: FieldSpec) -> None:
        listed = self.lists.get(spec.name)
        held = listed.by_key() if listed else {}
        own = (Origin(self.target.id),)
        kept: list[Any] = []
        entries: list[ItemProvenance] = []
        for item in self.values[spec.attribute]:
            key, fp = item_key(spec, item), fingerprint(item)
            entry = held.get(key)
            if entry is None or all(o.merge_id != self.record.id for o in entry.origins):
                kept.append(item)
                entries.append(entry or ItemProvenance(key, fp, own))
            elif entry.fingerprint != fp:
                self.conflict(spec.name, CHANGED_AFTER_MERGE, KEPT_ON_TARGET)
                kept.append(item)
                entries.append(ItemProvenance(key, fp, own))
            else:
                remaining = tuple(o for o in entry.origins if o.merge_id != self.record.id)
                if remaining:
                    kept.append(item)
                    entries.append(dataclasses.replace(entry, origins=remaining))
        # Target items the merge's rule dropped (a rule other than UNION) come back.
        golden = {item_key(spec, v) for v in getattr(self.record.golden, spec.attribute)}
        present = {item_key(spec, v) for v in kept}
        before = self.record.target_provenance_before.lists.get(spec.name)
        before_items = before.by_key() if before else {}
        for item in getattr(self.record.target_before.attributes, spec.attribute):
            key = item_key(spec, item)
            if key not in golden and key not in present:
                kept.append(item)
                present.add(key)
                entries.append(before_items.get(key) or ItemProvenance(key, fingerprint(item), own))
        self.values[spec.attribute] = tuple(kept)
        rule = listed.rule if listed else ORIGINAL
        self.lists[spec.name] = ListProvenance(rule, listed.decided_by if listed else None, tuple(entries))

    def external_refs(self, moved_back: frozenset[ExternalReference]) -> None:
        spec = next(s for s in FIELDS if s.name == "externalRefs")
        listed = self.lists.get(spec.name)
        held = listed.by_key() if listed else {}
        own = (Origin(self.target.id),)
        refs = tuple(r for r in self.values["external_refs"] if r not in moved_back)
        entries = []
        for ref in refs:
            key = item_key(spec, ref)
            entry = held.get(key)
            origins = tuple(o for o in entry.origins if o.merge_id != self.record.id) if entry else own
            entries.append(ItemProvenance(key, fingerprint(ref), origins or own))
        self.values["external_refs"] = refs
        self.lists[spec.name] = ListProvenance(listed.rule if listed else ORIGINAL, None, tuple(entries))

    def one_primary_email(self) -> None:
        emails = self.values["emails"]
        if sum(e.primary for e in emails) <= 1:
            return
        first = next(i for i, e in enumerate(emails) if e.primary)
        self.values["emails"] = tuple(
            dataclasses.replace(e, primary=False) if e.primary and i != first else e for i, e in enumerate(emails)
        )
        self.conflict("emails", PRIMARY_CONFLICT, KEPT_ON_TARGET)


def value_before(spec: FieldSpec, record: MergeRecord, history: Mapping[str, MergeRecord]) -> tuple[Any, Any]:
    """(attributes image, provenance entry) of the target before ``record``, skipping undone merges."""
    current = record
    while True:
        entry = current.target_provenance_before.fields.get(spec.name)
        via = entry.origin.merge_id if entry else None
        earlier = history.get(via) if via else None
        # An erasure scrubs the images of the merges its lineage took part in (their provenance is
        # emptied): never walk into one, its values are gone on purpose.
        scrubbed = earlier is not None and not earlier.target_provenance_before.fields
        if earlier is None or earlier.active or earlier.id == current.id or scrubbed:
            return current.target_before.attributes, entry
        current = earlier


def plan_unmerge(
    record: MergeRecord,
    target: CustomerProfile,
    stored: Provenance | None,
    history: Mapping[str, MergeRecord],
    moved_back_refs: frozenset[ExternalReference],
    *,
    today: date,
) -> UnmergePlan:
    """What the target and the source look like once ``record`` is undone (see the module docstring)."""
    plan = _Plan(record, target, stored or Provenance.native(target.id, target.attributes))
    for spec in FIELDS:
        if spec.name == "externalRefs":
            plan.external_refs(moved_back_refs)
        elif spec.multi:
            plan.items(spec)
        else:
            plan.single(spec, history)
    plan.one_primary_email()

    moved = set(record.moved_contacts)
    images = {c.id: c for c in record.source_before.contacts}
    on_target = {c.id: c for c in target.contacts}
    source_contacts = []
    for contact_id in record.moved_contacts:
        current = on_target.get(contact_id)
        if current is None:
            plan.conflict(f"contacts[{contact_id}]", REMOVED_AFTER_MERGE, NOT_RESTORED)
            continue
        if current.updated_at > record.merged_at:
            plan.conflict(f"contacts[{contact_id}]", CHANGED_AFTER_MERGE, RESTORED_ON_SOURCE)
        source_contacts.append(dataclasses.replace(images[contact_id]))

    before = record.source_before.attributes
    restored_refs = tuple(r for r in before.external_refs if r in moved_back_refs)
    if len(restored_refs) != len(before.external_refs):
        plan.conflict("externalRefs", REMOVED_AFTER_MERGE, NOT_RESTORED)

    attributes = ProfileAttributes.build(today=today, **plan.values)
    contacts_origin = {k: v for k, v in plan.stored.contacts.items() if k not in moved}
    provenance = Provenance(target.id, plan.fields, plan.lists, contacts_origin).reconciled(attributes)
    return UnmergePlan(
        target_attributes=attributes,
        target_contacts=[dataclasses.replace(c) for c in target.contacts if c.id not in moved],
        target_provenance=provenance,
        source_attributes=dataclasses.replace(before, external_refs=restored_refs),
        source_contacts=source_contacts,
        conflicts=tuple(plan.conflicts),
    )
