"""Read functions: the profile document built in SQL, and a one-round-trip tenant-scoped lookup.

``customer_json(p)`` is the single definition of the profile document (camelCase, with contacts and
external references). ``customer_document(tenant, id)`` sets the tenant for its own (implicit)
transaction and returns that document: called outside an explicit transaction it costs one round trip
instead of four (BEGIN, set_config, SELECT, COMMIT) — the profile lookup is the hottest path we serve.
Both run with the caller's rights (SECURITY INVOKER), so row-level security applies unchanged.

Revision ID: 0004_read_functions
Revises: 0003_matching_merge
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0004_read_functions"
down_revision = "0003_matching_merge"
branch_labels = None
depends_on = None

S = "crm_customer360"

CUSTOMER_JSON = f"""
CREATE OR REPLACE FUNCTION {S}.customer_json(p {S}.customer_profile) RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER AS $$
  SELECT jsonb_build_object(
    'id', p.id, 'kind', p.kind, 'name', p.name, 'legalName', p.legal_name, 'givenName', p.given_name,
    'familyName', p.family_name, 'birthDate', p.birth_date, 'status', p.status, 'segment', p.segment,
    'industry', p.industry, 'website', p.website, 'domain', p.domain, 'taxIds', p.tax_ids,
    'emails', p.emails, 'phones', p.phones, 'addresses', p.addresses, 'locale', p.locale,
    'communication', p.communication, 'tags', to_jsonb(p.tags), 'mergedInto', p.merged_into,
    'createdAt', p.created_at, 'createdBy', p.created_by, 'updatedAt', p.updated_at,
    'updatedBy', p.updated_by, 'version', p.version,
    'externalRefs', COALESCE((
      SELECT jsonb_agg(jsonb_build_object('sourceSystem', r.source_system, 'externalId', r.external_id)
                       ORDER BY r.source_system)
        FROM {S}.external_reference r
       WHERE r.tenant_id = p.tenant_id AND r.customer_id = p.id), '[]'::jsonb),
    'contacts', COALESCE((
      SELECT jsonb_agg(jsonb_build_object(
               'id', c.id, 'name', c.name, 'givenName', c.given_name, 'familyName', c.family_name,
               'jobTitle', c.job_title, 'roles', to_jsonb(c.roles), 'primaryRoles', to_jsonb(c.primary_roles),
               'emails', c.emails, 'phones', c.phones, 'communication', c.communication,
               'createdAt', c.created_at, 'updatedAt', c.updated_at) ORDER BY c.id)
        FROM {S}.contact c
       WHERE c.tenant_id = p.tenant_id AND c.customer_id = p.id AND c.removed_at IS NULL), '[]'::jsonb))
$$
"""

CUSTOMER_DOCUMENT = f"""
CREATE OR REPLACE FUNCTION {S}.customer_document(p_tenant text, p_id text) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
BEGIN
  -- Local to the caller's transaction; for a single autocommitted statement, to this call.
  PERFORM set_config('app.tenant_id', p_tenant, true);
  RETURN (SELECT {S}.customer_json(p)::text FROM {S}.customer_profile p
           WHERE p.tenant_id = p_tenant AND p.id = p_id);
END
$$
"""


def upgrade() -> None:
    op.execute(CUSTOMER_JSON)
    op.execute(CUSTOMER_DOCUMENT)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {S}.customer_document(text, text)")
    op.execute(f"DROP FUNCTION IF EXISTS {S}.customer_json({S}.customer_profile)")
