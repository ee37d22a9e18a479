"""Search that stays fast at a million profiles: a word index of name and address tokens.

``customer_profile.search_tokens`` holds each profile's tokens (``domain.search_terms``); a trigger posts
them in ``search_token`` and keeps the vocabulary ``search_word`` (``search_sql.py`` explains both, and
the one-round-trip ``customer_search``). Exact and prefix matches are answered from the word index in
index order; the trigram matching moves from every profile's name (``ix_customer_profile_tenant_id_
search_text``, ``profile_name_hits`` of 0007, ~7 ms of database CPU per search and growing with the
tenant) to the vocabulary, and only for a word that matches nothing. ``external_reference`` gets an
index on the external id alone, for free-text search (``q``) across source systems.

Existing profiles get their tokens here (the trigger posts them as the column is filled).

Revision ID: 0009_search_index
Revises: 0012_console_events
Create Date: 2026-11-29
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from customer360.domain.search_terms import search_tokens
from customer360.domain.values import PostalAddress
from customer360.infrastructure.persistence import search_sql
from customer360.infrastructure.persistence.documents import address_from
from customer360.infrastructure.persistence.roles import APP_ROLE, TENANT_SETTING, tenant_isolation_sql

revision = "0009_search_index"
down_revision = "0012_console_events"
branch_labels = None
depends_on = None

S = "crm_customer360"
BACKFILL_BATCH = 5_000
OLD_NAME_SEARCH = "profile_name_hits(text, text[], text[], boolean, integer)"


def _tenant() -> sa.Column[str]:
    return sa.Column("tenant_id", sa.String(64), nullable=False)


def upgrade() -> None:
    op.add_column(
        "customer_profile",
        sa.Column("search_tokens", pg.ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'::text[]")),
        schema=S,
    )
    op.create_table(
        "search_token",
        _tenant(),
        sa.Column("token", sa.Text(collation="C"), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "token", "customer_id", name="pk_search_token"),
        schema=S,
    )
    op.create_table(
        "search_word",
        _tenant(),
        sa.Column("field", sa.String(1), nullable=False),
        sa.Column("word", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "field", "word", name="pk_search_word"),
        schema=S,
    )
    op.create_index(
        "ix_search_word_tenant_id_word",
        "search_word",
        ["tenant_id", "word"],
        schema=S,
        postgresql_using="gin",
        postgresql_ops={"word": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_external_reference_tenant_id_external_id", "external_reference", ["tenant_id", "external_id"], schema=S
    )
    for table in ("search_token", "search_word"):
        # Written by the trigger, which runs with the rights of the writer (the service's role).
        op.execute(f"GRANT SELECT, INSERT, DELETE ON {S}.{table} TO {APP_ROLE}")
        for statement in tenant_isolation_sql(S, table):
            op.execute(statement)
    # The fuzzy fallback's trigram operators are not LEAKPROOF: search_word_matches reads as the owner.
    op.execute(f"CREATE POLICY owner_word_search ON {S}.search_word FOR SELECT TO CURRENT_USER USING (true)")
    for statement in search_sql.sync_trigger(S):
        op.execute(statement)
    op.execute(search_sql.word_matches(S, TENANT_SETTING))
    for statement in search_sql.search_function(S, TENANT_SETTING):
        op.execute(statement)
    for signature in search_sql.FUNCTION_SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {S}.{signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {S}.{signature} TO {APP_ROLE}")
    op.drop_index("ix_customer_profile_tenant_id_search_text", "customer_profile", schema=S)
    _backfill()
    op.execute(f"DROP FUNCTION {S}.{OLD_NAME_SEARCH}")
    op.execute(f"DROP POLICY owner_name_search ON {S}.customer_profile")


def _backfill() -> None:
    """Tokens of the profiles that exist, tenant by tenant (the trigger posts them). The owner reads every
    tenant through 0007's policy, dropped after this; writes go through the tenant policy."""
    connection = op.get_bind()
    tenants = connection.execute(sa.text(f"SELECT DISTINCT tenant_id FROM {S}.customer_profile")).scalars().all()
    for tenant in tenants:
        connection.execute(sa.text(f"SELECT set_config('{TENANT_SETTING}', :tenant, true)"), {"tenant": tenant})
        after = ""
        while True:
            rows = connection.execute(
                sa.text(
                    f"SELECT id, name, legal_name, addresses FROM {S}.customer_profile"
                    " WHERE tenant_id = :tenant AND id > :after ORDER BY id LIMIT :n"
                ),
                {"tenant": tenant, "after": after, "n": BACKFILL_BATCH},
            ).all()
            if not rows:
                break
            updates = [
                {"tenant": tenant, "id": row.id, "tokens": search_tokens((row.name, row.legal_name), _addresses(row))}
                for row in rows
            ]
            connection.execute(
                sa.text(
                    f"UPDATE {S}.customer_profile SET search_tokens = :tokens WHERE tenant_id = :tenant AND id = :id"
                ),
                updates,
            )
            after = rows[-1].id


def _addresses(row: Any) -> list[PostalAddress]:
    return [address_from(document) for document in row.addresses]


def downgrade() -> None:
    op.execute(f"DROP TRIGGER sync_search_tokens ON {S}.customer_profile")
    for signature in search_sql.FUNCTION_SIGNATURES:
        op.execute(f"DROP FUNCTION IF EXISTS {S}.{signature}")
    op.execute(f"DROP FUNCTION IF EXISTS {S}.sync_search_tokens()")
    op.drop_index("ix_external_reference_tenant_id_external_id", "external_reference", schema=S)
    op.drop_table("search_word", schema=S)
    op.drop_table("search_token", schema=S)
    op.drop_column("customer_profile", "search_tokens", schema=S)
    op.create_index(
        "ix_customer_profile_tenant_id_search_text",
        "customer_profile",
        ["tenant_id", "search_text"],
        schema=S,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    # profile_name_hits and its policy: re-run 0007's upgrade by hand (downgrades are for development).
