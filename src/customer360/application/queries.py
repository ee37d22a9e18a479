"""Read side (the seed's GetCustomerProfileById, SearchCustomers, GetConsentHistory …): the ports the edges
read through.

Queries bypass the aggregates and return documents shaped for the caller straight from the database;
read paths must be fast. Documents are plain dicts in the API's spelling. Adapters live in
``infrastructure/persistence`` and are built once, in ``bootstrap.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, Protocol, TypeVar

from customer360.domain.consent import ConsentRecord, current_consents
from customer360.domain.duplicates import DuplicatePolicy
from customer360.domain.privacy import ErasureRequest, LegalHold

Document = dict[str, Any]
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Answer(Generic[R]):
    """What a command answers with: its result and the documents of what it changed, by id, read in its
    own transaction (the executor's ``present``), so the answer shows exactly what it wrote."""

    result: R
    documents: Mapping[str, Document]


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
class FreeText:
    """``q``: one text read every way it can be (see ``search.free_text``); a result matches one of them."""

    words: str | None = None
    email: str | None = None
    phone: tuple[str, ...] = ()
    tax_id: str | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class SearchCriteria:
    """Normalised criteria (see ``search.criteria``); results match every one given, ranked by name."""

    name: str | None = None
    email: str | None = None
    phone: tuple[str, ...] = ()
    external_ref: tuple[str, str] | None = None
    tax_id: str | None = None
    street: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None
    text: FreeText | None = None
    include_inactive: bool = True
    limit: int = 20


class ProfileQueries(Protocol):
    async def profile(self, tenant_id: str, customer_id: str) -> Document | None: ...

    async def profile_text(self, tenant_id: str, customer_id: str) -> str | None:
        """The profile document as PostgreSQL's JSON text (the plain lookup validates it as it is)."""
        ...

    async def profiles(self, tenant_id: str, query: CustomerFilter) -> Page: ...

    async def search(self, tenant_id: str, criteria: SearchCriteria) -> list[Document]: ...

    async def search_text(self, tenant_id: str, criteria: SearchCriteria) -> str:
        """The same page as PostgreSQL's JSON text (the search route validates it as it is)."""
        ...

    async def contacts(self, tenant_id: str, customer_id: str) -> list[Document] | None: ...


class HistoryQueries(Protocol):
    async def consent_history(
        self, tenant_id: str, customer_id: str, cursor: str | None, limit: int
    ) -> Page | None: ...

    async def consent_records(self, tenant_id: str, customer_id: str) -> list[ConsentRecord] | None: ...

    async def audit(self, tenant_id: str, customer_id: str, cursor: str | None, limit: int) -> Page | None: ...

    async def events(self, tenant_id: str, after: int, limit: int) -> tuple[list[Document], int]: ...

    async def recent_audit(self, tenant_id: str, customer_id: str, limit: int) -> list[Document]:
        """The customer's latest audit entries, newest first."""
        ...

    async def customer_events(self, tenant_id: str, customer_id: str, limit: int) -> list[Document]:
        """The latest events about one customer still in the change feed, newest first."""
        ...


class RelationshipQueries(Protocol):
    async def relationships(self, tenant_id: str, customer_id: str, on: date | None) -> list[Document] | None: ...

    async def hierarchy(self, tenant_id: str, customer_id: str, on: date, depth: int) -> Document | None: ...


class MergeQueries(Protocol):
    async def merges_of(self, tenant_id: str, customer_id: str, cursor: str | None, limit: int) -> Page | None:
        """Merges where the customer was the target or the source, oldest first; None: no such customer."""
        ...

    async def merge(self, tenant_id: str, merge_id: str) -> Document | None:
        """The merge's audit record: before-images, golden record, decisions, re-pointed rows."""
        ...


# A survivor can itself be merged later (A←B, then Z←A); the chain is short in practice, bounded here.
MAX_SURVIVOR_HOPS = 20


async def survivor(profiles: ProfileQueries, tenant_id: str, document: Document) -> Document:
    """The profile a merged profile's data lives in now: follow ``mergedInto`` to the end of the chain."""
    seen = {document["id"]}
    while document.get("status") == "MERGED" and document.get("mergedInto") and len(seen) <= MAX_SURVIVOR_HOPS:
        following = await profiles.profile(tenant_id, document["mergedInto"])
        if following is None or following["id"] in seen:
            break
        seen.add(following["id"])
        document = following
    return document


# OPEN: undecided, PENDING_REVIEW among them (queued by a create that overrode the check).
QUEUE_STATUSES = ("OPEN", "PENDING_REVIEW", "DISMISSED", "MERGED", "ALL")


@dataclass(frozen=True, slots=True)
class QueueFilter:
    status: str = "OPEN"
    min_probability: float = 0.0
    max_probability: float = 1.0
    cluster_id: str | None = None
    customer_id: str | None = None
    cursor: str | None = None
    limit: int = 50


class DuplicateQueries(Protocol):
    """The review queue (both profiles side by side), clusters, scan jobs, the tenant's model and thresholds."""

    async def queue(self, tenant_id: str, f: QueueFilter) -> Page: ...

    async def clusters(self, tenant_id: str, cursor: str | None, limit: int) -> Page: ...

    async def scan(self, tenant_id: str, scan_id: str) -> Document | None: ...

    async def model(self, tenant_id: str) -> Document: ...

    async def policy(self, tenant_id: str) -> DuplicatePolicy: ...


class PrivacyQueries(Protocol):
    async def holds(self, tenant_id: str, customer_id: str) -> list[LegalHold] | None: ...

    async def erasure_requests(self, tenant_id: str, customer_id: str) -> list[ErasureRequest] | None: ...


class AccessLog(Protocol):
    """Who read whose personal data: ids and actions only, never values."""

    def record(self, tenant_id: str, actor: str, action: str, customer_ids: Iterable[str], correlation_id: str) -> None:
        """Remember a read without I/O on the caller's path (the adapter writes in the background)."""
        ...

    async def entries(
        self, tenant_id: str, *, customer_id: str | None, actor: str | None, cursor: str | None, limit: int
    ) -> Page: ...


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
