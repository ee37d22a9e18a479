"""The CustomerProfile aggregate: one customer with its contacts, and every change it records.

Invariants guarded here: merged and erased profiles are read-only; at most one primary contact per role;
one command is one new version. What the attributes themselves must satisfy is ``profile_attributes``'s.
Every change is recorded as an event by the method that makes it, with the source system the request
context names (API, SALES, MDG, ...).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from customer360.domain.errors import (
    BusinessRuleViolation,
    ContactNotFound,
    CustomerMerged,
    InvalidValue,
    VersionMismatch,
)
from customer360.domain.events import (
    CustomerErased,
    CustomerProfileCreated,
    CustomerProfileUpdated,
    CustomerUnmerged,
    DomainEvent,
    FieldChange,
)
from customer360.domain.events import CustomerMerged as CustomerMergedEvent
from customer360.domain.primitives import to_primitive
from customer360.domain.profile_attributes import Contact, ContactAttributes, ProfileAttributes
from customer360.domain.values import SETTABLE_STATUSES, CustomerStatus

if TYPE_CHECKING:
    from customer360.domain.survivorship import GoldenRecord
    from customer360.domain.unmerge import UnmergeConflict

# The source of a change made through the API (people and services); consumed events name their own.
API = "API"


@dataclasses.dataclass(frozen=True, slots=True)
class Erasure:
    """What an erased profile records of its erasure: the request, the lineage it erased, the classes of
    data erased, and whether this profile's erasure is the one announced."""

    request_id: str
    erased_ids: tuple[str, ...]
    data_classes: tuple[str, ...]
    announce: bool


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
    def revise(self, attributes: ProfileAttributes, *, actor: str, now: datetime, source: str = API) -> None:
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
        self, status: CustomerStatus, *, actor: str, now: datetime, reason: str | None, source: str = API
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

    def add_contact(
        self, contact_id: str, attributes: ContactAttributes, *, actor: str, now: datetime, source: str = API
    ) -> Contact:
        self.check_is_writable()
        contact, demoted = self._attach_contact(contact_id, attributes, now)
        changes = [FieldChange(f"contacts[{contact_id}]", None, to_primitive(attributes)), *demoted]
        self._record_update("CONTACT_ADDED", changes, actor, now, source, ("CONTACT", contact_id))
        return contact

    def update_contact(
        self, contact_id: str, attributes: ContactAttributes, *, actor: str, now: datetime, source: str = API
    ) -> Contact:
        self.check_is_writable()
        contact = self.contact(contact_id)
        changes = contact.attributes.diff(attributes, f"contacts[{contact_id}]")
        if not changes:
            return contact
        contact.attributes = attributes
        contact.updated_at = now
        changes.extend(self._demote_other_primaries(contact))
        self._record_update("CONTACT_UPDATED", changes, actor, now, source, ("CONTACT", contact_id))
        return contact

    def remove_contact(self, contact_id: str, *, actor: str, now: datetime, source: str = API) -> None:
        """Contacts are retired, not deleted: consent history and audit rows may still refer to them."""
        self.check_is_writable()
        contact = self.contact(contact_id)
        contact.removed_at = now
        contact.updated_at = now
        changes = [FieldChange(f"contacts[{contact_id}]", to_primitive(contact.attributes), None)]
        self._record_update("CONTACT_REMOVED", changes, actor, now, source, ("CONTACT", contact_id))

    def record_relationship_change(
        self,
        what: str,
        relationship_id: str,
        changes: list[FieldChange],
        *,
        actor: str,
        now: datetime,
        source: str = API,
    ) -> None:
        """Relationships live in their own rows, but a change to them is a change of this profile."""
        self.check_is_writable()
        self._record_update(what, changes, actor, now, source, ("RELATIONSHIP", relationship_id))

    # -- merge, unmerge, erasure ------------------------------------------------------------------------
    # ``domain.merge`` and ``domain.unmerge`` decide what the two profiles become and check the guards
    # across both; these methods apply it to one profile and record what it did.
    def absorb(
        self,
        source_id: str,
        golden: GoldenRecord,
        contacts: list[Contact],
        *,
        merge_id: str,
        reason: str,
        actor: str,
        now: datetime,
        source: str = API,
    ) -> None:
        """The merge's target takes the golden record and the source's contacts; records both facts."""
        self.check_is_writable()
        self._reshape("MERGE_ABSORBED", golden.attributes, contacts, self.status, self.merged_into, actor, now, source)
        self.events.append(
            CustomerMergedEvent(
                customer_id=self.id,
                occurred_at=now,
                actor=actor,
                changes=(
                    FieldChange("sourceCustomerId", None, source_id),
                    FieldChange("mergeReason", None, reason),
                    *(FieldChange(f"survivorship.{d.field}", None, f"{d.rule}:{d.winner}") for d in golden.decisions),
                ),
                source_customer_id=source_id,
                merge_id=merge_id,
                merge_reason=reason,
            )
        )

    def merge_into(self, target_id: str, *, actor: str, now: datetime, source: str = API) -> None:
        """The merge's source becomes MERGED, pointing at the target. It keeps its own attributes (reading
        its id shows what it was); its contacts and external references now belong to the target."""
        self.check_is_writable()
        attributes = dataclasses.replace(self.attributes, external_refs=())
        self._reshape("MERGED_INTO_TARGET", attributes, [], CustomerStatus.MERGED, target_id, actor, now, source)

    def release(
        self,
        source_id: str,
        *,
        merge_id: str,
        attributes: ProfileAttributes,
        contacts: list[Contact],
        conflicts: Sequence[UnmergeConflict],
        actor: str,
        now: datetime,
        source: str = API,
    ) -> None:
        """An unmerge's target gives back what the merge brought; records it with the conflicts found."""
        self.check_is_writable()
        self._reshape("UNMERGE_RELEASED", attributes, contacts, self.status, self.merged_into, actor, now, source)
        self.events.append(
            CustomerUnmerged(
                customer_id=self.id,
                occurred_at=now,
                actor=actor,
                changes=(
                    FieldChange("sourceCustomerId", source_id, None),
                    *(FieldChange(f"conflict.{c.field}", None, f"{c.reason}:{c.resolution}") for c in conflicts),
                ),
                source_customer_id=source_id,
                merge_id=merge_id,
            )
        )

    def restore(
        self,
        attributes: ProfileAttributes,
        contacts: list[Contact],
        *,
        status: CustomerStatus,
        merged_into: str | None,
        actor: str,
        now: datetime,
        source: str = API,
    ) -> None:
        """An unmerge's source comes back as it was before the merge (its status and survivor link too)."""
        self._reshape("UNMERGE_RESTORED", attributes, contacts, status, merged_into, actor, now, source)

    def erase(
        self,
        tombstone: ProfileAttributes,
        contacts: Mapping[str, ContactAttributes],
        erasure: Erasure,
        *,
        actor: str,
        now: datetime,
    ) -> None:
        """Become the tombstone ``domain.privacy`` made (the contacts too) and record the erasure: its
        request and the classes of data erased, never a value; announced for the profile the request named."""
        previous = self.status
        self.attributes = tombstone
        for contact in self.contacts:
            contact.attributes = contacts[contact.id]
            contact.updated_at = now
        self.status = CustomerStatus.ERASED
        self._new_version(actor, now)
        self.events.append(
            CustomerErased(
                customer_id=self.id,
                occurred_at=now,
                actor=actor,
                changes=(
                    FieldChange("status", previous.value, CustomerStatus.ERASED.value),
                    FieldChange("erasureRequestId", None, erasure.request_id),
                    FieldChange("erasedCustomerIds", None, list(erasure.erased_ids)),
                    FieldChange("dataClasses", None, list(erasure.data_classes)),
                ),
                erasure_request_id=erasure.request_id,
                erased_customer_ids=erasure.erased_ids,
                announce=erasure.announce,
            )
        )

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

    def _reshape(
        self,
        what: str,
        attributes: ProfileAttributes,
        contacts: list[Contact],
        status: CustomerStatus,
        merged_into: str | None,
        actor: str,
        now: datetime,
        source: str,
    ) -> None:
        """Replace attributes, contacts and status at once; one update records every changed field."""
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
        self._record_update(what, changes, actor, now, source)

    def _new_version(self, actor: str, now: datetime) -> None:
        # One command is one new version, however many events it records.
        if self.version == self._loaded_version:
            self.version += 1
        self.updated_at = now
        self.updated_by = actor

    def _record_update(
        self,
        what: str,
        changes: list[FieldChange],
        actor: str,
        now: datetime,
        source: str,
        entity: tuple[str, str] | None = None,
    ) -> None:
        self._new_version(actor, now)
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
