"""The customer search in SQL (migration 0009): the word index's trigger and the one-round-trip search.

**The word index.** ``customer_profile.search_tokens`` holds a profile's tokens (``domain.search_terms``:
``n:mueller``, ``c:berlin`` …); the trigger ``sync_search_tokens`` posts them in ``search_token`` (primary key
``(tenant_id, token, customer_id)``, byte order) for every writer (since migration 0014 once per INSERT
statement for all its rows, and per row on update), and keeps ``search_word``, the
tenant's vocabulary of name, street and city words, for the fuzzy fallback. Merged and erased profiles
have no postings. A word whose last posting goes is removed from the vocabulary in the same statement
(it may be personal data: the surname of an erased person). Since migration 0016 the index also holds
*prefix postings* (``N:schm`` for ``n:schmidt``: ``search_postings``), one list in profile order per
start of a name, street, city or postal code word.

**One round trip.** ``customer_search(tenant, …)`` sets the tenant for its own transaction (as
``customer_document`` does, migration 0004) and returns the page as one JSON text. It runs with the
caller's rights: btree comparisons of text are LEAKPROOF, so the word index is used under row-level
security. Only the fuzzy fallback needs pg_trgm's operators, which are not: ``search_word_matches`` is a
SECURITY DEFINER function of the owner, taking the tenant from the transaction (migration 0007 explains
the pattern) and returning vocabulary words only. Nothing here writes, so it runs on a read replica.

**How a search runs.** Exact keys (e-mail, phone, tax id, reference) give a few ids, which are then
checked. Otherwise every term is a prefix of a token of the same field; the *driver* is the term with the
fewest postings (counted up to ``DRIVER_CAP``). A word with no posting at all (four letters or more)
becomes its closest vocabulary words (trigram similarity >= 0.45): the fuzzy fallback works on the few
words instead of every profile. A driver with fewer postings than the cap gives every candidate, which
are checked and ranked. When every term is common, the profiles having each as a whole word come first
(a join of their postings); if they are not a page, each term gets the postings holding every profile it
can match — its few words, or its prefix postings — and the shortest list is read in profile order, each
of its profiles probed in the others' lists by index look-ups, so only the profiles having every term are
read ("anna schm", "kirchstr 88 münchen"). Before all that, two name terms or more (no key) try the *pair
postings* (migration 0017: ``m:anna schmidt`` for every ordered pair of a profile's name words): the head
term's few words, each with the tail term as the start of the pair's second word, are one range each;
their distinct pairs (at most ``PAIR_LIMIT``) are listed by skipping through the index and
read best-scoring first, so a page of "anna schm" is read without ranking the 3,500 profiles having
both. A big single driver (a two-letter typeahead) is read in index
order — an exact word before longer ones, then alphabetically — in growing chunks until a page of
checked results is found or ``SCAN_CAP`` postings were read; that page is then ranked. Score per term: 1 for an
exact word, 0.5-1 for a prefix by the share of the word typed, 0.8 × similarity for a fuzzy word; a
result's score is the mean over its terms (q counts as one term; 1 when one of its keys matched).

**Plans.** ``customer_search`` runs with ``plan_cache_mode = force_generic_plan``: its statements are
planned once per connection, not again at every call with the values of its variables (the plans hold
whatever the arrays' sizes: index probes are fenced with ``LATERAL … LIMIT 1``). Its SQL helpers
(``search_hits``, ``search_key_hits``) have no ``SET search_path`` (their names are schema-qualified), so
PostgreSQL inlines them into those plans instead of planning their bodies at every call. Together about
half of the function's CPU for a typeahead or a whole name at 1,000,000 profiles (0.9 instead of 1.5 ms).
"""

from __future__ import annotations

from customer360.infrastructure.persistence.privacy_sql import document_json

DRIVER_CAP = 200
# When every term has more postings than DRIVER_CAP, they are counted again up to this.
RECOUNT_CAP = 5_000
SCAN_CAP = 20_000
# A term with at most this many words is probed word by word (its words are read from the index).
FEW_WORDS = 8
# The join's lists are counted up to this to find the shortest.
HEAD_COUNT_CAP = 2_000
# Two lists whose first this many profiles of the shorter gave no page are merge-joined from there on.
MERGE_AFTER = 800
FUZZY_THRESHOLD = 0.45
# The fields whose words have a vocabulary (search_word) and a fuzzy fallback.
_FUZZY_FIELDS = ("n", "s", "c")
# Words shorter than this are matched as prefixes only (a typo in two or three letters is another word).
FUZZY_MIN_LENGTH = 4
# Prefix postings (migration 0016): the first letters of every name, street, city and postal code word.
PREFIX_LENGTH = 4
_PREFIX_FIELDS = "'n', 's', 'c', 'p'"
# Pair postings (migration 0017): a profile with more name words than this has the marker posting 'm:' instead.
PAIR_WORDS = 8
# The pair path's head is a name term of at most this many words, and lists at most PAIR_LIMIT (head word,
# tail word) pairs, an equal share per head word; a term pair with more takes the other paths.
PAIR_HEAD_WORDS = 16
PAIR_LIMIT = 128


def sync_trigger(schema: str, *, prefixes: bool = False) -> list[str]:
    """The row trigger (0009); with ``prefixes`` (0016) it posts each token's prefix posting too."""
    new_tokens, old_tokens = ("NEW.search_tokens", "OLD.search_tokens")
    if prefixes:
        new_tokens, old_tokens = (f"{schema}.search_postings({t})" for t in (new_tokens, old_tokens))
    return [
        f"""
CREATE OR REPLACE FUNCTION {schema}.sync_search_tokens() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER SET search_path = {schema}, public, pg_temp AS $$
DECLARE
  v_new text[] := CASE WHEN NEW.status IN ('MERGED', 'ERASED') THEN '{{}}' ELSE {new_tokens} END;
  v_old text[] := '{{}}';
  v_removed text[];
BEGIN
  IF TG_OP = 'UPDATE' THEN
    v_old := CASE WHEN OLD.status IN ('MERGED', 'ERASED') THEN '{{}}' ELSE {old_tokens} END;
    IF v_old = v_new THEN
      RETURN NULL;
    END IF;
    v_removed := ARRAY(SELECT unnest(v_old) EXCEPT SELECT unnest(v_new));
    DELETE FROM search_token t
     WHERE t.tenant_id = OLD.tenant_id AND t.token = ANY (v_removed) AND t.customer_id = OLD.id;
    DELETE FROM search_word w USING unnest(v_removed) AS x(token)
     WHERE w.tenant_id = OLD.tenant_id AND w.field = left(x.token, 1) AND w.word = substr(x.token, 3)
       AND NOT EXISTS (SELECT 1 FROM search_token t WHERE t.tenant_id = OLD.tenant_id AND t.token = x.token);
  END IF;
  INSERT INTO search_token (tenant_id, token, customer_id)
  SELECT NEW.tenant_id, x, NEW.id FROM (SELECT unnest(v_new) EXCEPT SELECT unnest(v_old)) AS a(x)
  ON CONFLICT DO NOTHING;
  INSERT INTO search_word (tenant_id, field, word)
  SELECT NEW.tenant_id, left(x, 1), substr(x, 3) FROM (SELECT unnest(v_new) EXCEPT SELECT unnest(v_old)) AS a(x)
   WHERE left(x, 1) IN ('n', 's', 'c')
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$""",
        f"""
CREATE TRIGGER sync_search_tokens AFTER INSERT OR UPDATE OF search_tokens, status ON {schema}.customer_profile
FOR EACH ROW EXECUTE FUNCTION {schema}.sync_search_tokens()""",
    ]


def statement_insert_trigger(schema: str, *, prefixes: bool = False, new_ids: bool = False) -> list[str]:
    """Migration 0014: on INSERT, the postings of all the statement's rows in two statements (a transition
    table) instead of a PL/pgSQL call and two statements per row; ``sync_search_tokens()`` keeps updates.
    With ``prefixes`` (0016) each token's prefix posting too. With ``new_ids`` (0020) the postings are
    inserted without ``ON CONFLICT DO NOTHING``: a posting names the profile, a profile row is inserted
    once (its id is its primary key, and no profile row is ever deleted), and ``search_postings`` lists each
    posting once, so none can exist yet; a speculative insertion checked the index a second time and wrote
    a second WAL record for every posting (~0.1 ms of PostgreSQL per create, 17 postings)."""
    postings = f"{schema}.search_postings(n.search_tokens)" if prefixes else "n.search_tokens"
    conflicts = "" if new_ids else "\n  ON CONFLICT DO NOTHING"
    return [
        f"""
CREATE OR REPLACE FUNCTION {schema}.sync_search_tokens_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER SET search_path = {schema}, public, pg_temp AS $$
BEGIN
  INSERT INTO search_token (tenant_id, token, customer_id)
  SELECT n.tenant_id, x.token, n.id FROM inserted n CROSS JOIN LATERAL unnest({postings}) AS x(token)
   WHERE n.status NOT IN ('MERGED', 'ERASED'){conflicts};
  INSERT INTO search_word (tenant_id, field, word)
  SELECT DISTINCT n.tenant_id, left(x.token, 1), substr(x.token, 3)
    FROM inserted n CROSS JOIN LATERAL unnest(n.search_tokens) AS x(token)
   WHERE n.status NOT IN ('MERGED', 'ERASED') AND left(x.token, 1) IN ('n', 's', 'c')
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$""",
        f"DROP TRIGGER sync_search_tokens ON {schema}.customer_profile",
        f"""
CREATE TRIGGER sync_search_tokens_on_update AFTER UPDATE OF search_tokens, status ON {schema}.customer_profile
FOR EACH ROW EXECUTE FUNCTION {schema}.sync_search_tokens()""",
        # Same name as the row trigger it replaces: bulk loaders that disable it while copying still do.
        f"""
CREATE TRIGGER sync_search_tokens AFTER INSERT ON {schema}.customer_profile
REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION {schema}.sync_search_tokens_inserted()""",
    ]


# A profile's tokens and their prefix postings (0016), the body both versions of search_postings share.
_TOKENS_AND_PREFIXES = f"""SELECT x FROM unnest(p_tokens) AS x
               UNION
               SELECT upper(left(x, 1)) || substr(x, 2, {PREFIX_LENGTH + 1}) FROM unnest(p_tokens) AS x
                WHERE left(x, 1) IN ({_PREFIX_FIELDS}) AND length(x) >= {PREFIX_LENGTH + 2}"""


def postings_function(schema: str) -> str:
    """``search_postings(tokens)``: what the word index holds for a profile's tokens (migration 0016): each
    token, and for a word of a name, street, city or postal code of PREFIX_LENGTH letters or more, its
    *prefix posting*: the field in capitals and the word's first PREFIX_LENGTH letters (``n:schmidt`` ->
    ``N:schm``). A prefix posting lists, in profile order, every profile having a word that starts so: a
    term of that many letters or more can be joined with the other terms' postings index to index
    ("anna schm"), where a range of words could only be read in word order and its profiles checked."""
    return f"""
CREATE OR REPLACE FUNCTION {schema}.search_postings(p_tokens text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ARRAY({_TOKENS_AND_PREFIXES})
$$"""


def pairs_function(schema: str) -> str:
    """``search_pairs(tokens)`` (migration 0017): a *pair posting* for every ordered pair of a profile's
    distinct name words, ``m:anna schmidt`` and ``m:schmidt anna``; a profile with more than PAIR_WORDS name
    words has the marker ``m:`` instead. Two name terms, one of them a word of the head's few words, are
    then one range of the index ("anna schm": ``m:anna schm``…), read in word order."""
    return f"""
CREATE OR REPLACE FUNCTION {schema}.search_pairs(p_tokens text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  WITH n AS (SELECT DISTINCT substr(x, 3) AS w FROM unnest(p_tokens) AS x WHERE left(x, 2) = 'n:')
  SELECT CASE WHEN (SELECT count(*) FROM n) > {PAIR_WORDS} THEN ARRAY['m:']
              ELSE ARRAY(SELECT 'm:' || a.w || ' ' || b.w FROM n a, n b WHERE a.w <> b.w) END
$$"""


def pairs_with_streets_function(schema: str) -> str:
    """``search_pairs(tokens)`` of migration 0019: 0017's name pairs, and a *street pair* for every ordered pair of
    a profile's distinct street words, ``r:ahornstrasse 4`` and ``r:4 ahornstrasse`` (more than PAIR_WORDS
    street words: the marker ``r:``). "Ahornstr. 4" in a city is then the range ``r:ahornstrasse 4``… (a
    hundred postings at 1,000,000 profiles) instead of every profile of the street probed in the city's
    postings (1,500 probes). A street's words come from any of the profile's addresses, as a term matches
    any of them."""
    return f"""
CREATE OR REPLACE FUNCTION {schema}.search_pairs(p_tokens text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  WITH w AS (SELECT DISTINCT left(x, 1) AS f, substr(x, 3) AS w FROM unnest(p_tokens) AS x
              WHERE left(x, 2) IN ('n:', 's:')),
       f AS (SELECT f.f, f.pair, (SELECT count(*) FROM w WHERE w.f = f.f) AS n
               FROM (VALUES ('n', 'm:'), ('s', 'r:')) AS f(f, pair))
  SELECT ARRAY(
    SELECT f.pair FROM f WHERE f.n > {PAIR_WORDS}
    UNION ALL
    SELECT f.pair || a.w || ' ' || b.w FROM f JOIN w a ON a.f = f.f JOIN w b ON b.f = f.f
     WHERE f.n <= {PAIR_WORDS} AND a.w <> b.w)
$$"""


def street_pair_backfill(schema: str, tenant: str) -> str:
    """The street pairs (0019) of the profiles that exist (one tenant: the placeholder ``tenant``), in index
    order; their name pairs are there since 0017."""
    return f"""
INSERT INTO {schema}.search_token (tenant_id, token, customer_id)
SELECT p.tenant_id, x.token, p.id
  FROM {schema}.customer_profile p CROSS JOIN LATERAL unnest({schema}.search_pairs(p.search_tokens)) AS x(token)
 WHERE p.tenant_id = {tenant} AND p.status NOT IN ('MERGED', 'ERASED') AND left(x.token, 2) = 'r:'
 ORDER BY 2, 3
ON CONFLICT DO NOTHING"""


def postings_with_pairs_function(schema: str) -> str:
    """``search_postings`` of migration 0017: 0016's postings and the pair postings (``search_pairs``)."""
    return f"""
CREATE OR REPLACE FUNCTION {schema}.search_postings(p_tokens text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ARRAY({_TOKENS_AND_PREFIXES}
               UNION
               SELECT x FROM unnest({schema}.search_pairs(p_tokens)) AS x)
$$"""


def pair_backfill(schema: str, tenant: str) -> str:
    """The pair postings of the profiles that exist (one tenant: the placeholder ``tenant``), inserted in
    index order."""
    return f"""
INSERT INTO {schema}.search_token (tenant_id, token, customer_id)
SELECT p.tenant_id, x.token, p.id
  FROM {schema}.customer_profile p CROSS JOIN LATERAL unnest({schema}.search_pairs(p.search_tokens)) AS x(token)
 WHERE p.tenant_id = {tenant} AND p.status NOT IN ('MERGED', 'ERASED')
 ORDER BY 2, 3
ON CONFLICT DO NOTHING"""


def each_tenant(schema: str, tenant_setting: str, backfill: str) -> str:
    """A backfill (its tenant the placeholder ``$1``) run once per tenant, with that tenant set. The tenants
    come from their vocabulary, which the owner may read (0009's policy): the profiles and the postings
    answer a migrating role that does not bypass row-level security only for the tenant it has set. Every
    profile has a name, so every tenant with profiles has words."""
    return f"""
DO $each_tenant$
DECLARE
  v_tenant text;
BEGIN
  FOR v_tenant IN SELECT DISTINCT tenant_id FROM {schema}.search_word LOOP
    PERFORM set_config('{tenant_setting}', v_tenant, true);
    EXECUTE $backfill${backfill}$backfill$ USING v_tenant;
  END LOOP;
END
$each_tenant$"""


def prefix_backfill(schema: str, tenant: str) -> str:
    """The prefix postings of the profiles that exist, from their postings (one tenant: the placeholder
    ``tenant``)."""
    return f"""
INSERT INTO {schema}.search_token (tenant_id, token, customer_id)
SELECT DISTINCT t.tenant_id, upper(left(t.token, 1)) || substr(t.token, 2, {PREFIX_LENGTH + 1}), t.customer_id
  FROM {schema}.search_token t
 WHERE t.tenant_id = {tenant} AND left(t.token, 1) IN ({_PREFIX_FIELDS}) AND length(t.token) >= {PREFIX_LENGTH + 2}
ON CONFLICT DO NOTHING"""


def word_matches(schema: str, tenant_setting: str) -> str:
    """``search_word_matches(token)``: the closest vocabulary words of the token's field. One branch per
    field with the field written out, so that a field's own trigram index (migration 0017:
    ``ix_search_word_name_trigram``, ``ix_search_word_street_trigram``, without the tenant) can answer it;
    the planner weighs it against the index of every field with the tenant (0009). Planned with the word
    at every call (customer_search's generic plans would otherwise apply here too: twice the time)."""
    branches = "\n   UNION ALL\n".join(
        f"""  SELECT w.field || ':' || w.word AS token, similarity(w.word, substr(p_token, 3)) AS score, w.word
    FROM search_word w
   WHERE left(p_token, 1) = '{field}' AND w.tenant_id = current_setting('{tenant_setting}', true)
     AND w.field = '{field}' AND w.word % substr(p_token, 3)
     AND similarity(w.word, substr(p_token, 3)) >= {FUZZY_THRESHOLD}"""
        for field in _FUZZY_FIELDS
    )
    return f"""
CREATE OR REPLACE FUNCTION {schema}.search_word_matches(p_token text)
RETURNS TABLE (token text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {schema}, public, pg_temp
SET pg_trgm.similarity_threshold = {FUZZY_THRESHOLD} SET plan_cache_mode = force_custom_plan AS $$
  SELECT m.token FROM (
{branches}) m
   ORDER BY m.score DESC, m.word
   LIMIT 10
$$"""


def field_trigram_indexes(schema: str) -> list[str]:
    """Migration 0017: a trigram index of the name words and one of the street words, without the tenant.
    The index of every field with the tenant (0009) intersects each trigram's words with all the tenant's
    words: 5-7 ms per fuzzy look-up in a tenant of 1,000,000 profiles against ~2.5 ms with these."""
    return [
        f"CREATE INDEX IF NOT EXISTS ix_search_word_{name}_trigram ON {schema}.search_word"
        f" USING gin (word {schema}.gin_trgm_ops) WHERE field = '{field}'"
        for name, field in (("name", "n"), ("street", "s"))
    ]


# A word ``x`` of a profile against a term ``t.term`` (field prefix included): the whole word 1, a start of
# it by the share typed. search_hits and customer_search's page of candidates known to match score alike.
_WORD_SCORE = """WHEN x = t.term THEN 1.0
                    WHEN left(x, length(t.term)) = t.term
                      THEN 0.5 + 0.5 * (length(t.term) - 2)::real / (length(x) - 2)"""

# Per candidate: its position in the driver's order, whether one of q's exact keys found it, and its score;
# only candidates every term matches (q: one of its keys, or every one of its words). One pass over
# (candidate × term × token) rows: a function call per pair costs ten times more.
_HITS = """
CREATE OR REPLACE FUNCTION {s}.search_hits(
  p_tenant text, p_ids text[], p_terms text[], p_alts text[], p_any_terms text[], p_any_alts text[],
  p_any_ids text[], p_any boolean, p_active_only boolean
) RETURNS TABLE (customer_id text, ord bigint, score real, any_key boolean)
LANGUAGE sql STABLE SECURITY INVOKER AS $$
  WITH c AS MATERIALIZED (
    -- LATERAL … LIMIT 1: one index probe per id whatever the plan's estimate of the array's size. The
    -- tokens as one text (" n:mueller c:berlin …") check a prefix with strpos: candidates that fail a term
    -- cost a string search, not a join; only the survivors are scored.
    SELECT u.id, u.ord, p.tk, u.id = ANY (p_any_ids) AS any_key
      FROM (SELECT x.id, min(x.ord) AS ord FROM unnest(p_ids) WITH ORDINALITY AS x(id, ord) GROUP BY x.id) u
     CROSS JOIN LATERAL (
       SELECT p.search_tokens AS tk, ' ' || array_to_string(p.search_tokens, ' ') AS txt FROM {s}.customer_profile p
        WHERE p.tenant_id = p_tenant AND p.id = u.id
          AND p.status <> ALL ('{{MERGED,ERASED}}') AND (NOT p_active_only OR p.status = 'ACTIVE')
        LIMIT 1) p
     WHERE NOT EXISTS (SELECT 1 FROM unnest(p_terms, p_alts) AS t(term, alts)
                        WHERE NOT CASE WHEN t.alts IS NULL THEN strpos(p.txt, ' ' || t.term) > 0
                                       ELSE p.tk && string_to_array(t.alts, ' ') END)
       AND (NOT p_any OR u.id = ANY (p_any_ids)
            OR (cardinality(p_any_terms) > 0
                AND NOT EXISTS (SELECT 1 FROM unnest(p_any_terms, p_any_alts) AS t(term, alts)
                                 WHERE NOT CASE WHEN t.alts IS NULL THEN strpos(p.txt, ' ' || t.term) > 0
                                                ELSE p.tk && string_to_array(t.alts, ' ') END)))
  ), t AS (
    SELECT false AS q, t.term, string_to_array(t.alts, ' ') AS alts FROM unnest(p_terms, p_alts) AS t(term, alts)
    UNION ALL
    SELECT true, t.term, string_to_array(t.alts, ' ') FROM unnest(p_any_terms, p_any_alts) AS t(term, alts)
  ), best AS (
    SELECT c.id, t.q, t.term,
           max(CASE WHEN t.alts IS NOT NULL THEN
                      CASE WHEN x = ANY (t.alts) THEN 0.8 * {s}.similarity(substr(x, 3), substr(t.term, 3)) END
                    {word_score} END) AS score
      FROM c CROSS JOIN t CROSS JOIN LATERAL unnest(c.tk) AS x
     GROUP BY c.id, t.q, t.term
  ), per AS (
    SELECT b.id,
           count(*) FILTER (WHERE NOT b.q AND b.score > 0) AS terms, sum(b.score) FILTER (WHERE NOT b.q) AS total,
           count(*) FILTER (WHERE b.q AND b.score > 0) AS words, avg(COALESCE(b.score, 0)) FILTER (WHERE b.q) AS q
      FROM best b GROUP BY b.id
  )
  SELECT c.id, c.ord,
         CASE WHEN cardinality(p_terms) = 0 AND NOT p_any THEN 1
              ELSE (COALESCE(per.total, 0) + CASE WHEN NOT p_any THEN 0 WHEN c.any_key THEN 1
                                                  ELSE per.q END)
                   / (cardinality(p_terms) + CASE WHEN p_any THEN 1 ELSE 0 END) END::real,
         c.any_key
    FROM c LEFT JOIN per ON per.id = c.id
$$"""


def search_function(schema: str, tenant_setting: str) -> list[str]:
    """``customer_search``: the whole search in one statement (see the module docstring)."""
    s = schema
    # The page: the candidates checked, scored and ranked, each with its document (built for the page only,
    # in this statement: privacy_sql.document_json).
    # Without q every result matched on the same criteria: their labels are sorted once, not per result
    # (a sub-select per row: a fifth of a typeahead's PostgreSQL time).
    page = f"""
  v_matched := ARRAY(SELECT DISTINCT l FROM unnest(v_labels) AS l ORDER BY l);
  RETURN (
    SELECT COALESCE(json_agg(json_build_object(
             'score', round(h.score::numeric, 4),
             'matchedOn', CASE WHEN NOT v_any THEN v_matched
                               ELSE ARRAY(SELECT DISTINCT l FROM unnest(v_labels || CASE
                                  WHEN h.any_key THEN ARRAY(SELECT k.label FROM {s}.search_key_hits(
                                    p_tenant, p_any_labels, p_any_types, p_any_values) k
                                    WHERE k.customer_id = h.customer_id)
                                  ELSE ARRAY['name'] END) l ORDER BY l) END,
             'customer', {document_json(s, "p")}) ORDER BY h.score DESC, h.ord, h.customer_id), '[]')::text
      FROM (SELECT * FROM {s}.search_hits(p_tenant, v_cand, v_terms, v_alts, v_any_terms, v_any_alts, v_any_ids,
                                          v_any, p_active_only) h
             ORDER BY h.score DESC, h.ord, h.customer_id LIMIT p_limit) h
     CROSS JOIN LATERAL (
       SELECT q.* FROM customer_profile q WHERE q.tenant_id = p_tenant AND q.id = h.customer_id LIMIT 1) p);
"""
    # The page of candidates already known to match every term, none of them misspelt, without q or activeOnly
    # (v_cand: a typeahead's first postings, pair postings of two name terms): each is read once, scored by
    # its own tokens as search_hits scores them (the same expression; the mean over the distinct terms of
    # each one's best word), without search_hits' checks (a fifth of a typeahead's PostgreSQL time).
    known_page = f"""
  v_matched := ARRAY(SELECT DISTINCT l FROM unnest(v_labels) AS l ORDER BY l);
  RETURN (
    SELECT COALESCE(json_agg(json_build_object(
             'score', round(p.score::numeric, 4), 'matchedOn', v_matched, 'customer', {document_json(s, "p")})
             ORDER BY p.score DESC, p.ord, p.id), '[]')::text
      FROM (
        SELECT q.*, u.ord,
               ((SELECT sum(b.score) FROM (
                  SELECT max(CASE {_WORD_SCORE} END) AS score
                    FROM unnest(v_terms) AS t(term) CROSS JOIN unnest(q.search_tokens) AS x
                   GROUP BY t.term) b) / cardinality(v_terms))::real AS score
          FROM (SELECT x.id, min(x.ord) AS ord FROM unnest(v_cand) WITH ORDINALITY AS x(id, ord) GROUP BY x.id) u
         CROSS JOIN LATERAL (
           SELECT q.* FROM customer_profile q WHERE q.tenant_id = p_tenant AND q.id = u.id LIMIT 1) q
         ORDER BY score DESC, u.ord, q.id LIMIT p_limit) p);
"""
    body = f"""
CREATE OR REPLACE FUNCTION {s}.customer_search(
  p_tenant text,
  p_terms text[],
  p_key_labels text[], p_key_types text[], p_key_values text[],
  p_any_terms text[],
  p_any_labels text[], p_any_types text[], p_any_values text[],
  p_labels text[],
  p_active_only boolean,
  p_limit integer
) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = {s}, public, pg_temp
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  v_any boolean := cardinality(p_any_terms) > 0 OR cardinality(p_any_labels) > 0;
  v_ids text[];
  v_any_ids text[] := '{{}}';
  v_terms text[] := p_terms;
  v_alts text[] := array_fill(NULL::text, ARRAY[cardinality(p_terms)]);
  v_any_terms text[] := p_any_terms;
  v_any_alts text[] := array_fill(NULL::text, ARRAY[cardinality(p_any_terms)]);
  v_driver text;
  v_driver_alts text;
  v_best integer := NULL;
  v_count integer;
  v_any_words boolean := true;
  v_all text[];
  v_alt text;
  v_cand text[];
  v_labels text[] := p_labels;
  v_exact text[];
  v_joined text[];
  v_join boolean := false;
  v_recount integer;
  v_lists text[];
  v_list text[];
  v_whole boolean;
  v_prefixed boolean := false;
  v_outer text;
  v_others text[];
  v_heads text[];
  v_pass_heads text[];
  v_probes text[];
  v_outer_i integer;
  v_want integer;
  v_saved text[];
  v_joins text[];
  v_join_with text;
  v_merged boolean;
  v_limit integer;
  v_found text[];
  v_pass integer;
  v_recounts integer[];
  v_small text[];
  v_hits text[] := '{{}}';
  v_last_token text := '';
  v_last_id text := '';
  v_read integer := 0;
  v_step integer := greatest(p_limit * 2, 20);
  v_chunk record;
  v_marked integer;
  v_pair_head text;
  v_pair_field text;
  v_pair_mark text;
  v_pair_tail text;
  v_pair_tokens text[];
  v_pairs_max integer;
  v_words text[];
  v_matched text[];
  v_pure boolean;
  v_known boolean := false;
  i integer;
BEGIN
  PERFORM set_config('{tenant_setting}', p_tenant, true);
  -- Exact keys: every label must match (within a label, any of its keys).
  IF cardinality(p_key_labels) > 0 THEN
    SELECT array_agg(m.customer_id) INTO v_ids FROM (
      SELECT k.customer_id FROM {s}.search_key_hits(p_tenant, p_key_labels, p_key_types, p_key_values) k
       GROUP BY k.customer_id
      HAVING count(DISTINCT k.label) = (SELECT count(DISTINCT l) FROM unnest(p_key_labels) l)) m;
    IF v_ids IS NULL THEN
      RETURN '[]';
    END IF;
  END IF;
  IF cardinality(p_any_labels) > 0 THEN
    v_any_ids := ARRAY(SELECT DISTINCT k.customer_id
                         FROM {s}.search_key_hits(p_tenant, p_any_labels, p_any_types, p_any_values) k
                        ORDER BY k.customer_id);
  END IF;
  IF cardinality(p_terms) = 0 AND cardinality(v_any_ids) = 0 AND cardinality(p_any_terms) > 0 THEN
    -- q read as anything but words found nothing: it is a name search.
    v_terms := p_any_terms;
    v_alts := v_any_alts;
    v_any_terms := '{{}}';
    v_any_alts := '{{}}';
    v_any := false;
    v_labels := p_labels || ARRAY['name'];
  END IF;
  -- Terms without a single posting fall back to their closest vocabulary words; the driver is the term
  -- with the fewest postings. q's words are alternatives to its keys: they drive only when nothing else
  -- can, and when one of them matches nothing, only q's keys can match.
  v_all := v_terms || v_any_terms;
  FOR i IN 1 .. cardinality(v_all) LOOP
    SELECT count(*) INTO v_count FROM (
      SELECT 1 FROM search_token t
       WHERE t.tenant_id = p_tenant AND t.token >= v_all[i] AND t.token < {s}.search_prefix_end(v_all[i])
       LIMIT {DRIVER_CAP}) c;
    v_alt := NULL;
    IF v_count = 0 AND left(v_all[i], 1) IN ('n', 's', 'c') AND length(v_all[i]) - 2 >= {FUZZY_MIN_LENGTH} THEN
      v_alt := (SELECT string_agg(w.token, ' ') FROM {s}.search_word_matches(v_all[i]) w);
      IF v_alt IS NOT NULL THEN
        SELECT count(*) INTO v_count FROM (
          SELECT 1 FROM search_token t
           WHERE t.tenant_id = p_tenant AND t.token = ANY (string_to_array(v_alt, ' ')) LIMIT {DRIVER_CAP}) c;
      END IF;
    END IF;
    IF v_count = 0 THEN
      IF i <= cardinality(v_terms) THEN
        RETURN '[]';
      END IF;
      v_any_words := false;
    ELSIF i <= cardinality(v_terms) THEN
      v_alts[i] := v_alt;
    ELSE
      v_any_alts[i - cardinality(v_terms)] := v_alt;
    END IF;
    IF v_count > 0 AND (i <= cardinality(v_terms) OR cardinality(v_terms) = 0)
       AND (v_best IS NULL OR v_count < v_best) THEN
      v_best := v_count;
      v_driver := v_all[i];
      v_driver_alts := v_alt;
    END IF;
  END LOOP;
  IF v_ids IS NULL AND NOT v_any AND cardinality(v_terms) = 1 AND v_alts[1] IS NOT NULL AND NOT p_active_only THEN
    -- One misspelt word and nothing else: every profile having one of its closest words is a result, scoring
    -- by that word's similarity, so the words' postings are read in the words' order (most similar first, as
    -- search_word_matches lists them) until a page is found, instead of reading and ranking every profile
    -- of every word.
    v_found := '{{}}';
    FOREACH v_outer IN ARRAY string_to_array(v_alts[1], ' ') LOOP
      v_found := v_found || ARRAY(
        SELECT t.customer_id FROM search_token t
         WHERE t.tenant_id = p_tenant AND t.token = v_outer AND t.customer_id <> ALL (v_found)
         ORDER BY t.customer_id LIMIT p_limit - cardinality(v_found));
      EXIT WHEN cardinality(v_found) >= p_limit;
    END LOOP;
    v_cand := v_found;
{page}
  END IF;
  IF v_ids IS NULL AND NOT v_any AND cardinality(v_terms) >= 2 THEN
    -- Two name terms or more (and no key): the pair postings (migration 0017) of two of them. The head is
    -- the name term with the fewest words (at most {PAIR_HEAD_WORDS}), the tail the longest other one; every
    -- (head word, tail word) pair of the profiles is listed by skipping through the range
    -- 'm:<head word> <tail>'. Each pair's score is what the two words score (an exact word 1, a start by
    -- the share typed), so its postings are read in that order, best first, until a page is found: all of
    -- them match both terms; with other terms or criteria each chunk is checked. Profiles with too many
    -- name words for pairs (the marker 'm:') are checked as candidates too.
    -- Name terms first; without two of them, street terms and their street pairs (migration 0019).
    v_pair_field := CASE WHEN (SELECT count(*) FROM unnest(v_terms, v_alts) AS t(term, alts)
                                WHERE left(t.term, 2) = 'n:' AND t.alts IS NULL) >= 2 THEN 'n:' ELSE 's:' END;
    v_pair_mark := CASE v_pair_field WHEN 'n:' THEN 'm:' ELSE 'r:' END;
    SELECT count(*) INTO v_marked
      FROM (SELECT 1 FROM search_token x WHERE x.tenant_id = p_tenant AND x.token = v_pair_mark LIMIT {DRIVER_CAP}) c;
    v_pair_head := NULL;
    v_list := NULL;
    IF v_marked < {DRIVER_CAP} THEN
      -- The head: the name term with the fewest words (a longer one on a tie), read by skipping through
      -- the index.
      FOR v_outer IN SELECT t.term FROM unnest(v_terms, v_alts) AS t(term, alts)
                      WHERE left(t.term, 2) = v_pair_field AND t.alts IS NULL
                      ORDER BY length(t.term) DESC, t.term LOOP
        v_words := ARRAY(
          WITH RECURSIVE r(token, n) AS (
            (SELECT x.token, 1 FROM search_token x
              WHERE x.tenant_id = p_tenant AND x.token >= v_outer AND x.token < {s}.search_prefix_end(v_outer)
              ORDER BY x.token LIMIT 1)
            UNION ALL
            SELECT (SELECT x.token FROM search_token x
                     WHERE x.tenant_id = p_tenant AND x.token > r.token AND x.token < {s}.search_prefix_end(v_outer)
                     ORDER BY x.token LIMIT 1), r.n + 1
              FROM r WHERE r.token IS NOT NULL AND r.n <= COALESCE(cardinality(v_list) - 1, {PAIR_HEAD_WORDS}))
          SELECT r.token FROM r WHERE r.token IS NOT NULL);
        IF cardinality(v_words) BETWEEN 1 AND COALESCE(cardinality(v_list) - 1, {PAIR_HEAD_WORDS}) THEN
          v_pair_head := v_outer;
          v_list := v_words;
        END IF;
        EXIT WHEN cardinality(v_list) = 1;
      END LOOP;
    END IF;
    -- The tail: neither a start of the head nor starting with it (one word may then stand for both terms).
    v_pair_tail := (SELECT t.term FROM unnest(v_terms, v_alts) AS t(term, alts)
                     WHERE left(t.term, 2) = v_pair_field AND t.alts IS NULL
                       AND left(v_pair_head, length(t.term)) <> t.term
                       AND left(t.term, length(v_pair_head)) <> v_pair_head
                     ORDER BY length(t.term) DESC, t.term LIMIT 1);
    IF v_pair_tail IS NOT NULL THEN
      SELECT array_agg(p.token ORDER BY p.score DESC, p.token), max(p.n) INTO v_pair_tokens, v_pairs_max
        FROM (
          SELECT r.token, r.n,
                 CASE WHEN h.w = v_pair_head THEN 1 ELSE 0.5 + 0.5 * (length(v_pair_head) - 2)::real
                                                                   / (length(h.w) - 2) END
                 + CASE WHEN substr(r.token, length(h.base) + 1) = substr(v_pair_tail, 3) THEN 1
                        ELSE 0.5 + 0.5 * (length(v_pair_tail) - 2)::real
                                   / length(substr(r.token, length(h.base) + 1)) END AS score
            FROM (SELECT u.w, v_pair_mark || substr(u.w, 3) || ' ' AS base FROM unnest(v_list) AS u(w)) h
           CROSS JOIN LATERAL (
             WITH RECURSIVE r(token, n) AS (
               (SELECT x.token, 1 FROM search_token x
                 WHERE x.tenant_id = p_tenant AND x.token >= h.base || substr(v_pair_tail, 3)
                   AND x.token < {s}.search_prefix_end(h.base || substr(v_pair_tail, 3))
                 ORDER BY x.token LIMIT 1)
               UNION ALL
               SELECT (SELECT x.token FROM search_token x
                        WHERE x.tenant_id = p_tenant AND x.token > r.token
                          AND x.token < {s}.search_prefix_end(h.base || substr(v_pair_tail, 3))
                        ORDER BY x.token LIMIT 1), r.n + 1
                 FROM r WHERE r.token IS NOT NULL AND r.n <= {PAIR_LIMIT} / cardinality(v_list))
             SELECT r.token, r.n FROM r WHERE r.token IS NOT NULL) r) p;
    END IF;
    -- Complete when no head word reached its share of PAIR_LIMIT pairs.
    IF v_pair_tail IS NOT NULL AND COALESCE(v_pairs_max, 0) <= {PAIR_LIMIT} / cardinality(v_list) THEN
      -- Both terms are every term, nothing else is asked: each posting is a result.
      v_pure := cardinality(v_terms) = 2 AND NOT p_active_only;
      v_want := CASE WHEN v_pure THEN p_limit ELSE p_limit * 2 END;
      v_found := '{{}}';
      FOREACH v_outer IN ARRAY COALESCE(v_pair_tokens, '{{}}') LOOP
        EXIT WHEN cardinality(v_found) >= v_want OR v_read >= {SCAN_CAP};
        v_last_id := '';
        v_step := CASE WHEN v_pure THEN v_want - cardinality(v_found) ELSE greatest(p_limit * 4, 40) END;
        LOOP
          SELECT array_agg(o.customer_id ORDER BY o.customer_id) AS ids, max(o.customer_id) AS last_id,
                 count(*) AS n
            INTO v_chunk
            FROM (SELECT t.customer_id FROM search_token t
                   WHERE t.tenant_id = p_tenant AND t.token = v_outer AND t.customer_id > v_last_id
                   ORDER BY t.customer_id LIMIT v_step) o;
          EXIT WHEN v_chunk.n = 0;
          v_read := v_read + v_chunk.n;
          v_last_id := v_chunk.last_id;
          IF v_pure THEN
            v_found := v_found || ARRAY(SELECT u.id FROM unnest(v_chunk.ids) WITH ORDINALITY AS u(id, i)
                                         WHERE u.id <> ALL (v_found) ORDER BY u.i);
          ELSE
            v_found := v_found || ARRAY(
              SELECT h.customer_id FROM {s}.search_hits(p_tenant, v_chunk.ids, v_terms, v_alts, v_any_terms,
                                                        v_any_alts, v_any_ids, v_any, p_active_only) h
               WHERE h.customer_id <> ALL (v_found) ORDER BY h.ord);
          END IF;
          EXIT WHEN cardinality(v_found) >= v_want OR v_read >= {SCAN_CAP} OR v_chunk.n < v_step;
          v_step := CASE WHEN v_pure THEN v_want - cardinality(v_found) ELSE least(v_step * 4, 2000) END;
        END LOOP;
      END LOOP;
      v_cand := v_found[1:v_want] || ARRAY(SELECT x.customer_id FROM search_token x
                                            WHERE x.tenant_id = p_tenant AND x.token = v_pair_mark AND v_marked > 0);
      IF v_pure AND v_marked = 0 THEN
{known_page}
      END IF;
{page}
    END IF;
  END IF;
  IF v_ids IS NULL AND v_best >= {DRIVER_CAP} AND cardinality(v_terms) > 1
     AND NOT EXISTS (SELECT 1 FROM unnest(v_alts) a WHERE a IS NOT NULL) THEN
    -- Every term is common: first the profiles having each of them as a whole word, a join of the words'
    -- postings in profile order (a merge join where they are long), planned with the words known. They
    -- score 1, the most any result can, so a full page of them is the answer.
    EXECUTE format(
      'SELECT array_agg(customer_id) FROM (SELECT t1.customer_id FROM %s WHERE %s ORDER BY t1.customer_id LIMIT $2) x',
      (SELECT string_agg(format('search_token t%s', g.n), ', ') FROM generate_subscripts(v_terms, 1) AS g(n)),
      (SELECT string_agg(format('t%s.tenant_id = $1 AND t%s.token = %L', g.n, g.n, v_terms[g.n])
                         || CASE WHEN g.n > 1 THEN format(' AND t%s.customer_id = t1.customer_id', g.n) ELSE '' END,
                         ' AND ')
         FROM generate_subscripts(v_terms, 1) AS g(n)))
      INTO v_exact USING p_tenant, p_limit * 2;
  END IF;
  IF v_ids IS NULL AND NOT v_any AND v_best >= {DRIVER_CAP} AND cardinality(v_terms) > 1
     AND COALESCE(cardinality(v_exact), 0) < p_limit
     AND NOT EXISTS (SELECT 1 FROM unnest(v_alts) a WHERE a IS NOT NULL) THEN
    -- Every term is common and the whole words gave no page ("anna schm", "kirchstr 88 münchen"). Each
    -- term gets the postings that hold every profile it can match: its words when it has a few (read by
    -- skipping through the index: "berlin", "88" and "880"), else the prefix postings of its first
    -- {PREFIX_LENGTH} letters (migration 0016), in profile order. The shortest single list is read in chunks and
    -- each of its profiles probed in the others' (one index look-up per word); only the profiles in every
    -- one are read and checked. A term shorter than {PREFIX_LENGTH} letters with many words has no list.
    SELECT array_agg(CASE WHEN cardinality(w.words) <= {FEW_WORDS} THEN array_to_string(w.words, ' ')
                          WHEN left(u.t, 1) IN ({_PREFIX_FIELDS}) AND length(u.t) >= {PREFIX_LENGTH + 2}
                            THEN upper(left(u.t, 1)) || substr(u.t, 2, {PREFIX_LENGTH + 1}) END ORDER BY u.i),
           array_agg(CASE WHEN w.words[1] = u.t THEN u.t END ORDER BY u.i),
           array_agg(CASE WHEN cardinality(w.words) <= {FEW_WORDS}
                            THEN (SELECT string_agg(x, ' ' ORDER BY length(x), x) FROM unnest(w.words) AS x)
                          WHEN left(u.t, 1) IN ({_PREFIX_FIELDS}) AND length(u.t) >= {PREFIX_LENGTH + 2}
                            THEN upper(left(u.t, 1)) || substr(u.t, 2, {PREFIX_LENGTH + 1}) END ORDER BY u.i),
           array_agg(CASE WHEN cardinality(w.words) = 1 THEN w.words[1]
                          WHEN left(u.t, 1) IN ({_PREFIX_FIELDS}) AND length(u.t) >= {PREFIX_LENGTH + 2}
                            THEN upper(left(u.t, 1)) || substr(u.t, 2, {PREFIX_LENGTH + 1}) END ORDER BY u.i)
      INTO v_lists, v_list, v_heads, v_joins
      FROM unnest(v_terms) WITH ORDINALITY AS u(t, i)
     CROSS JOIN LATERAL (
       SELECT ARRAY(
         WITH RECURSIVE r(token, n) AS (
           (SELECT x.token, 1 FROM search_token x
             WHERE x.tenant_id = p_tenant AND x.token >= u.t AND x.token < {s}.search_prefix_end(u.t)
             ORDER BY x.token LIMIT 1)
           UNION ALL
           SELECT (SELECT x.token FROM search_token x
                    WHERE x.tenant_id = p_tenant AND x.token > r.token AND x.token < {s}.search_prefix_end(u.t)
                    ORDER BY x.token LIMIT 1), r.n + 1
             FROM r WHERE r.token IS NOT NULL AND r.n <= {FEW_WORDS})
         SELECT r.token FROM r WHERE r.token IS NOT NULL) AS words) w;
    v_prefixed := EXISTS (SELECT 1 FROM unnest(v_heads) h WHERE h IS NOT NULL);
  END IF;
  IF v_prefixed THEN
    v_found := COALESCE(v_exact, '{{}}');
    -- First pass: a term typed as a whole word uses that word's postings alone, so that whole words come
    -- first (as a prefix's word order gives them); the second, only if needed and different, the lists.
    v_whole := EXISTS (SELECT 1 FROM unnest(v_list, v_lists) AS u(w, l)
                        WHERE u.w IS NOT NULL AND u.w IS DISTINCT FROM u.l);
    FOR v_pass IN (CASE WHEN v_whole THEN 1 ELSE 2 END) .. 2 LOOP
      EXIT WHEN cardinality(v_found) >= p_limit;
      -- Per term, its probe (its postings, as words) and its head (one list in profile order, or none):
      -- the shortest head is read (each counted only up to the shortest so far), the other terms probed.
      SELECT array_agg(CASE WHEN v_pass = 1 AND u.w IS NOT NULL THEN u.w ELSE u.l END ORDER BY u.i),
             array_agg(CASE WHEN v_pass = 1 AND u.w IS NOT NULL THEN u.w ELSE u.h END ORDER BY u.i)
        INTO v_probes, v_pass_heads
        FROM unnest(v_list, v_lists, v_heads) WITH ORDINALITY AS u(w, l, h, i);
      v_outer := NULL;
      v_outer_i := NULL;
      v_recount := {HEAD_COUNT_CAP};
      -- A tie (every head at the cap) goes to the field that usually narrows most.
      FOR i IN SELECT u.i FROM unnest(v_pass_heads) WITH ORDINALITY AS u(h, i)
                WHERE u.h IS NOT NULL ORDER BY strpos('npsck', lower(left(u.h, 1))), u.i LOOP
        SELECT count(*) INTO v_count FROM (
          SELECT 1 FROM search_token x
           WHERE x.tenant_id = p_tenant AND x.token = ANY (string_to_array(v_pass_heads[i], ' ')) LIMIT v_recount) c;
        IF v_outer IS NULL OR v_count < v_recount THEN
          v_outer := v_pass_heads[i];
          v_outer_i := i;
          v_recount := v_count;
        END IF;
      END LOOP;
      CONTINUE WHEN v_outer_i IS NULL;
      v_others := ARRAY(SELECT u.l FROM unnest(v_probes) WITH ORDINALITY AS u(l, i)
                         WHERE u.l IS NOT NULL AND u.i <> v_outer_i);
      -- The one other term's single list, when there is one other term: it is merge-joined instead.
      v_join_with := (SELECT CASE WHEN v_pass = 1 AND u.w IS NOT NULL THEN u.w ELSE u.j END
                        FROM unnest(v_list, v_probes, v_joins) WITH ORDINALITY AS u(w, l, j, i)
                       WHERE u.l IS NOT NULL AND u.i <> v_outer_i AND cardinality(v_others) = 1);
      v_read := 0;
      -- A prefix posting lists its profiles in profile order, not by how much of a word was typed: a few
      -- pages are gathered for the ranking to choose from.
      v_want := CASE WHEN left(v_pass_heads[v_outer_i], 1) IN ('N', 'S', 'C', 'P') THEN p_limit * 3
                     ELSE p_limit END;
      -- A head of a few words is read word by word, the shortest (best-scoring) first.
      FOREACH v_outer IN ARRAY string_to_array(v_pass_heads[v_outer_i], ' ') LOOP
        EXIT WHEN cardinality(v_found) >= v_want OR v_read >= {SCAN_CAP};
        v_last_id := '';
        v_step := greatest(p_limit * 4, 40);
        LOOP
          IF v_join_with IS NOT NULL AND v_read >= {MERGE_AFTER} THEN
            -- Two lists that rarely meet: a merge join, each read once in profile order from where the
            -- probes stopped, until a chunk of profiles in both (probing each of the outer's profiles
            -- costs a look-up each: 20,000 of them for two common given names). Planned with the tokens
            -- known; the planner's estimate for a list is poor, so the other joins are ruled out for
            -- this statement only.
            v_merged := true;
            v_limit := greatest(v_want - cardinality(v_found), 5) * 2;
            v_saved := ARRAY[current_setting('enable_nestloop'), current_setting('enable_hashjoin')];
            PERFORM set_config('enable_nestloop', 'off', true), set_config('enable_hashjoin', 'off', true);
            EXECUTE format(
              'SELECT array_agg(m.customer_id ORDER BY m.customer_id) AS ids, max(m.customer_id) AS last_id,'
              ' count(*) AS n FROM (SELECT o.customer_id FROM search_token o JOIN search_token x'
              ' ON x.customer_id = o.customer_id WHERE o.tenant_id = $1 AND o.token = %L AND x.tenant_id = $1'
              ' AND x.token = %L AND o.customer_id > $2 AND x.customer_id > $2 ORDER BY o.customer_id LIMIT $3) m',
              v_outer, v_join_with)
              -- Profiles in both lists are nearly all results: twice the results still wanted.
              INTO v_chunk USING p_tenant, v_last_id, v_limit;
            PERFORM set_config('enable_nestloop', v_saved[1], true), set_config('enable_hashjoin', v_saved[2], true);
          ELSE
            v_merged := false;
            SELECT array_agg(o.customer_id ORDER BY o.customer_id) FILTER (WHERE NOT EXISTS (
                     SELECT 1 FROM unnest(v_others) AS l(tokens)
                      WHERE NOT EXISTS (
                        -- LATERAL … LIMIT 1: one probe by (token, profile) per word; a token list as a filter
                        -- was planned as a skip scan over every token of the profile.
                        SELECT 1 FROM unnest(string_to_array(l.tokens, ' ')) AS w(token)
                         CROSS JOIN LATERAL (SELECT 1 FROM search_token x
                                              WHERE x.tenant_id = p_tenant AND x.token = w.token
                                                AND x.customer_id = o.customer_id LIMIT 1) x))) AS ids,
                   max(o.customer_id) AS last_id, count(*) AS n
              INTO v_chunk
              FROM (SELECT t.customer_id FROM search_token t
                     WHERE t.tenant_id = p_tenant AND t.token = v_outer AND t.customer_id > v_last_id
                     ORDER BY t.customer_id LIMIT v_step) o;
          END IF;
          EXIT WHEN v_chunk.n = 0;
          v_read := v_read + v_chunk.n;
          v_last_id := v_chunk.last_id;
          IF v_chunk.ids IS NOT NULL THEN
            v_found := v_found || ARRAY(
              SELECT h.customer_id FROM {s}.search_hits(p_tenant, v_chunk.ids, v_terms, v_alts, v_any_terms,
                                                        v_any_alts, v_any_ids, v_any, p_active_only) h
               WHERE h.customer_id <> ALL (v_found) ORDER BY h.ord);
          END IF;
          EXIT WHEN cardinality(v_found) >= v_want OR v_read >= {SCAN_CAP}
                    OR v_chunk.n < CASE WHEN v_merged THEN v_limit ELSE v_step END;
          v_step := least(v_step * 4, 2000);
        END LOOP;
      END LOOP;
    END LOOP;
  END IF;
  IF v_best >= {DRIVER_CAP} AND cardinality(v_terms) > 1 AND NOT v_prefixed
     AND (COALESCE(cardinality(v_exact), 0) < p_limit OR v_any) THEN
    -- Every term is common ("petra nost", "berlin hauptstr"): count further to find the rarest; a tie
    -- goes to the field that usually narrows most (name, postal code, street, city, country).
    SELECT array_agg(e.n ORDER BY t.i) INTO v_recounts
      FROM unnest(v_terms, v_alts) WITH ORDINALITY AS t(term, alts, i)
     CROSS JOIN LATERAL (
       SELECT count(*) AS n FROM (
         (SELECT 1 FROM search_token s
           WHERE t.alts IS NULL AND s.tenant_id = p_tenant
             AND s.token >= t.term AND s.token < {s}.search_prefix_end(t.term) LIMIT {RECOUNT_CAP})
         UNION ALL
         (SELECT 1 FROM search_token s
           WHERE t.alts IS NOT NULL AND s.tenant_id = p_tenant AND s.token = ANY (string_to_array(t.alts, ' '))
           LIMIT {RECOUNT_CAP})) c) e;
    SELECT t.term, t.alts, t.n INTO v_driver, v_driver_alts, v_recount
      FROM unnest(v_terms, v_alts, v_recounts) WITH ORDINALITY AS t(term, alts, n, i)
     ORDER BY t.n, strpos('npsck', left(t.term, 1)), t.i
     LIMIT 1;
  END IF;
  IF NOT v_any_words THEN
    IF cardinality(v_any_ids) = 0 THEN
      RETURN '[]';
    END IF;
    v_any_terms := '{{}}';
    v_any_alts := '{{}}';
    IF cardinality(v_terms) = 0 THEN
      v_driver := NULL;
    END IF;
  END IF;
  IF v_ids IS NULL AND NOT v_prefixed AND (COALESCE(cardinality(v_exact), 0) < p_limit OR v_any)
     AND v_recount < {RECOUNT_CAP}
     AND NOT EXISTS (SELECT 1 FROM unnest(v_alts) a WHERE a IS NOT NULL) THEN
    v_join := true;
    -- Only the words counted below the cap join (a one-letter word's postings are most of the index);
    -- the others are checked on the candidates like any term.
    v_small := ARRAY(SELECT t.term FROM unnest(v_terms, v_recounts) AS t(term, n) WHERE t.n < {RECOUNT_CAP});
    -- Common words, the rarest under RECOUNT_CAP postings ("günter lans"): every profile having all of
    -- them, as an INTERSECT of their postings (whole words by equality, starts by range), from the index
    -- alone; only those are then read and ranked. Not a join: the planner estimates one posting for a
    -- token range, and its nested loop re-read the inner range per outer posting (630 x 397 at 100,000
    -- profiles: 56 ms); a set operation reads each range once whatever the estimate.
    EXECUTE format(
      'SELECT array_agg(customer_id ORDER BY customer_id) FROM (%s LIMIT {SCAN_CAP}) x',
      (SELECT string_agg(format('SELECT customer_id FROM search_token WHERE tenant_id = $1 AND token >= %L'
                                ' AND token < %L', v_small[k], {s}.search_prefix_end(v_small[k])), ' INTERSECT ')
         FROM generate_series(1, cardinality(v_small)) AS k))
      INTO v_joined USING p_tenant;
  END IF;
  IF v_ids IS NOT NULL THEN
    v_cand := v_ids;
  ELSIF cardinality(v_exact) >= p_limit AND NOT v_any THEN
    v_cand := v_exact;
  ELSIF v_prefixed THEN
    v_cand := v_found;
  ELSIF v_join THEN
    v_cand := v_any_ids || COALESCE(v_joined, '{{}}');
  ELSIF v_driver IS NULL THEN
    v_cand := v_any_ids;
  ELSIF v_best < {DRIVER_CAP} AND v_driver_alts IS NULL THEN
    v_cand := v_any_ids || ARRAY(
      SELECT t.customer_id FROM search_token t
       WHERE t.tenant_id = p_tenant AND t.token >= v_driver AND t.token < {s}.search_prefix_end(v_driver)
       ORDER BY t.token, t.customer_id);
  ELSIF v_best < {DRIVER_CAP} THEN
    v_cand := v_any_ids || ARRAY(
      SELECT t.customer_id FROM search_token t
       WHERE t.tenant_id = p_tenant AND t.token = ANY (string_to_array(v_driver_alts, ' '))
       ORDER BY t.token, t.customer_id);
  ELSIF cardinality(v_terms) = 1 AND v_driver = v_terms[1] AND v_driver_alts IS NULL AND NOT v_any
        AND NOT p_active_only THEN
    -- One common term (a typeahead "sch"): every profile with a posting in its range matches it (merged
    -- and erased profiles have none), so the first page in index order is read from the index alone,
    -- without checking profiles (a profile may have two words there: "müller", "mueller"); they are known to
    -- match (known_page).
    v_known := true;
    v_cand := ARRAY(
      SELECT f.customer_id FROM (
        SELECT p.customer_id, min(p.n) AS n FROM (
          SELECT t.customer_id, row_number() OVER (ORDER BY t.token, t.customer_id) AS n
            FROM (SELECT t.token, t.customer_id FROM search_token t
                   WHERE t.tenant_id = p_tenant AND t.token >= v_driver
                     AND t.token < {s}.search_prefix_end(v_driver)
                   ORDER BY t.token, t.customer_id LIMIT p_limit * 4) t) p
         GROUP BY p.customer_id) f
       ORDER BY f.n LIMIT p_limit);
  ELSE
    -- A big driver: read it in index order until a page of results is found.
    v_cand := v_any_ids;
    IF v_driver_alts IS NOT NULL THEN
      -- A common word misspelt: its closest word drives (the check still accepts any of the alternatives).
      v_driver := split_part(v_driver_alts, ' ', 1);
    END IF;
    v_last_token := v_driver;  -- every posting of the driver's range is after (driver, '')
    LOOP
      SELECT array_agg(c.customer_id ORDER BY c.token, c.customer_id) AS ids,
             (array_agg(c.token ORDER BY c.token DESC, c.customer_id DESC))[1] AS last_token,
             (array_agg(c.customer_id ORDER BY c.token DESC, c.customer_id DESC))[1] AS last_id, count(*) AS n
        INTO v_chunk
        FROM (SELECT t.token, t.customer_id FROM search_token t
               WHERE t.tenant_id = p_tenant AND (t.token, t.customer_id) > (v_last_token, v_last_id)
                 AND t.token < {s}.search_prefix_end(v_driver)
               ORDER BY t.token, t.customer_id LIMIT v_step) c;
      EXIT WHEN v_chunk.n = 0;
      v_read := v_read + v_chunk.n;
      v_last_token := v_chunk.last_token;
      v_last_id := v_chunk.last_id;
      v_hits := v_hits || ARRAY(
        SELECT h.customer_id FROM {s}.search_hits(p_tenant, v_chunk.ids, v_terms, v_alts, v_any_terms,
                                                  v_any_alts, v_any_ids, v_any, p_active_only) h
         WHERE h.customer_id <> ALL (v_hits) ORDER BY h.ord);
      EXIT WHEN cardinality(v_hits) >= p_limit OR v_read >= {SCAN_CAP} OR v_chunk.n < v_step;
      v_step := least(v_step * 4, 2000);
    END LOOP;
    v_cand := v_cand || v_hits[1:p_limit];
  END IF;
  IF v_known THEN
{known_page}
  END IF;
{page}END
$$"""
    # LATERAL … OFFSET 0: an index probe per key whatever the plan's estimate of the arrays' sizes.
    key_hits = f"""
CREATE OR REPLACE FUNCTION {s}.search_key_hits(p_tenant text, p_labels text[], p_types text[], p_values text[])
RETURNS TABLE (label text, customer_id text)
LANGUAGE sql STABLE SECURITY INVOKER AS $$
  SELECT q.label, k.customer_id FROM unnest(p_labels, p_types, p_values) AS q(label, type, value)
   CROSS JOIN LATERAL (
     SELECT k.customer_id::text FROM {s}.customer_key k
      WHERE q.type NOT IN ('REF', 'REF_ID') AND k.tenant_id = p_tenant AND k.key_type = q.type
        AND k.key_value = q.value
     UNION ALL
     SELECT r.customer_id::text FROM {s}.external_reference r
      WHERE q.type = 'REF' AND r.tenant_id = p_tenant AND r.source_system = split_part(q.value, ':', 1)
        AND r.external_id = substr(q.value, strpos(q.value, ':') + 1)
     UNION ALL
     SELECT r.customer_id::text FROM {s}.external_reference r
      WHERE q.type = 'REF_ID' AND r.tenant_id = p_tenant AND r.external_id = q.value
     OFFSET 0) k
$$"""
    prefix_end = f"""
CREATE OR REPLACE FUNCTION {s}.search_prefix_end(p_prefix text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT left(p_prefix, -1) || chr(ascii(right(p_prefix, 1)) + 1)
$$"""
    return [
        prefix_end,
        key_hits,
        _HITS.format(s=s, word_score=_WORD_SCORE),
        body,
    ]


FUNCTION_SIGNATURES = (
    "customer_search(text, text[], text[], text[], text[], text[], text[], text[], text[], text[], boolean, integer)",
    "search_hits(text, text[], text[], text[], text[], text[], text[], boolean, boolean)",
    "search_key_hits(text, text[], text[], text[])",
    "search_prefix_end(text)",
    "search_word_matches(text)",
)
