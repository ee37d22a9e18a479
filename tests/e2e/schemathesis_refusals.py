"""schemathesis hooks (SCHEMATHESIS_HOOKS): positive_data_acceptance, except the refusals listed here.

The OpenAPI document is as strict as the service wherever JSON Schema can say it (types, lengths, patterns,
enums, the edge's no-control-character rule). What it cannot say is listed below, one refusal at a time:
the operation, the error code and, for VALIDATION_ERROR, the field the service names (``*.name``: a member
of that name at any depth; ``name.*``: its members), each with its reason.
A schema-valid request refused for anything else fails the run as the built-in check would.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

ANY = "*"
CUSTOMER = "/api/v1/crm/customers/{customerId}"

EMAIL_RULES = "format: email is declared; email-validator also checks what it leaves open (label lengths, ...)"
VALIDITY = "validTo must not be before validFrom: two members compared"
SELF_MERGE = "a profile is not merged into itself: the path's id and the body's sourceCustomerId compared"
EXTERNAL_REF = "SYSTEM:id, the system spelled as in external references and the id as free text, both checked"
TARGET_VERSION = "targetVersion must equal If-Match when both are sent: a header and a body member compared"
UNION_FOR_LISTS = "the field names and choices are declared; UNION suits list fields only: a member name and its value"
WEB_ADDRESS = "a web address: http(s), a host name with a dot that IDNA encodes; urllib and the idna codec decide"
ONE_OF_PARAMETERS = "at least one of the optional parameters: OpenAPI cannot require one of several parameters"

# (operation, error code, field named in details.fields or None) → why the schema cannot rule it out.
REFUSALS: dict[tuple[str, str, str | None], str] = {
    (ANY, "IDEMPOTENCY_KEY_REUSED", None): "the generator reuses an Idempotency-Key with another body; whether a key "
    "is new depends on the requests sent before, not on this one",
    (ANY, "VERSION_MISMATCH", None): "If-Match names a version; which one is current depends on the stored resource",
    (ANY, "VALIDATION_ERROR", "cursor"): "a cursor's alphabet (base64url) is declared; only a cursor this API "
    "returned decodes to a position in the list",
    (ANY, "VALIDATION_ERROR", "updatedSince"): "the pattern declares the ISO-8601 shape; a calendar date (no "
    "2026-02-30) and hours below 24 are checked by the parser",
    ("POST /api/v1/crm/consent/confirm", "CONFIRMATION_REFUSED", None): "a double opt-in token is valid only if the "
    "service issued it and it is unused",
    (f"POST {CUSTOMER}/merge", "PRECONDITION_REQUIRED", None): "the target's version is required in If-Match or in "
    "targetVersion: one of a header and a body member, which JSON Schema cannot require together",
    (f"POST {CUSTOMER}/unmerge", "VALIDATION_ERROR", "targetVersion"): TARGET_VERSION,
    (f"POST {CUSTOMER}/relationships", "VALIDATION_ERROR", "validTo"): VALIDITY,
    (f"PATCH {CUSTOMER}/relationships/{{relationshipId}}", "VALIDATION_ERROR", "validTo"): VALIDITY,
    ("POST /api/v1/crm/duplicates/{pairId}/dismiss", "VALIDATION_ERROR", "pairId"): "a pair names two different "
    "customers: the two halves of one parameter compared",
    ("PUT /api/v1/crm/duplicates/settings", "VALIDATION_ERROR", "autoMergeThreshold"): "autoMergeThreshold must not "
    "be below likelyThreshold: two members compared",
    ("POST /api/v1/crm/imports", "VALIDATION_ERROR", "mapping"): "the mapping form field is JSON text of an object; "
    "a form field's schema is a string",
    ("POST /api/v1/crm/imports", "EMPTY_FILE", None): "a file needs a header row: a line of the text body",
    ("POST /api/v1/crm/imports", "UNREADABLE_FILE", None): "a file is CSV (or NDJSON) text, gzipped or not: the "
    "content of the text body, row by row",
    ("POST /api/v1/crm/customers", "VALIDATION_ERROR", "name"): "name is required unless the kind is PERSON and "
    "givenName or familyName makes it: a rule across three members",
    ("POST /api/v1/crm/duplicates/check", "VALIDATION_ERROR", "name"): "as for a create: name is required unless a "
    "person's givenName or familyName makes it",
    (f"GET {CUSTOMER}/consent/check", "VALIDATION_ERROR", "contactPoint"): "an e-mail address, a phone number or a "
    "contact id, told apart by its content and each checked by its own rules",
    ("GET /api/v1/crm/consent/expiring", "VALIDATION_ERROR", "within"): "the pattern declares 30d or 12h; the span "
    "must also lie between 1h and 3650d",
    (f"POST {CUSTOMER}/merge", "SELF_MERGE", None): SELF_MERGE,
    (f"POST {CUSTOMER}/merge/preview", "SELF_MERGE", None): SELF_MERGE,
    ("PUT /api/v1/crm/duplicates/settings", "VALIDATION_ERROR", "likelyThreshold"): "likelyThreshold must not be "
    "below reviewThreshold: two members compared",
    ("PUT /api/v1/crm/survivorship-policy", "VALIDATION_ERROR", "sourcePriority"): "the systems must be distinct "
    "once trimmed and upper-cased; uniqueItems compares them as sent",
    (ANY, "VALIDATION_ERROR", "*.quietHours"): "start and end must differ: two members compared",
    (ANY, "VALIDATION_ERROR", "*.country"): "the pattern declares two letters in any case; the ISO 3166-1 list "
    "(pycountry) decides, case-insensitively",
    (ANY, "CUSTOMER_ERASED", None): "a profile erased earlier in the run takes no further change: the state of "
    "the resource, not the shape of the request",
    (ANY, "VALIDATION_ERROR", "*.address"): EMAIL_RULES,
    (ANY, "VALIDATION_ERROR", "*.email"): EMAIL_RULES,
    ("GET /api/v1/crm/customers/lookup", "VALIDATION_ERROR", "query"): ONE_OF_PARAMETERS,
    ("GET /api/v1/crm/customers/search", "VALIDATION_ERROR", "query"): ONE_OF_PARAMETERS,
    ("POST /api/v1/crm/customers", "VALIDATION_ERROR", "X-Override-Reason"): "required, and not blank, only with "
    "override=true: a header that depends on a query parameter",
    ("POST /api/v1/crm/consent/check", "VALIDATION_ERROR", "channel"): "the channel is required in the query or in "
    "a JSON body: one of two places, and the text bodies have no member for it",
    ("POST /api/v1/crm/imports", "MISSING_REQUIRED_COLUMN", None): "the file's header row must name the name (or "
    "the customer) column: a line of the text body",
    ("PUT /api/v1/crm/survivorship-policy", "VALIDATION_ERROR", "rules.*"): "the field names and rules are "
    "declared; which rule suits which field (UNION for lists only) pairs a member name with its value",
    (f"POST {CUSTOMER}/contacts", "VALIDATION_ERROR", "name"): "a contact's name is required unless givenName or "
    "familyName makes it: a rule across three members",
    (f"PATCH {CUSTOMER}/contacts/{{contactId}}", "VALIDATION_ERROR", "name"): "the patched contact keeps a name "
    "(or givenName, familyName): the stored contact and the patch together",
    (f"PATCH {CUSTOMER}", "VALIDATION_ERROR", "kind"): "a profile's kind does not change: the stored profile "
    "and the patch compared",
    ("GET /api/v1/crm/customers/lookup", "VALIDATION_ERROR", "externalRef"): EXTERNAL_REF,
    ("GET /api/v1/crm/customers/search", "VALIDATION_ERROR", "externalRef"): EXTERNAL_REF,
    ("GET /api/v1/crm/customers/search", "VALIDATION_ERROR", "phone"): "a phone number to search holds a digit "
    "somewhere in any format",
    (f"POST {CUSTOMER}/consent", "VALIDATION_ERROR", "expiresAt"): "an expiry applies to grants only and must be "
    "after the capture time: members compared, and the clock",
    (f"POST {CUSTOMER}/legal-holds", "VALIDATION_ERROR", "expiresAt"): "an expiry must be in the future: the clock",
    (f"POST {CUSTOMER}/legal-holds/{{holdId}}/release", "LEGAL_HOLD_NOT_ACTIVE", None): "a hold released earlier "
    "in the run: the state of the resource",
    ("GET /api/v1/crm/customers/lookup", "VALIDATION_ERROR", "phone"): "a phone number to look up holds a digit "
    "somewhere in any format",
    ("GET /api/v1/crm/customers/search", "VALIDATION_ERROR", "q"): "free text to search holds a letter or a digit "
    "somewhere, of any script",
    (ANY, "CONSENT_VIOLATION", None): "subscribing a channel to a topic needs the customer's consent for it: the "
    "stored consent records",
    (f"POST {CUSTOMER}/consent", "LEGAL_BASIS_NOT_ALLOWED", None): "the purpose's policy names its legal bases: the "
    "tenant's stored policy",
    (f"POST {CUSTOMER}/merge", "VALIDATION_ERROR", "fieldChoices.*"): UNION_FOR_LISTS,
    (f"POST {CUSTOMER}/merge/preview", "VALIDATION_ERROR", "fieldChoices.*"): UNION_FOR_LISTS,
    (f"POST {CUSTOMER}/merge", "VALIDATION_ERROR", "targetVersion"): TARGET_VERSION,
    (f"POST {CUSTOMER}/merge/preview", "VALIDATION_ERROR", "targetVersion"): TARGET_VERSION,
    (f"DELETE {CUSTOMER}/privacy/flags/{{flag}}", "PRIVACY_FLAG_NOT_SET", None): "a flag is cleared only where it is "
    "set: the state of the profile",
    ("GET /api/v1/crm/customers/lookup", "VALIDATION_ERROR", "domain"): WEB_ADDRESS,
    (ANY, "VALIDATION_ERROR", "*.website"): WEB_ADDRESS,
    (ANY, "VALIDATION_ERROR", "*.channels"): "each channel and topic once: uniqueItems would compare whole "
    "objects, optIn included",
    (ANY, "VALIDATION_ERROR", "*.phone"): "a phone number holds a digit somewhere, in any format",
    (ANY, "VALIDATION_ERROR", "*.currency"): "the pattern declares three letters in any case; the ISO 4217 list "
    "(pycountry) decides, case-insensitively",
}
# Unassigned and private-use code points (categories Cn, Co) are refused as invisible, but the document's text
# pattern leaves them out (some 700 gaps; 137,000 code points a generator would expand one by one): a refusal
# for that reason passes only when the request holds one.
INVISIBLE = "contains control or invisible characters"


def _refusal(body: Any) -> tuple[str, list[tuple[str | None, str]]]:
    """The error code and the (field, reason) pairs a refusal names; array indexes as []."""
    if not isinstance(body, dict):
        return "", [(None, "")]
    code = str(body.get("error", ""))
    fields = body.get("details", {}).get("fields") if isinstance(body.get("details"), dict) else None
    if code != "VALIDATION_ERROR" or not isinstance(fields, list) or not fields:
        return code, [(None, "")]
    return code, [
        (re.sub(r"\[\d+\]", "[]", str(f.get("field"))), str(f.get("reason"))) for f in fields if isinstance(f, dict)
    ]


def _listed(operation: str, code: str, field: str | None) -> bool:
    for where, listed_code, listed_field in REFUSALS:
        if where not in (operation, ANY) or listed_code != code:
            continue
        if listed_field == field or (
            listed_field is not None
            and field is not None
            and (
                (listed_field.startswith("*.") and (field == listed_field[2:] or field.endswith(listed_field[1:])))
                or (listed_field.endswith(".*") and field.startswith(listed_field[:-1]))
            )
        ):
            return True
    return False


def _unlisted_invisible(value: Any) -> bool:
    if isinstance(value, str):
        return any(unicodedata.category(character) in ("Cn", "Co") for character in value)
    if isinstance(value, dict):
        return any(_unlisted_invisible(k) or _unlisted_invisible(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_unlisted_invisible(item) for item in value)
    return False


@schemathesis.check
def positive_data_acceptance_but_listed(ctx: Any, response: Any, case: Any) -> bool | None:
    """positive_data_acceptance, passing a refusal only when every field it names is listed above."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        try:
            code, fields = _refusal(json.loads(response.content))
        except ValueError:
            code, fields = "", [(None, "")]
        sent = [case.body, case.query, case.path_parameters, case.headers]
        if code and all(
            _listed(case.operation.label, code, field) or (reason == INVISIBLE and _unlisted_invisible(sent))
            for field, reason in fields
        ):
            return None
        raise
