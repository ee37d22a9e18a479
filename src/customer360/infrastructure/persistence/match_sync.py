"""Matching data kept right at every save: the prepared record, its key postings and its term postings.

``sync_match_data`` is a step of the unit of work's flush, for every profile the customer repository
wrote (create, update, merge, unmerge, erasure, status changes, lead intake): in the same transaction,
the profile's prepared record is upserted and its postings changed by difference. Merged and erased profiles lose
all of it, so they are never candidates again.

**History.** The new record keeps what the previous one had and the profile no longer has — previous
addresses, phone numbers and e-mails (``features.with_history``, a few of each): they still block and
compare, so a source that still knows the old address finds the moved customer. An unmerge starts the
survivor afresh (the other customer's values are not its history); erasure removes the record with
its history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import bindparam, delete, select, text, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.schema import Table
from sqlalchemy.types import BigInteger, Text

from customer360.application.queries import Document
from customer360.domain.customer import CustomerProfile
from customer360.domain.duplicates import MATCHABLE_STATUSES, match_record_of
from customer360.domain.events import CustomerUnmerged
from customer360.domain.matching import MatchRecord, PreparedRecord, prepare, prepared_blocking_keys, record_terms
from customer360.domain.matching.features import with_history
from customer360.infrastructure.persistence.match_codec import (
    FEATURES_FORMAT,
    decode_features,
    encode_features,
    key_hashes,
)
from customer360.infrastructure.persistence.pending_writes import SqlExecutor
from customer360.infrastructure.persistence.profile_queries import PROFILE_COLUMNS, profile_document
from customer360.infrastructure.persistence.tables import match_key, match_record, match_term


def matching_rows(
    profile: CustomerProfile,
    previous: PreparedRecord | None = None,
    known: Mapping[str, tuple[MatchRecord, PreparedRecord]] | None = None,
) -> tuple[PreparedRecord, list[int]]:
    """The prepared record (with the history of ``previous``) and key hashes of a matchable profile;
    ``known``: records already prepared (without a phone region) in this unit, by profile id, used when the
    profile's record is still the same."""
    record = match_record_of(profile.id, profile.attributes, profile.contacts)
    seen = known.get(profile.id) if known else None
    current = seen[1] if seen is not None and seen[0] == record else prepare(record)
    prepared = with_history(current, previous)
    return prepared, key_hashes(prepared_blocking_keys(prepared))


class _Postings:
    """Additions and removals of one posting table (keys or terms): removals in one statement, additions
    in the statement that writes the records (``_WRITE``)."""

    def __init__(self, table: Table, column: str, tenant_id: str) -> None:
        self.table, self.column, self.tenant = table, column, tenant_id
        self.added: list[tuple[int, str]] = []
        self.removed: list[tuple[int, str]] = []

    def change(self, customer_id: str, before: set[int], after: set[int]) -> None:
        self.removed += [(h, customer_id) for h in before - after]
        self.added += [(h, customer_id) for h in sorted(after - before)]

    async def remove(self, connection: SqlExecutor) -> None:
        c = self.table.c
        if self.removed:
            await connection.execute(
                delete(self.table).where(
                    c.tenant_id == self.tenant, tuple_(c[self.column], c.customer_id).in_(self.removed)
                )
            )


# The postings added and the records written, in one round trip (arrays, one element a row; a record's
# keys and terms as array literals); then the profile documents of ``documents`` (ids; none when empty), as
# the statement finds them: the profiles were written by earlier statements, and nothing this one writes
# is part of a document, so they are what a read right after it would return.
_WRITE = text(
    f"""
    WITH added_keys AS (
        INSERT INTO match_key (tenant_id, key_hash, customer_id)
        SELECT :tenant, a.h, a.id FROM unnest(:key_hashes, :key_ids) AS a(h, id)
        ON CONFLICT DO NOTHING
    ), added_terms AS (
        INSERT INTO match_term (tenant_id, term_hash, customer_id)
        SELECT :tenant, a.h, a.id FROM unnest(:term_hashes, :term_ids) AS a(h, id)
        ON CONFLICT DO NOTHING
    ), records AS (
        INSERT INTO match_record (tenant_id, customer_id, features, keys, terms)
        SELECT :tenant, r.id, CAST(r.features AS jsonb), CAST(r.keys AS bigint[]), CAST(r.terms AS bigint[])
          FROM unnest(:ids, :features, :keys, :terms) AS r(id, features, keys, terms)
        ON CONFLICT (tenant_id, customer_id)
        DO UPDATE SET features = EXCLUDED.features, keys = EXCLUDED.keys, terms = EXCLUDED.terms
    )
    SELECT {PROFILE_COLUMNS} FROM customer_profile p WHERE p.tenant_id = :tenant AND p.id = ANY(:documents)
    """
).bindparams(
    *(bindparam(name, type_=ARRAY(BigInteger)) for name in ("key_hashes", "term_hashes")),
    *(
        bindparam(name, type_=ARRAY(Text))
        for name in ("key_ids", "term_ids", "ids", "features", "keys", "terms", "documents")
    ),
)


def _array(values: Sequence[int]) -> str:
    return "{" + ",".join(map(str, values)) + "}"


async def sync_match_data(
    connection: SqlExecutor,
    tenant_id: str,
    profiles: Sequence[CustomerProfile],
    new_ids: set[str],
    known: Mapping[str, tuple[MatchRecord, PreparedRecord]] | None = None,
    *,
    documents: bool = False,
) -> dict[str, Document]:
    """Bring the matching data of ``profiles`` (just written) in line with them (``known``: see
    `matching_rows`). With ``documents``, their profile documents come back with the statement that writes
    the records (a round trip less for a command that answers with them), by profile id; profiles whose
    matching data needed no statement have none."""
    if not profiles:
        return {}
    r = match_record.c
    old: dict[str, tuple[set[int], set[int], PreparedRecord | None]] = {}
    existing = [p.id for p in profiles if p.id not in new_ids]
    if existing:
        rows = await connection.execute(
            select(r.customer_id, r["keys"], r.terms, r.features).where(
                r.tenant_id == tenant_id, r.customer_id.in_(existing)
            )
        )
        old = {
            customer_id: (set(keys), set(terms), _readable(customer_id, features))
            for customer_id, keys, terms, features in rows
        }
    keys = _Postings(match_key, "key_hash", tenant_id)
    terms = _Postings(match_term, "term_hash", tenant_id)
    records: dict[str, tuple[str, list[int], list[int]]] = {}
    gone: list[str] = []
    for profile in profiles:
        keys_before, terms_before, previous = old.get(profile.id, (set(), set(), None))
        if any(isinstance(event, CustomerUnmerged) for event in profile.events):
            previous = None  # the other customer's addresses are no history of this one
        if profile.status not in MATCHABLE_STATUSES:
            keys.change(profile.id, keys_before, set())
            terms.change(profile.id, terms_before, set())
            if profile.id in old:
                gone.append(profile.id)
            continue
        prepared, key_list = matching_rows(profile, previous, known)
        term_list = key_hashes(record_terms(prepared))
        keys.change(profile.id, keys_before, set(key_list))
        terms.change(profile.id, terms_before, set(term_list))
        records[profile.id] = (orjson.dumps(encode_features(prepared)).decode(), key_list, term_list)
    await keys.remove(connection)
    await terms.remove(connection)
    if gone:
        await connection.execute(delete(match_record).where(r.tenant_id == tenant_id, r.customer_id.in_(gone)))
    if not (records or keys.added or terms.added):
        return {}
    result = await connection.execute(
        _WRITE,
        {
            "tenant": tenant_id,
            "key_hashes": [h for h, _ in keys.added],
            "key_ids": [i for _, i in keys.added],
            "term_hashes": [h for h, _ in terms.added],
            "term_ids": [i for _, i in terms.added],
            "ids": list(records),
            "features": [f for f, _, _ in records.values()],
            "keys": [_array(k) for _, k, _ in records.values()],
            "terms": [_array(t) for _, _, t in records.values()],
            "documents": [p.id for p in profiles] if documents else [],
        },
    )
    return {row.id: profile_document(row._mapping) for row in result}


def _readable(customer_id: str, features: Any) -> PreparedRecord | None:
    # a row of a format this code does not know has no history worth keeping
    if not features or features[0] > FEATURES_FORMAT:
        return None
    return decode_features(customer_id, features)
