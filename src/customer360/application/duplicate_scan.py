"""The batch duplicate scan of one tenant, in resumable phases.

1. ``INDEX`` — profiles without matching data (written before this feature, or after a re-index
   was requested) get it.
2. ``STOP_KEYS`` — keys shared by more than ``big_block_size`` profiles are listed with their count;
   those shared by more than ``max_block_size`` are stop keys (the real-time check skips them too).
3. ``TRAIN`` — the model is estimated without labels (EM) on a random sample of profiles and their
   candidate pairs that share at least two keys (tenants smaller than ``min_training_records`` keep
   the defaults: EM needs data), then refined with every steward decision (dismissals, unmerges,
   merges with their before-images), and stored as the tenant's model. Two keys, because EM needs the
   matches not to be a vanishing minority of what it sees: at a million profiles one candidate in 450
   is a duplicate, and EM on all of them finds "lives in the same postcode" instead of "is the same
   customer" (precision 0.05 on held-out pairs); among pairs sharing two keys one in 35 is, and the
   model it learns beats the hand-set defaults (benchmarks/duplicate_check.py, docs/benchmarks.md).
4. ``PAIRS`` — profiles in id order, a chunk at a time: the pairs whose lower id is in the chunk (sharing
   a key that is not a stop key, never a pair already decided) are scored; those at or above the review
   threshold are stored with their explanations, together with the checkpoint (the last id). A pair
   whose only shared key is a big one (a family name's sound in a big city, a common street) needs a
   second shared key: at a million profiles this scores a third of the pairs, for 0.1 % of the recall
   (benchmarks/duplicate_check.py measures both).
5. ``CLUSTERS`` — the stored pairs are grouped transitively (union-find) into clusters; pairs of older
   scans that were not found again are dropped (decided pairs keep their row as history). A tenant read
   whole (TRAIN) has all its pairs scored at once: they are grouped before they are stored, stored with
   their cluster in a few parts written at once, and the clusters beside them, committed last with the
   job past this phase.
6. ``AUTO_MERGE`` — only when the tenant enabled it: pairs at or above its automatic-merge threshold
   with an identifier agreeing exactly are merged, older profile surviving.

Each phase ends with the job saved at the next phase; ``PAIRS`` saves after every chunk (or part) in the
same transaction as its pairs. A scan stopped anywhere resumes where it stopped, and never scores
a chunk twice. Memory is bounded by a chunk and the training sample, not by the tenant's size.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import dataclasses
import inspect
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from customer360.application.context import Clock
from customer360.application.duplicate_ports import (
    CandidateRow,
    Decoder,
    Everything,
    Offload,
    ScanJob,
    ScanStore,
    StoredPair,
    WholeWriter,
)
from customer360.domain.duplicates import CLUSTER_PREFIX, IDENTIFIER_FIELDS
from customer360.domain.errors import Conflict, NotFound
from customer360.domain.matching import (
    ComparedPairs,
    MatchModel,
    PreparedRecord,
    TermFrequencies,
    cluster,
    compare_pairs,
)
from customer360.domain.matching.estimation import Probabilities, u_records

PHASES = ("INDEX", "STOP_KEYS", "TRAIN", "PAIRS", "CLUSTERS", "AUTO_MERGE", "DONE")
QUEUED, RUNNING, COMPLETED, FAILED = "QUEUED", "RUNNING", "COMPLETED", "FAILED"
_INDEX_BATCH = 500
# EM learns from candidate pairs sharing at least this many keys (see the module docstring).
TRAINING_SHARED_KEYS = 2
_MIN_PRIOR = 1e-12
# Chunks of a tenant scored whole saved at once (each in a transaction of its own, committed in order).
_CHUNKS_AT_ONCE = 2

Progress = Callable[[ScanJob], Awaitable[None] | None]
Merger = Callable[[str, str], Awaitable[bool]]
T = TypeVar("T")


class ScanInProgress(Conflict):
    code = "SCAN_IN_PROGRESS"

    def __init__(self, scan_id: str | None) -> None:
        super().__init__("A duplicate scan of this tenant is running", {"jobId": scan_id} if scan_id else {})


class ScanNotFound(NotFound):
    code = "SCAN_NOT_FOUND"

    def __init__(self, scan_id: str) -> None:
        super().__init__(f"Duplicate scan {scan_id} not found", {"jobId": scan_id})


@dataclass(frozen=True, slots=True)
class ScanOptions:
    chunk_size: int = 5000
    training_records: int = 100_000
    # Below this many profiles EM has too little to learn from: the defaults (refined by decisions) stay.
    min_training_records: int = 1000
    max_block_size: int = 100
    # A pair whose only shared keys are shared by more profiles than this must share two keys.
    big_block_size: int = 20
    seed: int = 0
    # With an offload, a tenant read whole compares and scores its candidate pairs in two halves at once
    # (one in this process, one on another core) when it has at least this many.
    split_pairs: int = 4000


def new_job(scan_id: str, actor: str, clock: Clock) -> ScanJob:
    return ScanJob(
        id=scan_id,
        status=QUEUED,
        phase=PHASES[0],
        checkpoint={},
        processed=0,
        total=0,
        result={},
        requested_by=actor,
        requested_at=clock.now(),
    )


class _Run:
    def __init__(
        self,
        store: ScanStore,
        job: ScanJob,
        options: ScanOptions,
        clock: Clock,
        actor: str,
        on_progress: Progress | None,
        merge: Merger | None,
        offload: Offload | None = None,
    ) -> None:
        self.store, self.job, self.options, self.clock, self.actor = store, job, options, clock, actor
        self._on_progress = on_progress
        self._merge = merge
        self._offload = offload
        # A tenant read whole by TRAIN: its records and every candidate pair compared, for PAIRS to score
        # (a resumed scan has none and finds its pairs chunk by chunk).
        self._whole: tuple[Sequence[PreparedRecord], ComparedPairs] | None = None
        # ... kept once scored until the run ends: freeing ~29,000 records and ~57,000 comparisons takes
        # ~30 ms, better spent after the job is done than before
        self._spent: object = None
        self._writer: WholeWriter | None = None
        # Reads begun ahead of the phase that needs them, while the database or this process is busy
        # with another: the tenant read whole (during STOP_KEYS), its term counts (during TRAIN).
        self._reading: asyncio.Future[Everything] | None = None
        self._frequencies: asyncio.Future[TermFrequencies] | None = None
        # The untrained model's chance agreements, estimated on another core from the records of a
        # tenant read whole while this process finds and compares its pairs.
        self._chance: asyncio.Future[Probabilities] | None = None

    async def report(self) -> None:
        if self._on_progress is not None:
            outcome = self._on_progress(self.job)
            if inspect.isawaitable(outcome):
                await outcome

    def update(self, **changes: Any) -> None:
        self.job = dataclasses.replace(self.job, **changes)

    def add_result(self, **counts: int) -> None:
        result = dict(self.job.result)
        for name, value in counts.items():
            result[name] = int(result.get(name, 0)) + value
        self.update(result=result)

    async def advance(self, phase: str, **changes: Any) -> None:
        self.update(phase=phase, processed=0, total=0, **changes)
        await self.store.save_job(self.job)
        await self.report()

    # -- phases ------------------------------------------------------------------------------------
    async def index(self) -> None:
        self.update(total=await self.store.count_unindexed())
        await self.report()
        while self.job.total and (indexed := await self.store.index_missing(_INDEX_BATCH)):
            self.update(processed=self.job.processed + indexed)
            self.add_result(indexed=indexed)
            await self.store.save_job(self.job)
            await self.report()
        await self.advance("STOP_KEYS")

    async def close(self) -> None:
        """Stop the reads begun ahead (a scan that failed or was stopped before it needed them)."""
        for pending in (self._reading, self._frequencies, self._chance):
            if pending is not None and not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pending
        self._reading = self._frequencies = self._chance = None
        self._whole = self._spent = None
        writer, self._writer = self._writer, None
        if writer is not None:
            await writer.aclose()

    async def stop_keys(self) -> None:
        population = await self.store.count_records()
        if population <= self.options.training_records:
            # TRAIN reads this tenant whole, and the read needs no stop key: it starts now, and its
            # blocking counts every key's profiles, so PostgreSQL need not count them again
            self._reading = self._read_everything(population >= self.options.min_training_records)
            whole = await self._reading
            big_keys = await self.store.store_stop_keys(whole.big_keys, self.clock.now())
        else:
            big_keys = await self.store.refresh_stop_keys(self.options.big_block_size, self.clock.now())
        self.add_result(bigKeys=big_keys, stopKeys=await self.store.count_stop_keys(self.options.max_block_size))
        await self.advance("TRAIN")

    async def train(self) -> None:
        population = await self.store.count_records()
        model = MatchModel()
        learned = population >= self.options.min_training_records
        if population <= self.options.training_records:
            sample, compared = await self._read_whole(learned)
            # PAIRS will store this tenant whole: its connections made ready meanwhile
            self._writer = self.store.whole_writer(_CHUNKS_AT_ONCE)
        else:
            sample, compared = await self._read_sample()
        if learned:
            chance, self._chance = self._chance, None
            u = await chance if chance is not None else None
            model = await asyncio.to_thread(
                estimate, model, sample, compared, population=population, seed=self.options.seed, u=u
            )
        decisions = await self.store.labelled_pairs()
        if decisions:
            model = model.refine(decisions)
        training = {
            "em": learned,
            "profiles": population,
            "sampled": len(sample),
            "candidatePairs": len(compared.pairs),
            "decisions": len(decisions),
            "seed": self.options.seed,
            "scanId": self.job.id,
        }
        version = await self.store.save_model(model, actor=self.actor, now=self.clock.now(), training=training)
        self.update(result={**self.job.result, "modelVersion": version})
        await self.advance("PAIRS", checkpoint={**self.job.checkpoint, "modelVersion": version})

    async def _read_whole(self, learning: bool) -> tuple[Sequence[PreparedRecord], ComparedPairs]:
        # one read, blocking in memory, every candidate compared once: training takes the pairs sharing
        # two keys, PAIRS scores them all
        reading, self._reading = self._reading or self._read_everything(learning), None
        whole = await reading
        # PAIRS needs the tenant's term counts: PostgreSQL counts them while this process compares
        self._frequencies = asyncio.ensure_future(self.store.term_frequencies())
        self.update(total=len(whole.records))
        await self.store.save_job(self.job)
        await self.report()
        records = whole.records
        candidates = [(i, j) for i, j, _ in whole.pairs]
        vectors = await self._in_halves(
            lambda start, stop: compare_pairs(records, candidates[start:stop]).vectors, len(candidates)
        )
        compared = ComparedPairs(pairs=tuple(candidates), vectors=tuple(vectors))
        self._whole = (records, compared)
        chosen = [n for n, (_, _, shared) in enumerate(whole.pairs) if shared >= TRAINING_SHARED_KEYS]
        training = ComparedPairs(
            pairs=tuple(compared.pairs[n] for n in chosen), vectors=tuple(compared.vectors[n] for n in chosen)
        )
        self.update(processed=len(records))
        return records, training

    def _read_everything(self, learning: bool) -> asyncio.Future[Everything]:
        """The tenant read whole, begun. With an offload its pairs are found there, and (``learning``) the
        chance agreements of the untrained model estimated there too, as soon as the rows are read: they
        need nothing else."""

        def fetched(count: int, decode: Decoder) -> None:
            if learning and self._offload is not None and self._chance is None:
                seed = self.options.seed
                # u reads 10,000 random records at most: the child decodes those itself, beside the
                # blocking and this process's decoding of them all, and reads no other
                positions = u_records(count, seed)
                self._chance = asyncio.ensure_future(
                    self._offload(lambda: MatchModel().chance_agreement(decode(positions), seed=seed))
                )

        return asyncio.ensure_future(
            self.store.everything(
                self.options.max_block_size, self.options.big_block_size, self._offload, fetched=fetched
            )
        )

    async def _in_halves(self, work: Callable[[int, int], Sequence[T]], count: int) -> list[T]:
        """``work(start, stop)`` over the items ``0 … count - 1``, in order: with an offload and at least
        ``split_pairs`` items in two halves at once, the second on another core."""
        if self._offload is None or count < max(self.options.split_pairs, 2):
            return list(await asyncio.to_thread(work, 0, count))
        middle = count // 2
        second = asyncio.ensure_future(self._offload(lambda: work(middle, count)))
        await asyncio.sleep(0)  # forked before this process's half starts
        try:
            first = list(await asyncio.to_thread(work, 0, middle))
        except BaseException:
            second.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await second
            raise
        return first + list(await second)

    async def _read_sample(self) -> tuple[Sequence[PreparedRecord], ComparedPairs]:
        sample = await self.store.sample(self.options.training_records, self.options.seed)
        self.update(total=len(sample))
        await self.store.save_job(self.job)
        await self.report()
        pairs: list[tuple[str, str]] = []
        for start in range(0, len(sample), self.options.chunk_size):
            chunk = sample[start : start + self.options.chunk_size]
            pairs += await self.store.pairs_from(
                [r.record_id for r in chunk], self.options.max_block_size, min_shared_keys=TRAINING_SHARED_KEYS
            )
            self.update(processed=min(len(sample), start + len(chunk)))
            await self.store.save_job(self.job)
            await self.report()
        by_id = {r.record_id: r for r in sample}
        missing = sorted(
            {high for _, high in pairs if high not in by_id} | {low for low, _ in pairs if low not in by_id}
        )
        for start in range(0, len(missing), self.options.chunk_size):
            by_id.update(await self.store.records(missing[start : start + self.options.chunk_size]))
        return sample, _compare(by_id, pairs)

    async def pairs(self) -> None:
        policy, stored = await self.store.policy_and_model()
        model, threshold = stored.model, policy.review_threshold
        counting, self._frequencies = self._frequencies, None
        frequencies = await (counting or self.store.term_frequencies())
        self.update(total=await self.store.count_records())
        await self.store.save_job(self.job)
        await self.report()
        if self._whole is not None:
            # its pairs and clusters stored together: the job goes on past CLUSTERS
            await self._pairs_of_whole(model, threshold, frequencies)
        else:
            await self._pairs_by_chunk(model, threshold, frequencies)
            await self.advance("CLUSTERS")

    async def _pairs_of_whole(self, model: MatchModel, threshold: float, frequencies: TermFrequencies) -> None:
        assert self._whole is not None
        records, compared = self._whole

        text = self.store.explanation_text

        def scored(start: int, stop: int) -> list[tuple[str, str, float, float, str]]:
            # each explanation as the text the store writes: one string pickled and read back (a forked
            # child's half) in a fraction of the time its dicts take
            part = ComparedPairs(pairs=compared.pairs[start:stop], vectors=compared.vectors[start:stop])
            kept = explained_pairs(model, records, part, threshold, frequencies)
            return [(low, high, probability, weight, text(e)) for low, high, probability, weight, e in kept]

        found = await self._in_halves(scored, len(compared.pairs))
        self._spent, self._whole = self._whole, None
        clusters = clusters_of([(low, high, probability) for low, high, probability, _, _ in found], threshold)
        member_of = {member: cluster_id for cluster_id, members, _ in clusters for member in members}
        ids = [r.record_id for r in records]
        candidates_by_low = Counter(i for i, _ in compared.pairs)
        # The pairs in parts of about as many each, written by a PostgreSQL backend each, all at once, and
        # saved with the checkpoint of the part (the last profile it covers)
        position = {customer_id: n for n, customer_id in enumerate(ids)}
        saves: list[tuple[ScanJob, list[StoredPair]]] = []
        first = taken = 0
        for end, stored in balanced_parts([position[low] for low, *_ in found], len(ids), _CHUNKS_AT_ONCE):
            rows = [(*pair, member_of.get(pair[0])) for pair in found[taken:stored]]
            self.update(
                checkpoint={**self.job.checkpoint, "after": ids[end - 1]}, processed=self.job.processed + end - first
            )
            self.add_result(candidatePairs=sum(candidates_by_low[n] for n in range(first, end)), storedPairs=len(rows))
            saves.append((self.job, rows))
            first, taken = end, stored
        # and the clusters, with the job past CLUSTERS, committed last: a scan stopped before finds its
        # pairs stored and makes its clusters again
        self.add_result(clusters=len(clusters), clusteredProfiles=sum(len(m) for _, m, _ in clusters))
        self.update(phase="AUTO_MERGE", processed=0, total=0)

        async def saved(job: ScanJob) -> None:
            self.job = job
            await self.report()

        # (its connections given back when the run ends, with what it has spent)
        self._writer = self._writer or self.store.whole_writer(_CHUNKS_AT_ONCE)
        await self._writer.save(saves, (self.job, clusters), self.clock.now(), stored=len(found), saved=saved)

    async def _pairs_by_chunk(self, model: MatchModel, threshold: float, frequencies: TermFrequencies) -> None:
        # While a chunk is scored (in a thread), the database already finds the next chunk's pairs:
        # PostgreSQL and Python each keep a core busy.
        pending = asyncio.create_task(self._chunk(self.job.checkpoint.get("after")))
        try:
            while True:
                ids, pairs, records = await pending
                if not ids:
                    break
                pending = asyncio.create_task(self._chunk(ids[-1]))
                rows = await asyncio.to_thread(score_chunk, model, records, pairs, threshold, frequencies)
                checkpoint = {**self.job.checkpoint, "after": ids[-1]}
                self.update(checkpoint=checkpoint, processed=self.job.processed + len(ids))
                self.add_result(candidatePairs=len(pairs), storedPairs=len(rows))
                await self.store.save_chunk(self.job, rows, self.clock.now())
                await self.report()
        finally:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending

    async def _chunk(self, after: str | None) -> tuple[list[str], list[tuple[str, str]], dict[str, PreparedRecord]]:
        ids = await self.store.next_chunk(after, self.options.chunk_size)
        if not ids:
            return ids, [], {}
        pairs = await self.store.pairs_from(ids, self.options.max_block_size)
        return ids, pairs, await self.store.records(sorted({i for pair in pairs for i in pair}))

    async def clusters(self) -> None:
        # a tenant scored whole stored its clusters with its pairs: here only a scan scored chunk by chunk
        policy, _ = await self.store.policy_and_model()
        labelled = clusters_of(await self.store.scan_pairs(self.job.id), policy.review_threshold)
        await self.store.save_clusters(self.job.id, labelled, self.clock.now())
        self.add_result(clusters=len(labelled), clusteredProfiles=sum(len(m) for _, m, _ in labelled))
        await self.advance("AUTO_MERGE")

    async def auto_merge(self) -> None:
        policy, _ = await self.store.policy_and_model()
        if policy.auto_merge and self._merge is not None:
            rows = await self.store.auto_merge_pairs(self.job.id, policy.auto_merge_threshold)
            eligible = [r for r in rows if _identifier_agrees(r.explanation)]
            self.update(total=len(eligible))
            merged = 0
            for row in eligible:
                merged += bool(await self._merge(row.low_id, row.high_id))
                self.update(processed=self.job.processed + 1)
                await self.report()
            self.add_result(autoMerged=merged)
        await self.advance("DONE", status=COMPLETED, finished_at=self.clock.now())


async def run_scan(
    store: ScanStore,
    job: ScanJob,
    options: ScanOptions,
    clock: Clock,
    *,
    actor: str,
    on_progress: Progress | None = None,
    merge: Merger | None = None,
    offload: Offload | None = None,
) -> ScanJob:
    """Run (or resume) ``job`` to the end; the caller holds the tenant's scan lock."""
    run = _Run(store, job, options, clock, actor, on_progress, merge, offload)
    if run.job.status != RUNNING or run.job.started_at is None:
        run.update(status=RUNNING, started_at=run.job.started_at or clock.now(), error=None)
        await store.save_job(run.job)
    phases = {
        "INDEX": run.index,
        "STOP_KEYS": run.stop_keys,
        "TRAIN": run.train,
        "PAIRS": run.pairs,
        "CLUSTERS": run.clusters,
        "AUTO_MERGE": run.auto_merge,
    }
    try:
        while run.job.phase != "DONE":
            await phases[run.job.phase]()
    finally:
        await run.close()
    return run.job


# -- pure helpers ----------------------------------------------------------------------------------------
def _compare(by_id: Mapping[str, PreparedRecord], pairs: Sequence[tuple[str, str]]) -> ComparedPairs:
    ids = sorted(by_id)
    position = {customer_id: i for i, customer_id in enumerate(ids)}
    records = [by_id[i] for i in ids]
    present = [(position[a], position[b]) for a, b in pairs if a in position and b in position]
    return compare_pairs(records, present)


def estimate(
    model: MatchModel,
    sample: Sequence[PreparedRecord],
    compared: ComparedPairs,
    *,
    population: int,
    seed: int,
    u: Probabilities | None = None,
) -> MatchModel:
    """EM on a sample, with the prior scaled to the whole tenant.

    ``compared`` holds the pairs whose lower id is in the sample, about ``len(sample) / population`` of
    all candidate pairs. The engine divides the matches it finds by the sample's possible pairs, M(M−1)/2;
    the tenant's prior divides all matches (found ÷ fraction) by N(N−1)/2, hence the factor (M−1)/(N−1).
    """
    trained = model.estimate(sample, compared, seed=seed, u=u)
    size = len(sample)
    if population <= size or size < 2:
        return trained
    prior = min(max(trained.prior * (size - 1) / (population - 1), _MIN_PRIOR), 0.5)
    return dataclasses.replace(trained, prior=prior)


def score_chunk(
    model: MatchModel,
    records: Mapping[str, PreparedRecord],
    pairs: Sequence[tuple[str, str]],
    threshold: float,
    frequencies: TermFrequencies | None = None,
) -> list[CandidateRow]:
    """Score ``pairs`` and keep those at or above ``threshold``, with their explanations."""
    ids = sorted(records)
    position = {customer_id: i for i, customer_id in enumerate(ids)}
    ordered = [records[i] for i in ids]
    present = [(position[a], position[b]) for a, b in pairs if a in position and b in position]
    return score_compared(model, ordered, compare_pairs(ordered, present), threshold, frequencies)


def score_compared(
    model: MatchModel,
    records: Sequence[PreparedRecord],
    compared: ComparedPairs,
    threshold: float,
    frequencies: TermFrequencies | None = None,
) -> list[CandidateRow]:
    """The compared pairs of ``records`` scoring at or above ``threshold``, with their explanations."""
    return [CandidateRow(*row) for row in explained_pairs(model, records, compared, threshold, frequencies)]


Explained = tuple[str, str, float, float, list[dict[str, str | float]]]
"""A pair kept by a scan: low id, high id, probability, match weight, explanation."""


def explained_pairs(
    model: MatchModel,
    records: Sequence[PreparedRecord],
    compared: ComparedPairs,
    threshold: float,
    frequencies: TermFrequencies | None = None,
) -> list[Explained]:
    """`score_compared`'s rows as plain tuples: what a forked child sends back (pickled in a third of the
    time a row object takes)."""
    return [
        (
            records[i].record_id,
            records[j].record_id,
            result.probability,
            result.match_weight,
            [c.to_dict() for c in result.explanation],
        )
        for i, j, result in model.explain_above(records, compared, threshold, frequencies)
    ]


def balanced_parts(lows: Sequence[int], records: int, parts: int) -> list[tuple[int, int]]:
    """Up to ``parts`` consecutive parts of ``records`` profiles (positions) holding about as many of the
    pairs each, as (end of its profiles, end of its pairs): ``lows`` are the pairs' lower positions in
    ascending order, and a part ends after the lower profile of its last pair, so that a profile's pairs
    are never in two parts; the last part ends after every profile."""
    ends: list[tuple[int, int]] = []
    for part in range(1, parts):
        share = len(lows) * part // parts
        if share and (end := lows[share - 1] + 1) > (ends[-1][0] if ends else 0):
            ends.append((end, bisect.bisect_left(lows, end)))
    if records > (ends[-1][0] if ends else 0):
        ends.append((records, len(lows)))
    return ends


def clusters_of(scored: Sequence[tuple[str, str, float]], threshold: float) -> list[tuple[str, tuple[str, ...], float]]:
    """The clusters of the pairs at or above ``threshold``: their id, the members, the best probability."""
    best: dict[str, float] = {}
    for low, high, probability in scored:
        for member in (low, high):
            best[member] = max(best.get(member, 0.0), probability)
    return [(cluster_id(members), members, max(best[m] for m in members)) for members in cluster(scored, threshold)]


def cluster_id(members: Sequence[str]) -> str:
    """A cluster's id, named after its first member (ids are sorted): the same as long as that member
    leads it, so a scan that finds a cluster again stores its pairs as they were. PostgreSQL then
    updates each pair in place (no indexed column changed) instead of writing its four index entries
    again: 0.20 -> 0.12 s of its CPU for 12,177 pairs (docs/benchmarks.md)."""
    return f"{CLUSTER_PREFIX}-{min(members).rpartition('-')[2]}"


def _identifier_agrees(explanation: Sequence[Mapping[str, Any]]) -> bool:
    return any(c.get("field") in IDENTIFIER_FIELDS and c.get("level") == "exact" for c in explanation)
