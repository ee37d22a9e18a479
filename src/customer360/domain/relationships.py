"""Typed links between profiles, and the rules of the account hierarchy.

``SUBSIDIARY_OF`` edges form the hierarchy (from = subsidiary, to = parent); the other types are plain
links. A hierarchy must stay a forest: no cycles, one parent at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from customer360.domain.errors import BusinessRuleViolation, HierarchyCycle, InvalidValue
from customer360.domain.values import CustomerKind


class RelationshipType(StrEnum):
    SUBSIDIARY_OF = "SUBSIDIARY_OF"
    BILL_TO = "BILL_TO"
    SHIP_TO = "SHIP_TO"
    PARTNER_OF = "PARTNER_OF"
    WORKS_FOR = "WORKS_FOR"


@dataclass(slots=True)
class Relationship:
    id: str
    from_customer_id: str
    to_customer_id: str
    type: RelationshipType
    valid_from: date | None
    valid_to: date | None
    created_at: datetime
    created_by: str
    removed_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.removed_at is None

    def overlaps(self, valid_from: date | None, valid_to: date | None) -> bool:
        starts_before_other_ends = self.valid_from is None or valid_to is None or self.valid_from <= valid_to
        ends_after_other_starts = self.valid_to is None or valid_from is None or valid_from <= self.valid_to
        return starts_before_other_ends and ends_after_other_starts


def check_validity(valid_from: date | None, valid_to: date | None) -> None:
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        raise InvalidValue("validTo", "must not be before validFrom")


def check_kinds(type: RelationshipType, from_kind: CustomerKind, to_kind: CustomerKind) -> None:
    if type is RelationshipType.WORKS_FOR and (
        from_kind is not CustomerKind.PERSON or to_kind is not CustomerKind.ORGANIZATION
    ):
        raise BusinessRuleViolation(
            "RELATIONSHIP_KIND_MISMATCH", "WORKS_FOR links a person to an organization", {"type": type.value}
        )
    if type is RelationshipType.SUBSIDIARY_OF and CustomerKind.PERSON in (from_kind, to_kind):
        raise BusinessRuleViolation(
            "RELATIONSHIP_KIND_MISMATCH", "Only organizations form account hierarchies", {"type": type.value}
        )


def check_new_link(
    *,
    from_id: str,
    to_id: str,
    type: RelationshipType,
    valid_from: date | None,
    valid_to: date | None,
    existing_from: Iterable[Relationship],
    ancestors_of_target: Iterable[str],
) -> None:
    """Refuse self-links, duplicates, a second parent in an overlapping period, and hierarchy cycles."""
    if from_id == to_id:
        raise BusinessRuleViolation("SELF_RELATIONSHIP", "A profile cannot be linked to itself")
    for rel in existing_from:
        if not rel.active or rel.type is not type or not rel.overlaps(valid_from, valid_to):
            continue
        if rel.to_customer_id == to_id:
            raise BusinessRuleViolation(
                "DUPLICATE_RELATIONSHIP",
                "The same link already exists for an overlapping period",
                {"relationshipId": rel.id},
            )
        if type is RelationshipType.SUBSIDIARY_OF:
            raise BusinessRuleViolation(
                "MULTIPLE_PARENTS",
                "The subsidiary already has a parent for an overlapping period",
                {"relationshipId": rel.id, "parentCustomerId": rel.to_customer_id},
            )
    if type is RelationshipType.SUBSIDIARY_OF and from_id in set(ancestors_of_target):
        raise HierarchyCycle(from_id, to_id)
