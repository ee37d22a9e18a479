"""Privacy: consent expiry and double opt-in, purpose policies, legal holds, erasure requests, suppression
list, data-access log; privacy flags and the tombstone on the profile document; the narrowly scoped
functions through which an erasure rewrites append-only history.

**Why SECURITY DEFINER functions.** The service's role may only append to ``audit_log`` and
``idempotency_record`` and may change nothing but the owner id of ``consent_record`` and the unmerge
columns of ``customer_merge``: history must not be rewritable by the service. GDPR erasure is the one
legitimate exception, and it must not widen those grants (a widened grant would let any bug rewrite
history). So each exception is a function owned by the migrating role that changes *only the personal
values* of *only the given customers' rows* of *only the caller's current tenant* (it refuses to run
unless ``p_tenant`` equals the transaction's ``app.tenant_id``), with a fixed ``search_path``; the app
role may EXECUTE them and nothing else changes. Ids, statuses, dates and field names stay.

Revision ID: 0006_privacy
Revises: 0005_duplicate_detection
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from customer360.infrastructure.persistence import privacy_sql
from customer360.infrastructure.persistence.roles import APP_ROLE, tenant_isolation_sql, worker_access_sql
from customer360.infrastructure.persistence.tables import CONTACT_RESTRICTED

revision = "0006_privacy"
down_revision = "0005_duplicate_detection"
branch_labels = None
depends_on = None

S = "crm_customer360"
ID = sa.String(40)
TEXT_ARRAY = sa.text("'{}'::text[]")


def _tenant() -> sa.Column[str]:
    return sa.Column("tenant_id", sa.String(64), nullable=False)


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _profile_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "customer_id"],
        [f"{S}.customer_profile.tenant_id", f"{S}.customer_profile.id"],
        name=f"fk_{table}_tenant_id_customer_id_customer_profile",
    )


def _profile_columns() -> None:
    op.add_column(
        "customer_profile",
        sa.Column("privacy_flags", pg.ARRAY(sa.Text), nullable=False, server_default=TEXT_ARRAY),
        schema=S,
    )
    op.add_column("customer_profile", sa.Column("tombstone", pg.JSONB), schema=S)
    op.create_index(
        "ix_customer_profile_tenant_id_merged_into",
        "customer_profile",
        ["tenant_id", "merged_into"],
        schema=S,
        postgresql_where=sa.text("merged_into IS NOT NULL"),
    )
    op.create_index(
        "ix_customer_profile_contact_restricted",
        "customer_profile",
        ["tenant_id", "id"],
        schema=S,
        postgresql_where=sa.text(CONTACT_RESTRICTED),
    )


def _consent_indexes() -> None:
    op.create_index(
        "ix_consent_record_tenant_id_expires_at",
        "consent_record",
        ["tenant_id", "expires_at"],
        schema=S,
        postgresql_where=sa.text("expires_at IS NOT NULL"),
    )
    op.create_index(
        "ix_consent_record_expires_at",
        "consent_record",
        ["expires_at"],
        schema=S,
        postgresql_where=sa.text("expires_at IS NOT NULL"),
    )


def _tables() -> None:
    op.create_table(
        "consent_state",
        _tenant(),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("consent_id", sa.String(40, collation="C"), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("legal_basis", sa.String(24), nullable=False),
        _ts("expires_at", nullable=True),
        _ts("effective_at"),
        sa.Column("status_rank", sa.SmallInteger, nullable=False),
        _ts("recorded_at"),
        sa.PrimaryKeyConstraint("tenant_id", "channel", "purpose", "customer_id", name="pk_consent_state"),
        schema=S,
    )
    op.create_table(
        "consent_purpose_policy",
        _tenant(),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("legal_bases", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("grant_validity_days", sa.Integer),
        sa.Column("double_opt_in_sources", pg.ARRAY(sa.Text), nullable=False, server_default=TEXT_ARRAY),
        sa.Column("version", sa.Integer, nullable=False),
        _ts("updated_at"),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "purpose", name="pk_consent_purpose_policy"),
        schema=S,
    )
    op.create_table(
        "consent_confirmation",
        _tenant(),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("consent_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        _ts("created_at"),
        _ts("expires_at"),
        _ts("used_at", nullable=True),
        sa.Column("confirmation_consent_id", ID),
        sa.PrimaryKeyConstraint("tenant_id", "token_hash", name="pk_consent_confirmation"),
        schema=S,
    )
    op.create_index(
        "ix_consent_confirmation_tenant_id_consent_id", "consent_confirmation", ["tenant_id", "consent_id"], schema=S
    )
    op.create_table(
        "legal_hold",
        _tenant(),
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("placed_by", sa.Text, nullable=False),
        _ts("placed_at"),
        _ts("expires_at", nullable=True),
        _ts("released_at", nullable=True),
        sa.Column("released_by", sa.Text),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_legal_hold"),
        _profile_fk("legal_hold"),
        schema=S,
    )
    op.create_index("ix_legal_hold_tenant_id_customer_id", "legal_hold", ["tenant_id", "customer_id"], schema=S)
    op.create_table(
        "erasure_request",
        _tenant(),
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("requester", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        _ts("requested_at"),
        sa.Column("requested_by", sa.Text, nullable=False),
        _ts("completed_at", nullable=True),
        sa.Column("erased_customer_ids", pg.ARRAY(sa.Text), nullable=False, server_default=TEXT_ARRAY),
        sa.Column("data_classes", pg.ARRAY(sa.Text), nullable=False, server_default=TEXT_ARRAY),
        sa.Column("blocked_by", ID),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_erasure_request"),
        _profile_fk("erasure_request"),
        schema=S,
    )
    op.create_index(
        "ix_erasure_request_tenant_id_customer_id", "erasure_request", ["tenant_id", "customer_id"], schema=S
    )
    op.create_table(
        "suppressed_contact_point",
        _tenant(),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("erasure_request_id", ID, nullable=False),
        _ts("suppressed_at"),
        sa.PrimaryKeyConstraint("tenant_id", "kind", "hash", name="pk_suppressed_contact_point"),
        schema=S,
    )
    op.create_table(
        "data_access_log",
        _tenant(),
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("correlation_id", sa.String(128), nullable=False),
        _ts("occurred_at"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_data_access_log"),
        schema=S,
    )
    op.create_index(
        "ix_data_access_log_tenant_id_customer_id_id", "data_access_log", ["tenant_id", "customer_id", "id"], schema=S
    )
    op.create_index("ix_data_access_log_tenant_id_actor_id", "data_access_log", ["tenant_id", "actor", "id"], schema=S)


GRANTS = {
    # Derived from the consent history by a trigger (privacy_sql.py): the service only reads it.
    "consent_state": "SELECT",
    "consent_purpose_policy": "SELECT, INSERT, UPDATE",
    # A token is used once: only its use may be recorded.
    "consent_confirmation": "SELECT, INSERT, UPDATE (used_at, confirmation_consent_id)",
    # A hold is released, never rewritten or deleted.
    "legal_hold": "SELECT, INSERT, UPDATE (released_at, released_by)",
    "erasure_request": "SELECT, INSERT",
    "suppressed_contact_point": "SELECT, INSERT",
    # The access log is append-only, like the audit trail.
    "data_access_log": "SELECT, INSERT",
}


def upgrade() -> None:
    _profile_columns()
    _consent_indexes()
    _tables()
    for table, privileges in GRANTS.items():
        op.execute(f"GRANT {privileges} ON {S}.{table} TO {APP_ROLE}")
        for statement in tenant_isolation_sql(S, table):
            op.execute(statement)
    # The expiry sweep finds due grants of every tenant (read only); each tenant's records are then
    # appended by the app role in that tenant's own transaction.
    for statement in worker_access_sql(S, "consent_record", "SELECT"):
        op.execute(statement)
    for statement in privacy_sql.upgrade_statements(S, APP_ROLE):
        op.execute(statement)


def downgrade() -> None:
    for statement in privacy_sql.downgrade_statements(S):
        op.execute(statement)
    op.execute(f"DROP POLICY IF EXISTS worker_all_tenants ON {S}.consent_record")
    op.execute(f"REVOKE SELECT ON {S}.consent_record FROM crm_customer360_worker")
    for table in reversed(list(GRANTS)):
        op.drop_table(table, schema=S)
    for index in (
        "ix_consent_record_expires_at",
        "ix_consent_record_tenant_id_expires_at",
    ):
        op.drop_index(index, table_name="consent_record", schema=S)
    for index in ("ix_customer_profile_contact_restricted", "ix_customer_profile_tenant_id_merged_into"):
        op.drop_index(index, table_name="customer_profile", schema=S)
    op.drop_column("customer_profile", "tombstone", schema=S)
    op.drop_column("customer_profile", "privacy_flags", schema=S)
