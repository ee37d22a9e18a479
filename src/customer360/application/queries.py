"""Read side (the seed's GetCustomerProfileById, SearchCustomers, GetConsentHistory …).

Queries bypass the aggregates and return documents shaped for the caller straight from the database;
read paths must be fast. Documents are plain dicts in the API's spelling.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from customer360.domain.consent import ConsentRecord, current_consents

Document = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Document]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    status: str | None = None
    segment: str | None = None
    kind: str | None = None
    tag: str | None = None
    updated_since: datetime | None = None
    cursor: str | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class SearchCriteria:
    """Normalised criteria (see ``search.criteria``); results match every one given, ranked by name."""

    name: str | None = None
    email: str | None = None
    phone: tuple[str, ...] = ()
    external_ref: tuple[str, str] | None = None
    tax_id: str | None = None
    include_inactive: bool = True
    limit: int = 20


class ProfileQueries(Protocol):
    async def profile(self, tenant_id: str, customer_id: str) -> Document | None: ...

    async def profiles(self, tenant_id: str, query: CustomerFilter) -> Page: ...

    async def search(self, tenant_id: str, criteria: SearchCriteria) -> list[Document]: ...

    async def contacts(self, tenant_id: str, customer_id: str) -> list[Document] | None: ...


class HistoryQueries(Protocol):
    async def consent_history(
        self, tenant_id: str, customer_id: str, cursor: str | None, limit: int
    ) -> Page | None: ...

    async def consent_records(self, tenant_id: str, customer_id: str) -> list[ConsentRecord] | None: ...

    async def audit(self, tenant_id: str, customer_id: str, cursor: str | None, limit: int) -> Page | None: ...

    async def events(self, tenant_id: str, after: int, limit: int) -> tuple[list[Document], int]: ...


class RelationshipQueries(Protocol):
    async def relationships(self, tenant_id: str, customer_id: str, on: date | None) -> list[Document] | None: ...

    async def hierarchy(self, tenant_id: str, customer_id: str, on: date, depth: int) -> Document | None: ...


def consent_state(records: list[ConsentRecord]) -> list[Document]:
    """GetConsent: the deciding record per (channel, purpose, contact point); absent means no consent."""
    return [
        {
            "type": r.channel.value,
            "purpose": r.purpose,
            "contactPoint": {"kind": r.contact_point.kind.value, "value": r.contact_point.value}
            if r.contact_point
            else None,
            "status": r.status.value,
            "legalBasis": r.legal_basis.value,
            "effectiveAt": r.effective_at,
            "consentId": r.id,
        }
        for r in current_consents(records)
    ]
