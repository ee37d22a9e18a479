"""The registry of personal data locations: where data about a customer is kept, how the data-subject
export reads it, and how erasure removes its personal values.

**Every table is listed here**: in ``LOCATIONS`` (it holds data about customers) or in ``NOT_PERSONAL``
(with the reason). ``tests/integration/test_personal_data_registry.py`` fails for a table that is in
neither, so a new table cannot silently escape export and erasure. A new table is one entry:

- ``customer_columns``: the columns that hold the customer's id (rows of every profile of the lineage);
- ``export``: the section of the export document its rows go to (``None``: exported another way);
- ``erase_columns``: column → replacement, applied with one UPDATE (a table the service role may update);
- ``erase_sql``: the statement for anything else (``:tenant``, ``:ids``, ``:keep`` are bound), e.g. a call
  of a SECURITY DEFINER function for append-only tables (privacy_sql.py);
- ``erased_by``: a note when the aggregate (``domain.privacy.erase_profile``) does the erasing;
- ``data_class``: the name the proof of erasure (audit trail) gives to what was erased there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table

from customer360.infrastructure.persistence import tables as t
from customer360.infrastructure.persistence.privacy_sql import ERASED

# Audit fields whose values are not personal and stay readable after an erasure.
AUDIT_FIELDS_KEPT = ("status", "mergedInto", "kind", "erasureRequestId", "erasedCustomerIds", "dataClasses")
# Keys of stored event payloads (outbox, change feed) that carry personal values.
PERSONAL_EVENT_FIELDS = ("name", "contactPoint", "email", "phone", "givenName", "familyName", "companyName")


@dataclass(frozen=True, slots=True)
class PersonalDataLocation:
    table: Table
    customer_columns: tuple[str, ...]
    data_class: str | None
    export: str | None = None
    erase_columns: Mapping[str, Any] = field(default_factory=dict)
    erase_sql: str | None = None
    erased_by: str | None = None
    # Columns left out of the export (internal bookkeeping, not data about the person).
    export_exclude: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def erases(self) -> bool:
        return bool(self.erase_columns or self.erase_sql or self.erased_by)


_S = t.SCHEMA

LOCATIONS: tuple[PersonalDataLocation, ...] = (
    PersonalDataLocation(
        t.customer_profile, ("id",), "PROFILE", erased_by="erase_profile: the tombstone keeps kind and segment"
    ),
    PersonalDataLocation(
        t.contact, ("customer_id",), "CONTACTS", export="contacts", erased_by="erase_profile: names, e-mails, phones"
    ),
    PersonalDataLocation(
        t.customer_key, ("customer_id",), "LOOKUP_KEYS", erased_by="rebuilt from the tombstone: no keys"
    ),
    PersonalDataLocation(
        t.external_reference,
        ("customer_id",),
        "EXTERNAL_REFERENCES",
        export="externalReferences",
        erased_by="erase_profile: the tombstone has none, so they are deleted",
    ),
    PersonalDataLocation(
        t.consent_record,
        ("customer_id",),
        "CONSENT_CONTACT_POINTS_AND_EVIDENCE",
        export="consentHistory",
        erase_sql=f"SELECT {_S}.erase_consent_values(:tenant, CAST(:ids AS text[]))",
    ),
    PersonalDataLocation(
        t.audit_log,
        ("customer_id",),
        "AUDIT_VALUES",
        export="audit",
        erase_sql=f"SELECT {_S}.erase_audit_values(:tenant, CAST(:ids AS text[]), CAST(:keep AS text[]))",
    ),
    PersonalDataLocation(
        t.event_outbox,
        ("aggregate_id",),
        "EVENT_PAYLOADS",
        # The service role may update the outbox (the relay marks rows published): no definer needed.
        erase_sql=f"""
            UPDATE {_S}.event_outbox o SET envelope = jsonb_set(o.envelope, '{{payload}}', (
                SELECT jsonb_object_agg(p.key, CASE WHEN p.key = ANY(CAST(:personal AS text[]))
                                                         AND jsonb_typeof(p.value) <> 'null'
                                                    THEN to_jsonb('{ERASED}'::text) ELSE p.value END)
                  FROM jsonb_each(o.envelope->'payload') AS p))
             WHERE o.tenant_id = :tenant AND o.aggregate_id = ANY(CAST(:ids AS text[]))
               AND jsonb_typeof(o.envelope->'payload') = 'object' AND o.envelope->'payload' <> '{{}}'::jsonb""",
    ),
    PersonalDataLocation(
        t.idempotency_record,
        (),
        "STORED_RESPONSES",
        erase_sql=f"SELECT {_S}.erase_idempotent_responses(:tenant, CAST(:ids AS text[]))",
    ),
    PersonalDataLocation(t.customer_relationship, ("from_customer_id", "to_customer_id"), None, export="relationships"),
    PersonalDataLocation(t.lead_link, ("customer_id",), None, export="leadLinks"),
    PersonalDataLocation(
        t.service_history, ("customer_id",), "SERVICE_HISTORY", export="serviceHistory", erase_columns={"summary": None}
    ),
    PersonalDataLocation(t.entitlement, ("customer_id",), None, export="entitlements"),
    PersonalDataLocation(
        t.customer_credit,
        ("customer_id",),
        "CREDIT",
        export="credit",
        erase_columns={"credit_limit": None, "currency": None, "payment_terms": None, "credit_blocked": None},
    ),
    PersonalDataLocation(
        t.customer_merge,
        ("target_id", "source_id"),
        "MERGE_IMAGES",
        export="merges",
        erase_sql=f"SELECT {_S}.erase_merge_images(:tenant, CAST(:ids AS text[]))",
        export_exclude=("record", "unmerge_report"),
    ),
    PersonalDataLocation(
        t.customer_provenance,
        ("customer_id",),
        "PROVENANCE_FINGERPRINTS",
        # Fingerprints are unsalted digests of values: pseudonymous, so they go too.
        erase_columns={"document": {}},
    ),
    PersonalDataLocation(t.legal_hold, ("customer_id",), None, export="legalHolds"),
    PersonalDataLocation(t.erasure_request, ("customer_id",), None, export="erasureRequests"),
    PersonalDataLocation(t.data_access_log, ("customer_id",), None, export="accessLog"),
    # Duplicate detection (migration 0005): normalised values and hashes derived from the profile.
    PersonalDataLocation(
        t.match_record, ("customer_id",), "MATCH_FEATURES", erased_by="rebuilt when the profile is saved: none"
    ),
    PersonalDataLocation(
        t.match_key, ("customer_id",), "MATCH_KEYS", erased_by="rebuilt when the profile is saved: none"
    ),
    # Search (migration 0009): the word index of names and addresses.
    PersonalDataLocation(
        t.search_token, ("customer_id",), "SEARCH_TOKENS", erased_by="kept by a trigger: an erased profile has none"
    ),
    # Migration 0008: hashes of the profile's names and premises, counted for term-frequency weights.
    PersonalDataLocation(
        t.match_term, ("customer_id",), "MATCH_TERMS", erased_by="rebuilt when the profile is saved: none"
    ),
)

NOT_PERSONAL: dict[str, str] = {
    "search_word": "words of names and addresses tied to no customer; a word leaves with its last posting in"
    " search_token, so an erased person's rare name does not stay",
    "consumer_inbox": "event ids of consumed events, no customer data",
    "duplicate_pair": "decisions about pairs of ids",
    "survivorship_policy": "tenant configuration",
    "consent_purpose_policy": "tenant configuration",
    "consent_state": "derived from consent_record by a trigger: ids, statuses, dates; channel-wide, no contact points",
    "consent_confirmation": "SHA-256 of random tokens; confirming is refused once the profile is erased",
    "suppressed_contact_point": "keyed hashes that exist to recognise an erased person: kept by design",
    "match_stop_key": "hashes of keys shared by more than the block cap (100) profiles; no customer id",
    "match_model": "tenant model parameters (probabilities per field and level)",
    "duplicate_policy": "tenant configuration",
    "duplicate_scan": "job status and counts",
    "duplicate_candidate": "scores and field levels of pairs of ids; no values",
    "duplicate_cluster": "groups of ids",
    "import_job": "job status, options (column names, policy) and counts",
    # Holds the personal values of a file being imported, but of no customer yet (the profile made from a
    # row is a customer_profile row like any other); it lives only until its job finishes.
    "import_row": "staged rows of an unfinished import, keyed by job and row number; deleted when the job ends",
    "import_issue": "row numbers, field names, reasons and ids of existing profiles; never a value",
}


def registered_tables() -> set[str]:
    return {location.name for location in LOCATIONS} | set(NOT_PERSONAL)


def data_classes() -> tuple[str, ...]:
    """What an erasure erases, for its proof in the audit trail."""
    return tuple(sorted({loc.data_class for loc in LOCATIONS if loc.data_class and loc.erases}))
