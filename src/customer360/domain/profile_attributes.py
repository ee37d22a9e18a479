"""What a profile and a contact hold: attributes built through named checks, and the Contact entity.

``ProfileAttributes.build`` and ``ContactAttributes.build`` are the only way in: they derive display names,
drop repeated values and check the kind-specific rules, so an aggregate never holds attributes that break them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from customer360.domain.errors import InvalidValue
from customer360.domain.events import FieldChange
from customer360.domain.primitives import field_keys, to_primitive
from customer360.domain.values import (
    CommunicationPreferences,
    ContactRole,
    CustomerKind,
    EmailAddress,
    ExternalReference,
    LocalePreferences,
    PhoneNumber,
    PostalAddress,
    TaxId,
)


def _dedupe(values: tuple[Any, ...], key: Any) -> tuple[Any, ...]:
    seen: set[Any] = set()
    kept = []
    for value in values:
        k = key(value)
        if k not in seen:
            seen.add(k)
            kept.append(value)
    return tuple(kept)


def _name_from_parts(values: dict[str, Any]) -> None:
    """The display name a person or contact gets when none is given: given and family name joined."""
    parts = [values.get("given_name"), values.get("family_name")]
    values["name"] = " ".join(p for p in parts if p)


def _reachable_once(values: dict[str, Any]) -> None:
    """Each e-mail address (by its key) and phone number (by E.164) kept once, the first one given."""
    values["emails"] = _dedupe(tuple(values.get("emails", ())), lambda e: e.key)
    values["phones"] = _dedupe(tuple(values.get("phones", ())), lambda p: p.e164)


def _changes(before: Any, after: Any, prefix: str) -> list[FieldChange]:
    """Every field of two attribute values of one type that differs, keyed ``prefix`` + camelCase name."""
    changes = []
    for name, key in field_keys(before.__class__):
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            changes.append(FieldChange(f"{prefix}{key}", to_primitive(old), to_primitive(new)))
    return changes


@dataclass(frozen=True, slots=True)
class ProfileAttributes:
    """Everything about a profile a caller may set; built through :meth:`build`, which enforces the rules."""

    kind: CustomerKind
    name: str
    legal_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    birth_date: date | None = None
    segment: str | None = None
    industry: str | None = None
    website: str | None = None
    domain: str | None = None
    tax_ids: tuple[TaxId, ...] = ()
    emails: tuple[EmailAddress, ...] = ()
    phones: tuple[PhoneNumber, ...] = ()
    addresses: tuple[PostalAddress, ...] = ()
    locale: LocalePreferences = field(default_factory=LocalePreferences)
    communication: CommunicationPreferences = field(default_factory=CommunicationPreferences)
    tags: tuple[str, ...] = ()
    external_refs: tuple[ExternalReference, ...] = ()

    @classmethod
    def build(cls, *, today: date, **values: Any) -> ProfileAttributes:
        """Derive a person's display name, drop repeated values, then check the kind-specific rules."""
        kind = values["kind"]
        if kind is CustomerKind.PERSON and not values.get("name"):
            _name_from_parts(values)
        if not values.get("name"):
            raise InvalidValue("name", "is required")
        _reachable_once(values)
        values["tax_ids"] = _dedupe(tuple(values.get("tax_ids", ())), lambda t: t.key)
        values["addresses"] = _dedupe(tuple(values.get("addresses", ())), lambda a: a)
        values["tags"] = _dedupe(tuple(values.get("tags", ())), str.casefold)
        values["external_refs"] = _dedupe(tuple(values.get("external_refs", ())), lambda r: r)
        attributes = cls(**values)
        attributes.check(today)
        return attributes

    def check(self, today: date) -> None:
        if self.kind is CustomerKind.ORGANIZATION:
            if self.birth_date is not None:
                raise InvalidValue("birthDate", "applies to persons only")
            if self.given_name is not None or self.family_name is not None:
                raise InvalidValue("givenName", "applies to persons only; use name and legalName")
        elif self.legal_name is not None:
            raise InvalidValue("legalName", "applies to organizations only")
        if self.birth_date is not None and not date(1900, 1, 1) <= self.birth_date <= today:
            raise InvalidValue("birthDate", "must be between 1900-01-01 and today")
        if sum(e.primary for e in self.emails) > 1:
            raise InvalidValue("emails", "at most one e-mail address can be primary")
        # Several references of one system are allowed: a merged profile keeps every reference of both
        # sides (the source system holds the duplicate too). Each stays unique per tenant (its table's key).

    def diff(self, other: ProfileAttributes) -> list[FieldChange]:
        return _changes(self, other, "")


@dataclass(frozen=True, slots=True)
class ContactAttributes:
    name: str
    given_name: str | None = None
    family_name: str | None = None
    job_title: str | None = None
    roles: frozenset[ContactRole] = frozenset()
    primary_roles: frozenset[ContactRole] = frozenset()
    emails: tuple[EmailAddress, ...] = ()
    phones: tuple[PhoneNumber, ...] = ()
    communication: CommunicationPreferences = field(default_factory=CommunicationPreferences)

    @classmethod
    def build(cls, **values: Any) -> ContactAttributes:
        if not values.get("name"):
            _name_from_parts(values)
        if not values.get("name"):
            raise InvalidValue("name", "is required (or givenName/familyName)")
        _reachable_once(values)
        attributes = cls(**values)
        if not attributes.primary_roles <= attributes.roles:
            raise InvalidValue("primaryRoles", "a contact can only be primary for roles it has")
        return attributes

    def diff(self, other: ContactAttributes, prefix: str) -> list[FieldChange]:
        return _changes(self, other, f"{prefix}.")


@dataclass(slots=True)
class Contact:
    """A person attached to a profile, in one or more roles (the seed's Contact entity)."""

    id: str
    attributes: ContactAttributes
    created_at: datetime
    updated_at: datetime
    removed_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.removed_at is None
