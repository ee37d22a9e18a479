"""Table definitions (SQLAlchemy Core). The migrations create them; a test checks the two agree.

Every table leads its primary key and indexes with ``tenant_id`` and has row-level security.
Two documented exceptions serve cross-tenant background work done by the worker role: the relay's
index over unpublished outbox rows and the purge indexes on creation time.
JSONB columns hold value objects in the API's own spelling, so the read path can pass them through.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.sql.schema import SchemaItem

SCHEMA = "crm_customer360"

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(schema=SCHEMA, naming_convention=NAMING_CONVENTION)

TENANT = String(64)
ID = String(40)


def _tenant() -> Column[str]:
    return Column("tenant_id", TENANT, nullable=False)


def _ts(name: str, *, nullable: bool = False) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


def tenant_table(name: str, key: tuple[str, ...], *items: SchemaItem) -> Table:
    """One tenant's rows: ``tenant_id`` leads the primary key (after it, ``key``) and row-level security filters
    on it (the migrations enable it for every table)."""
    return Table(name, metadata, _tenant(), *items, PrimaryKeyConstraint("tenant_id", *key))


def _id() -> Column[str]:
    return Column("id", ID, nullable=False)


def _customer_id() -> Column[str]:
    return Column("customer_id", ID, nullable=False)


def _correlation_id() -> Column[str]:
    return Column("correlation_id", String(128), nullable=False)


def _jsonb(name: str, empty: str = "{}") -> Column[object]:
    """A JSONB value object that is never NULL: ``empty`` (``{}`` or ``[]``) when there is nothing."""
    return Column(name, JSONB, nullable=False, server_default=text(f"'{empty}'::jsonb"))


def _texts(name: str) -> Column[list[str]]:
    return Column(name, ARRAY(Text), nullable=False, server_default=text("'{}'::text[]"))


def _versioned() -> tuple[Column[int], Column[object], Column[str]]:
    """A tenant's settings row: its version (If-Match) and who changed it when."""
    return (
        Column("version", Integer, nullable=False),
        _ts("updated_at"),
        Column("updated_by", Text, nullable=False),
    )


def _profile_ref(column: str = "customer_id", name: str | None = None) -> ForeignKeyConstraint:
    """The row belongs to a profile of its own tenant."""
    return ForeignKeyConstraint(["tenant_id", column], ["customer_profile.tenant_id", "customer_profile.id"], name=name)


# Profiles that may not be contactable whatever their consent (ix_customer_profile_contact_restricted).
CONTACT_RESTRICTED = (
    "status = 'ERASED' OR privacy_flags <> '{}'::text[]"
    """ OR (communication -> 'channels') @> '[{"optIn": false}]'::jsonb"""
)

customer_profile = tenant_table(
    "customer_profile",
    ("id",),
    _id(),
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("name", Text, nullable=False),
    Column("legal_name", Text),
    Column("given_name", Text),
    Column("family_name", Text),
    Column("birth_date", Date),
    Column("segment", Text),
    Column("industry", Text),
    Column("website", Text),
    Column("domain", Text),
    _jsonb("tax_ids", "[]"),
    _jsonb("emails", "[]"),
    _jsonb("phones", "[]"),
    _jsonb("addresses", "[]"),
    _jsonb("locale"),
    _jsonb("communication"),
    _texts("tags"),
    # Accent-free, lower-case name variants (see domain.search_terms).
    Column("search_text", Text, nullable=False),
    Column("merged_into", ID),
    _ts("created_at"),
    Column("created_by", Text, nullable=False),
    _ts("updated_at"),
    Column("updated_by", Text, nullable=False),
    Column("version", Integer, nullable=False),
    # Privacy (migration 0006): flags such as SUPPRESSED_CONTACT_POINT, and the erasure's tombstone
    # ({erasedAt, erasureRequestId}); written by the privacy store, not by the aggregate's repository.
    _texts("privacy_flags"),
    Column("tombstone", JSONB),
    Index(None, "tenant_id", "status", "id"),
    # The merge lineage, downwards (profiles merged into one): erasure and data-subject export.
    Index(
        "ix_customer_profile_tenant_id_merged_into",
        "tenant_id",
        "merged_into",
        postgresql_where=text("merged_into IS NOT NULL"),
    ),
    # The few profiles the bulk consent check may have to exclude (erased, flagged, some channel opted
    # out); the predicate is repeated verbatim by that query (consent_check.py).
    Index(
        "ix_customer_profile_contact_restricted",
        "tenant_id",
        "id",
        postgresql_where=text(CONTACT_RESTRICTED),
    ),
    Index(None, "tenant_id", "updated_at", "id"),
    Index("ix_customer_profile_tenant_id_tags", "tenant_id", "tags", postgresql_using="gin"),
    # Migration 0009: the profile's name and address tokens (domain.search_terms), posted in search_token
    # by a trigger.
    _texts("search_tokens"),
)

contact = tenant_table(
    "contact",
    ("id",),
    _id(),
    _customer_id(),
    Column("name", Text, nullable=False),
    Column("given_name", Text),
    Column("family_name", Text),
    Column("job_title", Text),
    _texts("roles"),
    _texts("primary_roles"),
    _jsonb("emails", "[]"),
    _jsonb("phones", "[]"),
    _jsonb("communication"),
    _ts("created_at"),
    _ts("updated_at"),
    _ts("removed_at", nullable=True),
    _profile_ref(),
    Index(None, "tenant_id", "customer_id"),
)

# Normalised keys for exact look-ups (e-mail, phone, national phone digits, tax id, web domain),
# of the profile itself (owner '') and of its contacts (owner = contact id).
customer_key = tenant_table(
    "customer_key",
    ("key_type", "key_value", "customer_id", "owner"),
    Column("key_type", String(16), nullable=False),
    Column("key_value", Text, nullable=False),
    _customer_id(),
    Column("owner", String(40), nullable=False, server_default=""),
    _profile_ref(),
    Index(None, "tenant_id", "customer_id"),
)

external_reference = tenant_table(
    "external_reference",
    ("source_system", "external_id"),
    Column("source_system", String(40), nullable=False),
    Column("external_id", Text, nullable=False),
    _customer_id(),
    _ts("created_at"),
    _profile_ref(),
    Index(None, "tenant_id", "customer_id"),
    # Free-text search (q) by an external id of any source system (migration 0009).
    Index(None, "tenant_id", "external_id"),
)

# --- Search (migration 0009, search_sql.py) ----------------------------------------------------
# The word index: one posting per (token, profile), in byte order so that a prefix is a range. Kept by a
# trigger on customer_profile.search_tokens; derived data, like customer_key: no foreign key.
search_token = tenant_table(
    "search_token",
    ("token", "customer_id"),
    Column("token", Text(collation="C"), nullable=False),
    _customer_id(),
)

# The tenant's vocabulary of name, street and city words, for the fuzzy fallback (trigram similarity on
# words, not on every profile). A word leaves it with its last posting.
search_word = tenant_table(
    "search_word",
    ("field", "word"),
    Column("field", String(1), nullable=False),
    Column("word", Text, nullable=False),
    Index(None, "tenant_id", "word", postgresql_using="gin", postgresql_ops={"word": "gin_trgm_ops"}),
    # Migration 0017: the name words' and the street words' own trigram indexes, without the tenant (the
    # fuzzy look-up of a big tenant's words intersects fewer lists).
    *(
        Index(
            f"ix_search_word_{name}_trigram",
            "word",
            postgresql_using="gin",
            postgresql_ops={"word": "gin_trgm_ops"},
            postgresql_where=text(f"field = '{field}'"),
        )
        for name, field in (("name", "n"), ("street", "s"))
    ),
)

customer_relationship = tenant_table(
    "customer_relationship",
    ("id",),
    _id(),
    Column("from_customer_id", ID, nullable=False),
    Column("to_customer_id", ID, nullable=False),
    Column("type", String(20), nullable=False),
    Column("valid_from", Date),
    Column("valid_to", Date),
    _ts("created_at"),
    Column("created_by", Text, nullable=False),
    _ts("removed_at", nullable=True),
    _profile_ref("from_customer_id", "fk_customer_relationship_from_customer"),
    _profile_ref("to_customer_id", "fk_customer_relationship_to_customer"),
    Index(None, "tenant_id", "from_customer_id"),
    Index(None, "tenant_id", "to_customer_id"),
)

consent_record = tenant_table(
    "consent_record",
    ("id",),
    _id(),
    _customer_id(),
    Column("channel", String(10), nullable=False),
    Column("purpose", String(40), nullable=False),
    Column("status", String(10), nullable=False),
    Column("contact_point_kind", String(10)),
    Column("contact_point_value", Text),
    Column("legal_basis", String(24), nullable=False),
    Column("source", String(16), nullable=False),
    Column("policy_version", Text),
    _jsonb("evidence"),
    _ts("effective_at"),
    _ts("recorded_at"),
    Column("recorded_by", Text, nullable=False),
    _ts("expires_at", nullable=True),
    _profile_ref(),
    Index(None, "tenant_id", "customer_id", "recorded_at", "id"),
    # Migration 0006. GET /consent/expiring (per tenant), and the expiry sweep of the worker role across tenants
    # (a documented exception to tenant-first indexes, like the outbox purge indexes).
    Index(
        "ix_consent_record_tenant_id_expires_at",
        "tenant_id",
        "expires_at",
        postgresql_where=text("expires_at IS NOT NULL"),
    ),
    Index("ix_consent_record_expires_at", "expires_at", postgresql_where=text("expires_at IS NOT NULL")),
)

audit_log = tenant_table(
    "audit_log",
    ("id",),
    Column("id", BigInteger, Identity(always=True), nullable=False),
    Column("customer_id", ID),
    Column("entity_type", String(20), nullable=False),
    Column("entity_id", String(40), nullable=False),
    Column("action", String(40), nullable=False),
    Column("actor", Text, nullable=False),
    Column("source", String(20), nullable=False),
    _correlation_id(),
    _ts("occurred_at"),
    _jsonb("changes", "[]"),
    Index(None, "tenant_id", "customer_id", "id"),
)

event_outbox = tenant_table(
    "event_outbox",
    ("position",),
    # Positions are allocated under an EXCLUSIVE table lock at commit, so they follow commit order.
    Column("position", BigInteger, Identity(always=True), nullable=False),
    Column("event_id", String(40), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("aggregate_id", ID, nullable=False),
    _correlation_id(),
    Column("envelope", JSONB, nullable=False),
    _ts("created_at"),
    _ts("published_at", nullable=True),
    Column("attempts", SmallInteger, nullable=False, server_default=text("0")),
    Index(None, "tenant_id", "event_id", unique=True),
    # One customer's events, newest first (the console's 360 page).
    Index("ix_event_outbox_aggregate", "tenant_id", "aggregate_id", "position"),
    Index("ix_event_outbox_unpublished", "position", postgresql_where=text("published_at IS NULL")),
    Index("ix_event_outbox_published_at", "published_at", postgresql_where=text("published_at IS NOT NULL")),
)

idempotency_record = tenant_table(
    "idempotency_record",
    ("key",),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", SmallInteger, nullable=False),
    Column("body", LargeBinary, nullable=False),
    _jsonb("headers"),
    _ts("created_at"),
    Index(None, "created_at"),
)

# --- Kafka integration (migration 0002) ------------------------------------------------------------
EXTERNAL_ID = String(128)

# One row per consumed event, written in the transaction that applied it: a redelivery finds it and
# changes nothing. The purge index on processed_at serves the worker role across tenants.
consumer_inbox = tenant_table(
    "consumer_inbox",
    ("consumer", "event_id"),
    Column("consumer", String(64), nullable=False),
    Column("event_id", EXTERNAL_ID, nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("topic", String(249), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    _ts("processed_at"),
    Index(None, "processed_at"),
)

# Which profile a Sales lead created or was attached to (a lead id is handled once, whatever its event id).
lead_link = tenant_table(
    "lead_link",
    ("lead_id",),
    Column("lead_id", EXTERNAL_ID, nullable=False),
    _customer_id(),
    Column("outcome", String(10), nullable=False),
    Column("matched_on", String(20)),
    Column("lead_source", String(40), nullable=False),
    Column("event_id", EXTERNAL_ID, nullable=False),
    _ts("linked_at"),
    _profile_ref(),
    Index(None, "tenant_id", "customer_id"),
)

service_history = tenant_table(
    "service_history",
    ("service_order_id",),
    Column("service_order_id", EXTERNAL_ID, nullable=False),
    _customer_id(),
    Column("order_number", Text),
    Column("order_type", String(40)),
    Column("priority", String(20)),
    Column("status", String(20), nullable=False),
    _ts("opened_at"),
    Column("summary", Text),
    Column("event_id", EXTERNAL_ID, nullable=False),
    _ts("recorded_at"),
    _profile_ref(),
    Index(None, "tenant_id", "customer_id", "opened_at"),
)

# The entitlement view: one row per contract, upserted by ContractActivatedEvent.
entitlement = tenant_table(
    "entitlement",
    ("contract_id",),
    Column("contract_id", EXTERNAL_ID, nullable=False),
    _customer_id(),
    Column("services", ARRAY(Text), nullable=False),
    Column("sla_tier", String(40), nullable=False),
    Column("response_time_minutes", Integer, nullable=False),
    Column("resolution_time_minutes", Integer, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    # The event's own time: an older activation arriving late never overwrites a newer one.
    _ts("activated_at"),
    Column("event_id", EXTERNAL_ID, nullable=False),
    _ts("updated_at"),
    _profile_ref(),
    Index(None, "tenant_id", "customer_id", "valid_from"),
)

# Finance/AR's credit data, shown read-only (Finance/AR owns it and feeds it through master updates).
customer_credit = tenant_table(
    "customer_credit",
    ("customer_id",),
    _customer_id(),
    Column("credit_limit", Numeric(18, 2)),
    Column("currency", String(3)),
    Column("payment_terms", String(40)),
    Column("credit_blocked", Boolean),
    Column("source_system", String(40), nullable=False),
    _ts("source_updated_at"),
    Column("event_id", EXTERNAL_ID, nullable=False),
    _ts("updated_at"),
    _profile_ref(),
)


# --- Merge workflow (migration 0003) ---------------------------------------------------------------
# The merge audit record: before-images of both profiles, the golden record and its decisions, every
# re-pointed row (``record``, see merge_documents.py); closed (never rewritten) by the unmerge.
customer_merge = tenant_table(
    "customer_merge",
    ("id",),
    _id(),
    Column("target_id", ID, nullable=False),
    Column("source_id", ID, nullable=False),
    Column("reason", String(40), nullable=False),
    Column("status", String(10), nullable=False),
    Column("record", JSONB, nullable=False),
    _ts("merged_at"),
    Column("merged_by", Text, nullable=False),
    _correlation_id(),
    _ts("unmerged_at", nullable=True),
    Column("unmerged_by", Text),
    Column("unmerge_report", JSONB),
    _profile_ref("target_id", "fk_customer_merge_target"),
    _profile_ref("source_id", "fk_customer_merge_source"),
    Index(None, "tenant_id", "target_id", "merged_at"),
    Index(None, "tenant_id", "source_id", "merged_at"),
    # One standing merge per source: the database refuses a second one whatever happens to the locks.
    Index(
        "ux_customer_merge_standing_source",
        "tenant_id",
        "source_id",
        unique=True,
        postgresql_where=text("status = 'MERGED'"),
    ),
)

# Decisions about a pair of profiles, lower id first. The merge workflow writes MERGED and, on unmerge,
# NOT_DUPLICATE; the duplicate-review queue reuses the table (dismissals: NOT_DUPLICATE) and a create that
# overrides the check writes PENDING_REVIEW (reason CREATE_OVERRIDE): queued, not decided (migration 0013).
duplicate_pair = tenant_table(
    "duplicate_pair",
    ("low_id", "high_id"),
    Column("low_id", ID, nullable=False),
    Column("high_id", ID, nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", String(40), nullable=False),
    Column("decided_by", Text, nullable=False),
    _ts("decided_at"),
    Column("merge_id", ID),
    _profile_ref("low_id", "fk_duplicate_pair_low"),
    _profile_ref("high_id", "fk_duplicate_pair_high"),
    Index(None, "tenant_id", "high_id"),
)

# Per golden record: which record and rule gave each field (domain.provenance; fingerprints, no values).
customer_provenance = tenant_table(
    "customer_provenance",
    ("customer_id",),
    _customer_id(),
    Column("document", JSONB, nullable=False),
    _ts("updated_at"),
    _profile_ref(),
)

# The tenant's survivorship rules (absent: the service default from the settings).
survivorship_policy = tenant_table(
    "survivorship_policy",
    (),
    Column("document", JSONB, nullable=False),
    *_versioned(),
)

# --- Duplicate detection (migration 0005) ------------------------------------------------------
# Per matchable profile: the matching engine's prepared record (match_codec.py) and the hashes of its
# blocking keys (so a save removes exactly the old ones). Written by every flush of the profile;
# merged and erased profiles have none. Derived data, like customer_key: no foreign key (bulk loads).
match_record = tenant_table(
    "match_record",
    ("customer_id",),
    _customer_id(),
    Column("features", JSONB, nullable=False),
    Column("keys", ARRAY(BigInteger), nullable=False),
    Column("terms", ARRAY(BigInteger), nullable=False, server_default=text("'{}'::bigint[]")),
)

# Blocking-key postings: profiles sharing a key hash are duplicate candidates. The primary key is the
# only index (tenant, key, profile): a look-up by key is an index-only range scan.
match_key = tenant_table(
    "match_key",
    ("key_hash", "customer_id"),
    Column("key_hash", BigInteger, nullable=False),
    _customer_id(),
)

# Term postings (migration 0008): per profile, the values whose frequency weighs an exact agreement (names
# per country, company names, premises, the kind and country). Counting a term is an index-only scan.
match_term = tenant_table(
    "match_term",
    ("term_hash", "customer_id"),
    Column("term_hash", BigInteger, nullable=False),
    _customer_id(),
)

# Keys shared by many profiles (more than the scan's big-block size) with their count, refreshed by every
# scan; those above the block cap (100) are stop keys, which the real-time check skips too.
match_stop_key = tenant_table(
    "match_stop_key",
    ("key_hash",),
    Column("key_hash", BigInteger, nullable=False),
    Column("profiles", Integer, nullable=False),
    _ts("refreshed_at"),
)

# The tenant's Fellegi-Sunter model (MatchModel.to_dict), trained by scans and refined by decisions.
match_model = tenant_table(
    "match_model",
    (),
    Column("document", JSONB, nullable=False),
    Column("version", Integer, nullable=False),
    Column("source", String(20), nullable=False),
    _jsonb("training"),
    _ts("trained_at", nullable=True),
    _ts("updated_at"),
    Column("updated_by", Text, nullable=False),
)

# The tenant's thresholds (absent: the DUPLICATE_* settings).
duplicate_policy = tenant_table(
    "duplicate_policy",
    (),
    Column("review_threshold", Double, nullable=False),
    Column("likely_threshold", Double, nullable=False),
    Column("auto_merge", Boolean, nullable=False),
    Column("auto_merge_threshold", Double, nullable=False),
    *_versioned(),
)

# Batch scans: phase, checkpoint (resume point), progress and result.
duplicate_scan = tenant_table(
    "duplicate_scan",
    ("id",),
    _id(),
    Column("status", String(20), nullable=False),
    Column("phase", String(20), nullable=False),
    _jsonb("checkpoint"),
    Column("processed", BigInteger, nullable=False, server_default=text("0")),
    Column("total", BigInteger, nullable=False, server_default=text("0")),
    _jsonb("result"),
    Column("error", String(80)),
    Column("requested_by", Text, nullable=False),
    _ts("requested_at"),
    _ts("started_at", nullable=True),
    _ts("finished_at", nullable=True),
    Index(None, "tenant_id", "requested_at"),
)

# Candidate pairs at or above the review threshold, lower id first, as the latest scan found them.
# Decisions live in duplicate_pair. The queue reads by probability, then ids, newest first.
# Fillfactor 45 (migration 0018): a re-scan rewrites each pair it finds again on its own page (HOT).
duplicate_candidate = tenant_table(
    "duplicate_candidate",
    ("low_id", "high_id"),
    Column("low_id", ID, nullable=False),
    Column("high_id", ID, nullable=False),
    Column("probability", Double, nullable=False),
    Column("match_weight", Double, nullable=False),
    Column("explanation", JSONB, nullable=False),
    Column("cluster_id", ID),
    Column("scan_id", ID),  # null: queued by a create that overrode the check (migration 0013)
    _ts("found_at"),
    _profile_ref("low_id", "fk_duplicate_candidate_low"),
    _profile_ref("high_id", "fk_duplicate_candidate_high"),
    Index(None, "tenant_id", "probability", "low_id", "high_id"),
    Index(None, "tenant_id", "high_id"),
    Index(None, "tenant_id", "cluster_id"),
)

# Transitive groups of candidate pairs (union-find over pairs at or above the review threshold).
duplicate_cluster = tenant_table(
    "duplicate_cluster",
    ("id",),
    _id(),
    Column("members", ARRAY(Text), nullable=False),
    Column("size", Integer, nullable=False),
    Column("max_probability", Double, nullable=False),
    Column("scan_id", ID, nullable=False),
    _ts("found_at"),
    Index(None, "tenant_id", "max_probability", "id"),
)

# --- Privacy (migration 0006) ------------------------------------------------------------------
# A tenant's rules per consent purpose (absent: the defaults of domain.consent_policy).
consent_purpose_policy = tenant_table(
    "consent_purpose_policy",
    ("purpose",),
    Column("purpose", String(40), nullable=False),
    Column("legal_bases", ARRAY(Text), nullable=False),
    Column("grant_validity_days", Integer),
    _texts("double_opt_in_sources"),
    *_versioned(),
)

# The deciding channel-wide record per (customer, channel, purpose), kept by a trigger on consent_record
# (privacy_sql.py) in the order of domain.consent.precedence: what the bulk consent check reads instead
# of sorting the history. Derived data: ids, statuses and dates, no contact points.
consent_state = tenant_table(
    "consent_state",
    ("channel", "purpose", "customer_id"),
    Column("channel", String(10), nullable=False),
    Column("purpose", String(40), nullable=False),
    _customer_id(),
    Column("consent_id", String(40, collation="C"), nullable=False),
    Column("status", String(10), nullable=False),
    Column("legal_basis", String(24), nullable=False),
    _ts("expires_at", nullable=True),
    _ts("effective_at"),
    Column("status_rank", SmallInteger, nullable=False),
    _ts("recorded_at"),
)

# Double opt-in: the SHA-256 of a single-use token (the token itself is only ever in one response).
consent_confirmation = tenant_table(
    "consent_confirmation",
    ("token_hash",),
    Column("token_hash", String(64), nullable=False),
    Column("consent_id", ID, nullable=False),
    _customer_id(),
    _ts("created_at"),
    _ts("expires_at"),
    _ts("used_at", nullable=True),
    Column("confirmation_consent_id", ID),
    Index(None, "tenant_id", "consent_id"),
)

legal_hold = tenant_table(
    "legal_hold",
    ("id",),
    _id(),
    _customer_id(),
    Column("reason", Text, nullable=False),
    Column("placed_by", Text, nullable=False),
    _ts("placed_at"),
    _ts("expires_at", nullable=True),
    _ts("released_at", nullable=True),
    Column("released_by", Text),
    _profile_ref(),
    Index(None, "tenant_id", "customer_id"),
)

# Erasure requests (Art. 17) and what became of them: ids and codes, no personal values.
erasure_request = tenant_table(
    "erasure_request",
    ("id",),
    _id(),
    _customer_id(),
    Column("reason", Text, nullable=False),
    Column("requester", Text, nullable=False),
    Column("status", String(10), nullable=False),
    _ts("requested_at"),
    Column("requested_by", Text, nullable=False),
    _ts("completed_at", nullable=True),
    _texts("erased_customer_ids"),
    _texts("data_classes"),
    Column("blocked_by", ID),
    _profile_ref(),
    Index(None, "tenant_id", "customer_id"),
)

# Keyed hashes (HMAC, SUPPRESSION_HASH_KEY) of erased e-mails and phones; never the values.
suppressed_contact_point = tenant_table(
    "suppressed_contact_point",
    ("kind", "hash"),
    Column("kind", String(10), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("erasure_request_id", ID, nullable=False),
    _ts("suppressed_at"),
)

# Who read whose personal data (profile reads, lists, searches, exports): ids and codes only.
data_access_log = tenant_table(
    "data_access_log",
    ("id",),
    Column("id", BigInteger, Identity(always=True), nullable=False),
    _customer_id(),
    Column("actor", Text, nullable=False),
    Column("action", String(24), nullable=False),
    _correlation_id(),
    _ts("occurred_at"),
    Index(None, "tenant_id", "customer_id", "id"),
    Index(None, "tenant_id", "actor", "id"),
)

# --- Bulk import (migration 0011) -------------------------------------------------------------
# An import job: options (mapping, duplicate policy, dry run), rows staged, the resume point
# (processed_rows: every row up to it is applied, saved in the transaction that applied them), counts.
import_job = tenant_table(
    "import_job",
    ("id",),
    _id(),
    Column("status", String(20), nullable=False),
    Column("format", String(10), nullable=False),
    _jsonb("options"),
    Column("staged_rows", BigInteger, nullable=False, server_default=text("0")),
    Column("processed_rows", BigInteger, nullable=False, server_default=text("0")),
    _jsonb("counts"),
    Column("error", String(40)),
    Column("error_details", JSONB),
    Column("requested_by", Text, nullable=False),
    _correlation_id(),
    _ts("requested_at"),
    _ts("started_at", nullable=True),
    _ts("finished_at", nullable=True),
    Index(None, "tenant_id", "requested_at"),
)

# Staging: the validated create body (JSON text) of every well-formed row, copied in before any is
# applied; deleted when the job finishes (personal data).
import_row = tenant_table(
    "import_row",
    ("job_id", "row_number"),
    Column("job_id", ID, nullable=False),
    Column("row_number", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
)

# The report: per row, the field and the reason it was refused or skipped (never the value).
import_issue = tenant_table(
    "import_issue",
    ("job_id", "row_number", "field"),
    Column("job_id", ID, nullable=False),
    Column("row_number", BigInteger, nullable=False),
    Column("field", String(200), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("customer_id", ID),
)

TENANT_TABLES = (
    customer_profile,
    contact,
    customer_key,
    external_reference,
    customer_relationship,
    consent_record,
    audit_log,
    event_outbox,
    idempotency_record,
    consumer_inbox,
    lead_link,
    service_history,
    entitlement,
    customer_credit,
    customer_merge,
    duplicate_pair,
    customer_provenance,
    survivorship_policy,
    consent_purpose_policy,
    consent_state,
    consent_confirmation,
    legal_hold,
    erasure_request,
    suppressed_contact_point,
    data_access_log,
    match_record,
    match_key,
    match_term,
    match_stop_key,
    match_model,
    duplicate_policy,
    duplicate_scan,
    duplicate_candidate,
    duplicate_cluster,
    search_token,
    search_word,
    import_job,
    import_row,
    import_issue,
)
