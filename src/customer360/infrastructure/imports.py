"""Running bulk imports: staging a file as it streams in, applying a job under its lock, launching jobs.

``stage_file`` reads the stream (``import_files``) and copies its rows into staging in batches, so
memory stays flat whatever the file's size; a file that cannot be read fails the job before anything
is applied. ``run_import_job`` holds the job's advisory lock on a connection of its own and applies the
staged rows (``application.imports.run_import``); a job whose process died resumes from its last
committed chunk when run again. ``ImportDesk`` stages files for the API and starts their jobs through a
``JobLauncher`` (``customer360 import --job …``).
"""

from __future__ import annotations

import asyncio
import copyreg
import ctypes
import dataclasses
import gc
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from customer360.application.context import Clock, RequestContext
from customer360.application.import_ports import (
    COMPLETED,
    FAILED,
    QUEUED,
    RECEIVING,
    EncodedProfile,
    ImportInProgress,
    ImportJob,
    ImportJobs,
    ImportNotFound,
    RecordDecoder,
    RowEncoder,
    RowIssue,
    RowReader,
    StagedRow,
)
from customer360.application.imports import (
    ImportRun,
    PlannedRow,
    Progress,
    ScoreTask,
    plan_with,
    run_import,
    score_with,
)
from customer360.domain.duplicates import DuplicateCandidate
from customer360.domain.privacy import ContactPointValue
from customer360.domain.values import ExternalReference
from customer360.infrastructure.import_files import ColumnMapping, UnreadableFile, csv_rows, ndjson_rows, text_lines
from customer360.infrastructure.job_launcher import JobLauncher
from customer360.infrastructure.persistence.import_store import (
    SqlImportJobs,
    requeue_import,
    try_lock_import,
    unlock_import,
)

_log = logging.getLogger("customer360.imports")
STAGE_BATCH = 5000


async def stage_file(
    jobs: ImportJobs,
    job: ImportJob,
    chunks: AsyncIterator[bytes],
    *,
    gzipped: bool | None = None,
    mapping: Mapping[str, str] | None = None,
    clock: Clock,
    on_progress: Progress | None = None,
) -> ImportJob:
    """Stage every row of the stream; the job QUEUED, or FAILED (and UnreadableFile raised)."""
    lines = text_lines(chunks, gzipped=gzipped)
    rows = csv_rows(lines, mapping) if job.options.format == "CSV" else ndjson_rows(lines)
    staged: list[StagedRow] = []
    issues: list[RowIssue] = []
    invalid = 0

    async def flush(final: bool = False) -> None:
        nonlocal job, staged, issues
        count = staged[-1].number if staged else 0
        last = max(count, issues[-1].row if issues else 0, job.staged_rows)
        job = dataclasses.replace(job.counted({"invalid": invalid}), staged_rows=last)
        if final:
            job = dataclasses.replace(job, status=QUEUED)
        await jobs.stage(job, staged, issues)
        staged, issues = [], []
        if on_progress is not None:
            outcome = on_progress(job)
            if outcome is not None:
                await outcome

    try:
        async for item in rows:
            if isinstance(item, ColumnMapping):
                options = dataclasses.replace(job.options, mapping=item.applied, ignored_columns=item.ignored)
                job = dataclasses.replace(job, options=options)
            elif isinstance(item, StagedRow):
                staged.append(item)
            else:
                issues += item
                invalid += 1
            if len(staged) + len(issues) >= STAGE_BATCH:
                await flush()
                invalid = 0
        await flush(final=True)
    except UnreadableFile as error:
        failed = dataclasses.replace(
            job, status=FAILED, error=error.code, error_details=error.details, finished_at=clock.now()
        )
        await jobs.save(failed)
        error.details["jobId"] = job.id
        raise
    return job


async def run_import_job(
    engine: AsyncEngine, run: ImportRun, tenant_id: str, job_id: str, on_progress: Progress | None = None
) -> ImportJob:
    """Apply the job (or resume it) under its lock; raises ImportInProgress, ImportNotFound."""
    jobs = SqlImportJobs(engine, tenant_id)
    async with engine.connect() as lock_connection:
        await lock_connection.execution_options(isolation_level="AUTOCOMMIT")
        if not await try_lock_import(lock_connection, tenant_id, job_id):
            raise ImportInProgress(job_id)
        try:
            job = await jobs.job(job_id)
            if job is None:
                raise ImportNotFound(job_id)
            if job.status in (COMPLETED, FAILED):
                return job
            if job.status == RECEIVING:  # the upload itself was cut off: there is no complete file to apply
                failed = dataclasses.replace(job, status=FAILED, error="UPLOAD_INCOMPLETE", finished_at=run.clock.now())
                await jobs.finish(failed)
                return failed
            try:
                return await run_import(run, tenant_id, job, on_progress)
            except Exception as exc:
                _log.warning("import failed", extra={"jobId": job_id, "error": type(exc).__name__})
                raise
        finally:
            await unlock_import(lock_connection, tenant_id, job_id)


def quiet_collector() -> None:
    """An import allocates millions of short-lived, acyclic objects (rows, tuples, records): the cyclic
    garbage collector would walk them, and everything loaded before them, again and again for nothing."""
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def _die_with_parent(parent: int) -> None:
    """A planning worker ends with the import process, even one killed outright (SIGKILL): otherwise it
    would wait for work for ever (Linux: PR_SET_PDEATHSIG; a parent gone before this ran is checked)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(0)


def _start_worker(parent: int) -> None:
    _die_with_parent(parent)
    quiet_collector()


_PR_SET_PDEATHSIG = 1


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _rebuilt(cls: type, values: tuple[Any, ...]) -> Any:
    value: Any = object.__new__(cls)
    for name, item in zip(_field_names(cls), values, strict=True):
        object.__setattr__(value, name, item)
    return value


def _reduced(value: Any) -> tuple[Any, ...]:
    return _rebuilt, (type(value), tuple(getattr(value, name) for name in _field_names(type(value))))


# Frozen, slotted dataclasses pickle through a state that asks dataclasses.fields() for every object: tens
# of thousands of times per chunk on their way to and from the workers (a few % of an import's CPU).
for _travelling in (StagedRow, PlannedRow, EncodedProfile, RowIssue, ExternalReference, ContactPointValue):
    copyreg.pickle(_travelling, _reduced)


class ProcessPlanner:
    """Plans chunks of rows (parse, validate, build profiles and matching records) and scores their new
    profiles against the duplicate candidates — the CPU-bound parts — in worker processes, so that two
    cores work while the import's own process orders the rows and talks to PostgreSQL."""

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self._workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(os.getpid(),),
            )
        return self._pool

    async def __call__(
        self,
        rows: Sequence[StagedRow],
        context: RequestContext,
        region: str | None,
        read: RowReader,
        encode: RowEncoder,
    ) -> list[PlannedRow]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor(), plan_with, list(rows), context, region, read, encode)

    async def score(self, task: ScoreTask, decode: RecordDecoder) -> dict[str, list[DuplicateCandidate]]:
        """``Scorer``: the subjects split between the workers, each part with the records it needs."""
        subjects = [s for s in task.subjects if s[1]]
        size = -(-len(subjects) // self._workers) or 1
        parts = []
        for start in range(0, len(subjects), size):
            part = subjects[start : start + size]
            needed = {c for subject, others in part for c in (subject, *others)}
            records = {c: task.records[c] for c in needed}
            parts.append(dataclasses.replace(task, subjects=part, records=records))
        loop = asyncio.get_running_loop()
        scored = await asyncio.gather(
            *(loop.run_in_executor(self._executor(), score_with, part, decode) for part in parts)
        )
        return {subject: ranked for part in scored for subject, ranked in part.items()}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


class ImportDesk:
    """``ImportIntake``: a file received as a new job (staged here, in the request), then started."""

    def __init__(self, engine: AsyncEngine, launcher: JobLauncher, clock: Clock) -> None:
        self._engine = engine
        self._launcher = launcher
        self._clock = clock

    async def receive(
        self,
        tenant_id: str,
        job: ImportJob,
        chunks: AsyncIterator[bytes],
        *,
        gzipped: bool | None,
        mapping: Mapping[str, str] | None,
    ) -> ImportJob:
        jobs = SqlImportJobs(self._engine, tenant_id)
        await jobs.create(job)
        return await stage_file(jobs, job, chunks, gzipped=gzipped, mapping=mapping, clock=self._clock)

    async def start(self, tenant_id: str, job_id: str) -> None:
        await requeue_import(self._engine, tenant_id, job_id)
        self._launcher.start(tenant_id, job_id)

    async def wait(self) -> None:
        await self._launcher.wait()

    async def aclose(self) -> None:
        await self._launcher.aclose()
