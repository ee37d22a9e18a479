"""The errors each operation can answer, for the OpenAPI document: what its shape implies (a body, If-Match,
Idempotency-Key, path ids, a permission) and what its use case raises beyond that, each error class turned
into its status by errors.py's one mapping and listed with its code (``x-error-codes``)."""

from __future__ import annotations

from typing import Any

from customer360.application.duplicate_scan import ScanInProgress, ScanNotFound
from customer360.application.duplicates import PairAlreadyMerged
from customer360.application.import_ports import ImportInProgress, ImportNotFound, ImportNotResumable
from customer360.application.integration_queries import EventSchemaNotFound
from customer360.domain.consent_policy import ConfirmationRefused
from customer360.domain.errors import (
    BusinessRuleViolation,
    ConcurrentModification,
    ConsentViolation,
    ContactNotFound,
    CustomerMerged,
    CustomerNotFound,
    DomainError,
    DuplicateCustomer,
    DuplicateExternalReference,
    HierarchyCycle,
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    InvalidValue,
    MergeNotFound,
    NotMerged,
    PreconditionRequired,
    RelationshipNotFound,
    VersionMismatch,
)
from customer360.domain.privacy import LegalHoldActive, LegalHoldNotFound
from customer360.infrastructure.rest.errors import status_of_type

# An error class, or one with the code it is raised with (BusinessRuleViolation and its kin take theirs).
Raises = type[DomainError] | tuple[type[DomainError], str]

FILE_REFUSALS = (
    "EMPTY_FILE",
    "UNREADABLE_FILE",
    "WRONG_ENCODING",
    "MISSING_COLUMN",
    "UNKNOWN_FIELD",
    "MISSING_REQUIRED_COLUMN",
)

# What each use case raises beyond what its operation's shape implies (operation_errors below).
USE_CASE_ERRORS: dict[str, tuple[Raises, ...]] = {
    "create_customer": (DuplicateCustomer, DuplicateExternalReference, (ConsentViolation, "CONSENT_VIOLATION")),
    "patch_customer": (DuplicateExternalReference, (ConsentViolation, "CONSENT_VIOLATION")),
    "add_relationship": ((BusinessRuleViolation, "SELF_RELATIONSHIP"), (HierarchyCycle, "HIERARCHY_CYCLE")),
    "change_relationship": ((HierarchyCycle, "HIERARCHY_CYCLE"),),
    "record_consent": ((ConsentViolation, "CONSENT_VIOLATION"), (BusinessRuleViolation, "LEGAL_BASIS_NOT_ALLOWED")),
    "add_contact": ((ConsentViolation, "CONSENT_VIOLATION"),),
    "update_contact": ((ConsentViolation, "CONSENT_VIOLATION"),),
    "confirm_consent": ((ConfirmationRefused, "CONFIRMATION_REFUSED"),),
    "merge_customer": ((BusinessRuleViolation, "SELF_MERGE"), PreconditionRequired, LegalHoldActive),
    "preview_merge": ((BusinessRuleViolation, "SELF_MERGE"), PreconditionRequired),
    "unmerge_customer": (NotMerged, PreconditionRequired),
    "dismiss_duplicate": (CustomerNotFound, PairAlreadyMerged),
    "start_duplicate_scan": (ScanInProgress,),
    "get_duplicate_scan": (ScanNotFound,),
    "erase_customer": (LegalHoldActive,),
    "clear_privacy_flag": ((BusinessRuleViolation, "PRIVACY_FLAG_NOT_SET"),),
    "release_legal_hold": ((BusinessRuleViolation, "LEGAL_HOLD_NOT_ACTIVE"),),
    # The file is read as it streams in (infrastructure/import_files.py): its header and encoding are
    # refused in the request, each with its code.
    "start_import": (
        ImportInProgress,
        *((InvalidValue, code) for code in FILE_REFUSALS),
    ),
    "resume_import": (ImportNotFound, ImportNotResumable, ImportInProgress),
    "get_import": (ImportNotFound,),
    "import_report": (ImportNotFound,),
    "import_report_csv": (ImportNotFound,),
}

# A path id names a resource that may not exist (or not in the caller's tenant).
NOT_FOUND_BY_PARAMETER: dict[str, type[DomainError]] = {
    "customerId": CustomerNotFound,
    "contactId": ContactNotFound,
    "relationshipId": RelationshipNotFound,
    "mergeId": MergeNotFound,
    "holdId": LegalHoldNotFound,
    "name": EventSchemaNotFound,
    "fingerprint": EventSchemaNotFound,
}
# A change to a profile: merged and erased profiles do not change, and concurrent writers are told apart.
PROFILE_CHANGE: tuple[Raises, ...] = (
    CustomerMerged,
    ConcurrentModification,
    (BusinessRuleViolation, "CUSTOMER_ERASED"),
)

DESCRIPTIONS: dict[int, str] = {
    400: "Malformed input: the field and the reason are in details.fields",
    401: "No authenticated user (or no tenant)",
    403: "The user lacks the permission",
    404: "No such resource in this tenant",
    409: "Conflict with the current state",
    412: "If-Match does not name the current version",
    413: "Request body too large",
    422: "A business rule forbids it",
    428: "A version is required for this change",
}


def _code(raised: Raises) -> tuple[int, str]:
    error_type, code = raised if isinstance(raised, tuple) else (raised, raised.code)
    status = status_of_type(error_type)
    if status is None:
        raise AssertionError(f"{error_type.__name__} has no HTTP status in errors.py")
    return status, code


def operation_errors(operation_id: str, method: str, operation: dict[str, Any], secured: bool) -> dict[int, list[str]]:
    """Status → the error codes the operation can answer with."""
    parameters = {(p.get("in"), p.get("name")) for p in operation.get("parameters", [])}
    path_ids = [name for where, name in parameters if where == "path"]
    body = operation.get("requestBody", {}).get("content", {})
    raised: list[Raises] = [NOT_FOUND_BY_PARAMETER[name] for name in path_ids if name in NOT_FOUND_BY_PARAMETER]
    if ("header", "If-Match") in parameters:
        raised.append(VersionMismatch)
    if ("header", "Idempotency-Key") in parameters:
        raised += [(IdempotencyKeyReused, "IDEMPOTENCY_KEY_REUSED"), IdempotencyKeyInProgress]
    if method != "get" and "customerId" in path_ids:
        raised += PROFILE_CHANGE
    raised += USE_CASE_ERRORS.get(operation_id, ())
    codes: dict[int, list[str]] = {400: ["VALIDATION_ERROR"]}
    if any(media == "application/json" or media.endswith("+json") for media in body):
        codes[400].append("MALFORMED_JSON")
    if body:
        codes[413] = ["PAYLOAD_TOO_LARGE"]
    if secured:
        codes[401] = ["UNAUTHENTICATED", "TENANT_REQUIRED"]
        codes[403] = ["FORBIDDEN"]
    for status, code in map(_code, raised):
        if code not in codes.setdefault(status, []):
            codes[status].append(code)
    return dict(sorted(codes.items()))


def error_responses(codes: dict[int, list[str]], error_body: dict[str, Any]) -> dict[str, Any]:
    """The document's response objects for ``operation_errors``' answer."""
    return {
        str(status): {
            "description": f"{DESCRIPTIONS[status]}: {', '.join(f'`{c}`' for c in listed)}",
            "content": {"application/json": {"schema": error_body}},
            "x-error-codes": listed,
        }
        for status, listed in codes.items()
    }
