"""The bulk import's unit of work: the ordinary one (updates go through the customer repository) plus
set-based reads and writes (one INSERT over unnest per table) for a chunk of rows.

``commit`` writes, in one transaction: the repository's changes, the new profiles (profile rows,
contacts, exact-look-up keys, external references, matching record and key postings — the same rows
the repository and ``sync_match_data`` write, one statement per table), the review-queue pairs, the report lines and the
job's resume point, then one audit row per event and one outbox row per published event, in one statement each, under
the outbox's EXCLUSIVE lock (``journal.py``: positions follow commit order, so the relay still sees
every event in commit order), then commits. A unique-key clash with a concurrent writer surfaces as
``DatabaseConflict`` so the chunk can be applied again row by row.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping, Sequence
from typing import Any

import asyncpg
import orjson
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine

from customer360.application.context import RequestContext
from customer360.application.import_ports import EncodedProfile, EncodedRows, ImportJob, QueuedPair, RowIssue
from customer360.application.imports import DatabaseConflict
from customer360.domain.customer import CustomerProfile
from customer360.domain.matching import PreparedRecord, prepared_blocking_keys, record_terms
from customer360.domain.privacy import ContactPointValue
from customer360.domain.values import ExternalReference
from customer360.infrastructure.persistence import tables as t
from customer360.infrastructure.persistence.bulk_insert import Column, array_literal, columns_of, insert_rows
from customer360.infrastructure.persistence.customer_repository import contact_row, profile_keys, profile_row
from customer360.infrastructure.persistence.import_store import ISSUE_COLUMNS, issue_rows, job_values
from customer360.infrastructure.persistence.journal import (
    LOCK_OUTBOX,
    NOTIFY_RELAY,
    EnvelopeSerializer,
    audit_row,
    outbox_row,
)
from customer360.infrastructure.persistence.match_codec import features_json, key_hash
from customer360.infrastructure.persistence.unit_of_work import SqlUnitOfWork

_PROFILE_COLUMNS = [c.name for c in t.customer_profile.columns if c.name not in ("privacy_flags", "tombstone")]
_CONTACT_COLUMNS = [c.name for c in t.contact.columns]
_AUDIT_COLUMNS = [c.name for c in t.audit_log.columns if c.name != "id"]
_OUTBOX_COLUMNS = ["tenant_id", "event_id", "event_type", "aggregate_id", "correlation_id", "envelope", "created_at"]
_TABLES: dict[str, list[Column]] = {
    "customer_profile": columns_of(t.customer_profile, _PROFILE_COLUMNS),
    "contact": columns_of(t.contact, _CONTACT_COLUMNS),
    "customer_key": columns_of(t.customer_key, ["tenant_id", "key_type", "key_value", "customer_id", "owner"]),
    "external_reference": columns_of(
        t.external_reference, ["tenant_id", "source_system", "external_id", "customer_id", "created_at"]
    ),
    "match_record": columns_of(t.match_record, ["tenant_id", "customer_id", "features", "keys", "terms"]),
    "match_key": columns_of(t.match_key, ["tenant_id", "key_hash", "customer_id"]),
    "match_term": columns_of(t.match_term, ["tenant_id", "term_hash", "customer_id"]),
    "audit_log": columns_of(t.audit_log, _AUDIT_COLUMNS),
    "event_outbox": columns_of(t.event_outbox, _OUTBOX_COLUMNS),
    "duplicate_candidate": columns_of(
        t.duplicate_candidate,
        ["tenant_id", "low_id", "high_id", "probability", "match_weight", "explanation", "scan_id", "found_at"],
    ),
}

_OWNERS = """
    SELECT r.source_system, r.external_id, r.customer_id
      FROM external_reference r
      JOIN unnest($2::text[], $3::text[]) AS q(source_system, external_id)
        ON r.source_system = q.source_system AND r.external_id = q.external_id
     WHERE r.tenant_id = $1
"""
# Per key its holders, read up to cap + 1 and sent as one array, or NULL when there are more than cap (an
# over-shared key: a few hundred keys of a large tenant, read for most chunks, were most of the rows sent);
# stop keys are not read at all.
_POSTINGS = """
    SELECT q.h, CASE WHEN cardinality(k.ids) > $3 THEN NULL ELSE k.ids END
      FROM unnest($2::bigint[]) AS q(h)
     CROSS JOIN LATERAL (SELECT array_agg(m.customer_id) AS ids
                           FROM (SELECT customer_id FROM match_key
                                  WHERE tenant_id = $1 AND key_hash = q.h LIMIT $4) AS m) AS k
     WHERE k.ids IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM match_stop_key s WHERE s.tenant_id = $1 AND s.key_hash = q.h AND s.profiles > $3)
"""
_RECORDS = "SELECT customer_id, CAST(features AS text) FROM match_record WHERE tenant_id = $1 AND customer_id = ANY($2)"
_SAVE_JOB = """
    UPDATE import_job SET status = $3, processed_rows = $4, counts = $5::jsonb
     WHERE tenant_id = $1 AND id = $2
"""


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


_PLAIN, _JSON, _ARRAY = 0, 1, 2
# Per table, each column's name and how its value is written (decided once, not per value).
_WRITTEN = {
    table: tuple(
        (name, _JSON if pg_type == "jsonb" else _ARRAY if pg_type.endswith("[]") else _PLAIN)
        for name, pg_type in columns
    )
    for table, columns in _TABLES.items()
}


def _record(row: Mapping[str, Any], table: str) -> tuple[Any, ...]:
    """The row as ``insert_rows`` takes it: JSON and array values as their text."""
    values = []
    for name, written in _WRITTEN[table]:
        value = row[name]
        if written == _JSON:
            value = orjson.dumps(value).decode()
        elif written == _ARRAY and value is not None:
            value = array_literal(value)
        values.append(value)
    return tuple(values)


def encode_created(
    envelope: EnvelopeSerializer, context: RequestContext, profile: CustomerProfile, record: PreparedRecord
) -> EncodedProfile:
    """``RowEncoder``: a new profile's rows, the same as the repository, ``sync_match_data`` and the journal
    write (with a ``partial`` of the envelope, it is what the planning worker processes run); the keys
    are their stored hashes, the record its stored JSON (``features_from_json`` decodes it)."""
    tenant, customer_id = context.tenant_id, profile.id
    hashes = sorted({key_hash(k) for k in prepared_blocking_keys(record)})
    terms = sorted({key_hash(term) for term in record_terms(record)})
    features = features_json(record)
    rows = {
        "customer_profile": [_record(profile_row(tenant, profile), "customer_profile")],
        "contact": [_record(contact_row(tenant, customer_id, c), "contact") for c in profile.contacts],
        "customer_key": [(tenant, k, v, customer_id, o) for k, v, o in profile_keys(profile)],
        "external_reference": [
            (tenant, r.source_system, r.external_id, customer_id, profile.updated_at)
            for r in profile.attributes.external_refs
        ],
        "match_record": [(tenant, customer_id, features, array_literal(hashes), array_literal(terms))],
        "match_key": [(tenant, h, customer_id) for h in hashes],
        "match_term": [(tenant, h, customer_id) for h in terms],
        "audit_log": [_record(audit_row(context, e), "audit_log") for e in profile.events],
        "event_outbox": [
            _record(outbox_row(context, e, envelope), "event_outbox") for e in profile.events if e.published
        ],
    }
    return EncodedProfile(rows, features, tuple(hashes))


_CREATED_TABLES = (
    "customer_profile",
    "contact",
    "customer_key",
    "external_reference",
    "match_record",
    "match_key",
    "match_term",
)


class SqlImportUnit(SqlUnitOfWork):
    def __init__(self, engine: AsyncEngine, context: RequestContext, *args: Any, **options: Any) -> None:
        super().__init__(engine, context, *args, **options)
        self._created: list[EncodedRows] = []
        self._pairs: list[tuple[str, QueuedPair]] = []
        self._issues: list[tuple[str, RowIssue]] = []
        self._job: ImportJob | None = None

    async def _driver(self) -> asyncpg.Connection:
        driver = (await self.connection.get_raw_connection()).driver_connection
        assert driver is not None
        return driver

    # -- set-based reads ------------------------------------------------------------------------------
    async def owners(self, refs: Collection[ExternalReference]) -> dict[ExternalReference, str]:
        if not refs:
            return {}
        ordered = list(refs)
        rows = await (await self._driver()).fetch(
            _OWNERS,
            self.context.tenant_id,
            [r.source_system for r in ordered],
            [r.external_id for r in ordered],
        )
        return {ExternalReference(system, external_id): owner for system, external_id, owner in rows}

    async def suppressed(self, points: Mapping[str, Collection[ContactPointValue]]) -> set[str]:
        listed = await self.privacy.suppressed_among({point for ps in points.values() for point in ps})
        return {customer_id for customer_id, ps in points.items() if not listed.isdisjoint(ps)}

    async def postings(self, keys: Collection[Hashable], max_block_size: int) -> dict[Hashable, list[str] | None]:
        """``keys`` are key hashes (``encode_created``)."""
        if not keys:
            return {}
        rows = await (await self._driver()).fetch(
            _POSTINGS, self.context.tenant_id, list(keys), max_block_size, max_block_size + 1
        )
        return dict(rows)

    async def records(self, customer_ids: Collection[str]) -> dict[str, str]:
        if not customer_ids:
            return {}
        rows = await (await self._driver()).fetch(_RECORDS, self.context.tenant_id, list(customer_ids))
        return dict(rows)

    # -- deferred writes ------------------------------------------------------------------------------
    def add_created(self, rows: EncodedRows) -> None:
        self._created.append(rows)

    def queue_pairs(self, job_id: str, pairs: Sequence[QueuedPair]) -> None:
        self._pairs += [(job_id, pair) for pair in pairs]

    def report(self, job_id: str, issues: Sequence[RowIssue]) -> None:
        self._issues += [(job_id, issue) for issue in issues]

    def save_job(self, job: ImportJob) -> None:
        self._job = job

    async def commit(self) -> None:
        try:
            await self._commit()
        except (asyncpg.UniqueViolationError, sa_exc.IntegrityError) as error:
            raise DatabaseConflict(type(error).__name__) from None

    async def _commit(self) -> None:
        await self.flush()
        driver = await self._driver()
        await self._copy_created(driver)
        await self._copy_pairs(driver)
        await self._copy_issues(driver)
        if self._job is not None:
            job = job_values(self._job)
            await driver.execute(
                _SAVE_JOB, self.context.tenant_id, job["id"], job["status"], job["processed_rows"], _json(job["counts"])
            )
        events = self.collect_events()
        context = self.context
        audit = [_record(audit_row(context, e), "audit_log") for e in events]
        audit += [row for rows in self._created for row in rows["audit_log"]]
        await insert_rows(driver, "audit_log", _TABLES["audit_log"], audit)
        published = [_record(outbox_row(context, e, self._envelope), "event_outbox") for e in events if e.published]
        published += [row for rows in self._created for row in rows["event_outbox"]]
        if published:
            await self.connection.execute(LOCK_OUTBOX)
            await insert_rows(driver, "event_outbox", _TABLES["event_outbox"], published)
            await self.connection.execute(NOTIFY_RELAY)
        await self.connection.commit()
        for profile in self.customers.seen():
            profile.events.clear()
        self._created.clear()

    async def _copy_created(self, driver: asyncpg.Connection) -> None:
        for table in _CREATED_TABLES:
            rows = [row for created in self._created for row in created[table]]
            await insert_rows(driver, table, _TABLES[table], rows)

    async def _copy_pairs(self, driver: asyncpg.Connection) -> None:
        if not self._pairs:
            return
        tenant, now = self.context.tenant_id, await driver.fetchval("SELECT now()")
        rows = []
        for job_id, pair in self._pairs:
            low, high = sorted((pair.customer_id, pair.candidate.customer_id))
            candidate = pair.candidate.to_dict()
            rows.append(
                (
                    tenant,
                    low,
                    high,
                    pair.candidate.probability,
                    pair.candidate.match_weight,
                    _json(candidate["explanation"]),
                    job_id,
                    now,
                )
            )
        suffix = "ON CONFLICT (tenant_id, low_id, high_id) DO NOTHING"
        await insert_rows(driver, "duplicate_candidate", _TABLES["duplicate_candidate"], rows, suffix)
        self._pairs.clear()

    async def _copy_issues(self, driver: asyncpg.Connection) -> None:
        if not self._issues:
            return
        rows = [row for job_id, i in self._issues for row in issue_rows(self.context.tenant_id, job_id, [i])]
        await insert_rows(driver, "import_issue", ISSUE_COLUMNS, rows, "ON CONFLICT DO NOTHING")
        self._issues.clear()
