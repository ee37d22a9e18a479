"""Bulk import: applying a job's staged rows, a chunk per transaction, resumable.

**A row** is the create body of ``POST /customers`` (already shape-checked at the edge, as the API's
request model does). It *updates* the profile it names — ``customer_id``, or the owner of one of its
external references (``SYSTEM:id``) — as a JSON merge patch through the same use case as ``PATCH
/customers/{id}`` (its references are added to the profile's); otherwise it *creates* a profile built by
the same function as ``POST /customers`` (``customers.new_profile``). Validation is therefore the
service's own; a refused row becomes a report line (row, field, reason) and never stops the import.

**Set-based.** What the API does one profile at a time is done once per chunk: the owners of every
reference, the suppression list, the duplicate check's key postings and candidate records are one
query each, and new profiles, their matching data, audit rows and events are written by COPY at
commit (``ImportUnit``). Updates go through the customer repository as usual.

**The duplicate check** (rows that create): candidates are chosen as the batch scan chooses them
(sharing a blocking key that is not over-shared; a pair sharing only keys of big blocks must share two),
among the tenant's profiles and the earlier rows of the chunk (earlier chunks are stored already), and
scored by the tenant's model — where the rows are planned (``ImportRun.scorer``: the worker processes),
from the encoded records, so that the importing process only chooses candidates, orders and writes.
``queue`` creates the row and puts every pair at or above the review threshold in the review queue;
``skip`` leaves out a row with a candidate at or above the likely threshold (the report names it);
``create`` creates without checking.

**Exactly once.** The job's resume point (``processed_rows``) commits with the chunk it covers. A chunk
ends before a row that would create a second profile with a reference an earlier row of the chunk
creates: that row is applied in the next chunk, as an update, so chunk boundaries never change the
result. A chunk that fails on a database conflict (a concurrent writer took a reference) is applied
again row by row; a row that still clashes is reported as CONFLICT.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field

from customer360.application.context import Clock, RequestContext, SystemClock
from customer360.application.customers import (
    ChangeCustomerStatus,
    CreateCustomerProfile,
    UpdateCustomerProfile,
    change_customer_status,
    new_profile,
    update_customer_profile,
)
from customer360.application.environment import HandlerEnv
from customer360.application.import_ports import (
    COMPLETED,
    CONFLICT,
    DUPLICATE,
    INVALID,
    RUNNING,
    EncodedProfile,
    ImportJob,
    ImportJobs,
    ImportUnit,
    ImportUnitFactory,
    OnDuplicate,
    QueuedPair,
    RecordDecoder,
    RowEncoder,
    RowInput,
    RowIssue,
    RowReader,
    StagedRow,
)
from customer360.application.inputs import UNSET, ExternalRefInput
from customer360.application.privacy import flag_if_suppressed
from customer360.application.profile_input import parse_external_ref
from customer360.domain.customer import CustomerProfile
from customer360.domain.duplicates import DuplicateCandidate, match_record_of, rank_candidates
from customer360.domain.errors import Conflict, DomainError, InvalidValue
from customer360.domain.matching import MatchModel, PreparedRecord, prepare
from customer360.domain.privacy import ContactPointValue, personal_contact_points
from customer360.domain.values import ExternalReference

IMPORT_ACTOR_SOURCE = "IMPORT"
Progress = Callable[[ImportJob], Awaitable[None] | None]


class DatabaseConflict(Exception):
    """A chunk's writes clashed with a concurrent transaction (a unique key); raised by adapters."""


@dataclass(frozen=True, slots=True)
class ImportSettings:
    chunk_size: int = 2000
    max_block_size: int = 100
    # A pair whose only shared keys are held by more profiles than this must share two keys (as in scans).
    big_block_size: int = 20
    max_candidates: int = 200
    results: int = 10


@dataclass(slots=True)
class _Chunk:
    """What applying some rows produced."""

    consumed: int = 0
    last_row: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    issues: list[RowIssue] = field(default_factory=list)
    pairs: list[QueuedPair] = field(default_factory=list)

    def refuse(self, issue: RowIssue) -> None:
        self.issues.append(issue)
        self.counts["invalid"] += 1


def _refs_of(row: RowInput) -> list[ExternalReference]:
    given = row.attributes.external_refs
    if given is UNSET or given is None:
        return []
    return [parse_external_ref(r, f"externalRefs[{i}]") for i, r in enumerate(given)]


def _target(
    named: str | None, refs: Sequence[ExternalReference], owners: Mapping[ExternalReference, str]
) -> str | None:
    """The profile a row updates: its customer id, else the one owner of its references."""
    found = {owners[r] for r in refs if r in owners}
    if len(found) > 1:
        raise InvalidValue("externalRefs", "name two different customers")
    if named is not None:
        if found and found != {named}:
            raise InvalidValue("externalRefs", "belong to another customer than customerId")
        return named
    return found.pop() if found else None


def _create_command(row: RowInput) -> CreateCustomerProfile:
    return CreateCustomerProfile(attributes=row.attributes, status=row.status or "ACTIVE", contacts=row.contacts)


@dataclass(frozen=True, slots=True)
class PlannedRow:
    """A row with everything that needs no database: its references and, unless it names a customer,
    the profile it would create (with its matching record and keys) or why it cannot. Built ahead,
    possibly in another process (so refusals are report lines, not exceptions: those pickle badly)."""

    row: StagedRow
    # None for a row planned as a create (read again from the row in the rare case it updates after all).
    input: RowInput | None = None
    refs: tuple[ExternalReference, ...] = ()
    refs_issue: RowIssue | None = None
    customer_id: str | None = None  # of the profile it would create
    points: frozenset[ContactPointValue] = frozenset()
    # The new profile encoded: its rows, matching record and blocking keys.
    encoded: EncodedProfile | None = None
    # Also as the aggregate when planned ``as_aggregate`` (then written the ordinary way, not from the rows).
    profile: CustomerProfile | None = None
    create_issue: RowIssue | None = None


def issue_of(row: StagedRow, error: DomainError, outcome: str = INVALID) -> RowIssue:
    if isinstance(error, InvalidValue):
        return RowIssue(row.number, error.field, outcome, error.reason)
    return RowIssue(row.number, "row", outcome, f"{error.code}: {error.message}")


def plan_rows(
    rows: Sequence[StagedRow], env: HandlerEnv, read: RowReader, encode: RowEncoder, *, as_aggregate: bool = False
) -> list[PlannedRow]:
    """The CPU-bound part of applying rows: reading, validating, building new profiles, their matching
    records and rows. Pure: the same rows give the same plan wherever it runs."""
    planned = []
    for row in rows:
        given = read(row.body)
        try:
            refs = tuple(_refs_of(given))
        except DomainError as error:
            planned.append(PlannedRow(row, refs_issue=issue_of(row, error)))
            continue
        if given.customer_id is not None:
            planned.append(PlannedRow(row, given, refs))
            continue
        try:
            profile = new_profile(_create_command(given), env)
        except DomainError as error:
            planned.append(PlannedRow(row, refs=refs, create_issue=issue_of(row, error)))
            continue
        record = prepare(match_record_of(profile.id, profile.attributes, profile.contacts))
        points = frozenset(personal_contact_points(profile))
        encoded = encode(env.context, profile, record)
        planned.append(
            PlannedRow(row, None, refs, None, profile.id, points, encoded, profile if as_aggregate else None)
        )
    return planned


@dataclass(frozen=True, slots=True)
class ScoreTask:
    """New profiles to score against their candidates (what a scoring worker process receives)."""

    model: MatchModel
    threshold: float
    limit: int
    # (subject, its candidates in the order they were chosen)
    subjects: Sequence[tuple[str, Sequence[str]]]
    # Every subject's and candidate's matching record, encoded.
    records: Mapping[str, str]


def score_with(task: ScoreTask, decode: RecordDecoder) -> dict[str, list[DuplicateCandidate]]:
    """Each subject's candidates at or above the threshold, best first (``rank_candidates``)."""
    decoded: dict[str, PreparedRecord] = {}

    def record(customer_id: str) -> PreparedRecord:
        found = decoded.get(customer_id)
        if found is None:
            found = decoded[customer_id] = decode(customer_id, task.records[customer_id])
        return found

    return {
        subject: rank_candidates(
            task.model, record(subject), [record(c) for c in others], threshold=task.threshold, limit=task.limit
        )
        for subject, others in task.subjects
        if others
    }


async def score_in_process(task: ScoreTask, decode: RecordDecoder) -> dict[str, list[DuplicateCandidate]]:
    return score_with(task, decode)


Scorer = Callable[[ScoreTask, RecordDecoder], Awaitable[dict[str, list[DuplicateCandidate]]]]


Planner = Callable[
    [Sequence[StagedRow], RequestContext, "str | None", RowReader, RowEncoder], Awaitable[list[PlannedRow]]
]


async def _update(unit: ImportUnit, env: HandlerEnv, customer_id: str, row: RowInput) -> bool:
    """Apply the row to an existing profile as a merge patch; whether anything changed."""
    profile = await unit.customers.get_for_update(customer_id)
    if row.contacts:
        raise InvalidValue("contacts", "cannot be changed by an import that updates; use the contacts API")
    kind = row.attributes.kind
    if kind is not UNSET and kind is not None and kind is not profile.attributes.kind:
        raise InvalidValue("kind", "cannot change; create a new profile instead")
    patch = dataclasses.replace(row.attributes, kind=UNSET)
    if patch.external_refs is not UNSET and patch.external_refs is not None:
        # The row's references are added, never replace the profile's own.
        current = tuple(
            ExternalRefInput(source_system=r.source_system, external_id=r.external_id)
            for r in profile.attributes.external_refs
        )
        patch = dataclasses.replace(patch, external_refs=current + tuple(patch.external_refs))
    before = profile.version
    await update_customer_profile(UpdateCustomerProfile(customer_id, patch), unit, env)
    if row.status is not None and row.status != profile.status.value:
        await change_customer_status(ChangeCustomerStatus(customer_id, row.status), unit, env)
    return profile.version != before


class _Candidates:
    """Blocking-key postings of the stored profiles and of the chunk's new profiles so far."""

    def __init__(self, stored: Mapping[Hashable, list[str] | None], settings: ImportSettings) -> None:
        self._stored = stored
        self._settings = settings
        self._new: dict[Hashable, list[str]] = {}

    def of(self, subject_id: str, keys: Sequence[Hashable]) -> list[str]:
        """Profiles worth scoring against the subject, most shared keys first (at most max_candidates)."""
        shared: Counter[str] = Counter()
        small: set[str] = set()
        for key in keys:
            stored = self._stored.get(key, ())
            if stored is None:
                continue  # over-shared among the stored profiles already
            holders = [*stored, *self._new.get(key, ())]
            if len(holders) > self._settings.max_block_size:
                continue
            for holder in holders:
                if holder != subject_id:
                    shared[holder] += 1
                    if len(holders) <= self._settings.big_block_size:
                        small.add(holder)
        kept = [(n, c) for c, n in shared.items() if n >= 2 or c in small]
        kept.sort(key=lambda item: (-item[0], item[1]))
        return [c for _, c in kept[: self._settings.max_candidates]]

    def add(self, customer_id: str, keys: Sequence[Hashable]) -> None:
        for key in keys:
            self._new.setdefault(key, []).append(customer_id)


@dataclass(slots=True)
class _Checking:
    """How a run's duplicate check scores, and what it learnt: keys over-shared among the stored profiles
    stay so while the import only adds profiles, so they are not read again (a few hundred keys of a large
    tenant, each up to max_block_size + 1 postings, were most of the postings read per chunk)."""

    scorer: Scorer
    over_shared: set[Hashable] = field(default_factory=set)


async def _check_and_add(
    unit: ImportUnit,
    env: HandlerEnv,
    job: ImportJob,
    run: ImportRun,
    creates: list[PlannedRow],
    chunk: _Chunk,
    checking: _Checking,
) -> None:
    """The duplicate check of the chunk's new profiles, then add them (skipped ones excepted)."""
    policy, settings = job.options.on_duplicate, run.settings
    matching = await unit.duplicates.matching()
    flagged = await unit.suppressed({p.customer_id: p.points for p in creates if p.customer_id is not None})
    if flagged:
        # Rare: planned again here as the aggregate, which goes the ordinary way (below).
        creates = [_as_aggregate(p, env, run) if p.customer_id in flagged else p for p in creates]
    ranked: dict[str, list[DuplicateCandidate]] = {}
    if policy is not OnDuplicate.CREATE:
        wanted = {k for p in creates for k in _encoded(p).keys}
        stored = await unit.postings(wanted - checking.over_shared, settings.max_block_size)
        checking.over_shared.update(k for k, holders in stored.items() if holders is None)
        stored.update(dict.fromkeys(wanted & checking.over_shared))
        index = _Candidates(stored, settings)
        subjects: list[tuple[str, list[str]]] = []
        for planned in creates:
            assert planned.customer_id is not None
            keys = _encoded(planned).keys
            subjects.append((planned.customer_id, index.of(planned.customer_id, keys)))
            index.add(planned.customer_id, keys)
        records = {p.customer_id: _encoded(p).record for p in creates if p.customer_id is not None}
        records.update(await unit.records({c for _, cs in subjects for c in cs if c not in records}))
        # A posting whose profile has no stored record (gone since) is no candidate.
        subjects = [(subject, [c for c in others if c in records]) for subject, others in subjects]
        # With skip, a candidate that is an earlier row of the chunk drops out if that row is skipped:
        # every candidate above the threshold comes back, to keep the best ``results`` of those left.
        limit = settings.max_candidates if policy is OnDuplicate.SKIP else settings.results
        task = ScoreTask(matching.model, matching.policy.review_threshold, limit, subjects, records)
        ranked = await checking.scorer(task, run.decode_record)
    skipped: set[str] = set()
    for planned in creates:
        customer_id = planned.customer_id
        assert customer_id is not None
        found = [c for c in ranked.get(customer_id, ()) if c.customer_id not in skipped][: settings.results]
        likely = [c for c in found if c.probability >= matching.policy.likely_threshold]
        if policy is OnDuplicate.SKIP and likely:
            best = likely[0]
            reason = f"likely duplicate (probability {best.probability:.4f}) of an existing profile"
            chunk.issues.append(RowIssue(planned.row.number, "row", DUPLICATE, reason, best.customer_id))
            chunk.counts["skipped"] += 1
            skipped.add(customer_id)
            continue
        chunk.counts["created"] += 1
        chunk.pairs += [QueuedPair(customer_id, c) for c in found]
        if job.options.dry_run:
            continue
        if planned.profile is not None:
            # The ordinary path, so the suppression flag and its audit row are exactly the API's.
            await unit.customers.add(planned.profile)
            await flag_if_suppressed(planned.profile, unit, env)
        else:
            unit.add_created(_encoded(planned).rows)
    chunk.counts["pairsQueued"] += len(chunk.pairs)
    if chunk.pairs and not job.options.dry_run:
        unit.queue_pairs(job.id, chunk.pairs)


def _encoded(planned: PlannedRow) -> EncodedProfile:
    assert planned.encoded is not None
    return planned.encoded


def _as_aggregate(planned: PlannedRow, env: HandlerEnv, run: ImportRun) -> PlannedRow:
    """The row planned again with its profile as the aggregate (a new id: the encoded one is dropped)."""
    return plan_rows([planned.row], env, run.read_row, run.encode, as_aggregate=True)[0]


async def _apply_rows(
    unit: ImportUnit,
    env: HandlerEnv,
    job: ImportJob,
    run: ImportRun,
    planned: Sequence[PlannedRow],
    checking: _Checking,
) -> _Chunk:
    chunk = _Chunk()
    owners = await unit.owners({r for p in planned for r in p.refs})
    claimed: set[ExternalReference] = set()
    creates: list[PlannedRow] = []
    for p in planned:
        if claimed & {r for r in p.refs if r not in owners}:
            break  # an earlier row of this chunk creates that reference: this row goes to the next chunk
        chunk.consumed += 1
        chunk.last_row = p.row.number
        if p.refs_issue is not None:
            chunk.refuse(p.refs_issue)
            continue
        try:
            given = p.input
            target = _target(given.customer_id if given is not None else None, p.refs, owners)
            if target is not None:
                changed = await _update(unit, env, target, given if given is not None else run.read_row(p.row.body))
                chunk.counts["updated" if changed else "unchanged"] += 1
            elif p.create_issue is not None:
                chunk.refuse(p.create_issue)
            else:
                creates.append(p)
                claimed.update(p.refs)
        except DomainError as error:
            chunk.refuse(issue_of(p.row, error))
    if creates:
        await _check_and_add(unit, env, job, run, creates, chunk, checking)
    return chunk


def plan_with(
    rows: Sequence[StagedRow], context: RequestContext, region: str | None, read: RowReader, encode: RowEncoder
) -> list[PlannedRow]:
    """``plan_rows`` from picklable arguments (what a worker process receives)."""
    env = HandlerEnv(context=context, clock=SystemClock(), phone_region=region, hasher=_no_hasher)
    return plan_rows(rows, env, read, encode)


async def plan_in_process(
    rows: Sequence[StagedRow], context: RequestContext, region: str | None, read: RowReader, encode: RowEncoder
) -> list[PlannedRow]:
    return plan_with(rows, context, region, read, encode)


def _no_hasher(value: str) -> str:
    raise AssertionError("planning rows hashes no evidence")


@dataclass(frozen=True, slots=True)
class ImportRun:
    """What running a job needs (built by the composition root)."""

    jobs: ImportJobs
    units: ImportUnitFactory
    clock: Clock
    phone_region: str | None
    hasher: Callable[[str], str]
    # The staged body's typed input (given by the composition root: the HTTP edge's request model).
    read_row: RowReader
    # A new profile as rows (given by the composition root: persistence's encoding; picklable).
    encode: RowEncoder
    # Its matching record back from that encoding (picklable: scoring workers decode).
    decode_record: RecordDecoder
    settings: ImportSettings = ImportSettings()
    # Plans chunks ahead of the one being applied (in worker processes in production).
    planner: Planner = plan_in_process
    plan_ahead: int = 1
    # Scores each chunk's new profiles against their candidates (in the same worker processes in production).
    scorer: Scorer = score_in_process

    def env(self, job: ImportJob, tenant_id: str) -> HandlerEnv:
        context = RequestContext(
            tenant_id=tenant_id, actor=job.requested_by, correlation_id=job.correlation_id, source=IMPORT_ACTOR_SOURCE
        )
        return HandlerEnv(context=context, clock=self.clock, phone_region=self.phone_region, hasher=self.hasher)


async def _apply_chunk(
    run: ImportRun, job: ImportJob, env: HandlerEnv, planned: Sequence[PlannedRow], checking: _Checking
) -> tuple[ImportJob, int]:
    """Apply (a leading part of) the planned rows in one transaction; the job and how many were applied."""
    async with run.units(env.context) as unit:
        chunk = await _apply_rows(unit, env, job, run, planned, checking)
        advanced = dataclasses.replace(job.counted(chunk.counts), processed_rows=chunk.last_row)
        if job.options.dry_run:
            await run.jobs.save_progress(advanced, chunk.issues)
            return advanced, chunk.consumed
        unit.report(job.id, chunk.issues)
        unit.save_job(advanced)
        await unit.commit()
        return advanced, chunk.consumed


async def _apply_alone(
    run: ImportRun, job: ImportJob, env: HandlerEnv, planned: PlannedRow, checking: _Checking
) -> ImportJob:
    """One row in its own transaction, after its chunk clashed with a concurrent change."""
    try:
        alone = _Checking(score_in_process, checking.over_shared)  # one row: not worth a worker's round trip
        return (await _apply_chunk(run, job, env, [planned], alone))[0]
    except (DatabaseConflict, Conflict):
        number = planned.row.number
        issue = RowIssue(number, "row", CONFLICT, "clashed with a concurrent change; import the row again")
        advanced = dataclasses.replace(job.counted({"invalid": 1}), processed_rows=number)
        await run.jobs.save_progress(advanced, [issue])
        return advanced


async def _report(on_progress: Progress | None, job: ImportJob) -> None:
    if on_progress is not None:
        outcome = on_progress(job)
        if inspect.isawaitable(outcome):
            await outcome


class _Pipeline:
    """Staged rows read and planned ahead of the chunk being applied, in file order."""

    def __init__(self, run: ImportRun, job: ImportJob, context: RequestContext) -> None:
        self._run, self._job, self._context = run, job, context
        # Worker processes pay off for long files only: a small one is planned here, without starting any.
        small = job.staged_rows - job.processed_rows <= 2 * run.settings.chunk_size
        self._planner = plan_in_process if small else run.planner
        self.checking = _Checking(score_in_process if small else run.scorer)
        self._fetched = job.processed_rows
        self._exhausted = False
        self._pending: deque[asyncio.Task[list[PlannedRow]]] = deque()

    async def _fill(self) -> None:
        while not self._exhausted and len(self._pending) < max(1, self._run.plan_ahead):
            rows = await self._run.jobs.staged(self._job.id, self._fetched, self._run.settings.chunk_size)
            if not rows:
                self._exhausted = True
                return
            self._fetched = rows[-1].number
            plan = self._planner(rows, self._context, self._run.phone_region, self._run.read_row, self._run.encode)
            self._pending.append(asyncio.ensure_future(plan))

    async def next(self) -> list[PlannedRow]:
        await self._fill()
        if not self._pending:
            return []
        planned = await self._pending.popleft()
        await self._fill()
        return planned

    async def close(self) -> None:
        for task in self._pending:
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)


async def run_import(run: ImportRun, tenant_id: str, job: ImportJob, on_progress: Progress | None = None) -> ImportJob:
    """Apply the job's staged rows from its resume point to the end; the finished job."""
    env = run.env(job, tenant_id)
    job = dataclasses.replace(job, status=RUNNING, started_at=job.started_at or run.clock.now())
    await run.jobs.save(job)
    await _report(on_progress, job)
    pipeline = _Pipeline(run, job, env.context)
    buffer: list[PlannedRow] = []
    try:
        while True:
            if len(buffer) < run.settings.chunk_size:
                buffer += await pipeline.next()
            if not buffer:
                break
            batch, buffer = buffer[: run.settings.chunk_size], buffer[run.settings.chunk_size :]
            try:
                job, consumed = await _apply_chunk(run, job, env, batch, pipeline.checking)
                buffer = batch[consumed:] + buffer
            except (DatabaseConflict, Conflict):
                for planned in batch:
                    job = await _apply_alone(run, job, env, planned, pipeline.checking)
            await _report(on_progress, job)
    finally:
        await pipeline.close()
    job = dataclasses.replace(job, status=COMPLETED, finished_at=run.clock.now())
    await run.jobs.finish(job)
    await _report(on_progress, job)
    return job
