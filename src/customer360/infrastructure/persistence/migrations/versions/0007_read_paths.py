"""Read paths: the name search through the trigram index under row-level security, and the profile
document built by a PL/pgSQL function (see ``privacy_sql.customer_json`` for why).

**Why a function for the name search.** pg_trgm's operators (``<%``, regular expressions on the
trigram index) are not LEAKPROOF, and PostgreSQL evaluates a non-leakproof condition only *after* the
row-level-security policy: for the service's role the name search therefore never used
``ix_customer_profile_tenant_id_search_text`` and read every profile of the tenant (measured with
100,000 profiles: 0.4 s in PostgreSQL, 0.7–1 s per request, against 15–40 ms with the index). Marking
pg_trgm's functions LEAKPROOF needs a superuser.

So the ranking query runs in ``profile_name_hits``, a SECURITY DEFINER function owned by the migrating
role, for which a SELECT-only policy on ``customer_profile`` lets the planner use the index. The function
applies the tenant itself — the transaction's ``app.tenant_id``, never a parameter, so a caller cannot
ask for another tenant and a session without a tenant gets nothing — and returns only ids and scores;
the profiles themselves are then read by the service's role, through its own policy.

Revision ID: 0007_read_paths
Revises: 0006_privacy
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

from customer360.infrastructure.persistence import privacy_sql
from customer360.infrastructure.persistence.roles import APP_ROLE, TENANT_SETTING

revision = "0007_read_paths"
down_revision = "0006_privacy"
branch_labels = None
depends_on = None

S = "crm_customer360"
SIGNATURE = "profile_name_hits(text, text[], text[], boolean, integer)"

# p_query is the search form of a name (search_terms.search_query: a-z, 0-9, single spaces). Every word
# must match (a word of up to three letters as the start of a word, a longer one fuzzily), or the whole
# query must start a word, which ranks first: "tama textil" must not return every textile company, and
# "lor" means names starting so. p_ids, when given, limits the ranking to those profiles (the ones other
# criteria found). EXECUTE plans once per call with the values known (a custom plan): how many names a
# query matches decides between the index and a scan.
FUNCTION = f"""
CREATE OR REPLACE FUNCTION {S}.profile_name_hits(
    p_query text, p_ids text[], p_hidden text[], p_active_only boolean, p_limit integer
) RETURNS TABLE (customer_id text, score real)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {S}, pg_temp AS $$
DECLARE
  words text := '';
  w text;
BEGIN
  IF p_query !~ '^[a-z0-9]+( [a-z0-9]+)*$' THEN
    RETURN;
  END IF;
  FOREACH w IN ARRAY string_to_array(p_query, ' ') LOOP
    IF length(w) <= 3 THEN
      words := words || format(' AND p.search_text ~ %L', '(^| )' || w);
    ELSE
      words := words || format(' AND %L <%% p.search_text', w);
    END IF;
  END LOOP;
  RETURN QUERY EXECUTE
    'SELECT p.id::text, GREATEST(word_similarity($1, p.search_text),'
    '       CASE WHEN p.search_text ~ $2 THEN 1 ELSE 0 END)::real AS score'
    '  FROM customer_profile p'
    ' WHERE p.tenant_id = current_setting(''{TENANT_SETTING}'', true)'
    '   AND ($3 IS NULL OR p.id = ANY($3))'
    '   AND p.status <> ALL($4) AND (NOT $5 OR p.status = ''ACTIVE'')'
    '   AND ((true' || words || ') OR p.search_text ~ $2)'
    ' ORDER BY score DESC, p.id LIMIT $6'
    USING p_query, '(^| )' || p_query, p_ids, p_hidden, p_active_only, p_limit;
END
$$
"""


def upgrade() -> None:
    op.execute(privacy_sql.customer_json(S, privacy=True))
    op.execute(f"CREATE POLICY owner_name_search ON {S}.customer_profile FOR SELECT TO CURRENT_USER USING (true)")
    op.execute(FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {S}.{SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {S}.{SIGNATURE} TO {APP_ROLE}")


def downgrade() -> None:
    # customer_json stays PL/pgSQL: the document it builds is the same as 0006's.
    op.execute(f"DROP FUNCTION IF EXISTS {S}.{SIGNATURE}")
    op.execute(f"DROP POLICY IF EXISTS owner_name_search ON {S}.customer_profile")
