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
    """``customer_json(p)``: the one definition of the profile document (migration 0004, extended here).

    PL/pgSQL, not SQL: a SQL function with sub-selects is never inlined, and PostgreSQL plans its body
    again on every call; PL/pgSQL keeps the plans for the session (measured, 100,000 profiles: the single-
    profile lookup's database time from ~0.58 ms to ~0.15 ms)."""
    return f"""
CREATE OR REPLACE FUNCTION {schema}.customer_json(p {schema}.customer_profile) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY INVOKER AS $$
BEGIN
  RETURN {_document(schema, "p", privacy=privacy, kind="jsonb")};
END
$$
"""


def document_json(schema: str, p: str) -> str:
    """The document of ``customer_json`` (with its privacy fields) as a ``json`` expression over the row
    alias ``p`` of ``customer_profile``, for a statement that builds many (customer_search's page): the same
    keys and values (as parsed JSON) without a PL/pgSQL call and a jsonb per profile (ten documents: ~0.3 ->
    ~0.15 ms of PostgreSQL's CPU at 1,000,000 profiles). tests/integration/test_search.py compares the two."""
    return _document(schema, p, privacy=True, kind="json")


def _document(schema: str, p: str, *, privacy: bool, kind: str) -> str:
    """The document's expression, built as ``jsonb`` (customer_json's text, unchanged since 0007) or ``json``."""
    array = "to_jsonb({})" if kind == "jsonb" else "{}"
    tags, flags = array.format(f"{p}.tags"), array.format(f"{p}.privacy_flags")
    roles, primary_roles = array.format("c.roles"), array.format("c.primary_roles")
    extra = f"'privacyFlags', {flags}, 'tombstone', {p}.tombstone," if privacy else ""
    return f"""{kind}_build_object(
    'id', {p}.id, 'kind', {p}.kind, 'name', {p}.name, 'legalName', {p}.legal_name, 'givenName', {p}.given_name,
    'familyName', {p}.family_name, 'birthDate', {p}.birth_date, 'status', {p}.status, 'segment', {p}.segment,
    'industry', {p}.industry, 'website', {p}.website, 'domain', {p}.domain, 'taxIds', {p}.tax_ids,
    'emails', {p}.emails, 'phones', {p}.phones, 'addresses', {p}.addresses, 'locale', {p}.locale,
    'communication', {p}.communication, 'tags', {tags}, 'mergedInto', {p}.merged_into, {extra}
    'createdAt', {p}.created_at, 'createdBy', {p}.created_by, 'updatedAt', {p}.updated_at,
    'updatedBy', {p}.updated_by, 'version', {p}.version,
    'externalRefs', COALESCE((
      SELECT {kind}_agg({kind}_build_object('sourceSystem', r.source_system, 'externalId', r.external_id)
                       ORDER BY r.source_system)
        FROM {schema}.external_reference r
       WHERE r.tenant_id = {p}.tenant_id AND r.customer_id = {p}.id), '[]'::{kind}),
    'contacts', COALESCE((
      SELECT {kind}_agg({kind}_build_object(
               'id', c.id, 'name', c.name, 'givenName', c.given_name, 'familyName', c.family_name,
               'jobTitle', c.job_title, 'roles', {roles}, 'primaryRoles', {primary_roles},
               'emails', c.emails, 'phones', c.phones, 'communication', c.communication,
               'createdAt', c.created_at, 'updatedAt', c.updated_at) ORDER BY c.id)
        FROM {schema}.contact c
       WHERE c.tenant_id = {p}.tenant_id AND c.customer_id = {p}.id AND c.removed_at IS NULL), '[]'::{kind}))"""


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


# --- consent_state: the deciding channel-wide record per (customer, channel, purpose) -----------------
# Kept by a trigger, so every writer (consent capture, merge re-pointing, unmerge, imports) keeps it
# right without knowing it exists. Inserts keep the later statement (domain.consent.precedence, repeated
# here); an update of the owner or the point, and a delete, recompute the keys concerned from the history.
# The functions are SECURITY DEFINER so that the service role may read consent_state but not write it:
# it is derived from the append-only history and must not drift from it. Every consent write of one
# customer happens under that customer's row lock (capture, confirmation, expiry, merge), so the
# recomputation reads a settled history.
CONSENT_STATE_RANK = """
CREATE OR REPLACE FUNCTION {schema}.consent_state_rank(status text) RETURNS smallint
LANGUAGE sql IMMUTABLE AS $$
  SELECT (CASE status WHEN 'REVOKED' THEN 3 WHEN 'EXPIRED' THEN 2 WHEN 'PENDING' THEN 1 ELSE 0 END)::smallint
$$
"""

_STATE_COLUMNS = (
    "tenant_id, channel, purpose, customer_id, consent_id, status, legal_basis, expires_at, effective_at, "
    "status_rank, recorded_at"
)

CONSENT_STATE_REFRESH = f"""
CREATE OR REPLACE FUNCTION {{schema}}.consent_state_refresh(
    p_tenant text, p_customer text, p_channel text, p_purpose text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {{schema}}, pg_temp AS $$
BEGIN
  DELETE FROM consent_state
   WHERE tenant_id = p_tenant AND channel = p_channel AND purpose = p_purpose AND customer_id = p_customer;
  INSERT INTO consent_state ({_STATE_COLUMNS})
  SELECT c.tenant_id, c.channel, c.purpose, c.customer_id, c.id, c.status, c.legal_basis, c.expires_at,
         c.effective_at, consent_state_rank(c.status), c.recorded_at
    FROM consent_record c
   WHERE c.tenant_id = p_tenant AND c.customer_id = p_customer AND c.channel = p_channel
     AND c.purpose = p_purpose AND c.contact_point_kind IS NULL
   ORDER BY c.effective_at DESC, consent_state_rank(c.status) DESC, c.recorded_at DESC, c.id COLLATE "C" DESC
   LIMIT 1;
END
$$
"""

CONSENT_STATE_TRACK = f"""
CREATE OR REPLACE FUNCTION {{schema}}.consent_state_track() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {{schema}}, pg_temp AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.contact_point_kind IS NULL THEN
    PERFORM consent_state_refresh(OLD.tenant_id, OLD.customer_id, OLD.channel, OLD.purpose);
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.contact_point_kind IS NULL THEN
    PERFORM consent_state_refresh(NEW.tenant_id, NEW.customer_id, NEW.channel, NEW.purpose);
  ELSIF TG_OP = 'INSERT' AND NEW.contact_point_kind IS NULL THEN
    INSERT INTO consent_state AS s ({_STATE_COLUMNS})
    VALUES (NEW.tenant_id, NEW.channel, NEW.purpose, NEW.customer_id, NEW.id, NEW.status, NEW.legal_basis,
            NEW.expires_at, NEW.effective_at, consent_state_rank(NEW.status), NEW.recorded_at)
    ON CONFLICT (tenant_id, channel, purpose, customer_id) DO UPDATE SET
      consent_id = EXCLUDED.consent_id, status = EXCLUDED.status, legal_basis = EXCLUDED.legal_basis,
      expires_at = EXCLUDED.expires_at, effective_at = EXCLUDED.effective_at,
      status_rank = EXCLUDED.status_rank, recorded_at = EXCLUDED.recorded_at
    WHERE (EXCLUDED.effective_at, EXCLUDED.status_rank, EXCLUDED.recorded_at, EXCLUDED.consent_id)
        > (s.effective_at, s.status_rank, s.recorded_at, s.consent_id);
  END IF;
  RETURN NULL;
END
$$
"""

CONSENT_STATE_TRIGGER = """
CREATE TRIGGER consent_state_track
AFTER INSERT OR DELETE OR UPDATE OF customer_id, channel, purpose, status, contact_point_kind, effective_at
ON {schema}.consent_record FOR EACH ROW EXECUTE FUNCTION {schema}.consent_state_track()
"""

CONSENT_STATE_BACKFILL = f"""
INSERT INTO {{schema}}.consent_state ({_STATE_COLUMNS})
SELECT DISTINCT ON (c.tenant_id, c.channel, c.purpose, c.customer_id)
       c.tenant_id, c.channel, c.purpose, c.customer_id, c.id, c.status, c.legal_basis, c.expires_at,
       c.effective_at, {{schema}}.consent_state_rank(c.status), c.recorded_at
  FROM {{schema}}.consent_record c
 WHERE c.contact_point_kind IS NULL
 ORDER BY c.tenant_id, c.channel, c.purpose, c.customer_id, c.effective_at DESC,
          {{schema}}.consent_state_rank(c.status) DESC, c.recorded_at DESC, c.id COLLATE "C" DESC
"""


def consent_state_statements(schema: str) -> list[str]:
    """Functions and trigger of consent_state, then its backfill from the history. The backfill runs as
    the owner with row-level security briefly not forced on the two tables (in the migration's
    transaction), since the owner has no tenant of its own."""
    statements = [
        CONSENT_STATE_RANK.format(schema=schema),
        CONSENT_STATE_REFRESH.format(schema=schema),
        CONSENT_STATE_TRACK.format(schema=schema),
        CONSENT_STATE_TRIGGER.format(schema=schema),
    ]
    for signature in ("consent_state_refresh(text, text, text, text)", "consent_state_track()"):
        statements.append(f"REVOKE ALL ON FUNCTION {schema}.{signature} FROM PUBLIC")
    statements += [f"ALTER TABLE {schema}.{t} NO FORCE ROW LEVEL SECURITY" for t in ("consent_record", "consent_state")]
    statements.append(CONSENT_STATE_BACKFILL.format(schema=schema))
    statements += [f"ALTER TABLE {schema}.{t} FORCE ROW LEVEL SECURITY" for t in ("consent_record", "consent_state")]
    return statements


def upgrade_statements(schema: str, app_role: str) -> list[str]:
    statements = [
        customer_json(schema, privacy=True),
        ERASED_ATTRIBUTES.format(schema=schema),
        ERASED_IMAGE.format(schema=schema),
        *consent_state_statements(schema),
    ]
    for signature, body in _functions(schema).items():
        statements.append(_definer(schema, signature, body))
        statements.append(f"REVOKE ALL ON FUNCTION {schema}.{signature} FROM PUBLIC")
        statements.append(f"GRANT EXECUTE ON FUNCTION {schema}.{signature} TO {app_role}")
    return statements


def downgrade_statements(schema: str) -> list[str]:
    statements = [
        f"DROP TRIGGER IF EXISTS consent_state_track ON {schema}.consent_record",
        f"DROP FUNCTION IF EXISTS {schema}.consent_state_track()",
        f"DROP FUNCTION IF EXISTS {schema}.consent_state_refresh(text, text, text, text)",
        f"DROP FUNCTION IF EXISTS {schema}.consent_state_rank(text)",
    ]
    statements += [f"DROP FUNCTION IF EXISTS {schema}.{signature}" for signature in _functions(schema)]
    statements.append(f"DROP FUNCTION IF EXISTS {schema}.erased_image(jsonb)")
    statements.append(f"DROP FUNCTION IF EXISTS {schema}.erased_attributes(jsonb)")
    statements.append(customer_json(schema, privacy=False))
    return statements
