"""Running batch duplicate scans: ``customer360 dedup scan`` and the API-triggered job.

``run_scan_job`` holds the tenant's scan lock (scan_lock.py) on a connection of its own for the whole
run, picks the job (the one named, else the interrupted or queued one, else a new one) and runs it with
``application.duplicate_scan.run_scan``. ``ScanLauncher.start`` (``POST /duplicates/scan``) records a
queued job and starts the run: by default as a ``customer360 dedup scan --job …`` process (the scan is
CPU-bound; the server's event loop and memory stay out of it), or inside the server (``inline``).
"""

from __future__ import annotations

import dataclasses
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from customer360.application.context import Clock, RequestContext
from customer360.application.duplicate_ports import Offload, ScanJob
from customer360.application.duplicate_scan import (
    FAILED,
    QUEUED,
    Merger,
    Progress,
    ScanInProgress,
    ScanNotFound,
    ScanOptions,
    new_job,
    run_scan,
)
from customer360.application.environment import HandlerEnv
from customer360.application.executor import CommandExecutor
from customer360.application.merges import MergeCustomers, MergeOutcome, merge_customers
from customer360.application.ports import UnitOfWork
from customer360.domain.duplicates import SCAN_PREFIX, DuplicatePolicy
from customer360.domain.errors import DomainError
from customer360.domain.ids import new_id
from customer360.infrastructure.job_launcher import JobLauncher
from customer360.infrastructure.persistence.database import tenant_transaction
from customer360.infrastructure.persistence.scan_jobs import latest_unfinished, store_job
from customer360.infrastructure.persistence.scan_lock import scan_running, try_lock_scan, unlock_scan
from customer360.infrastructure.persistence.scan_store import SqlScanStore

_log = logging.getLogger("customer360.duplicate_scan")
SCAN_ACTOR = "system:duplicate-scan"
AUTO_MERGE_REASON = "AUTO_DUPLICATE"
_START_LOCK = text("SELECT pg_advisory_xact_lock(360004006, hashtext(:tenant))")


async def _merge_as_they_are(cmd: MergeCustomers, uow: UnitOfWork, env: HandlerEnv) -> MergeOutcome:
    """The merge, at the versions the profiles have now (locked in id order, as the merge does)."""
    low, high = sorted((cmd.target_id, cmd.source_id))
    versions = {low: (await uow.customers.get_for_update(low)).version}
    versions[high] = (await uow.customers.get_for_update(high)).version
    current = dataclasses.replace(cmd, target_version=versions[cmd.target_id], source_version=versions[cmd.source_id])
    return await merge_customers(current, uow, env)


def auto_merger(executor: CommandExecutor, tenant_id: str) -> Merger:
    """Merge the newer profile of a pair into the older one, as its own command; False when refused."""
    context = RequestContext(tenant_id=tenant_id, actor=SCAN_ACTOR, correlation_id=new_id("corr"), source="API")

    async def merge(low_id: str, high_id: str) -> bool:
        try:
            await executor.execute(context, _merge_as_they_are, MergeCustomers(low_id, high_id, AUTO_MERGE_REASON))
        except DomainError as error:  # merged meanwhile, erased, hierarchy cycle...: left for a steward
            _log.info("automatic merge skipped", extra={"code": error.code})
            return False
        return True

    return merge


async def _pick_job(store: SqlScanStore, job_id: str | None, restart: bool, actor: str, clock: Clock) -> ScanJob:
    if job_id is not None:
        job = await store.job(job_id)
        if job is None:
            raise ScanNotFound(job_id)
        return job
    unfinished = await store.unfinished()
    if unfinished is not None and not restart:
        return unfinished
    if unfinished is not None:
        await store.save_job(dataclasses.replace(unfinished, status=FAILED, error="ABANDONED", finished_at=clock.now()))
    job = new_job(new_id(SCAN_PREFIX), actor, clock)
    await store.save_job(job)
    return job


async def run_scan_job(
    engine: AsyncEngine,
    tenant_id: str,
    *,
    default_policy: DuplicatePolicy,
    options: ScanOptions,
    clock: Clock,
    job_id: str | None = None,
    restart: bool = False,
    actor: str = SCAN_ACTOR,
    on_progress: Progress | None = None,
    merge: Merger | None = None,
    offload: Offload | None = None,
) -> ScanJob:
    """Run the named job, else resume the tenant's unfinished one, else start one; raises ScanInProgress."""
    async with engine.connect() as lock_connection:
        await lock_connection.execution_options(isolation_level="AUTOCOMMIT")
        if not await try_lock_scan(lock_connection, tenant_id):
            raise ScanInProgress(job_id)
        store = SqlScanStore(engine, tenant_id, default_policy)
        try:
            job = await _pick_job(store, job_id, restart, actor, clock)
            if job.status in ("COMPLETED", FAILED) and job_id is not None and not restart:
                return job
            try:
                return await run_scan(
                    store, job, options, clock, actor=actor, on_progress=on_progress, merge=merge, offload=offload
                )
            except Exception as exc:
                latest = await store.job(job.id) or job
                await store.save_job(
                    dataclasses.replace(latest, status=FAILED, error=type(exc).__name__, finished_at=clock.now())
                )
                raise
        finally:
            await unlock_scan(lock_connection, tenant_id)


class ScanLauncher:
    """Starts API-triggered scans (one per tenant at a time)."""

    def __init__(self, engine: AsyncEngine, jobs: JobLauncher, *, clock: Clock) -> None:
        self._engine = engine
        self._jobs = jobs
        self._clock = clock

    async def start(self, tenant_id: str, actor: str) -> tuple[ScanJob, bool]:
        """Queue a new job (or take up the tenant's queued or interrupted one) and start it; the bool
        says whether an existing job is resumed. Raises ScanInProgress while one runs."""
        async with tenant_transaction(self._engine, tenant_id) as connection:
            await connection.execute(_START_LOCK, {"tenant": tenant_id})
            unfinished = await latest_unfinished(connection, tenant_id)
            if await scan_running(connection, tenant_id):
                raise ScanInProgress(unfinished.id if unfinished else None)
            # An interrupted job goes back to QUEUED: until the new worker claims it, it is waiting to
            # run, not stopped (it read INTERRUPTED while the process started).
            job = unfinished or new_job(new_id(SCAN_PREFIX), actor, self._clock)
            if job.status != QUEUED:
                job = dataclasses.replace(job, status=QUEUED)
            if unfinished is None or unfinished.status != QUEUED:
                await store_job(connection, tenant_id, job)
        self._jobs.start(tenant_id, job.id)
        return job, unfinished is not None

    async def aclose(self) -> None:
        """Wait for inline scans to stop (they resume later); scan processes run on by themselves."""
        await self._jobs.aclose()
