"""Driven ports of the privacy use cases (consent policy, double opt-in, legal holds, erasure, export).

They are part of the unit of work (``uow.privacy``, ``uow.consent_rules``): everything they write commits
with the change that caused it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from customer360.domain.consent import ConsentRecord
from customer360.domain.consent_policy import PurposePolicy
from customer360.domain.events import DomainEvent
from customer360.domain.privacy import ContactPointValue, ErasureRequest, LegalHold


@dataclass(frozen=True, slots=True)
class Confirmation:
    """A double opt-in token as stored: its hash, the pending record it confirms, and its life."""

    token_hash: str
    consent_id: str
    customer_id: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    policy: PurposePolicy
    version: int
    updated_at: datetime | None
    updated_by: str | None


class ConsentRules(Protocol):
    async def policy(self, purpose: str) -> PurposePolicy:
        """The tenant's policy for the purpose, or the service default."""
        ...

    async def stored_policies(self) -> list[StoredPolicy]: ...

    async def save_policy(
        self, policy: PurposePolicy, *, expected_version: int | None, actor: str, now: datetime
    ) -> int:
        """Store the tenant's policy for its purpose; with ``expected_version`` only if it is the stored
        one (VersionMismatch otherwise). Return the new version."""
        ...

    async def add_confirmation(self, confirmation: Confirmation) -> None: ...

    async def confirmation_for_update(self, token_hash: str) -> Confirmation | None:
        """The token's row, locked for the rest of the transaction (so it is used at most once)."""
        ...

    async def mark_used(self, token_hash: str, now: datetime, confirmation_consent_id: str) -> None: ...

    async def consent(self, consent_id: str) -> ConsentRecord | None:
        """One consent record by id, wherever a merge has moved it."""
        ...


class PrivacyStore(Protocol):
    events: list[DomainEvent]

    async def lineage(self, customer_id: str) -> list[str]:
        """Every profile of the customer's merge lineage, both directions; the survivor first."""
        ...

    async def holds(self, customer_ids: Collection[str]) -> list[LegalHold]: ...

    async def hold_for_update(self, customer_id: str, hold_id: str) -> LegalHold:
        """Raise NotFound when the customer has no such hold."""
        ...

    async def add_hold(self, hold: LegalHold) -> None: ...

    async def save_hold(self, hold: LegalHold) -> None: ...

    async def add_erasure_request(self, request: ErasureRequest) -> None: ...

    async def erase_personal_data(self, customer_ids: Sequence[str]) -> tuple[str, ...]:
        """Anonymise every registered location of the customers (persistence's personal-data registry)
        except what the aggregate erased itself; return the classes of data erased."""
        ...

    async def mark_erased(self, customer_ids: Sequence[str], request_id: str, now: datetime) -> None:
        """Write the tombstone (erasure time and request) and drop privacy flags."""
        ...

    async def suppress(self, points: Collection[ContactPointValue], request_id: str, now: datetime) -> None: ...

    async def suppressed(self, points: Collection[ContactPointValue]) -> bool: ...

    async def flags(self, customer_id: str) -> list[str]: ...

    async def set_flags(self, customer_id: str, flags: Sequence[str]) -> None: ...

    async def export(self, customer_ids: Sequence[str]) -> dict[str, Any]:
        """Every registered location's rows about the customers, by section of the export document."""
        ...
