"""ScanStore on PostgreSQL: one tenant's batch scan, each step its own short transaction.

Candidate pairs are found in SQL: for each profile of a chunk, its key hashes (``match_record.keys``)
probe ``match_key``'s primary key for the profiles *above* it in id order, so every pair is produced
exactly once, by the chunk holding its lower id. Stop keys and decided pairs are filtered out there,
and so are pairs that share one key only unless it is strong (its hash's lowest bit, see
``match_codec.key_hash``) and small (``match_stop_key`` lists every key shared by more than the scan's
big-block size, with its count): see ``application.duplicate_scan``. A tenant that fits the training
sample is read once instead (``everything``) and blocked in memory by the same rules.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import chain, combinations, repeat
from typing import Any

import orjson
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.types import BigInteger, Double, Integer, Text

from customer360.application.duplicate_ports import (
    CandidateRow,
    Decoder,
    Everything,
    Offload,
    ScanJob,
    StoredModel,
    StoredPair,
)
from customer360.domain.duplicates import DuplicatePolicy
from customer360.domain.matching import LabelledPair, MatchModel, PreparedRecord, TermFrequencies
from customer360.infrastructure.persistence.customer_repository import SqlCustomerRepository
from customer360.infrastructure.persistence.database import begin_for_tenant, commit_with, tenant_transaction
from customer360.infrastructure.persistence.decision_labels import decision_labels
from customer360.infrastructure.persistence.match_codec import HashedCounts, features_from_json, is_strong_hash
from customer360.infrastructure.persistence.match_index import (
    CANDIDATE_ARRAYS,
    policy_from_row,
    stored_model_from_row,
    upsert_model,
)
from customer360.infrastructure.persistence.match_sync import sync_match_data
from customer360.infrastructure.persistence.scan_jobs import latest_unfinished, load_job, store_job

TRAINED = "TRAINED"

# Profiles without matching data, or with a row written before term postings existed (format 1).
_UNINDEXED = """
    FROM customer_profile p
   WHERE p.tenant_id = :tenant AND p.status NOT IN ('MERGED', 'ERASED')
     AND NOT EXISTS (SELECT 1 FROM match_record r
                      WHERE r.tenant_id = :tenant AND r.customer_id = p.id AND r.terms <> '{}')
"""

# The chunk's keys without stop keys first (MATERIALIZED: so that a stop key's thousands of postings are
# never read), then a range probe per key for the profiles above each one, then the filters.
_PAIRS = text(
    """
    WITH chunk_keys AS MATERIALIZED (
        SELECT r.customer_id, h.key_hash, s.profiles AS block
          FROM match_record r
         CROSS JOIN LATERAL unnest(r.keys) AS h(key_hash)
          LEFT JOIN match_stop_key s ON s.tenant_id = :tenant AND s.key_hash = h.key_hash
         WHERE r.tenant_id = :tenant AND r.customer_id = ANY(:ids) AND (s.profiles IS NULL OR s.profiles <= :cap)
    ), shared AS (
        SELECT c.customer_id AS low_id, k.customer_id AS high_id
          FROM chunk_keys c
          JOIN match_key k ON k.tenant_id = :tenant AND k.key_hash = c.key_hash AND k.customer_id > c.customer_id
         GROUP BY c.customer_id, k.customer_id
        HAVING count(*) >= 2 OR (bool_or(c.block IS NULL AND (c.key_hash & 1) = 1) AND count(*) >= :min_shared)
    )
    SELECT p.low_id, p.high_id
      FROM shared p
     WHERE NOT EXISTS (SELECT 1 FROM duplicate_pair d
                        WHERE d.tenant_id = :tenant AND d.low_id = p.low_id AND d.high_id = p.high_id
                          AND d.status <> 'PENDING_REVIEW')
    """
).bindparams(bindparam("ids", type_=ARRAY(Text)))
# Per scan transaction: room to aggregate a chunk's pairs in memory; range probes, not memoized scans.
_SCAN_SESSION = (text("SET LOCAL work_mem = '64MB'"), text("SET LOCAL enable_memoize = off"))

_KEYS = "SELECT customer_id, keys FROM match_record WHERE tenant_id = $1 ORDER BY customer_id"
_FEATURES = "SELECT customer_id, CAST(features AS text) FROM match_record WHERE tenant_id = $1 ORDER BY customer_id"
# Pairs with a steward's verdict; a pair queued by an override (PENDING_REVIEW) is scored again.
_DECIDED = "SELECT low_id, high_id FROM duplicate_pair WHERE tenant_id = $1 AND status <> 'PENDING_REVIEW'"


def blocked_in_memory(
    keys: Sequence[Sequence[int]], max_block_size: int, big_block_size: int
) -> tuple[list[tuple[int, int, int]], list[tuple[int, int]]]:
    """(i, j, shared keys) of the records (positions, in id order) that ``_PAIRS`` would pair: sharing two
    keys of blocks under the cap, or one strong key of a small block; and the big keys (shared by more
    than ``big_block_size`` records) with their counts, as ``refresh_stop_keys`` counts them in SQL
    (``match_key`` holds the same postings as the records' keys)."""
    # 350,000 postings at 20,000 customers: a list made only for a key's first record, the pairs of
    # every block counted in one call
    postings: dict[int, list[int]] = {}
    posting = postings.get
    for position, record_keys in enumerate(keys):
        for h in record_keys:
            members = posting(h)
            if members is None:
                postings[h] = [position]
            else:
                members.append(position)
    blocks: list[list[int]] = []
    enough_alone: set[tuple[int, ...]] = set()
    big: list[tuple[int, int]] = []
    for h, members in postings.items():
        size = len(members)
        if size > big_block_size:
            big.append((h, size))
        if size < 2 or size > max_block_size:
            continue
        blocks.append(members)
        if size <= big_block_size and is_strong_hash(h):
            enough_alone.update(combinations(members, 2))
    shared = Counter(chain.from_iterable(map(combinations, blocks, repeat(2))))
    pairs = sorted((*pair, n) for pair, n in shared.items() if n >= 2 or pair in enough_alone)
    return pairs, sorted(big)  # type: ignore[return-value]


def _decoded(rows: Sequence[Any]) -> list[PreparedRecord]:
    return [features_from_json(customer_id, features) for customer_id, features in rows]


# Read on the driver's connection: tens of thousands of rows per chunk, no ORM-level row processing.
_RECORDS = "SELECT customer_id, CAST(features AS text) FROM match_record WHERE tenant_id = $1 AND customer_id = ANY($2)"

_SAVE_CANDIDATES = text(
    """
    INSERT INTO duplicate_candidate
           (tenant_id, low_id, high_id, probability, match_weight, explanation, scan_id, found_at, cluster_id)
    SELECT :tenant, t.low_id, t.high_id, t.probability, t.match_weight, CAST(t.explanation AS jsonb), :scan, :now,
           t.cluster_id
      FROM unnest(:lows, :highs, :probabilities, :weights, :explanations, :clusters)
           AS t(low_id, high_id, probability, match_weight, explanation, cluster_id)
        ON CONFLICT (tenant_id, low_id, high_id) DO UPDATE
       SET probability = EXCLUDED.probability, match_weight = EXCLUDED.match_weight,
           explanation = EXCLUDED.explanation, scan_id = EXCLUDED.scan_id, cluster_id = EXCLUDED.cluster_id
    """
).bindparams(*CANDIDATE_ARRAYS, bindparam("clusters", type_=ARRAY(Text)))

_LABEL_CLUSTERS = text(
    """
    UPDATE duplicate_candidate c SET cluster_id = m.cluster_id
      FROM unnest(:members, :clusters) AS m(customer_id, cluster_id)
     WHERE c.tenant_id = :tenant AND c.scan_id = :scan AND c.low_id = m.customer_id
    """
).bindparams(bindparam("members", type_=ARRAY(Text)), bindparam("clusters", type_=ARRAY(Text)))


_COUNT_CANDIDATES = text("SELECT count(*) FROM duplicate_candidate WHERE tenant_id = :tenant")

_UNLABEL_SCAN = text(
    "UPDATE duplicate_candidate SET cluster_id = NULL "
    "WHERE tenant_id = :tenant AND scan_id = :scan AND cluster_id IS NOT NULL"
)
_MEMBER_SEPARATOR = " "  # ids never contain a space
_SAVE_CLUSTERS = text(
    """
    INSERT INTO duplicate_cluster (tenant_id, id, members, size, max_probability, scan_id, found_at)
    SELECT :tenant, t.id, m.members, cardinality(m.members), t.best, :scan, :now
      FROM unnest(:ids, :members, :best) AS t(id, joined, best)
     CROSS JOIN LATERAL (SELECT string_to_array(t.joined, ' ') AS members) m
    """
).bindparams(
    bindparam("ids", type_=ARRAY(Text)),
    bindparam("members", type_=ARRAY(Text)),
    bindparam("best", type_=ARRAY(Double)),
)


_STORE_STOP_KEYS = text(
    """
    INSERT INTO match_stop_key (tenant_id, key_hash, profiles, refreshed_at)
    SELECT :tenant, t.key_hash, t.profiles, :now FROM unnest(:hashes, :counts) AS t(key_hash, profiles)
    """
).bindparams(bindparam("hashes", type_=ARRAY(BigInteger)), bindparam("counts", type_=ARRAY(Integer)))


# The scan's own writes are committed without waiting for the WAL flush (each commit of a scan waited for
# it, 1-5 ms each on this machine). A server crash may lose the last few of them (a suffix: the WAL is
# written in order, and any later synchronous commit flushes them too); the job then resumes from its
# last checkpoint that was kept, which was stored in the same transaction as the pairs it has passed.
_LAZY_COMMIT = "SET LOCAL synchronous_commit = off"


async def _commit_lazily(connection: AsyncConnection) -> None:
    if not await commit_with(connection, _LAZY_COMMIT):
        await connection.execute(text(_LAZY_COMMIT))
        await connection.commit()


class SqlScanStore:
    def __init__(self, engine: AsyncEngine, tenant_id: str, default_policy: DuplicatePolicy) -> None:
        self._engine = engine
        self._tenant = tenant_id
        self._default = default_policy

    def _tx(self) -> Any:
        return tenant_transaction(self._engine, self._tenant)

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction of the scan's own writes, committed without waiting for the WAL flush."""
        async with self._tx() as connection:
            yield connection
            await _commit_lazily(connection)

    @contextlib.asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[AsyncConnection]:
        """A transaction whose statements all read one snapshot (REPEATABLE READ)."""
        async with self._engine.connect() as connection:
            await connection.execution_options(isolation_level="REPEATABLE READ")
            async with connection.begin():
                await begin_for_tenant(connection, self._tenant)
                yield connection

    async def _scalar(self, sql: str, **params: Any) -> Any:
        async with self._tx() as connection:
            return (await connection.execute(text(sql), {"tenant": self._tenant, **params})).scalar_one()

    # -- settings and model ------------------------------------------------------------------------
    async def policy_and_model(self) -> tuple[DuplicatePolicy, StoredModel]:
        async with self._tx() as connection:
            params = {"tenant": self._tenant}
            policy = await connection.execute(text("SELECT * FROM duplicate_policy WHERE tenant_id = :tenant"), params)
            model = await connection.execute(
                text(
                    "SELECT document, version, source, trained_at, training FROM match_model WHERE tenant_id = :tenant"
                ),
                params,
            )
            return policy_from_row(policy.first(), self._default), stored_model_from_row(model.first())

    async def load_model(self) -> StoredModel:
        return (await self.policy_and_model())[1]

    async def save_model(self, model: MatchModel, *, actor: str, now: datetime, training: Mapping[str, Any]) -> int:
        async with self._write() as connection:
            return await upsert_model(
                connection, self._tenant, model, source=TRAINED, actor=actor, now=now, training=training
            )

    # -- indexing and stop keys --------------------------------------------------------------------
    async def count_unindexed(self) -> int:
        return int(await self._scalar(f"SELECT count(*) {_UNINDEXED}"))

    async def index_missing(self, limit: int) -> int:
        async with self._tx() as connection:
            ids = (
                (
                    await connection.execute(
                        text(f"SELECT p.id {_UNINDEXED} LIMIT :limit"), {"tenant": self._tenant, "limit": limit}
                    )
                )
                .scalars()
                .all()
            )
            repository = SqlCustomerRepository(connection, self._tenant)
            profiles = [await repository.get(customer_id) for customer_id in ids]
            if profiles:
                await sync_match_data(connection, self._tenant, profiles, set())
            return len(profiles)

    async def reindex(self, after: str | None, limit: int) -> list[str]:
        """Rebuild the matching data of the next ``limit`` profiles after ``after`` (id order); their ids."""
        async with self._tx() as connection:
            ids = (
                (
                    await connection.execute(
                        text(
                            "SELECT id FROM customer_profile WHERE tenant_id = :tenant AND id > :after "
                            "ORDER BY id LIMIT :limit"
                        ),
                        {"tenant": self._tenant, "after": after or "", "limit": limit},
                    )
                )
                .scalars()
                .all()
            )
            repository = SqlCustomerRepository(connection, self._tenant)
            profiles = [await repository.get(customer_id) for customer_id in ids]
            await sync_match_data(connection, self._tenant, profiles, set())
            return list(ids)

    async def refresh_stop_keys(self, big_block_size: int, now: datetime) -> int:
        async with self._write() as connection:
            params = {"tenant": self._tenant, "big": big_block_size, "now": now}
            await connection.execute(text("DELETE FROM match_stop_key WHERE tenant_id = :tenant"), params)
            result = await connection.execute(
                text(
                    """INSERT INTO match_stop_key (tenant_id, key_hash, profiles, refreshed_at)
                       SELECT tenant_id, key_hash, count(*), :now FROM match_key WHERE tenant_id = :tenant
                        GROUP BY tenant_id, key_hash HAVING count(*) > :big"""
                ),
                params,
            )
            return int(result.rowcount)

    async def store_stop_keys(self, big_keys: Sequence[tuple[int, int]], now: datetime) -> int:
        async with self._write() as connection:
            params = {"tenant": self._tenant, "now": now}
            await connection.execute(text("DELETE FROM match_stop_key WHERE tenant_id = :tenant"), params)
            if big_keys:
                await connection.execute(
                    _STORE_STOP_KEYS,
                    {**params, "hashes": [h for h, _ in big_keys], "counts": [n for _, n in big_keys]},
                )
        return len(big_keys)

    async def count_stop_keys(self, max_block_size: int) -> int:
        return int(
            await self._scalar(
                "SELECT count(*) FROM match_stop_key WHERE tenant_id = :tenant AND profiles > :cap", cap=max_block_size
            )
        )

    # -- records and pairs -------------------------------------------------------------------------
    async def count_records(self) -> int:
        return int(await self._scalar("SELECT count(*) FROM match_record WHERE tenant_id = :tenant"))

    async def sample(self, size: int, seed: int) -> list[PreparedRecord]:
        population = await self.count_records()
        sampling = ""
        params: dict[str, Any] = {"tenant": self._tenant}
        if population > size:
            sampling = "TABLESAMPLE BERNOULLI (:percent) REPEATABLE (:seed)"
            params |= {"percent": 100.0 * size / population, "seed": seed}
        async with self._tx() as connection:
            rows = await connection.execute(
                text(
                    f"SELECT customer_id, CAST(features AS text) FROM match_record {sampling} "
                    "WHERE tenant_id = :tenant ORDER BY customer_id"
                ),
                params,
            )
            return [features_from_json(customer_id, features) for customer_id, features in rows]

    async def next_chunk(self, after: str | None, size: int) -> list[str]:
        async with self._tx() as connection:
            rows = await connection.execute(
                text(
                    "SELECT customer_id FROM match_record WHERE tenant_id = :tenant AND customer_id > :after "
                    "ORDER BY customer_id LIMIT :size"
                ),
                {"tenant": self._tenant, "after": after or "", "size": size},
            )
            return list(rows.scalars().all())

    async def pairs_from(
        self, low_ids: Sequence[str], max_block_size: int, *, min_shared_keys: int = 1
    ) -> list[tuple[str, str]]:
        if not low_ids:
            return []
        async with self._tx() as connection:
            for setting in _SCAN_SESSION:
                await connection.execute(setting)
            params = {
                "tenant": self._tenant,
                "ids": list(low_ids),
                "cap": max_block_size,
                "min_shared": min_shared_keys,
            }
            rows = await connection.execute(_PAIRS, params)
            return sorted((low, high) for low, high in rows)

    async def records(self, ids: Sequence[str]) -> dict[str, PreparedRecord]:
        if not ids:
            return {}
        async with self._tx() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            rows = await driver.fetch(_RECORDS, self._tenant, list(ids))
        return {customer_id: features_from_json(customer_id, features) for customer_id, features in rows}

    async def term_frequencies(self) -> TermFrequencies:
        async with self._tx() as connection:
            rows = await connection.execute(
                text(
                    "SELECT term_hash, count(*) FROM match_term WHERE tenant_id = :tenant "
                    "GROUP BY term_hash HAVING count(*) > 1"
                ),
                {"tenant": self._tenant},
            )
            counts = {term_hash: int(count) for term_hash, count in rows}
        return TermFrequencies(population=await self.count_records(), counts=HashedCounts(counts))

    async def everything(
        self,
        max_block_size: int,
        big_block_size: int,
        offload: Offload | None = None,
        *,
        fetched: Callable[[int, Decoder], None] | None = None,
    ) -> Everything:
        # Blocking reads the keys only: they are read first, and with an offload blocked there (forked at
        # once) while the features are read and decoded here, in a thread: the event loop stays free for
        # the scan's queries meanwhile. One snapshot: both reads list the same records.
        blocking = None
        try:
            async with self._snapshot() as connection:
                driver = (await connection.get_raw_connection()).driver_connection
                assert driver is not None
                keyed = await driver.fetch(_KEYS, self._tenant)
                keys = [keys for _, keys in keyed]
                if offload is not None:
                    blocking = asyncio.ensure_future(
                        offload(lambda: blocked_in_memory(keys, max_block_size, big_block_size))
                    )
                    await asyncio.sleep(0)
                rows = await driver.fetch(_FEATURES, self._tenant)
                decided = {(low, high) for low, high in await driver.fetch(_DECIDED, self._tenant)}
            if [customer_id for customer_id, _ in keyed] != [customer_id for customer_id, _ in rows]:
                raise RuntimeError("the keys and the features of one snapshot list other records")
            if fetched is not None:

                def decode(positions: Sequence[int] | None) -> list[PreparedRecord]:
                    return _decoded(rows if positions is None else [rows[p] for p in positions])

                fetched(len(rows), decode)
                await asyncio.sleep(0)  # what it offloads is forked before this process decodes
            records = await asyncio.to_thread(_decoded, rows)
            if blocking is None:
                pairs, big_keys = await asyncio.to_thread(blocked_in_memory, keys, max_block_size, big_block_size)
            else:
                pairs, big_keys = await blocking
        finally:
            if blocking is not None and not blocking.done():
                blocking.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await blocking
        if decided:
            ids = [r.record_id for r in records]
            pairs = [(i, j, shared) for i, j, shared in pairs if (ids[i], ids[j]) not in decided]
        return Everything(records, pairs, big_keys)

    async def labelled_pairs(self) -> list[LabelledPair]:
        async with self._tx() as connection:
            return await decision_labels(connection, self._tenant)

    # -- jobs and results ----------------------------------------------------------------------------
    async def job(self, scan_id: str) -> ScanJob | None:
        async with self._tx() as connection:
            return await load_job(connection, self._tenant, scan_id)

    async def unfinished(self) -> ScanJob | None:
        async with self._tx() as connection:
            return await latest_unfinished(connection, self._tenant)

    async def save_job(self, job: ScanJob) -> None:
        async with self._write() as connection:
            await store_job(connection, self._tenant, job)

    async def save_chunk(self, job: ScanJob, rows: Sequence[CandidateRow], now: datetime) -> None:
        pairs = [
            (r.low_id, r.high_id, r.probability, r.match_weight, self.explanation_text(r.explanation), r.cluster_id)
            for r in rows
        ]
        async with self._write() as connection:
            await self._insert_candidates(connection, job.id, pairs, now)
            await store_job(connection, self._tenant, job)

    def explanation_text(self, explanation: Sequence[Mapping[str, Any]]) -> str:
        return orjson.dumps(list(explanation)).decode()

    def whole_writer(self, parts: int) -> _WholeWriter:
        return _WholeWriter(self, parts)

    @contextlib.asynccontextmanager
    async def _begun(self, connection: AsyncConnection) -> AsyncIterator[AsyncConnection]:
        """A transaction of this tenant on a connection checked out already."""
        async with connection.begin():
            await begin_for_tenant(connection, self._tenant)
            yield connection

    async def _insert_candidates(
        self, connection: Any, scan_id: str, pairs: Sequence[StoredPair], now: datetime
    ) -> None:
        if not pairs:
            return
        lows, highs, probabilities, weights, explanations, clusters = map(list, zip(*pairs, strict=True))
        await connection.execute(
            _SAVE_CANDIDATES,
            {
                "tenant": self._tenant,
                "scan": scan_id,
                "now": now,
                "lows": lows,
                "highs": highs,
                "probabilities": probabilities,
                "weights": weights,
                "explanations": explanations,
                "clusters": clusters,
            },
        )

    async def scan_pairs(self, scan_id: str) -> list[tuple[str, str, float]]:
        async with self._tx() as connection:
            rows = await connection.execute(
                text(
                    "SELECT low_id, high_id, probability FROM duplicate_candidate "
                    "WHERE tenant_id = :tenant AND scan_id = :scan"
                ),
                {"tenant": self._tenant, "scan": scan_id},
            )
            return [(low, high, probability) for low, high, probability in rows]

    async def save_clusters(
        self, scan_id: str, clusters: Sequence[tuple[str, Sequence[str], float]], now: datetime
    ) -> int:
        params = {"tenant": self._tenant, "scan": scan_id}
        async with self._write() as connection:
            await self._replace_clusters(connection, scan_id, clusters, now)
            # pairs stored with a cluster by a run that stopped before this phase: their ids are gone
            await connection.execute(_UNLABEL_SCAN, params)
            if clusters:
                members = [(m, cluster_id) for cluster_id, group, _ in clusters for m in group]
                await connection.execute(
                    _LABEL_CLUSTERS,
                    {**params, "members": [m for m, _ in members], "clusters": [c for _, c in members]},
                )
            await self._drop_older(connection, scan_id)
        return len(clusters)

    async def _replace_clusters(
        self,
        connection: AsyncConnection,
        scan_id: str,
        clusters: Sequence[tuple[str, Sequence[str], float]],
        now: datetime,
    ) -> None:
        params = {"tenant": self._tenant, "scan": scan_id}
        await connection.execute(text("DELETE FROM duplicate_cluster WHERE tenant_id = :tenant"), params)
        if clusters:
            await connection.execute(
                _SAVE_CLUSTERS,
                {
                    **params,
                    "now": now,
                    "ids": [cluster_id for cluster_id, _, _ in clusters],
                    # one text[] per cluster cannot be bound as a ragged array: members joined, split in SQL
                    "members": [_MEMBER_SEPARATOR.join(members) for _, members, _ in clusters],
                    "best": [best for _, _, best in clusters],
                },
            )

    async def _drop_older(self, connection: AsyncConnection, scan_id: str) -> None:
        """Pairs of older scans: decided ones stay as history (without a cluster), the others are gone."""
        params = {"tenant": self._tenant, "scan": scan_id}
        await connection.execute(
            text(
                """DELETE FROM duplicate_candidate c
                    WHERE c.tenant_id = :tenant AND c.scan_id <> :scan AND NOT EXISTS (
                          SELECT 1 FROM duplicate_pair d
                           WHERE d.tenant_id = :tenant AND d.low_id = c.low_id AND d.high_id = c.high_id)"""
            ),
            params,
        )
        await connection.execute(
            text(
                "UPDATE duplicate_candidate SET cluster_id = NULL "
                "WHERE tenant_id = :tenant AND scan_id <> :scan AND cluster_id IS NOT NULL"
            ),
            params,
        )

    async def auto_merge_pairs(self, scan_id: str, threshold: float) -> list[CandidateRow]:
        async with self._tx() as connection:
            rows = await connection.execute(
                text(
                    # A pair someone created despite the check waits for a steward, never merged by itself.
                    """SELECT c.low_id, c.high_id, c.probability, c.match_weight, c.explanation
                         FROM duplicate_candidate c
                        WHERE c.tenant_id = :tenant AND c.scan_id = :scan AND c.probability >= :threshold
                          AND NOT EXISTS (SELECT 1 FROM duplicate_pair d WHERE d.tenant_id = :tenant
                                             AND d.low_id = c.low_id AND d.high_id = c.high_id)
                        ORDER BY c.probability DESC, c.low_id, c.high_id"""
                ),
                {"tenant": self._tenant, "scan": scan_id, "threshold": threshold},
            )
            return [CandidateRow(r.low_id, r.high_id, r.probability, r.match_weight, r.explanation) for r in rows]


# Nothing written: empty arrays. Parsing them on a connection looks up their types and prepares them.
_EMPTY_CANDIDATES: dict[str, list[Any]] = {
    k: [] for k in ("lows", "highs", "probabilities", "weights", "explanations", "clusters")
}
_EMPTY_CLUSTERS: dict[str, list[Any]] = {"ids": [], "members": [], "best": []}


class _WholeWriter:
    """`WholeWriter` on PostgreSQL: a connection for each part of the pairs and one for the clusters.

    A connection's first statement with an array parameter costs it three round trips to look the type
    up, and its first use of a statement a parse; a connection the pool does not have yet costs a
    connect. ~10-20 ms at the end of a scan, when it has nothing else to do: they are done beforehand,
    beside the training (the connections stay checked out until ``aclose``)."""

    def __init__(self, store: SqlScanStore, parts: int) -> None:
        self._store = store
        self._connections: list[AsyncConnection] = []
        self._ready = asyncio.ensure_future(self._prepare(parts + 1))

    async def _prepare(self, count: int) -> None:
        for _ in range(count):
            self._connections.append(await self._store._engine.connect())
        await asyncio.gather(*(self._prepared(connection) for connection in self._connections))

    async def _prepared(self, connection: AsyncConnection) -> None:
        transaction = await connection.begin()
        try:
            when = datetime.now(UTC)
            await connection.execute(_SAVE_CANDIDATES, {"tenant": "", "scan": "", "now": when, **_EMPTY_CANDIDATES})
            await connection.execute(_SAVE_CLUSTERS, {"tenant": "", "scan": "", "now": when, **_EMPTY_CLUSTERS})
        finally:
            await transaction.rollback()

    async def save(
        self,
        saves: Sequence[tuple[ScanJob, Sequence[StoredPair]]],
        clustered: tuple[ScanJob, Sequence[tuple[str, Sequence[str], float]]],
        now: datetime,
        *,
        stored: int,
        saved: Callable[[ScanJob], Awaitable[None]],
    ) -> None:
        # Each part of the pairs and the clusters have a transaction and a PostgreSQL backend of their own,
        # all writing at once (a backend writes on one core). The jobs are saved, and the transactions
        # committed, in order once all have written: no checkpoint is ever ahead of its pairs, and the
        # clusters (with the job past CLUSTERS) come last.
        store, (job, clusters) = self._store, clustered
        await self._ready
        grouping, *writers = self._connections
        if len(saves) > len(writers):
            # zip below would drop the parts that have no connection, and their pairs with them
            raise ValueError(f"{len(saves)} parts of pairs for {len(writers)} connections")
        async with contextlib.AsyncExitStack() as stack:
            for connection in self._connections:
                await stack.enter_async_context(store._begun(connection))
            async with asyncio.TaskGroup() as writing:
                writing.create_task(store._replace_clusters(grouping, job.id, clusters, now))
                for connection, (part, rows) in zip(writers, saves, strict=False):
                    writing.create_task(store._insert_candidates(connection, part.id, rows, now))
            for connection, (part, _) in zip(writers, saves, strict=False):
                await store_job(connection, store._tenant, part)
                await _commit_lazily(connection)
                await saved(part)
            # every pair of the tenant is one this scan stored (a re-scan updates its pairs in place): no
            # older one to look for among them all
            if await grouping.scalar(_COUNT_CANDIDATES, {"tenant": store._tenant}) != stored:
                await store._drop_older(grouping, job.id)
            await store_job(grouping, store._tenant, job)
            await _commit_lazily(grouping)
        await saved(job)

    async def aclose(self) -> None:
        if not self._ready.done():
            self._ready.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(self._ready, return_exceptions=True)
        for connection in self._connections:
            await connection.close()
        self._connections = []
