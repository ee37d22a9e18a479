"""Matching data in PostgreSQL, as the real-time check reads it (``match_sync`` keeps it right).

``SqlDuplicateIndex`` is ``uow.duplicates``. The candidate query is one round trip: per key at most
``max_block_size + 1`` postings are read (a key returning more is over-shared and ignored, like the
stop keys the scan keeps in ``match_stop_key``), the best ``max_candidates`` profiles by number of
shared keys are kept, and their prepared records come back with them. The term frequencies of the
subject's names and premises are a second round trip (postings counted up to a cap; the totals per
kind and country, the tenant's size and the counts of common terms, which are large, cached per process
for a minute: when every term is common and cached, there is no second round trip).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import BigInteger, Double, Text

from customer360.application.duplicate_ports import CandidateRow, Matching, MatchingLimits, StoredModel
from customer360.domain.duplicates import DuplicatePolicy
from customer360.domain.errors import ConcurrentModification
from customer360.domain.events import DomainEvent
from customer360.domain.matching import (
    MatchModel,
    MatchRecord,
    PreparedRecord,
    TermFrequencies,
    prepared_blocking_keys,
    record_terms,
)
from customer360.domain.matching.frequencies import total_term
from customer360.domain.merge import PairDecision, PairStatus
from customer360.infrastructure.persistence.match_codec import features_from_json, key_hash, key_hashes
from customer360.infrastructure.persistence.pending_writes import PendingWrites
from customer360.infrastructure.persistence.tables import duplicate_pair, duplicate_policy, match_model

DEFAULT_MODEL_SOURCE = "DEFAULT"
_UNTRAINED = MatchModel()
"""The model of a tenant that has none stored, built once (immutable; ~35 µs to build, twice per check)."""


TERM_COUNT_CAP = 5000
"""A term held by more profiles is common; counting further would not change its weight much."""
COMMON_TERM = 1000
"""A term held by at least this many profiles has its count cached like the totals: counting it is most of
the term counts' cost (an index range of thousands of postings), and a minute of new profiles moves its
weight by a fraction of a bit."""
TOTALS_TTL_SECONDS = 60.0


class TermTotals:
    """Profiles per kind and country, per tenant, and per common term (``COMMON_TERM``), cached for a
    minute: the denominators of name frequencies are large (hundreds of thousands of postings) and change
    slowly, and so do the counts of common names."""

    def __init__(self, ttl_seconds: float = TOTALS_TTL_SECONDS, size: int = 10_000) -> None:
        self._ttl = ttl_seconds
        self._size = size
        self._totals: OrderedDict[tuple[str, int], tuple[float, int]] = OrderedDict()

    def get(self, tenant_id: str, term_hash: int, now: float) -> int | None:
        found = self._totals.get((tenant_id, term_hash))
        return found[1] if found is not None and now - found[0] < self._ttl else None

    def put(self, tenant_id: str, term_hash: int, count: int, now: float) -> None:
        self._totals[(tenant_id, term_hash)] = (now, count)
        self._totals.move_to_end((tenant_id, term_hash))
        while len(self._totals) > self._size:
            self._totals.popitem(last=False)


_TERM_COUNTS = text(
    """
    SELECT t.term_hash,
           (SELECT count(*) FROM (SELECT 1 FROM match_term m
                                   WHERE m.tenant_id = :tenant AND m.term_hash = t.term_hash LIMIT :cap) AS held)
      FROM unnest(:terms) AS t(term_hash)
    """
).bindparams(bindparam("terms", type_=ARRAY(BigInteger)))
_TERM_TOTAL = text("SELECT count(*) FROM match_term WHERE tenant_id = :tenant AND term_hash = :term")
_PROFILES = text("SELECT count(*) FROM match_record WHERE tenant_id = :tenant")
_TENANT_SIZE = 0
"""The cache slot of the tenant's number of profiles (no term hashes to 0 but by a 1 in 2⁶⁴ chance)."""


class ModelCache:
    """Parsed models per tenant and version, shared by the process (parsing costs more than reading),
    and the tenants' term totals."""

    def __init__(self, size: int = 1000) -> None:
        self._size = size
        self._models: OrderedDict[str, tuple[int, MatchModel]] = OrderedDict()
        self.term_totals = TermTotals()

    def get(self, tenant_id: str) -> tuple[int, MatchModel] | None:
        found = self._models.get(tenant_id)
        if found is not None:
            self._models.move_to_end(tenant_id)
        return found

    def put(self, tenant_id: str, version: int, model: MatchModel) -> None:
        self._models[tenant_id] = (version, model)
        self._models.move_to_end(tenant_id)
        while len(self._models) > self._size:
            self._models.popitem(last=False)


_MATCHING_SELECT = """
    SELECT p.review_threshold, p.likely_threshold, p.auto_merge, p.auto_merge_threshold, p.version,
           m.version AS model_version,
           CASE WHEN m.version IS DISTINCT FROM :cached THEN CAST(m.document AS text) END AS document
      FROM (SELECT 1) AS one
      LEFT JOIN duplicate_policy p ON p.tenant_id = :tenant
      LEFT JOIN match_model m ON m.tenant_id = :tenant
"""
_MATCHING = text(_MATCHING_SELECT)

# The candidates of a subject by its key hashes: ``found`` (customer_id, features).
_FOUND = """
    q AS (
        SELECT DISTINCT h AS key_hash FROM unnest(:keys) AS h
         WHERE NOT EXISTS (SELECT 1 FROM match_stop_key s
                            WHERE s.tenant_id = :tenant AND s.key_hash = h AND s.profiles > :cap)
    ), hits AS (
        SELECT q.key_hash, k.customer_id
          FROM q CROSS JOIN LATERAL (
               SELECT m.customer_id FROM match_key m
                WHERE m.tenant_id = :tenant AND m.key_hash = q.key_hash
                LIMIT :probe) AS k
    ), open_keys AS (
        SELECT key_hash FROM hits GROUP BY key_hash HAVING count(*) <= :cap
    ), ranked AS (
        SELECT h.customer_id, count(*) AS shared
          FROM hits h JOIN open_keys o USING (key_hash)
         WHERE h.customer_id <> :self
         GROUP BY h.customer_id
         ORDER BY shared DESC, h.customer_id
         LIMIT :max_candidates
    ), found AS (
    SELECT r.customer_id, CAST(r.features AS text) AS features
      FROM ranked c JOIN match_record r ON r.tenant_id = :tenant AND r.customer_id = c.customer_id
     WHERE NOT (:exclude_decided AND EXISTS (
           SELECT 1 FROM duplicate_pair d
            WHERE d.tenant_id = :tenant AND d.low_id = LEAST(:self, r.customer_id)
              AND d.high_id = GREATEST(:self, r.customer_id) AND d.status <> 'PENDING_REVIEW'))
    )
"""
_CANDIDATE_PARAMETERS = (bindparam("keys", type_=ARRAY(BigInteger)), bindparam("self", type_=Text))
_CANDIDATES = text(f"WITH {_FOUND} SELECT customer_id, features FROM found").bindparams(*_CANDIDATE_PARAMETERS)
# `_MATCHING`'s row on every candidate's (one row with no candidate when there is none): one round trip.
_MATCHING_AND_CANDIDATES = text(
    f"""
    WITH {_FOUND}, matching AS ({_MATCHING_SELECT})
    SELECT m.*, f.customer_id AS candidate_id, f.features FROM matching m LEFT JOIN found f ON true
    """
).bindparams(*_CANDIDATE_PARAMETERS)


# The arrays a statement unnests into duplicate_candidate rows (pairs queued here, a scan's chunk).
CANDIDATE_ARRAYS = (
    bindparam("lows", type_=ARRAY(Text)),
    bindparam("highs", type_=ARRAY(Text)),
    bindparam("probabilities", type_=ARRAY(Double)),
    bindparam("weights", type_=ARRAY(Double)),
    bindparam("explanations", type_=ARRAY(Text)),
)

# Pairs queued outside a scan (no scan id); a pair already in the queue keeps its scan's row and score.
_QUEUE_PAIRS = text(
    """
    INSERT INTO duplicate_candidate (tenant_id, low_id, high_id, probability, match_weight, explanation, found_at)
    SELECT :tenant, t.low_id, t.high_id, t.probability, t.match_weight, CAST(t.explanation AS jsonb), :found_at
      FROM unnest(:lows, :highs, :probabilities, :weights, :explanations)
           AS t(low_id, high_id, probability, match_weight, explanation)
        ON CONFLICT (tenant_id, low_id, high_id) DO NOTHING
    """
).bindparams(*CANDIDATE_ARRAYS)


def policy_from_row(row: Any, default: DuplicatePolicy) -> DuplicatePolicy:
    if row is None or row.version is None:
        return default
    return DuplicatePolicy(
        review_threshold=row.review_threshold,
        likely_threshold=row.likely_threshold,
        auto_merge=row.auto_merge,
        auto_merge_threshold=row.auto_merge_threshold,
        version=row.version,
    )


def stored_model_from_row(row: Any) -> StoredModel:
    if row is None:
        return StoredModel(MatchModel(), 0, DEFAULT_MODEL_SOURCE, None)
    return StoredModel(MatchModel.from_dict(row.document), row.version, row.source, row.trained_at, row.training)


async def upsert_model(
    connection: AsyncConnection,
    tenant_id: str,
    model: MatchModel,
    *,
    source: str,
    actor: str,
    now: datetime,
    training: Mapping[str, Any] | None,
) -> int:
    """Store the tenant's model as its next version (``training`` is kept unless given)."""
    values = {
        "document": model.to_dict(),
        "source": source,
        "updated_at": now,
        "updated_by": actor,
        "trained_at": now if training is not None else None,
        "training": dict(training or {}),
    }
    statement = insert(match_model).values(tenant_id=tenant_id, version=1, **values)
    keep = {"trained_at": match_model.c.trained_at, "training": match_model.c.training} if training is None else {}
    result = await connection.execute(
        statement.on_conflict_do_update(
            index_elements=[match_model.c.tenant_id],
            set_={
                **{name: statement.excluded[name] for name in values},
                **keep,
                "version": match_model.c.version + 1,
            },
        ).returning(match_model.c.version)
    )
    return int(result.scalar_one())


class SqlDuplicateIndex:
    def __init__(
        self,
        writes: PendingWrites,
        tenant_id: str,
        *,
        default_policy: DuplicatePolicy,
        limits: MatchingLimits,
        models: ModelCache,
    ) -> None:
        self._db = writes
        self._tenant = tenant_id
        self._default = default_policy
        self._limits = limits
        self._models = models
        self._totals = models.term_totals
        # The version of the tenant's model, once model_for_update has locked it.
        self._locked_model: int | None = None
        # Subjects checked in this unit and prepared without a phone region, by record id: the matching data
        # written at the flush is the same prepared record (match_sync.matching_rows), prepared once.
        self.prepared: dict[str, tuple[MatchRecord, PreparedRecord]] = {}
        self.events: list[DomainEvent] = []

    async def matching(self) -> Matching:
        cached = self._models.get(self._tenant)
        row = (
            await self._db.execute(_MATCHING, {"tenant": self._tenant, "cached": cached[0] if cached else -1})
        ).first()
        return self._matching_from(row, cached)

    def _matching_from(self, row: Any, cached: tuple[int, MatchModel] | None) -> Matching:
        policy = policy_from_row(row, self._default)
        if row is None or row.model_version is None:
            return Matching(policy, _UNTRAINED, 0, self._limits)
        if row.document is not None:
            model = MatchModel.from_dict(orjson.loads(row.document))
            self._models.put(self._tenant, row.model_version, model)
        else:
            assert cached is not None
            model = cached[1]
        return Matching(policy, model, row.model_version, self._limits)

    def _candidate_parameters(self, keys: list[int], subject: PreparedRecord, exclude_decided: bool) -> dict[str, Any]:
        cap = self._limits.max_block_size
        return {
            "tenant": self._tenant,
            "keys": keys,
            "probe": cap + 1,
            "cap": cap,
            "self": subject.record_id,
            "max_candidates": self._limits.max_candidates,
            "exclude_decided": exclude_decided,
        }

    async def candidates(self, subject: PreparedRecord, *, exclude_decided: bool) -> list[PreparedRecord]:
        keys = key_hashes(prepared_blocking_keys(subject))
        if not keys:
            return []
        result = await self._db.execute(_CANDIDATES, self._candidate_parameters(keys, subject, exclude_decided))
        return [features_from_json(customer_id, features) for customer_id, features in result]

    async def check_subject(
        self, record: MatchRecord, *, exclude_decided: bool
    ) -> tuple[Matching, PreparedRecord, list[PreparedRecord]]:
        # The subject is prepared by the cached model (its default phone region) and its candidates read
        # with the thresholds and the model's version; should the model have changed meanwhile and the
        # record prepared by the new one block on other keys, its candidates are read again.
        cached = self._models.get(self._tenant)
        guess = cached[1] if cached is not None else _UNTRAINED
        subject = guess.prepare(record)
        keys = key_hashes(prepared_blocking_keys(subject))
        parameters = self._candidate_parameters(keys, subject, exclude_decided)
        parameters["cached"] = cached[0] if cached else -1
        rows = (await self._db.execute(_MATCHING_AND_CANDIDATES, parameters)).all()
        matching = self._matching_from(rows[0], cached)
        others = [features_from_json(row.candidate_id, row.features) for row in rows if row.candidate_id is not None]
        if matching.model.default_region != guess.default_region:
            prepared = matching.model.prepare(record)
            if key_hashes(prepared_blocking_keys(prepared)) != keys:
                others = await self.candidates(prepared, exclude_decided=exclude_decided)
            subject = prepared
        if matching.model.default_region is None:
            self.prepared[record.record_id] = (record, subject)
        return matching, subject, others

    async def frequencies(self, subject: PreparedRecord) -> TermFrequencies:
        """How many profiles hold each of the subject's terms, the subject counted in (it may be new)."""
        terms = record_terms(subject)
        total = total_term(subject)
        by_hash = {key_hash(term): term for term in terms if term != total}
        now = time.monotonic()
        counts: dict[str, int] = {}
        for term_hash in list(by_hash):
            cached = self._totals.get(self._tenant, term_hash, now)
            if cached is not None:
                counts[by_hash.pop(term_hash)] = cached + 1
        if by_hash:
            rows = await self._db.execute(
                _TERM_COUNTS, {"tenant": self._tenant, "terms": sorted(by_hash), "cap": TERM_COUNT_CAP}
            )
            for term_hash, held in rows:
                counts[by_hash[term_hash]] = int(held) + 1
                if held >= COMMON_TERM:
                    self._totals.put(self._tenant, term_hash, int(held), now)
        total_hash = key_hash(total)
        counts[total] = await self._cached(total_hash, _TERM_TOTAL, {"term": total_hash}) + 1
        population = await self._cached(_TENANT_SIZE, _PROFILES, {}) + 1
        return TermFrequencies(population=population, counts=counts)

    async def _cached(self, slot: int, query: Any, params: dict[str, Any]) -> int:
        now = time.monotonic()
        cached = self._totals.get(self._tenant, slot, now)
        if cached is None:
            result = await self._db.execute(query, {"tenant": self._tenant, **params})
            cached = int(result.scalar_one())
            self._totals.put(self._tenant, slot, cached, now)
        return cached

    async def decision(self, low_id: str, high_id: str) -> PairDecision | None:
        d = duplicate_pair.c
        row = (
            await self._db.execute(
                select(duplicate_pair).where(d.tenant_id == self._tenant, d.low_id == low_id, d.high_id == high_id)
            )
        ).first()
        if row is None:
            return None
        return PairDecision(
            row.low_id, row.high_id, PairStatus(row.status), row.reason, row.decided_by, row.decided_at, row.merge_id
        )

    async def queue_for_review(self, rows: Sequence[CandidateRow], *, found_at: datetime) -> None:
        if not rows:
            return
        statement = _QUEUE_PAIRS.bindparams(
            tenant=self._tenant,
            found_at=found_at,
            lows=[r.low_id for r in rows],
            highs=[r.high_id for r in rows],
            probabilities=[r.probability for r in rows],
            weights=[r.match_weight for r in rows],
            explanations=[orjson.dumps(list(r.explanation)).decode() for r in rows],
        )
        self._db.later(lambda connection: connection.execute(statement))

    async def save_policy(self, policy: DuplicatePolicy, *, actor: str, now: datetime) -> DuplicatePolicy:
        p = duplicate_policy.c
        values = {
            "review_threshold": policy.review_threshold,
            "likely_threshold": policy.likely_threshold,
            "auto_merge": policy.auto_merge,
            "auto_merge_threshold": policy.auto_merge_threshold,
            "version": policy.version + 1,
            "updated_at": now,
            "updated_by": actor,
        }
        if policy.version == 0:
            statement = insert(duplicate_policy).values(tenant_id=self._tenant, **values).on_conflict_do_nothing()
        else:
            statement = (
                update(duplicate_policy)  # type: ignore[assignment]
                .where(p.tenant_id == self._tenant, p.version == policy.version)
                .values(**values)
            )
        returning = statement.returning(p.version)

        async def write(connection: AsyncConnection) -> None:
            if (await connection.execute(returning)).first() is None:
                raise ConcurrentModification("The duplicate-detection settings were changed concurrently")

        self._db.later(write)
        return DuplicatePolicy(
            policy.review_threshold,
            policy.likely_threshold,
            policy.auto_merge,
            policy.auto_merge_threshold,
            policy.version + 1,
        )

    async def model_for_update(self) -> StoredModel:
        m = match_model.c
        # A row to lock even before the first training: concurrent refinements queue instead of racing.
        placeholder = (
            insert(match_model)
            .values(
                tenant_id=self._tenant,
                document=MatchModel().to_dict(),
                version=0,
                source=DEFAULT_MODEL_SOURCE,
                updated_at=func.now(),
                updated_by="system",
            )
            .on_conflict_do_nothing()
        )
        self._db.later(lambda connection: connection.execute(placeholder))
        row = (
            await self._db.execute(
                select(m.document, m.version, m.source, m.trained_at, m.training)
                .where(m.tenant_id == self._tenant)
                .with_for_update()
            )
        ).first()
        stored = stored_model_from_row(row)
        self._locked_model = stored.version
        return stored

    async def save_model(
        self, model: MatchModel, *, source: str, actor: str, now: datetime, training: Mapping[str, Any] | None = None
    ) -> int:
        assert self._locked_model is not None, "save_model follows model_for_update (its row is locked)"
        self._locked_model += 1

        async def write(connection: AsyncConnection) -> None:
            await upsert_model(connection, self._tenant, model, source=source, actor=actor, now=now, training=training)

        self._db.later(write)
        return self._locked_model
