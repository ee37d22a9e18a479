"""In-memory fakes of the application's ports, for unit tests of the handlers (never for integration)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from customer360.application.context import RequestContext
from customer360.application.environment import HandlerEnv
from customer360.application.ports import StoredResponse
from customer360.domain.consent import ConsentRecord
from customer360.domain.customer import CustomerProfile
from customer360.domain.errors import CustomerNotFound, RelationshipNotFound
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


class FakeCustomers:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._seen: dict[str, CustomerProfile] = {}

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
        self._seen[customer_id] = profile
        return profile

    async def owner_of_external_ref(self, ref: ExternalReference) -> str | None:
        for profile in self._store.profiles.values():
            if ref in profile.attributes.external_refs:
                return profile.id
        return None


class FakeRelationships:
    def __init__(self, store: Store) -> None:
        self._store = store
        self.pending: dict[str, Relationship] = {}

    async def add(self, relationship: Relationship) -> None:
        self.pending[relationship.id] = relationship

    async def save(self, relationship: Relationship) -> None:
        self.pending[relationship.id] = relationship

    async def get_for_update(self, relationship_id: str) -> Relationship:
        found = self.pending.get(relationship_id) or self._store.relationships.get(relationship_id)
        if found is None:
            raise RelationshipNotFound(relationship_id)
        return copy.deepcopy(found)

    def _all(self) -> list[Relationship]:
        return list({**self._store.relationships, **self.pending}.values())

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
    def __init__(self, store: Store) -> None:
        self._store = store
        self._new: list[ConsentRecord] = []

    def seen(self) -> list[ConsentRecord]:
        return list(self._new)

    async def add(self, record: ConsentRecord) -> None:
        self._new.append(record)

    async def for_customer(self, customer_id: str) -> list[ConsentRecord]:
        return [r for r in [*self._store.consents, *self._new] if r.customer_id == customer_id]


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
        self.store = store
        self.customers = FakeCustomers(store)
        self.relationships = FakeRelationships(store)
        self.consents = FakeConsents(store)
        self.idempotency = FakeReplies()
        self.views = FakeViews()
        self.merges = FakeMerges(store)
        self.links = FakeLinks(store)
        self.privacy = FakePrivacy(store.privacy, store.profiles)
        self.consent_rules = FakeConsentRules(store.privacy, store.consents)
        self.duplicates = FakeDuplicates(store)
        self.committed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def flush(self) -> None:
        return None

    async def commit(self) -> None:
        for profile in self.customers.seen():
            self.store.published.extend(profile.events)
            profile.events.clear()
            profile.mark_saved()
            self.store.profiles[profile.id] = copy.deepcopy(profile)
        for record in self.consents.seen():
            self.store.published.extend(record.events)
            self.store.consents.append(record)
        self.store.privacy.audited.extend(self.privacy.events)
        self.store.duplicates.audited.extend(self.duplicates.events)
        self.store.relationships.update(self.relationships.pending)
        self.store.replies.update(self.idempotency.saved)
        self.committed = True


def env(tenant: str = "tenant-001", actor: str = "steward-1") -> HandlerEnv:
    return HandlerEnv(
        context=RequestContext(tenant_id=tenant, actor=actor, correlation_id="corr-1"),
        clock=FixedClock(),
        phone_region="DE",
        hasher=lambda value: f"hash:{len(value)}",
    )
