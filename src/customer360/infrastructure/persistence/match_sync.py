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

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.sql.schema import Table

from customer360.domain.customer import CustomerProfile
from customer360.domain.duplicates import MATCHABLE_STATUSES, match_record_of
from customer360.domain.events import CustomerUnmerged
from customer360.domain.matching import PreparedRecord, prepare, prepared_blocking_keys, record_terms
from customer360.domain.matching.features import with_history
from customer360.infrastructure.persistence.match_codec import (
    FEATURES_FORMAT,
    decode_features,
    encode_features,
    key_hashes,
)
from customer360.infrastructure.persistence.pending_writes import SqlExecutor
from customer360.infrastructure.persistence.tables import match_key, match_record, match_term


def matching_rows(profile: CustomerProfile, previous: PreparedRecord | None = None) -> tuple[PreparedRecord, list[int]]:
    """The prepared record (with the history of ``previous``) and key hashes of a matchable profile."""
    prepared = with_history(prepare(match_record_of(profile.id, profile.attributes, profile.contacts)), previous)
    return prepared, key_hashes(prepared_blocking_keys(prepared))


class _Postings:
    """Additions and removals of one posting table (keys or terms), applied in two statements."""

    def __init__(self, table: Table, column: str, tenant_id: str) -> None:
        self.table, self.column, self.tenant = table, column, tenant_id
        self.added: list[dict[str, Any]] = []
        self.removed: list[tuple[int, str]] = []

    def change(self, customer_id: str, before: set[int], after: set[int]) -> None:
        self.removed += [(h, customer_id) for h in before - after]
        self.added += [
            {"tenant_id": self.tenant, self.column: h, "customer_id": customer_id} for h in sorted(after - before)
        ]

    async def apply(self, connection: SqlExecutor) -> None:
        c = self.table.c
        if self.removed:
            await connection.execute(
                delete(self.table).where(
                    c.tenant_id == self.tenant, tuple_(c[self.column], c.customer_id).in_(self.removed)
                )
            )
        if self.added:
            await connection.execute(insert(self.table).on_conflict_do_nothing(), self.added)


async def sync_match_data(
    connection: SqlExecutor, tenant_id: str, profiles: Sequence[CustomerProfile], new_ids: set[str]
) -> None:
    """Bring the matching data of ``profiles`` (just written) in line with them."""
    if not profiles:
        return
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
    records: list[dict[str, Any]] = []
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
        prepared, key_list = matching_rows(profile, previous)
        term_list = key_hashes(record_terms(prepared))
        keys.change(profile.id, keys_before, set(key_list))
        terms.change(profile.id, terms_before, set(term_list))
        records.append(
            {
                "tenant_id": tenant_id,
                "customer_id": profile.id,
                "features": encode_features(prepared),
                "keys": key_list,
                "terms": term_list,
            }
        )
    await keys.apply(connection)
    await terms.apply(connection)
    if gone:
        await connection.execute(delete(match_record).where(r.tenant_id == tenant_id, r.customer_id.in_(gone)))
    if records:
        statement = insert(match_record)
        await connection.execute(
            statement.on_conflict_do_update(
                index_elements=[r.tenant_id, r.customer_id],
                set_={name: statement.excluded[name] for name in ("features", "keys", "terms")},
            ),
            records,
        )


def _readable(customer_id: str, features: Any) -> PreparedRecord | None:
    # a row of a format this code does not know has no history worth keeping
    if not features or features[0] > FEATURES_FORMAT:
        return None
    return decode_features(customer_id, features)
