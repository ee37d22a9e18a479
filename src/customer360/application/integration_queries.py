"""Read side for the integration points (the seed's: Pipeline enrichment, Service Orders, Finance/AR).

Each lookup is one query straight into a document (no aggregates): Service Orders ask for entitlements
and the effective SLA, Finance/AR for billing data and the credit read model, Pipeline for the profiles
matching an exact key. ``lookup_criteria`` normalises what the caller typed the way the keys were stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from customer360.application.queries import Document
from customer360.application.search import phone_keys
from customer360.domain.errors import InvalidValue, NotFound
from customer360.domain.values import ExternalReference, website_and_domain


class EventSchemaNotFound(NotFound):
    code = "EVENT_SCHEMA_NOT_FOUND"

    def __init__(self, what: str) -> None:
        super().__init__(f"No event schema {what}", {"schema": what})


class EventSchemas(Protocol):
    """The Avro schemas of every event published or consumed, described as documents (name, version,
    direction, latest, fingerprint, canonical form, the schema)."""

    def all(self) -> list[Document]:
        """Every version of every schema, by name then version."""
        ...

    def versions(self, name: str) -> list[Document]:
        """Every version of one event type (short or full name), oldest first; raise EventSchemaNotFound."""
        ...

    def version(self, name: str, version: int) -> Document:
        """Raise EventSchemaNotFound."""
        ...

    def with_fingerprint(self, fingerprint: str | int) -> Document | None:
        """By fingerprint: 16 hex digits in wire order, or the 64-bit value."""
        ...


@dataclass(frozen=True, slots=True)
class LookupCriteria:
    """Exact keys, normalised; a profile must match every one given."""

    email: str | None = None
    domain: str | None = None
    phone: tuple[str, ...] = ()
    tax_id: str | None = None
    external_ref: tuple[str, str] | None = None
    limit: int = 20

    @property
    def labels(self) -> list[str]:
        given = {
            "email": self.email,
            "domain": self.domain,
            "phone": self.phone,
            "taxId": self.tax_id,
            "externalRef": self.external_ref,
        }
        return [label for label, value in given.items() if value]


def lookup_criteria(
    *,
    email: str | None = None,
    domain: str | None = None,
    phone: str | None = None,
    tax_id: str | None = None,
    external_ref: str | None = None,
    region: str | None = None,
    limit: int = 20,
) -> LookupCriteria:
    if not any((email, domain, phone, tax_id, external_ref)):
        raise InvalidValue("query", "give at least one of email, domain, phone, taxId or externalRef")
    email_key = None
    if email:
        email_key = email.strip().lower()
        if "@" not in email_key.strip("@"):
            raise InvalidValue("email", "must be a whole e-mail address")
    ref = None
    if external_ref:
        system, separator, external_id = external_ref.partition(":")
        if not separator:
            raise InvalidValue("externalRef", "must be SOURCE_SYSTEM:externalId")
        parsed = ExternalReference.create("externalRef", source_system=system, external_id=external_id)
        ref = (parsed.source_system, parsed.external_id)
    return LookupCriteria(
        email=email_key,
        # The profile's DOMAIN key is its web site's host without "www."; an e-mail's domain works too.
        domain=website_and_domain(domain.strip().rpartition("@")[2], "domain")[1] if domain else None,
        phone=phone_keys(phone, region) if phone else (),
        tax_id=re.sub(r"[\s.\-/]", "", tax_id).upper() if tax_id else None,
        external_ref=ref,
        limit=limit,
    )


class IntegrationQueries(Protocol):
    async def entitlements(self, tenant_id: str, customer_id: str, on: date) -> Document | None: ...

    async def billing(self, tenant_id: str, customer_id: str) -> Document | None: ...

    async def lookup(self, tenant_id: str, criteria: LookupCriteria) -> list[Document]: ...

    async def service_history(
        self, tenant_id: str, customer_id: str, cursor: str | None, limit: int
    ) -> Document | None: ...
