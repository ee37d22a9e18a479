"""Driven ports of the application (the seed's CustomerRepository, ConsentRepository, EventPublisherPort…).

Adapters live in ``infrastructure``; unit tests use in-memory fakes. ``typing.Protocol`` is enough:
nothing here needs an abstract base class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self

from customer360.application.context import RequestContext
from customer360.domain.consent import ConsentRecord
from customer360.domain.customer import CustomerProfile
from customer360.domain.relationships import Relationship
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


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A response remembered under an Idempotency-Key; opaque bytes to the application."""

    fingerprint: str
    status_code: int
    body: bytes
    headers: dict[str, str]


class IdempotencyStore(Protocol):
    async def save(self, key: str, response: StoredResponse) -> None: ...


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
    def views(self) -> TransactionViews: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def flush(self) -> None:
        """Write the changed aggregates (not yet their events) so views inside the transaction see them."""
        ...

    async def commit(self) -> None:
        """Write the audit and outbox rows of every recorded event, then commit once."""
        ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, context: RequestContext) -> UnitOfWork: ...


Hasher = Callable[[str], str]
