"""The CustomerProfile aggregate and its Contact entities.

Invariants guarded here: a profile's attributes fit its kind; no value is listed twice; at most one
primary e-mail; at most one primary contact per role; merged and erased profiles are read-only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from customer360.domain.errors import (
    BusinessRuleViolation,
    ContactNotFound,
    CustomerMerged,
    InvalidValue,
    VersionMismatch,
)
from customer360.domain.events import (
    CustomerProfileCreated,
    CustomerProfileUpdated,
    DomainEvent,
    FieldChange,
)
from customer360.domain.primitives import camel, to_primitive
from customer360.domain.values import (
    SETTABLE_STATUSES,
    CommunicationPreferences,
    ContactRole,
    CustomerKind,
    CustomerStatus,
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
            parts = [values.get("given_name"), values.get("family_name")]
            values["name"] = " ".join(p for p in parts if p)
        if not values.get("name"):
            raise InvalidValue("name", "is required")
        values["emails"] = _dedupe(tuple(values.get("emails", ())), lambda e: e.key)
        values["phones"] = _dedupe(tuple(values.get("phones", ())), lambda p: p.e164)
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
        changes = []
        for f in dataclasses.fields(self):
            old, new = getattr(self, f.name), getattr(other, f.name)
            if old != new:
                changes.append(FieldChange(camel(f.name), to_primitive(old), to_primitive(new)))
        return changes


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
            parts = [values.get("given_name"), values.get("family_name")]
            values["name"] = " ".join(p for p in parts if p)
        if not values.get("name"):
            raise InvalidValue("name", "is required (or givenName/familyName)")
        values["emails"] = _dedupe(tuple(values.get("emails", ())), lambda e: e.key)
        values["phones"] = _dedupe(tuple(values.get("phones", ())), lambda p: p.e164)
        attributes = cls(**values)
        if not attributes.primary_roles <= attributes.roles:
            raise InvalidValue("primaryRoles", "a contact can only be primary for roles it has")
        return attributes

    def diff(self, other: ContactAttributes, prefix: str) -> list[FieldChange]:
        changes = []
        for f in dataclasses.fields(self):
            old, new = getattr(self, f.name), getattr(other, f.name)
            if old != new:
                changes.append(FieldChange(f"{prefix}.{camel(f.name)}", to_primitive(old), to_primitive(new)))
        return changes


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


class CustomerProfile:
    """Aggregate root: one customer (organization or person) with its contacts."""

    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        attributes: ProfileAttributes,
        status: CustomerStatus,
        contacts: list[Contact],
        created_at: datetime,
        created_by: str,
        updated_at: datetime,
        updated_by: str,
        version: int,
        merged_into: str | None = None,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.attributes = attributes
        self.status = status
        self.contacts = contacts
        self.created_at = created_at
        self.created_by = created_by
        self.updated_at = updated_at
        self.updated_by = updated_by
        self.version = version
        self.merged_into = merged_into
        self.events: list[DomainEvent] = []
        self._loaded_version = version

    # -- creation -------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        *,
        id: str,
        tenant_id: str,
        attributes: ProfileAttributes,
        status: CustomerStatus,
        contacts: list[tuple[str, ContactAttributes]],
        actor: str,
        now: datetime,
    ) -> CustomerProfile:
        if status not in SETTABLE_STATUSES:
            raise InvalidValue("status", "must be ACTIVE, INACTIVE or ON_HOLD")
        profile = cls(
            id=id,
            tenant_id=tenant_id,
            attributes=attributes,
            status=status,
            contacts=[],
            created_at=now,
            created_by=actor,
            updated_at=now,
            updated_by=actor,
            version=1,
        )
        for contact_id, contact_attributes in contacts:
            profile._attach_contact(contact_id, contact_attributes, now)
        profile._loaded_version = 0
        initial = ProfileAttributes(kind=attributes.kind, name="").diff(attributes)
        profile.events.append(
            CustomerProfileCreated(
                customer_id=id,
                occurred_at=now,
                actor=actor,
                changes=(FieldChange("status", None, status.value), *initial, *profile._contact_images()),
                kind=attributes.kind.value,
                name=attributes.name,
                status=status.value,
                segment=attributes.segment,
                primary_contact_id=profile.primary_contact_id,
            )
        )
        return profile

    # -- guards -----------------------------------------------------------------------------------
    def check_is_not_merged(self) -> None:
        if self.status is CustomerStatus.MERGED and self.merged_into:
            raise CustomerMerged(self.id, self.merged_into)

    def check_is_writable(self) -> None:
        self.check_is_not_merged()
        if self.status is CustomerStatus.ERASED:
            raise BusinessRuleViolation(
                "CUSTOMER_ERASED", f"Customer {self.id} was erased and cannot change", {"customerId": self.id}
            )

    def check_version(self, expected: int | None) -> None:
        if expected is not None and expected != self.version:
            raise VersionMismatch(self.id, expected, self.version)

    # -- behaviour ----------------------------------------------------------------------------------
    def revise(self, attributes: ProfileAttributes, *, actor: str, now: datetime, source: str = "API") -> None:
        """Replace the attributes; records one update with the old and new value of each changed field."""
        self.check_is_writable()
        if attributes.kind is not self.attributes.kind:
            raise BusinessRuleViolation(
                "KIND_IMMUTABLE", "A profile's kind cannot change; create a new profile", {"field": "kind"}
            )
        changes = self.attributes.diff(attributes)
        if not changes:
            return
        self.attributes = attributes
        self._record_update("PROFILE_UPDATED", changes, actor, now, source)

    def change_status(
        self, status: CustomerStatus, *, actor: str, now: datetime, reason: str | None, source: str = "API"
    ) -> None:
        self.check_is_writable()
        if status not in SETTABLE_STATUSES:
            raise InvalidValue("status", "must be ACTIVE, INACTIVE or ON_HOLD")
        if status is self.status:
            return
        changes = [FieldChange("status", self.status.value, status.value)]
        if reason:
            changes.append(FieldChange("statusReason", None, reason))
        self.status = status
        self._record_update("STATUS_CHANGED", changes, actor, now, source)

    def add_contact(self, contact_id: str, attributes: ContactAttributes, *, actor: str, now: datetime) -> Contact:
        self.check_is_writable()
        contact, demoted = self._attach_contact(contact_id, attributes, now)
        changes = [FieldChange(f"contacts[{contact_id}]", None, to_primitive(attributes)), *demoted]
        self._record_update("CONTACT_ADDED", changes, actor, now, "API", ("CONTACT", contact_id))
        return contact

    def update_contact(self, contact_id: str, attributes: ContactAttributes, *, actor: str, now: datetime) -> Contact:
        self.check_is_writable()
        contact = self.contact(contact_id)
        changes = contact.attributes.diff(attributes, f"contacts[{contact_id}]")
        if not changes:
            return contact
        contact.attributes = attributes
        contact.updated_at = now
        changes.extend(self._demote_other_primaries(contact))
        self._record_update("CONTACT_UPDATED", changes, actor, now, "API", ("CONTACT", contact_id))
        return contact

    def remove_contact(self, contact_id: str, *, actor: str, now: datetime) -> None:
        """Contacts are retired, not deleted: consent history and audit rows may still refer to them."""
        self.check_is_writable()
        contact = self.contact(contact_id)
        contact.removed_at = now
        contact.updated_at = now
        changes = [FieldChange(f"contacts[{contact_id}]", to_primitive(contact.attributes), None)]
        self._record_update("CONTACT_REMOVED", changes, actor, now, "API", ("CONTACT", contact_id))

    def record_relationship_change(
        self, what: str, relationship_id: str, changes: list[FieldChange], *, actor: str, now: datetime
    ) -> None:
        """Relationships live in their own rows, but a change to them is a change of this profile."""
        self.check_is_writable()
        self._record_update(what, changes, actor, now, "API", ("RELATIONSHIP", relationship_id))

    def reshape(
        self,
        what: str,
        *,
        attributes: ProfileAttributes,
        contacts: list[Contact],
        status: CustomerStatus,
        merged_into: str | None,
        actor: str,
        now: datetime,
    ) -> None:
        """Merge and unmerge replace attributes, contacts and status at once (``domain.merge`` and
        ``domain.unmerge`` decide how and check the guards); one update records every changed field."""
        changes = self.attributes.diff(attributes)
        for name, old, new in (("status", self.status, status), ("mergedInto", self.merged_into, merged_into)):
            if old != new:
                changes.append(FieldChange(name, to_primitive(old), to_primitive(new)))
        before = {c.id: c for c in self.contacts}
        after = {c.id: c for c in contacts}
        for contact_id in sorted(before.keys() | after.keys()):
            old_c, new_c = before.get(contact_id), after.get(contact_id)
            if old_c and new_c and (old_c.attributes, old_c.removed_at) == (new_c.attributes, new_c.removed_at):
                continue
            old_image, new_image = (to_primitive(c.attributes) if c and c.active else None for c in (old_c, new_c))
            if old_image != new_image:
                changes.append(FieldChange(f"contacts[{contact_id}]", old_image, new_image))
        self.attributes, self.contacts, self.status, self.merged_into = attributes, contacts, status, merged_into
        self._record_update(what, changes, actor, now, "API")

    # -- queries ------------------------------------------------------------------------------------
    def contact(self, contact_id: str) -> Contact:
        for contact in self.contacts:
            if contact.id == contact_id and contact.active:
                return contact
        raise ContactNotFound(self.id, contact_id)

    @property
    def active_contacts(self) -> list[Contact]:
        return [c for c in self.contacts if c.active]

    @property
    def primary_contact_id(self) -> str | None:
        active = self.active_contacts
        for contact in active:
            if contact.attributes.primary_roles:
                return contact.id
        return active[0].id if active else None

    @property
    def changed(self) -> bool:
        return self.version != self._loaded_version

    def mark_saved(self) -> None:
        """Storage now holds this version (the events stay until the commit takes them)."""
        self._loaded_version = self.version

    @property
    def loaded_version(self) -> int:
        """The version read from storage; the optimistic check when saving compares against it."""
        return self._loaded_version

    # -- internals ----------------------------------------------------------------------------------
    def _attach_contact(
        self, contact_id: str, attributes: ContactAttributes, now: datetime
    ) -> tuple[Contact, list[FieldChange]]:
        contact = Contact(id=contact_id, attributes=attributes, created_at=now, updated_at=now)
        self.contacts.append(contact)
        return contact, self._demote_other_primaries(contact)

    def _demote_other_primaries(self, winner: Contact) -> list[FieldChange]:
        """At most one primary contact per role: the newly designated one takes the role over."""
        changes = []
        for other in self.active_contacts:
            taken = other.attributes.primary_roles & winner.attributes.primary_roles
            if other is winner or not taken:
                continue
            before = other.attributes.primary_roles
            other.attributes = dataclasses.replace(other.attributes, primary_roles=before - taken)
            changes.append(
                FieldChange(
                    f"contacts[{other.id}].primaryRoles",
                    sorted(r.value for r in before),
                    sorted(r.value for r in other.attributes.primary_roles),
                )
            )
        return changes

    def _contact_images(self) -> list[FieldChange]:
        return [FieldChange(f"contacts[{c.id}]", None, to_primitive(c.attributes)) for c in self.contacts]

    def _record_update(
        self,
        what: str,
        changes: list[FieldChange],
        actor: str,
        now: datetime,
        source: str,
        entity: tuple[str, str] | None = None,
    ) -> None:
        # One command is one new version, however many events it records.
        if self.version == self._loaded_version:
            self.version += 1
        self.updated_at = now
        self.updated_by = actor
        entity_type, entity_id = entity or ("CUSTOMER", self.id)
        self.events.append(
            CustomerProfileUpdated(
                customer_id=self.id,
                occurred_at=now,
                actor=actor,
                changes=tuple(changes),
                what=what,
                version=self.version,
                source=source,
                entity_type=entity_type,
                entity_id=entity_id,
            )
        )
