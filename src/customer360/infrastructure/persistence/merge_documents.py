"""The merge record as JSON (``customer_merge.record``): before-images, golden record, decisions, moves.

The images must come back exactly as they were stored (an unmerge restores from them), so every value
object goes through the same document mapping as the profile tables (``documents.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from customer360.domain.merge import MergeRecord, MergeStatus, ProfileImage, RepointedRows
from customer360.domain.profile_attributes import Contact, ContactAttributes, ProfileAttributes
from customer360.domain.provenance import Provenance
from customer360.domain.survivorship import FieldDecision
from customer360.domain.values import ContactRole, CustomerKind, CustomerStatus, ExternalReference
from customer360.infrastructure.persistence.documents import (
    address_from,
    communication_from,
    email_from,
    locale_from,
    phone_from,
    tax_id_from,
    to_document,
)


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def attributes_from(doc: Mapping[str, Any]) -> ProfileAttributes:
    return ProfileAttributes(
        kind=CustomerKind(doc["kind"]),
        name=doc["name"],
        legal_name=doc.get("legalName"),
        given_name=doc.get("givenName"),
        family_name=doc.get("familyName"),
        birth_date=None if doc.get("birthDate") is None else date.fromisoformat(doc["birthDate"]),
        segment=doc.get("segment"),
        industry=doc.get("industry"),
        website=doc.get("website"),
        domain=doc.get("domain"),
        tax_ids=tuple(tax_id_from(d) for d in doc.get("taxIds", [])),
        emails=tuple(email_from(d) for d in doc.get("emails", [])),
        phones=tuple(phone_from(d) for d in doc.get("phones", [])),
        addresses=tuple(address_from(d) for d in doc.get("addresses", [])),
        locale=locale_from(doc.get("locale") or {}),
        communication=communication_from(doc.get("communication") or {}),
        tags=tuple(doc.get("tags", [])),
        external_refs=tuple(ExternalReference(r["sourceSystem"], r["externalId"]) for r in doc.get("externalRefs", [])),
    )


def contact_document(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "attributes": to_document(contact.attributes),
        "createdAt": contact.created_at.isoformat(),
        "updatedAt": contact.updated_at.isoformat(),
        "removedAt": contact.removed_at.isoformat() if contact.removed_at else None,
    }


def contact_from(doc: Mapping[str, Any]) -> Contact:
    a = doc["attributes"]
    created, updated = _when(doc["createdAt"]), _when(doc["updatedAt"])
    assert created is not None
    assert updated is not None
    return Contact(
        id=doc["id"],
        attributes=ContactAttributes(
            name=a["name"],
            given_name=a.get("givenName"),
            family_name=a.get("familyName"),
            job_title=a.get("jobTitle"),
            roles=frozenset(ContactRole(r) for r in a.get("roles", [])),
            primary_roles=frozenset(ContactRole(r) for r in a.get("primaryRoles", [])),
            emails=tuple(email_from(d) for d in a.get("emails", [])),
            phones=tuple(phone_from(d) for d in a.get("phones", [])),
            communication=communication_from(a.get("communication") or {}),
        ),
        created_at=created,
        updated_at=updated,
        removed_at=_when(doc.get("removedAt")),
    )


def image_document(image: ProfileImage) -> dict[str, Any]:
    return {
        "customerId": image.customer_id,
        "status": image.status.value,
        "mergedInto": image.merged_into,
        "attributes": to_document(image.attributes),
        "contacts": [contact_document(c) for c in image.contacts],
        "version": image.version,
        "updatedAt": image.updated_at.isoformat(),
    }


def image_from(doc: Mapping[str, Any]) -> ProfileImage:
    updated = _when(doc["updatedAt"])
    assert updated is not None
    return ProfileImage(
        customer_id=doc["customerId"],
        status=CustomerStatus(doc["status"]),
        merged_into=doc.get("mergedInto"),
        attributes=attributes_from(doc["attributes"]),
        contacts=tuple(contact_from(c) for c in doc["contacts"]),
        version=doc["version"],
        updated_at=updated,
    )


def record_document(record: MergeRecord) -> dict[str, Any]:
    """Everything of the record that has no column of its own."""
    return {
        "targetBefore": image_document(record.target_before),
        "sourceBefore": image_document(record.source_before),
        "targetProvenanceBefore": record.target_provenance_before.to_document(),
        "golden": to_document(record.golden),
        "decisions": [
            {
                "field": d.field,
                "rule": d.rule,
                "winner": d.winner,
                "fallback": d.fallback,
                "itemSides": list(d.item_sides),
            }
            for d in record.decisions
        ],
        "movedContacts": list(record.moved_contacts),
        "retiredContacts": list(record.retired_contacts),
        "retiredRelationships": list(record.retired_relationships),
        "derivedConsents": list(record.derived_consents),
        "repointed": [
            {"table": r.table, "column": r.column, "keys": [list(k) for k in r.keys]} for r in record.repointed
        ],
        "policy": dict(record.policy),
        "choices": dict(record.choices),
    }


def record_from(row: Any) -> MergeRecord:
    doc = row["record"]
    return MergeRecord(
        id=row["id"],
        target_id=row["target_id"],
        source_id=row["source_id"],
        reason=row["reason"],
        merged_at=row["merged_at"],
        merged_by=row["merged_by"],
        target_before=image_from(doc["targetBefore"]),
        source_before=image_from(doc["sourceBefore"]),
        target_provenance_before=Provenance.from_document(row["target_id"], doc["targetProvenanceBefore"]),
        golden=attributes_from(doc["golden"]),
        decisions=tuple(
            FieldDecision(d["field"], d["rule"], d["winner"], d["fallback"], tuple(d["itemSides"]))
            for d in doc["decisions"]
        ),
        moved_contacts=tuple(doc["movedContacts"]),
        retired_contacts=tuple(doc["retiredContacts"]),
        retired_relationships=tuple(doc["retiredRelationships"]),
        derived_consents=tuple(doc["derivedConsents"]),
        repointed=tuple(
            RepointedRows(r["table"], r["column"], tuple(tuple(k) for k in r["keys"])) for r in doc["repointed"]
        ),
        policy=doc.get("policy", {}),
        choices=doc.get("choices", {}),
        status=MergeStatus(row["status"]),
        unmerged_at=row["unmerged_at"],
        unmerged_by=row["unmerged_by"],
        unmerge_report=row["unmerge_report"],
    )
