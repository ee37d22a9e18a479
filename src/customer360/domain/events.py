"""Domain events: facts in the past tense, recorded by the aggregate method that made them true.

The unit of work turns them into audit rows and outbox rows in the same commit. ``changes`` keeps the
old and new value of every field, as primitives, for the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    customer_id: str
    occurred_at: datetime
    actor: str
    changes: tuple[FieldChange, ...] = field(default=())

    @property
    def action(self) -> str:
        """The audit trail's name for what happened."""
        raise NotImplementedError

    @property
    def entity(self) -> tuple[str, str]:
        """The (type, id) the audit row is about."""
        return ("CUSTOMER", self.customer_id)

    @property
    def published(self) -> bool:
        """Whether the event goes to the outbox; audit-only events (reads, legal holds) do not."""
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerProfileCreated(DomainEvent):
    kind: str
    name: str
    status: str
    segment: str | None
    primary_contact_id: str | None

    @property
    def action(self) -> str:
        return "PROFILE_CREATED"


@dataclass(frozen=True, slots=True, kw_only=True)
class NamedActivity(DomainEvent):
    """An event whose ``what`` is its audit action, about any entity (the profile unless named)."""

    what: str
    entity_type: str = "CUSTOMER"
    entity_id: str | None = None

    @property
    def action(self) -> str:
        return self.what

    @property
    def entity(self) -> tuple[str, str]:
        return (self.entity_type, self.entity_id or self.customer_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerProfileUpdated(NamedActivity):
    """Any change to a profile or to what belongs to it; ``what`` names the kind of change."""

    version: int
    source: str = "API"

    @property
    def changed_fields(self) -> list[str]:
        return sorted({c.field.split(".")[0].split("[")[0] for c in self.changes})


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentUpdated(DomainEvent):
    consent_id: str
    channel: str
    purpose: str
    status: str
    contact_point: str | None

    @property
    def action(self) -> str:
        return "CONSENT_RECORDED"

    @property
    def entity(self) -> tuple[str, str]:
        return ("CONSENT", self.consent_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeEvent(DomainEvent):
    """A merge or its undoing: the audit row is about the merge record."""

    source_customer_id: str
    merge_id: str

    @property
    def entity(self) -> tuple[str, str]:
        return ("MERGE", self.merge_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerMerged(MergeEvent):
    """``customer_id`` is the surviving target."""

    merge_reason: str

    @property
    def action(self) -> str:
        return "CUSTOMER_MERGED"


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerUnmerged(MergeEvent):
    """``customer_id`` is the former target; the source is active again."""

    @property
    def action(self) -> str:
        return "CUSTOMER_UNMERGED"


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerErased(DomainEvent):
    """GDPR erasure of a profile; ``changes`` is the proof (request, classes of data), never a value.

    Every profile of the erased lineage records one; only the one the request named is published (its
    ``erased_customer_ids`` lists them all), the others are audit rows of their own profiles."""

    erasure_request_id: str
    erased_customer_ids: tuple[str, ...]
    announce: bool

    @property
    def action(self) -> str:
        return "CUSTOMER_ERASED"

    @property
    def published(self) -> bool:
        return self.announce


@dataclass(frozen=True, slots=True, kw_only=True)
class PrivacyActivity(NamedActivity):
    """Audit-only: an export of personal data, a legal hold placed or released, an erasure blocked,
    a privacy flag set or cleared. ``changes`` names ids and codes, never personal values."""

    @property
    def published(self) -> bool:
        return False
