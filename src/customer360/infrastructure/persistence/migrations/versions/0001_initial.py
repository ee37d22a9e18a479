"""Initial schema: profiles, contacts, keys, external references, relationships, consent, audit,
outbox, idempotency; roles, grants and row-level security.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from customer360.infrastructure.persistence.roles import (
    APP_ROLE,
    WORKER_ROLE,
    create_roles_sql,
    tenant_isolation_sql,
    worker_access_sql,
)

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

S = "crm_customer360"
JSONB_LIST = sa.text("'[]'::jsonb")
JSONB_OBJECT = sa.text("'{}'::jsonb")
TEXT_ARRAY = sa.text("'{}'::text[]")


def _tenant() -> sa.Column[str]:
    return sa.Column("tenant_id", sa.String(64), nullable=False)


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _profile_fk(table: str, column: str = "customer_id", name: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", column],
        [f"{S}.customer_profile.tenant_id", f"{S}.customer_profile.id"],
        name=name or f"fk_{table}_tenant_id_{column}_customer_profile",
    )


def upgrade() -> None:
    for extension in ("pg_trgm", "btree_gin"):
        op.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
    for statement in create_roles_sql():
        op.execute(statement)

    op.create_table(
        "customer_profile",
        _tenant(),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("legal_name", sa.Text),
        sa.Column("given_name", sa.Text),
        sa.Column("family_name", sa.Text),
        sa.Column("birth_date", sa.Date),
        sa.Column("segment", sa.Text),
        sa.Column("industry", sa.Text),
        sa.Column("website", sa.Text),
        sa.Column("domain", sa.Text),
        sa.Column("tax_ids", pg.JSONB, nullable=False, server_default=JSONB_LIST),
        sa.Column("emails", pg.JSONB, nullable=False, server_default=JSONB_LIST),
        sa.Column("phones", pg.JSONB, nullable=False, server_default=JSONB_LIST),
        sa.Column("addresses", pg.JSONB, nullable=False, server_default=JSONB_LIST),
        sa.Column("locale", pg.JSONB, nullable=False, server_default=JSONB_OBJECT),
        sa.Column("communication", pg.JSONB, nullable=False, server_default=JSONB_OBJECT),
        sa.Column("tags", pg.ARRAY(sa.Text), nullable=False, server_default=TEXT_ARRAY),
        sa.Column("search_text", sa.Text, nullable=False),
        sa.Column("merged_into", sa.String(40)),
        _ts("created_at"),
        sa.Column("created_by", sa.Text, nullable=False),
        _ts("updated_at"),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_customer_profile"),
        schema=S,
    )
    op.create_index(
        "ix_customer_profile_tenant_id_status_id", "customer_profile", ["tenant_id", "status", "id"], schema=S
    )
    op.create_index(
        "ix_customer_profile_tenant_id_updated_at_id",
        "customer_profile",
        ["tenant_id", "updated_at", "id"],
        schema=S,
    )
    op.create_index(
        "ix_customer_profile_tenant_id_tags",
        "customer_profile",
        ["tenant_id", "tags"],
        schema=S,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_customer_profile_tenant_id_search_text",
        "customer_profile",
        ["tenant_id", "search_text"],
        schema=S,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )

    op.create_table(
        "contact",
        _tenant(),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("given_name", sa.Text),
        sa.Column("family_name", sa.Text),
        sa.Column("job_title", sa.Text),
        sa.Column("roles", pg.ARRAY(sa.Text), nullable=False, server_default=TEXT_ARRAY),
        sa.Column("primary_roles", pg.ARRAY(sa.Text), nullable=False, server_default=TEXT_ARRAY),
        sa.Column("emails", pg.JSONB, nullable=False, server_default=JSONB_LIST),
        sa.Column("phones", pg.JSONB, nullable=False, server_default=JSONB_LIST),
        sa.Column("communication", pg.JSONB, nullable=False, server_default=JSONB_OBJECT),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("removed_at", nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_contact"),
        _profile_fk("contact"),
        schema=S,
    )
    op.create_index("ix_contact_tenant_id_customer_id", "contact", ["tenant_id", "customer_id"], schema=S)

    op.create_table(
        "customer_key",
        _tenant(),
        sa.Column("key_type", sa.String(16), nullable=False),
        sa.Column("key_value", sa.Text, nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("owner", sa.String(40), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("tenant_id", "key_type", "key_value", "customer_id", "owner", name="pk_customer_key"),
        _profile_fk("customer_key"),
        schema=S,
    )
    op.create_index("ix_customer_key_tenant_id_customer_id", "customer_key", ["tenant_id", "customer_id"], schema=S)

    op.create_table(
        "external_reference",
        _tenant(),
        sa.Column("source_system", sa.String(40), nullable=False),
        sa.Column("external_id", sa.Text, nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("tenant_id", "source_system", "external_id", name="pk_external_reference"),
        _profile_fk("external_reference"),
        schema=S,
    )
    op.create_index(
        "ix_external_reference_tenant_id_customer_id",
        "external_reference",
        ["tenant_id", "customer_id"],
        schema=S,
    )

    op.create_table(
        "customer_relationship",
        _tenant(),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("from_customer_id", sa.String(40), nullable=False),
        sa.Column("to_customer_id", sa.String(40), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("valid_from", sa.Date),
        sa.Column("valid_to", sa.Date),
        _ts("created_at"),
        sa.Column("created_by", sa.Text, nullable=False),
        _ts("removed_at", nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_customer_relationship"),
        _profile_fk("customer_relationship", "from_customer_id", "fk_customer_relationship_from_customer"),
        _profile_fk("customer_relationship", "to_customer_id", "fk_customer_relationship_to_customer"),
        schema=S,
    )
    op.create_index(
        "ix_customer_relationship_tenant_id_from_customer_id",
        "customer_relationship",
        ["tenant_id", "from_customer_id"],
        schema=S,
    )
    op.create_index(
        "ix_customer_relationship_tenant_id_to_customer_id",
        "customer_relationship",
        ["tenant_id", "to_customer_id"],
        schema=S,
    )

    op.create_table(
        "consent_record",
        _tenant(),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("contact_point_kind", sa.String(10)),
        sa.Column("contact_point_value", sa.Text),
        sa.Column("legal_basis", sa.String(24), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("policy_version", sa.Text),
        sa.Column("evidence", pg.JSONB, nullable=False, server_default=JSONB_OBJECT),
        _ts("effective_at"),
        _ts("recorded_at"),
        sa.Column("recorded_by", sa.Text, nullable=False),
        _ts("expires_at", nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_consent_record"),
        _profile_fk("consent_record"),
        schema=S,
    )
    op.create_index(
        "ix_consent_record_tenant_id_customer_id_recorded_at_id",
        "consent_record",
        ["tenant_id", "customer_id", "recorded_at", "id"],
        schema=S,
    )

    op.create_table(
        "audit_log",
        _tenant(),
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("customer_id", sa.String(40)),
        sa.Column("entity_type", sa.String(20), nullable=False),
        sa.Column("entity_id", sa.String(40), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("correlation_id", sa.String(128), nullable=False),
        _ts("occurred_at"),
        sa.Column("changes", pg.JSONB, nullable=False, server_default=JSONB_LIST),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_audit_log"),
        schema=S,
    )
    op.create_index("ix_audit_log_tenant_id_customer_id_id", "audit_log", ["tenant_id", "customer_id", "id"], schema=S)

    op.create_table(
        "event_outbox",
        _tenant(),
        sa.Column("position", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("event_id", sa.String(40), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("aggregate_id", sa.String(40), nullable=False),
        sa.Column("correlation_id", sa.String(128), nullable=False),
        sa.Column("envelope", pg.JSONB, nullable=False),
        _ts("created_at"),
        _ts("published_at", nullable=True),
        sa.Column("attempts", sa.SmallInteger, nullable=False, server_default=sa.text("0")),
        sa.PrimaryKeyConstraint("tenant_id", "position", name="pk_event_outbox"),
        schema=S,
    )
    op.create_index(
        "ix_event_outbox_tenant_id_event_id", "event_outbox", ["tenant_id", "event_id"], unique=True, schema=S
    )
    op.create_index(
        "ix_event_outbox_unpublished",
        "event_outbox",
        ["position"],
        schema=S,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_index(
        "ix_event_outbox_published_at",
        "event_outbox",
        ["published_at"],
        schema=S,
        postgresql_where=sa.text("published_at IS NOT NULL"),
    )

    op.create_table(
        "idempotency_record",
        _tenant(),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.SmallInteger, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("headers", pg.JSONB, nullable=False, server_default=JSONB_OBJECT),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("tenant_id", "key", name="pk_idempotency_record"),
        schema=S,
    )
    op.create_index("ix_idempotency_record_created_at", "idempotency_record", ["created_at"], schema=S)

    grants = {
        "customer_profile": "SELECT, INSERT, UPDATE",
        "contact": "SELECT, INSERT, UPDATE",
        "customer_key": "SELECT, INSERT, DELETE",
        "external_reference": "SELECT, INSERT, DELETE",
        "customer_relationship": "SELECT, INSERT, UPDATE",
        # Consent history is append-only: only the owner id may change (a merge re-points it).
        "consent_record": "SELECT, INSERT, UPDATE (customer_id)",
        # The audit trail is append-only for the service.
        "audit_log": "SELECT, INSERT",
        # UPDATE lets the committing transaction take the EXCLUSIVE lock that orders positions.
        "event_outbox": "SELECT, INSERT, UPDATE",
        "idempotency_record": "SELECT, INSERT",
    }
    op.execute(f"GRANT USAGE ON SCHEMA {S} TO {APP_ROLE}")
    op.execute(f"GRANT SELECT ON {S}.alembic_version TO {APP_ROLE}")
    for table, privileges in grants.items():
        op.execute(f"GRANT {privileges} ON {S}.{table} TO {APP_ROLE}")
        for statement in tenant_isolation_sql(S, table):
            op.execute(statement)
    op.execute(f"GRANT USAGE ON SCHEMA {S} TO {WORKER_ROLE}")
    op.execute(f"GRANT SELECT ON {S}.alembic_version TO {WORKER_ROLE}")
    for statement in worker_access_sql(S, "event_outbox", "SELECT, UPDATE, DELETE"):
        op.execute(statement)
    for statement in worker_access_sql(S, "idempotency_record", "SELECT, DELETE"):
        op.execute(statement)


def downgrade() -> None:
    for table in (
        "idempotency_record",
        "event_outbox",
        "audit_log",
        "consent_record",
        "customer_relationship",
        "external_reference",
        "customer_key",
        "contact",
        "customer_profile",
    ):
        op.drop_table(table, schema=S)
