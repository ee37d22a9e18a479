"""Merging two profiles into one golden record (the seed's CustomerMergeService), and the record that
makes every merge reversible (invariant 3 of the seed: "every merge is logged and reversible").

The target survives; the source becomes ``MERGED`` with ``merged_into`` = target and keeps its own
attributes (it is kept, not deleted). Survivorship (``domain.survivorship``) decides the golden values;
this module moves the source's contacts, decides which relationships must be retired, and defines the
``MergeRecord``: before-images of both profiles and everything the merge touched, which is exactly what
``domain.unmerge`` needs to undo it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from customer360.domain.customer import CustomerProfile
from customer360.domain.errors import BusinessRuleViolation, InvalidValue, NotMerged
from customer360.domain.profile_attributes import Contact, ProfileAttributes
from customer360.domain.provenance import Provenance
from customer360.domain.relationships import Relationship, RelationshipType
from customer360.domain.survivorship import FieldDecision
from customer360.domain.values import CustomerStatus

_REASON = re.compile(r"^[A-Z][A-Z0-9_]{0,39}$")


class MergeStatus(StrEnum):
    MERGED = "MERGED"
    UNMERGED = "UNMERGED"


def merge_reason(value: str) -> str:
    reason = value.strip().upper()
    if not _REASON.match(reason):
        raise InvalidValue("mergeReason", "must be an upper-case code such as DUPLICATE (letters, digits, '_')")
    return reason


@dataclass(frozen=True, slots=True)
class ProfileImage:
    """A profile as it was just before a merge: what an unmerge restores."""

    customer_id: str
    status: CustomerStatus
    merged_into: str | None
    attributes: ProfileAttributes
    contacts: tuple[Contact, ...]
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, profile: CustomerProfile) -> ProfileImage:
        return cls(
            customer_id=profile.id,
            status=profile.status,
            merged_into=profile.merged_into,
            attributes=profile.attributes,
            contacts=tuple(dataclasses.replace(c) for c in profile.contacts),
            version=profile.version,
            updated_at=profile.updated_at,
        )


@dataclass(frozen=True, slots=True)
class RepointedRows:
    """Rows of one table column that a merge re-pointed from source to target (primary keys without the
    tenant). Filled and read by the persistence adapter; the domain only keeps them in the record."""

    table: str
    column: str
    keys: tuple[tuple[Any, ...], ...]


@dataclass(slots=True)
class MergeRecord:
    """The merge audit record: before-images, the golden record and every row the merge touched."""

    id: str
    target_id: str
    source_id: str
    reason: str
    merged_at: datetime
    merged_by: str
    target_before: ProfileImage
    source_before: ProfileImage
    target_provenance_before: Provenance
    golden: ProfileAttributes
    decisions: tuple[FieldDecision, ...]
    moved_contacts: tuple[str, ...]
    retired_contacts: tuple[str, ...]
    retired_relationships: tuple[str, ...]
    derived_consents: tuple[str, ...]
    repointed: tuple[RepointedRows, ...] = ()
    policy: Mapping[str, Any] = field(default_factory=dict)
    choices: Mapping[str, str] = field(default_factory=dict)
    status: MergeStatus = MergeStatus.MERGED
    unmerged_at: datetime | None = None
    unmerged_by: str | None = None
    unmerge_report: Mapping[str, Any] | None = None

    @property
    def active(self) -> bool:
        return self.status is MergeStatus.MERGED

    def close(self, report: Mapping[str, Any], *, actor: str, now: datetime) -> None:
        """The merge was undone; ``report`` is what the unmerge did (``domain.unmerge.UnmergeReport``)."""
        self.status = MergeStatus.UNMERGED
        self.unmerged_at = now
        self.unmerged_by = actor
        self.unmerge_report = report


# -- guards ------------------------------------------------------------------------------------------
def check_can_merge(target: CustomerProfile, source: CustomerProfile) -> None:
    if target.id == source.id:
        raise BusinessRuleViolation("SELF_MERGE", "A profile cannot be merged into itself", {"customerId": target.id})
    # A merged source answers 409 with its survivor; so does a merged target.
    source.check_is_writable()
    target.check_is_writable()
    if target.attributes.kind is not source.attributes.kind:
        raise BusinessRuleViolation(
            "MERGE_KIND_MISMATCH",
            "An organization and a person cannot be merged",
            {"targetCustomerId": target.id, "sourceCustomerId": source.id},
        )


# -- contacts ----------------------------------------------------------------------------------------
def _same_person(a: Contact, b: Contact) -> bool:
    """Same name (case-insensitive) and a shared e-mail or phone, or neither has any contact point."""
    if a.attributes.name.casefold() != b.attributes.name.casefold():
        return False
    emails_a, emails_b = {e.key for e in a.attributes.emails}, {e.key for e in b.attributes.emails}
    phones_a, phones_b = {p.e164 for p in a.attributes.phones}, {p.e164 for p in b.attributes.phones}
    if emails_a & emails_b or phones_a & phones_b:
        return True
    return not (emails_a or emails_b or phones_a or phones_b)


@dataclass(frozen=True, slots=True)
class ContactMove:
    contacts: list[Contact]
    moved: tuple[str, ...]
    retired: tuple[str, ...]


def move_contacts(target: CustomerProfile, source: CustomerProfile, now: datetime) -> ContactMove:
    """Every contact of the source moves to the target (nothing is deleted). A source contact that
    duplicates an active target contact moves retired; the target's primary contacts keep their roles."""
    contacts = [dataclasses.replace(c) for c in target.contacts]
    taken = frozenset().union(*(c.attributes.primary_roles for c in target.active_contacts))
    moved, retired = [], []
    for original in source.contacts:
        contact = dataclasses.replace(original)
        if contact.active and any(_same_person(contact, t) for t in target.active_contacts):
            contact.removed_at = contact.updated_at = now
            retired.append(contact.id)
        elif contact.active and contact.attributes.primary_roles & taken:
            kept = contact.attributes.primary_roles - taken
            contact.attributes = dataclasses.replace(contact.attributes, primary_roles=kept)
            contact.updated_at = now
        if contact.active:
            taken |= contact.attributes.primary_roles
        contacts.append(contact)
        moved.append(contact.id)
    return ContactMove(contacts, tuple(moved), tuple(retired))


# -- relationships -----------------------------------------------------------------------------------
def relationships_to_retire(target_id: str, source_id: str, relationships: Sequence[Relationship]) -> list[str]:
    """Links the merge retires instead of moving: links between the two profiles (they would become
    self-links), the source's links that duplicate one of the target's, and the source's parent link
    when the target already has a parent for an overlapping period (a hierarchy stays a forest)."""

    def moved(rel: Relationship) -> Relationship:
        ends = [target_id if end == source_id else end for end in (rel.from_customer_id, rel.to_customer_id)]
        return dataclasses.replace(rel, from_customer_id=ends[0], to_customer_id=ends[1])

    active = [r for r in relationships if r.active]
    kept = [r for r in active if source_id not in (r.from_customer_id, r.to_customer_id)]
    retired = []
    for rel in sorted(active, key=lambda r: r.id):
        ends = {rel.from_customer_id, rel.to_customer_id}
        if source_id not in ends:
            continue
        if ends == {source_id, target_id}:
            retired.append(rel.id)
            continue
        candidate = moved(rel)
        duplicate = any(
            other.type is candidate.type
            and (other.from_customer_id, other.to_customer_id) == (candidate.from_customer_id, candidate.to_customer_id)
            and other.overlaps(candidate.valid_from, candidate.valid_to)
            for other in kept
        )
        second_parent = candidate.type is RelationshipType.SUBSIDIARY_OF and any(
            other.type is RelationshipType.SUBSIDIARY_OF
            and other.from_customer_id == candidate.from_customer_id
            and other.overlaps(candidate.valid_from, candidate.valid_to)
            for other in kept
        )
        if duplicate or second_parent:
            retired.append(rel.id)
        else:
            kept.append(candidate)
    return retired


# -- unmerge guards and pair decisions ---------------------------------------------------------------
def check_can_unmerge(record: MergeRecord | None, target: CustomerProfile, source: CustomerProfile) -> MergeRecord:
    """The hook every unmerge passes: the pair must be merged, and neither side erased.

    GDPR erasure (issue 5) extends this: an unmerge must never bring back an erased lineage's data.
    """
    target.check_is_writable()
    if record is None or not record.active:
        raise NotMerged(target.id, source.id)
    if CustomerStatus.ERASED in (target.status, source.status, record.source_before.status):
        raise BusinessRuleViolation(
            "LINEAGE_ERASED", "A merge involving an erased profile cannot be undone", {"mergeId": record.id}
        )
    return record


class PairStatus(StrEnum):
    """What is known about two profiles: a steward's verdict (merged, not a duplicate) or a pair queued
    for one (a profile created despite a likely duplicate: the creator's "create anyway" is no verdict)."""

    MERGED = "MERGED"
    NOT_DUPLICATE = "NOT_DUPLICATE"
    PENDING_REVIEW = "PENDING_REVIEW"

    @property
    def is_verdict(self) -> bool:
        """A steward decided it: the pair is settled, left out of scans, and a label for the model."""
        return self is not PairStatus.PENDING_REVIEW


@dataclass(frozen=True, slots=True)
class PairDecision:
    low_id: str
    high_id: str
    status: PairStatus
    reason: str
    decided_by: str
    decided_at: datetime
    merge_id: str | None = None

    @classmethod
    def of(cls, a: str, b: str, status: PairStatus, **values: Any) -> PairDecision:
        """Pairs are unordered: the lower id first, so (a, b) and (b, a) are one row."""
        low, high = sorted((a, b))
        return cls(low, high, status, **values)


def contact_point_keys(image: ProfileImage) -> set[str]:
    """Every consent contact point key (``domain.consent.ContactPoint.key``) a profile image holds."""
    keys: set[str] = set()
    owners: Iterable[Any] = [image.attributes, *(c.attributes for c in image.contacts)]
    for attributes in owners:
        keys |= {f"EMAIL:{e.key}" for e in attributes.emails}
        keys |= {f"PHONE:{p.e164}" for p in attributes.phones}
    keys |= {f"CONTACT:{c.id}" for c in image.contacts}
    return keys
