"""The one error hierarchy of the domain and application layers.

Each error carries a stable machine-readable ``code`` and structured ``details``; none knows about HTTP.
Messages and details never contain personal data (names, e-mails, phones): only ids, field names and rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DomainError(Exception):
    """Base of every expected, named failure of a use case."""

    code = "DOMAIN_ERROR"

    def __init__(self, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


class InvalidValue(DomainError):
    """A value does not satisfy its type's rules (bad e-mail, unknown country, invalid VAT id…)."""

    code = "VALIDATION_ERROR"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", {"fields": [{"field": field, "reason": reason}]})
        self.field = field
        self.reason = reason


class NotFound(DomainError):
    """Base for missing resources (and for other tenants' ids, which must look missing)."""

    code = "NOT_FOUND"


class CustomerNotFound(NotFound):
    """The seed's CustomerNotFound."""

    code = "CUSTOMER_NOT_FOUND"

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"Customer {customer_id} not found", {"customerId": customer_id})


class ContactNotFound(NotFound):
    code = "CONTACT_NOT_FOUND"

    def __init__(self, customer_id: str, contact_id: str) -> None:
        super().__init__(
            f"Contact {contact_id} not found on customer {customer_id}",
            {"customerId": customer_id, "contactId": contact_id},
        )


class RelationshipNotFound(NotFound):
    code = "RELATIONSHIP_NOT_FOUND"

    def __init__(self, relationship_id: str) -> None:
        super().__init__(f"Relationship {relationship_id} not found", {"relationshipId": relationship_id})


class MergeNotFound(NotFound):
    code = "MERGE_NOT_FOUND"

    def __init__(self, merge_id: str) -> None:
        super().__init__(f"Merge {merge_id} not found", {"mergeId": merge_id})


class CustomerMerged(DomainError):
    """The customer was merged into a survivor; callers should use the survivor's id."""

    code = "CUSTOMER_MERGED"

    def __init__(self, customer_id: str, survivor_id: str) -> None:
        super().__init__(
            f"Customer {customer_id} was merged into {survivor_id}",
            {"customerId": customer_id, "mergedInto": survivor_id},
        )
        self.customer_id = customer_id
        self.survivor_id = survivor_id


class Conflict(DomainError):
    """Base for state conflicts (HTTP 409)."""

    code = "CONFLICT"


class DuplicateCustomer(Conflict):
    """The seed's DuplicateCustomer: the new profile would duplicate an existing one."""

    code = "DUPLICATE_CUSTOMER"


class DuplicateExternalReference(Conflict):
    code = "DUPLICATE_EXTERNAL_REFERENCE"

    def __init__(self, source_system: str, owner_id: str | None) -> None:
        details: dict[str, Any] = {"sourceSystem": source_system}
        if owner_id is not None:
            details["customerId"] = owner_id
        super().__init__(
            f"An external reference of {source_system} with this id already belongs to another customer",
            details,
        )


class ConcurrentModification(Conflict):
    """Another change committed first; the caller should reload and retry."""

    code = "CONCURRENT_MODIFICATION"


class NotMerged(Conflict):
    """An unmerge names a pair that is not (or no longer) merged."""

    code = "NOT_MERGED"

    def __init__(self, target_id: str, source_id: str) -> None:
        super().__init__(
            f"Customer {source_id} is not merged into {target_id}",
            {"targetCustomerId": target_id, "sourceCustomerId": source_id},
        )


class IdempotencyKeyInProgress(Conflict):
    code = "IDEMPOTENCY_KEY_IN_USE"


class VersionMismatch(DomainError):
    """The caller's expected version (If-Match) is not the current one."""

    code = "VERSION_MISMATCH"

    def __init__(self, resource_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"{resource_id} is at version {actual}, not {expected}",
            {"id": resource_id, "expectedVersion": expected, "currentVersion": actual},
        )
        self.actual = actual


class PreconditionRequired(DomainError):
    """A change that must name the version it was based on did not (HTTP 428)."""

    code = "PRECONDITION_REQUIRED"

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} is required for this change", {"field": field})


class BusinessRuleViolation(DomainError):
    """A well-formed request that a business rule forbids (HTTP 422)."""

    code = "BUSINESS_RULE_VIOLATION"

    def __init__(self, code: str, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, details)
        self.code = code


class ConsentViolation(BusinessRuleViolation):
    """The seed's ConsentViolationException: the operation would contradict the customer's consent."""

    def __init__(self, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__("CONSENT_VIOLATION", message, details)


class HierarchyCycle(BusinessRuleViolation):
    def __init__(self, from_id: str, to_id: str) -> None:
        super().__init__(
            "HIERARCHY_CYCLE",
            f"Linking {from_id} under {to_id} would create a cycle in the account hierarchy",
            {"fromCustomerId": from_id, "toCustomerId": to_id},
        )


class IdempotencyKeyReused(BusinessRuleViolation):
    def __init__(self) -> None:
        super().__init__(
            "IDEMPOTENCY_KEY_REUSED",
            "This Idempotency-Key was already used with a different request",
        )
