"""The SQL of migration 0006 that is not a table: the profile document with its privacy fields, and the
SECURITY DEFINER functions through which an erasure changes append-only history (see the migration's
docstring for why they exist and how they are confined).

Every erasure function:
- runs only for the caller's current tenant (``p_tenant`` must equal ``app.tenant_id``), and filters
  by it explicitly as well (the migrating role may be a superuser, to whom row-level security does not
  apply);
- touches only the rows of the customer ids it is given, and only their personal values;
- has a fixed ``search_path`` (a definer function must not resolve names through the caller's path).
"""

from __future__ import annotations

ERASED = "[erased]"


def customer_json(schema: str, *, privacy: bool) -> str:
    """``customer_json(p)``: the one definition of the profile document (migration 0004, extended here)."""
    extra = "'privacyFlags', to_jsonb(p.privacy_flags), 'tombstone', p.tombstone," if privacy else ""
    return f"""
CREATE OR REPLACE FUNCTION {schema}.customer_json(p {schema}.customer_profile) RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER AS $$
  SELECT jsonb_build_object(
    'id', p.id, 'kind', p.kind, 'name', p.name, 'legalName', p.legal_name, 'givenName', p.given_name,
    'familyName', p.family_name, 'birthDate', p.birth_date, 'status', p.status, 'segment', p.segment,
    'industry', p.industry, 'website', p.website, 'domain', p.domain, 'taxIds', p.tax_ids,
    'emails', p.emails, 'phones', p.phones, 'addresses', p.addresses, 'locale', p.locale,
    'communication', p.communication, 'tags', to_jsonb(p.tags), 'mergedInto', p.merged_into, {extra}
    'createdAt', p.created_at, 'createdBy', p.created_by, 'updatedAt', p.updated_at,
    'updatedBy', p.updated_by, 'version', p.version,
    'externalRefs', COALESCE((
      SELECT jsonb_agg(jsonb_build_object('sourceSystem', r.source_system, 'externalId', r.external_id)
                       ORDER BY r.source_system)
        FROM {schema}.external_reference r
       WHERE r.tenant_id = p.tenant_id AND r.customer_id = p.id), '[]'::jsonb),
    'contacts', COALESCE((
      SELECT jsonb_agg(jsonb_build_object(
               'id', c.id, 'name', c.name, 'givenName', c.given_name, 'familyName', c.family_name,
               'jobTitle', c.job_title, 'roles', to_jsonb(c.roles), 'primaryRoles', to_jsonb(c.primary_roles),
               'emails', c.emails, 'phones', c.phones, 'communication', c.communication,
               'createdAt', c.created_at, 'updatedAt', c.updated_at) ORDER BY c.id)
        FROM {schema}.contact c
       WHERE c.tenant_id = p.tenant_id AND c.customer_id = p.id AND c.removed_at IS NULL), '[]'::jsonb))
$$
"""


def _guard(schema: str) -> str:
    return """
  IF p_tenant IS NULL OR p_tenant IS DISTINCT FROM current_setting('app.tenant_id', true) THEN
    RAISE EXCEPTION 'erasure outside the current tenant' USING ERRCODE = 'insufficient_privilege';
  END IF;"""


def _definer(schema: str, signature: str, body: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {schema}.{signature} RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  n integer;
BEGIN{_guard(schema)}
{body}
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$
"""


# A profile image (merge record) with its personal values replaced; kind, segment, ids, contact roles,
# status and dates stay, and the image still reads back as a valid one.
ERASED_ATTRIBUTES = f"""
CREATE OR REPLACE FUNCTION {{schema}}.erased_attributes(a jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN a IS NULL OR jsonb_typeof(a) <> 'object' THEN a
         ELSE jsonb_build_object('kind', a->'kind', 'name', '{ERASED}', 'segment', a->'segment') END
$$
"""

ERASED_IMAGE = f"""
CREATE OR REPLACE FUNCTION {{schema}}.erased_image(img jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN img IS NULL OR jsonb_typeof(img) <> 'object' THEN img
  ELSE img || jsonb_build_object(
    'attributes', {{schema}}.erased_attributes(img->'attributes'),
    'contacts', COALESCE((
      SELECT jsonb_agg(c || jsonb_build_object('attributes', jsonb_build_object(
               'name', '{ERASED}',
               'roles', COALESCE(c->'attributes'->'roles', '[]'::jsonb),
               'primaryRoles', COALESCE(c->'attributes'->'primaryRoles', '[]'::jsonb))) ORDER BY o)
        FROM jsonb_array_elements(COALESCE(img->'contacts', '[]'::jsonb)) WITH ORDINALITY AS t(c, o)),
      '[]'::jsonb))
  END
$$
"""


def _functions(schema: str) -> dict[str, str]:
    """signature → CREATE statement of each SECURITY DEFINER erasure function."""
    return {
        # consent_record: contact point values (e-mail, phone; a contact's id stays) and the evidence
        # text; the keyed hashes of IP and user agent are dropped. Who captured it, when, status, purpose,
        # legal basis and policy version stay: the history still proves what was consented to.
        "erase_consent_values(p_tenant text, p_customer_ids text[])": f"""
  UPDATE {schema}.consent_record SET
    contact_point_value = CASE WHEN contact_point_kind IN ('EMAIL', 'PHONE') THEN '{ERASED}'
                               ELSE contact_point_value END,
    evidence = evidence || jsonb_build_object(
      'text', CASE WHEN evidence->>'text' IS NULL THEN NULL ELSE '{ERASED}' END,
      'ipHash', NULL, 'userAgentHash', NULL)
  WHERE tenant_id = p_tenant AND customer_id = ANY(p_customer_ids);""",
        # audit_log: every old/new value of the customers' rows, except the fields named in p_keep
        # (status, merge links, the erasure's own proof); e-mails and phones inside field names (consent
        # keys such as consent[EMAIL/MARKETING/EMAIL:…]). Who, when, what action, which field stay.
        "erase_audit_values(p_tenant text, p_customer_ids text[], p_keep text[])": f"""
  UPDATE {schema}.audit_log a SET changes = COALESCE((
      SELECT jsonb_agg(jsonb_build_object(
               'field', regexp_replace(e->>'field', '(EMAIL|PHONE):[^]/]*', '\\1:{ERASED}', 'g'),
               'old', CASE WHEN (e->>'field') = ANY(p_keep) OR COALESCE(jsonb_typeof(e->'old'), 'null') = 'null'
                           THEN e->'old' ELSE to_jsonb('{ERASED}'::text) END,
               'new', CASE WHEN (e->>'field') = ANY(p_keep) OR COALESCE(jsonb_typeof(e->'new'), 'null') = 'null'
                           THEN e->'new' ELSE to_jsonb('{ERASED}'::text) END) ORDER BY o)
        FROM jsonb_array_elements(a.changes) WITH ORDINALITY AS t(e, o)), '[]'::jsonb)
  WHERE a.tenant_id = p_tenant AND a.customer_id = ANY(p_customer_ids) AND jsonb_typeof(a.changes) = 'array';""",
        # customer_merge.record: the before-images, the golden record and the target's provenance
        # fingerprints (digests of values) of every merge the customers took part in. Ids, decisions
        # (field, rule, winner), re-pointed keys and dates stay; an erased lineage is never unmerged.
        "erase_merge_images(p_tenant text, p_customer_ids text[])": f"""
  UPDATE {schema}.customer_merge SET record = record || jsonb_build_object(
      'targetBefore', {schema}.erased_image(record->'targetBefore'),
      'sourceBefore', {schema}.erased_image(record->'sourceBefore'),
      'golden', {schema}.erased_attributes(record->'golden'),
      'targetProvenanceBefore', '{{}}'::jsonb)
  WHERE tenant_id = p_tenant AND (target_id = ANY(p_customer_ids) OR source_id = ANY(p_customer_ids));""",
        # idempotency_record: a stored response that names one of the customers (their documents) is
        # replaced by a tombstone answer; status code, headers and the request fingerprint stay, so a
        # retried request is still recognised and never applied twice.
        "erase_idempotent_responses(p_tenant text, p_customer_ids text[])": f"""
  UPDATE {schema}.idempotency_record r SET body = convert_to(
      jsonb_build_object('status', 'ERASED', 'erasedCustomerIds', to_jsonb(p_customer_ids))::text, 'UTF8')
  WHERE r.tenant_id = p_tenant
    AND EXISTS (SELECT 1 FROM unnest(p_customer_ids) AS i(id)
                 WHERE position(convert_to(i.id, 'UTF8') IN r.body) > 0);""",
    }


def upgrade_statements(schema: str, app_role: str) -> list[str]:
    statements = [
        customer_json(schema, privacy=True),
        ERASED_ATTRIBUTES.format(schema=schema),
        ERASED_IMAGE.format(schema=schema),
    ]
    for signature, body in _functions(schema).items():
        statements.append(_definer(schema, signature, body))
        statements.append(f"REVOKE ALL ON FUNCTION {schema}.{signature} FROM PUBLIC")
        statements.append(f"GRANT EXECUTE ON FUNCTION {schema}.{signature} TO {app_role}")
    return statements


def downgrade_statements(schema: str) -> list[str]:
    statements = [f"DROP FUNCTION IF EXISTS {schema}.{signature}" for signature in _functions(schema)]
    statements.append(f"DROP FUNCTION IF EXISTS {schema}.erased_image(jsonb)")
    statements.append(f"DROP FUNCTION IF EXISTS {schema}.erased_attributes(jsonb)")
    statements.append(customer_json(schema, privacy=False))
    return statements
