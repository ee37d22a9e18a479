"""Driven ports of the application (the seed's CustomerRepository, ConsentRepository, EventPublisherPort…).

Adapters live in ``infrastructure``; unit tests use in-memory fakes. ``typing.Protocol`` is enough:
nothing here needs an abstract base class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from customer360.application.context import RequestContext
from customer360.application.duplicate_ports import DuplicateIndex
from customer360.application.privacy_ports import ConsentRules, PrivacyStore
from customer360.domain.consent import ConsentRecord
from customer360.domain.customer import CustomerProfile
from customer360.domain.merge import MergeRecord, PairDecision, RepointedRows
from customer360.domain.provenance import Provenance
from customer360.domain.relationships import Relationship
from customer360.domain.survivorship import SurvivorshipPolicy
from customer360.domain.values import ExternalReference


class CustomerRepository(Protocol):
    async def add(self, profile: CustomerProfile) -> None: ...

    async def get_for_update(self, customer_id: str) -> CustomerProfile:
        """Load and lock the profile for the rest of the transaction; raise CustomerNotFound."""
        ...

    async def get(self, customer_id: str) -> CustomerProfile:
        """Load without locking; raise CustomerNotFound."""
        ...

    async def owner_of_external_ref(self, ref: ExternalReference) -> str | None: ...

    def seen(self) -> list[CustomerProfile]: ...


class RelationshipRepository(Protocol):
    async def add(self, relationship: Relationship) -> None: ...

    async def get_for_update(self, relationship_id: str) -> Relationship:
        """Raise RelationshipNotFound."""
        ...

    async def save(self, relationship: Relationship) -> None: ...

    async def outgoing(self, customer_id: str) -> list[Relationship]: ...

    async def ancestors(self, customer_id: str) -> list[str]:
        """Ids of every profile above this one in the account hierarchy, nearest first."""
        ...

    async def lock_hierarchy(self) -> None:
        """Serialise hierarchy edits of the tenant, so two concurrent links cannot form a cycle."""
        ...


class ConsentRepository(Protocol):
    async def add(self, record: ConsentRecord) -> None: ...

    async def for_customer(self, customer_id: str) -> list[ConsentRecord]: ...

    def seen(self) -> list[ConsentRecord]: ...


class MergeRepository(Protocol):
    """Merge records, golden-record provenance, pair decisions and the tenant's survivorship policy."""

    async def policy(self) -> SurvivorshipPolicy:
        """The tenant's policy, or the service's default when it has none."""
        ...

    def default_policy(self) -> SurvivorshipPolicy:
        """The service's default (settings), which a tenant's stored rules override field by field."""
        ...

    async def save_policy(self, policy: SurvivorshipPolicy, *, actor: str, now: datetime) -> SurvivorshipPolicy:
        """Store with an optimistic check on ``policy.version``; return it with its new version."""
        ...

    async def field_changed_at(self, customer_id: str) -> dict[str, datetime]:
        """When each profile field (API name) last changed, from the audit trail."""
        ...

    async def provenance(self, customer_id: str) -> Provenance | None: ...

    async def save_provenance(self, provenance: Provenance, now: datetime) -> None: ...

    async def add(self, record: MergeRecord) -> None: ...

    async def active_merge(self, target_id: str, source_id: str) -> MergeRecord | None:
        """The standing merge of source into target, locked for the rest of the transaction."""
        ...

    async def merges_into(self, target_id: str) -> list[MergeRecord]: ...

    async def close(self, record: MergeRecord) -> None:
        """Store the unmerge of ``record`` (status, who, when, report)."""
        ...

    async def decide_pair(self, decision: PairDecision) -> None: ...


@dataclass(frozen=True, slots=True)
class MovedLinks:
    """What a re-pointing moved: rows per table column, and the external references among them."""

    rows: tuple[RepointedRows, ...]
    external_refs: frozenset[ExternalReference]
    # Rows that could not move (e.g. one-per-customer tables where the other side has its own row).
    left_behind: dict[str, int]


class CustomerLinks(Protocol):
    """Everything that points at a customer (contacts excepted: they move with the aggregate)."""

    async def relationships_touching(self, customer_ids: Sequence[str]) -> list[Relationship]: ...

    async def retire_relationships(self, relationship_ids: Sequence[str], at: datetime) -> None: ...

    async def restore_relationships(self, relationship_ids: Sequence[str], retired_at: datetime) -> list[str]:
        """Un-retire those still retired at ``retired_at``; return their ids."""
        ...

    async def repoint(self, source_id: str, target_id: str) -> MovedLinks: ...

    async def move_back(self, rows: Sequence[RepointedRows], source_id: str, target_id: str) -> MovedLinks:
        """Move the given rows back to the source where they still point at the target."""
        ...

    async def count(self, customer_id: str) -> dict[str, int]:
        """How many rows of each registered table column point at the customer."""
        ...


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A response remembered under an Idempotency-Key; opaque bytes to the application."""

    fingerprint: str
    status_code: int
    body: bytes
    headers: dict[str, str]


class IdempotencyStore(Protocol):
    async def save(self, key: str, response: StoredResponse) -> None: ...


class IdempotencyLookup(Protocol):
    async def find(self, tenant_id: str, key: str) -> StoredResponse | None:
        """The response remembered under the key, while it is kept (IDEMPOTENCY_TTL_HOURS)."""
        ...


class TransactionViews(Protocol):
    """Read-your-own-writes views inside the unit of work, to answer a command with the new state."""

    async def profile(self, customer_id: str) -> dict[str, Any] | None: ...

    async def consent(self, consent_id: str) -> dict[str, Any] | None: ...

    async def relationship(self, customer_id: str, relationship_id: str) -> dict[str, Any] | None: ...


class UnitOfWork(Protocol):
    # Read-only members, so an adapter may narrow them to its own repository types.
    @property
    def customers(self) -> CustomerRepository: ...

    @property
    def relationships(self) -> RelationshipRepository: ...

    @property
    def consents(self) -> ConsentRepository: ...

    @property
    def idempotency(self) -> IdempotencyStore: ...

    @property
    def merges(self) -> MergeRepository: ...

    @property
    def links(self) -> CustomerLinks: ...

    @property
    def views(self) -> TransactionViews: ...

    @property
    def privacy(self) -> PrivacyStore: ...

    @property
    def consent_rules(self) -> ConsentRules: ...

    @property
    def duplicates(self) -> DuplicateIndex: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def flush(self, *, answer: bool = False) -> None:
        """Write the changed aggregates (not yet their events) so views inside the transaction see them;
        ``answer``: the views are read next (an implementation may read what it wrote with its writes)."""
        ...

    async def commit(self) -> None:
        """Write the audit and outbox rows of every recorded event, then commit once."""
        ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, context: RequestContext) -> UnitOfWork: ...


Hasher = Callable[[str], str]
