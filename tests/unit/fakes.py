"""In-memory fakes of the application's ports, for unit tests of the handlers (never for integration).

They are held to the SQL adapters' behaviour by the contract suites in ``tests/contracts`` (run against
both). A unit of work works on a copy of the store and its commit makes the copy the store's state, so
a unit left without commit leaves nothing behind, as a rolled-back transaction does.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from customer360.application.context import RequestContext
from customer360.application.environment import HandlerEnv
from customer360.application.ports import StoredResponse
from customer360.domain.consent import ConsentRecord
from customer360.domain.customer import CustomerProfile
from customer360.domain.errors import (
    ConcurrentModification,
    CustomerNotFound,
    DuplicateExternalReference,
    RelationshipNotFound,
)
from customer360.domain.events import DomainEvent
from customer360.domain.merge import MergeRecord, PairDecision
from customer360.domain.provenance import Provenance
from customer360.domain.relationships import Relationship, RelationshipType
from customer360.domain.survivorship import SurvivorshipPolicy
from customer360.domain.values import ExternalReference
from tests.unit.duplicate_fakes import DuplicateState, FakeDuplicates
from tests.unit.merge_fakes import FakeLinks, FakeMerges
from tests.unit.privacy_fakes import FakeConsentRules, FakePrivacy, PrivacyState


class FixedClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        self.current += timedelta(milliseconds=1)
        return self.current


@dataclass
class Store:
    """What a committed fake unit of work leaves behind."""

    profiles: dict[str, CustomerProfile] = field(default_factory=dict)
    relationships: dict[str, Relationship] = field(default_factory=dict)
    consents: list[ConsentRecord] = field(default_factory=list)
    published: list[DomainEvent] = field(default_factory=list)
    replies: dict[str, StoredResponse] = field(default_factory=dict)
    # The merge workflow's state (tests/unit/merge_fakes.py).
    merges: dict[str, MergeRecord] = field(default_factory=dict)
    provenance: dict[str, Provenance] = field(default_factory=dict)
    pairs: dict[tuple[str, str], PairDecision] = field(default_factory=dict)
    policy: SurvivorshipPolicy | None = None
    field_changes: dict[str, dict[str, datetime]] = field(default_factory=dict)
    # The privacy workflows' state (tests/unit/privacy_fakes.py).
    privacy: PrivacyState = field(default_factory=PrivacyState)
    # Duplicate detection's state (tests/unit/duplicate_fakes.py).
    duplicates: DuplicateState = field(default_factory=DuplicateState)
    # When each external reference was first stored (PostgreSQL reads a profile's references in that order).
    reference_times: dict[ExternalReference, datetime] = field(default_factory=dict)


class FakeCustomers:
    """Profiles are written at flush (the unit of work flushes before it commits), as the SQL repository does."""

    def __init__(self, store: Store, committed: Store) -> None:
        self._store = store
        self._committed = committed
        self._seen: dict[str, CustomerProfile] = {}
        self._flushed: set[str] = set()

    def seen(self) -> list[CustomerProfile]:
        return list(self._seen.values())

    async def add(self, profile: CustomerProfile) -> None:
        self._seen[profile.id] = profile

    async def get(self, customer_id: str) -> CustomerProfile:
        return await self.get_for_update(customer_id)

    async def get_for_update(self, customer_id: str) -> CustomerProfile:
        if customer_id in self._seen:
            return self._seen[customer_id]
        if customer_id not in self._store.profiles:
            raise CustomerNotFound(customer_id)
        profile = copy.deepcopy(self._store.profiles[customer_id])
        # As PostgreSQL reads them: contacts by id, references by when they were stored, then by name.
        profile.contacts.sort(key=lambda c: c.id)
        times = self._store.reference_times
        refs = sorted(
            profile.attributes.external_refs,
            key=lambda r: (times.get(r, profile.created_at), r.source_system, r.external_id),
        )
        profile.attributes = dataclasses.replace(profile.attributes, external_refs=tuple(refs))
        self._seen[customer_id] = profile
        return profile

    async def flush(self) -> None:
        """Write new and changed profiles; refused as the database refuses: a version another unit moved
        since this one loaded it (ConcurrentModification), a reference another profile holds."""
        for profile in self._seen.values():
            stored = self._store.profiles.get(profile.id)
            if stored is not None and not profile.changed:
                continue
            # Before this unit wrote it, the profile's row is whatever the other units committed.
            current = stored if profile.id in self._flushed else self._committed.profiles.get(profile.id)
            if current is not None and current.version != profile.loaded_version:
                raise ConcurrentModification(f"Customer {profile.id} was changed concurrently")
            for ref in profile.attributes.external_refs:
                owner = self._owner(ref)
                if owner not in (None, profile.id) and owner not in self._seen:
                    raise DuplicateExternalReference(ref.source_system, None)
                self._store.reference_times.setdefault(ref, profile.updated_at)
            profile.mark_saved()
            saved = copy.deepcopy(profile)
            saved.events.clear()
            self._store.profiles[profile.id] = saved
            self._flushed.add(profile.id)

    def _owner(self, ref: ExternalReference) -> str | None:
        return next((p.id for p in self._store.profiles.values() if ref in p.attributes.external_refs), None)

    async def owner_of_external_ref(self, ref: ExternalReference) -> str | None:
        return self._owner(ref)


class FakeRelationships:
    """Written at once, as the SQL repository does (the unit of work's copy is what a rollback drops)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def add(self, relationship: Relationship) -> None:
        self._store.relationships[relationship.id] = copy.deepcopy(relationship)

    async def save(self, relationship: Relationship) -> None:
        self._store.relationships[relationship.id] = copy.deepcopy(relationship)

    async def get_for_update(self, relationship_id: str) -> Relationship:
        found = self._store.relationships.get(relationship_id)
        if found is None:
            raise RelationshipNotFound(relationship_id)
        return copy.deepcopy(found)

    def _all(self) -> list[Relationship]:
        return sorted(self._store.relationships.values(), key=lambda r: r.id)

    async def outgoing(self, customer_id: str) -> list[Relationship]:
        return [r for r in self._all() if r.from_customer_id == customer_id and r.active]

    async def ancestors(self, customer_id: str) -> list[str]:
        found: list[str] = []
        current = customer_id
        while True:
            parents = [
                r.to_customer_id
                for r in self._all()
                if r.from_customer_id == current and r.type is RelationshipType.SUBSIDIARY_OF and r.active
            ]
            if not parents or parents[0] in found:
                return found
            found.append(parents[0])
            current = parents[0]

    async def lock_hierarchy(self) -> None:
        return None


class FakeConsents:
    """Appended at flush, as the SQL repository does; read committed ones in (recorded_at, id) order first."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._new: list[ConsentRecord] = []
        self._seen: list[ConsentRecord] = []

    def seen(self) -> list[ConsentRecord]:
        return list(self._seen)

    async def add(self, record: ConsentRecord) -> None:
        self._new.append(record)
        self._seen.append(record)

    async def for_customer(self, customer_id: str) -> list[ConsentRecord]:
        stored = sorted(self._store.consents, key=lambda r: (r.recorded_at, r.id))
        return [r for r in [*stored, *self._new] if r.customer_id == customer_id]

    async def flush(self) -> None:
        self._store.consents.extend(self._new)
        self._new.clear()


class FakeReplies:
    def __init__(self) -> None:
        self.saved: dict[str, StoredResponse] = {}

    async def save(self, key: str, response: StoredResponse) -> None:
        self.saved[key] = response


class FakeViews:
    async def profile(self, customer_id: str) -> dict[str, Any] | None:
        return None

    async def consent(self, consent_id: str) -> dict[str, Any] | None:
        return None

    async def relationship(self, customer_id: str, relationship_id: str) -> dict[str, Any] | None:
        return None


class FakeUnitOfWork:
    def __init__(self, store: Store) -> None:
        self._committed = store
        # The transaction's view: every port works on it; commit makes it the store's state.
        self.store = copy.deepcopy(store)
        self.customers = FakeCustomers(self.store, store)
        self.relationships = FakeRelationships(self.store)
        self.consents = FakeConsents(self.store)
        self.idempotency = FakeReplies()
        self.views = FakeViews()
        self.merges = FakeMerges(self.store)
        self.links = FakeLinks(self.store)
        self.privacy = FakePrivacy(self.store.privacy, self.store.profiles)
        self.consent_rules = FakeConsentRules(self.store.privacy, self.store.consents)
        self.duplicates = FakeDuplicates(self.store)
        self.committed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def flush(self, *, answer: bool = False) -> None:
        await self.customers.flush()
        await self.consents.flush()

    async def commit(self) -> None:
        await self.flush()
        store = self.store
        audited: list[DomainEvent] = []
        for profile in self.customers.seen():
            audited.extend(profile.events)
            store.published.extend(profile.events)
            profile.events.clear()
        for record in self.consents.seen():
            audited.extend(record.events)
            store.published.extend(record.events)
            record.events.clear()
        audited.extend(self.privacy.events)
        audited.extend(self.duplicates.events)
        store.privacy.audited.extend(self.privacy.events)
        store.duplicates.audited.extend(self.duplicates.events)
        _remember_field_changes(store, audited)
        store.replies.update(self.idempotency.saved)
        for name in (f.name for f in dataclasses.fields(Store)):
            setattr(self._committed, name, getattr(store, name))
        self.committed = True


def _remember_field_changes(store: Store, events: list[DomainEvent]) -> None:
    """When each field of a profile last changed, as the SQL adapter reads it from the audit trail."""
    for event in events:
        if event.entity[0] != "CUSTOMER":
            continue
        changed = store.field_changes.setdefault(event.customer_id, {})
        for change in event.changes:
            if change.field and event.occurred_at >= changed.get(change.field, event.occurred_at):
                changed[change.field] = event.occurred_at


def env(tenant: str = "tenant-001", actor: str = "steward-1") -> HandlerEnv:
    return HandlerEnv(
        context=RequestContext(tenant_id=tenant, actor=actor, correlation_id="corr-1"),
        clock=FixedClock(),
        phone_region="DE",
        hasher=lambda value: f"hash:{len(value)}",
    )
