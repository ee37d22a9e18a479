"""Kafka integration: consumer inbox, lead links, service history, entitlements, credit read model.

Revision ID: 0002_integration
Revises: 0001_initial
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from customer360.infrastructure.persistence.roles import APP_ROLE, tenant_isolation_sql, worker_access_sql

revision = "0002_integration"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

S = "crm_customer360"
EXTERNAL_ID = sa.String(128)


def _tenant() -> sa.Column[str]:
    return sa.Column("tenant_id", sa.String(64), nullable=False)


def _customer() -> sa.Column[str]:
    return sa.Column("customer_id", sa.String(40), nullable=False)


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _profile_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "customer_id"],
        [f"{S}.customer_profile.tenant_id", f"{S}.customer_profile.id"],
        name=f"fk_{table}_tenant_id_customer_id_customer_profile",
    )


def upgrade() -> None:
    op.create_table(
        "consumer_inbox",
        _tenant(),
        sa.Column("consumer", sa.String(64), nullable=False),
        sa.Column("event_id", EXTERNAL_ID, nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(249), nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        _ts("processed_at"),
        sa.PrimaryKeyConstraint("tenant_id", "consumer", "event_id", name="pk_consumer_inbox"),
        schema=S,
    )
    op.create_index("ix_consumer_inbox_processed_at", "consumer_inbox", ["processed_at"], schema=S)

    op.create_table(
        "lead_link",
        _tenant(),
        sa.Column("lead_id", EXTERNAL_ID, nullable=False),
        _customer(),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("matched_on", sa.String(20)),
        sa.Column("lead_source", sa.String(40), nullable=False),
        sa.Column("event_id", EXTERNAL_ID, nullable=False),
        _ts("linked_at"),
        sa.PrimaryKeyConstraint("tenant_id", "lead_id", name="pk_lead_link"),
        _profile_fk("lead_link"),
        schema=S,
    )
    op.create_index("ix_lead_link_tenant_id_customer_id", "lead_link", ["tenant_id", "customer_id"], schema=S)

    op.create_table(
        "service_history",
        _tenant(),
        sa.Column("service_order_id", EXTERNAL_ID, nullable=False),
        _customer(),
        sa.Column("order_number", sa.Text),
        sa.Column("order_type", sa.String(40)),
        sa.Column("priority", sa.String(20)),
        sa.Column("status", sa.String(20), nullable=False),
        _ts("opened_at"),
        sa.Column("summary", sa.Text),
        sa.Column("event_id", EXTERNAL_ID, nullable=False),
        _ts("recorded_at"),
        sa.PrimaryKeyConstraint("tenant_id", "service_order_id", name="pk_service_history"),
        _profile_fk("service_history"),
        schema=S,
    )
    op.create_index(
        "ix_service_history_tenant_id_customer_id_opened_at",
        "service_history",
        ["tenant_id", "customer_id", "opened_at"],
        schema=S,
    )

    op.create_table(
        "entitlement",
        _tenant(),
        sa.Column("contract_id", EXTERNAL_ID, nullable=False),
        _customer(),
        sa.Column("services", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("sla_tier", sa.String(40), nullable=False),
        sa.Column("response_time_minutes", sa.Integer, nullable=False),
        sa.Column("resolution_time_minutes", sa.Integer, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date),
        _ts("activated_at"),
        sa.Column("event_id", EXTERNAL_ID, nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("tenant_id", "contract_id", name="pk_entitlement"),
        _profile_fk("entitlement"),
        schema=S,
    )
    op.create_index(
        "ix_entitlement_tenant_id_customer_id_valid_from",
        "entitlement",
        ["tenant_id", "customer_id", "valid_from"],
        schema=S,
    )

    op.create_table(
        "customer_credit",
        _tenant(),
        _customer(),
        sa.Column("credit_limit", sa.Numeric(18, 2)),
        sa.Column("currency", sa.String(3)),
        sa.Column("payment_terms", sa.String(40)),
        sa.Column("credit_blocked", sa.Boolean),
        sa.Column("source_system", sa.String(40), nullable=False),
        _ts("source_updated_at"),
        sa.Column("event_id", EXTERNAL_ID, nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("tenant_id", "customer_id", name="pk_customer_credit"),
        _profile_fk("customer_credit"),
        schema=S,
    )

    grants = {
        # The inbox is written once per consumed event and never changed.
        "consumer_inbox": "SELECT, INSERT",
        # UPDATE (customer_id) lets a merge re-point what belonged to the source profile.
        "lead_link": "SELECT, INSERT, UPDATE",
        "service_history": "SELECT, INSERT, UPDATE",
        "entitlement": "SELECT, INSERT, UPDATE",
        "customer_credit": "SELECT, INSERT, UPDATE",
    }
    for table, privileges in grants.items():
        op.execute(f"GRANT {privileges} ON {S}.{table} TO {APP_ROLE}")
        for statement in tenant_isolation_sql(S, table):
            op.execute(statement)
    # The consumer purges old inbox rows of every tenant.
    for statement in worker_access_sql(S, "consumer_inbox", "SELECT, DELETE"):
        op.execute(statement)


def downgrade() -> None:
    for table in ("customer_credit", "entitlement", "service_history", "lead_link", "consumer_inbox"):
        op.drop_table(table, schema=S)
