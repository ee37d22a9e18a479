"""Scan and import jobs as the read side shows them while a worker claims them: never a false INTERRUPTED,
and looking at a job never keeps its worker from claiming it."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from customer360.application.duplicate_ports import ScanJob
from customer360.application.duplicate_scan import RUNNING, new_job
from customer360.application.import_ports import ImportJob, ImportOptions, new_import_job
from customer360.bootstrap import Services
from customer360.domain.duplicates import SCAN_PREFIX
from customer360.domain.ids import new_id
from customer360.infrastructure.duplicate_scans import ScanLauncher
from customer360.infrastructure.imports import ImportDesk
from customer360.infrastructure.job_launcher import JobLauncher
from customer360.infrastructure.persistence.database import tenant_transaction
from customer360.infrastructure.persistence.import_store import (
    SqlImportJobs,
    import_running,
    try_lock_import,
    unlock_import,
)
from customer360.infrastructure.persistence.scan_jobs import store_job
from customer360.infrastructure.persistence.scan_lock import scan_running, try_lock_scan, unlock_scan


@pytest.fixture
async def never_claimed() -> AsyncIterator[asyncio.Event]:
    """A worker that is still starting: it claims nothing until the event is set."""
    released = asyncio.Event()
    yield released
    released.set()


def _inline_launcher(services: Services, run: Callable[[str, str], Awaitable[object]]) -> JobLauncher:
    """Jobs run inside the test by ``run``, as the console's demo runs them."""
    return JobLauncher(
        services.urls.admin, command=("job",), runner="inline", run_inline=run, log=logging.getLogger("test")
    )


async def _interrupted_import(services: Services, tenant: str) -> ImportJob:
    """A job left RUNNING by a process that died (nobody holds its lock)."""
    job = new_import_job(ImportOptions(format="CSV"), "steward-1", "corr-1", services.clock)
    job = dataclasses.replace(job, status="RUNNING", staged_rows=10, processed_rows=4)
    await SqlImportJobs(services.engine, tenant).create(job)
    return job


class TestProbing:
    async def test_looking_at_an_import_does_not_keep_its_worker_from_claiming_it(
        self, services: Services, tenant: str
    ) -> None:
        """While a reader's transaction that asked whether the job runs is still open, the worker gets the lock."""
        async with tenant_transaction(services.engine, tenant) as reading:
            before = await import_running(reading, tenant, "IMP-1")
            async with services.engine.connect() as worker:
                await worker.execution_options(isolation_level="AUTOCOMMIT")
                claimed = await try_lock_import(worker, tenant, "IMP-1")
                async with tenant_transaction(services.engine, tenant) as again:
                    after = await import_running(again, tenant, "IMP-1")
                await unlock_import(worker, tenant, "IMP-1")
        assert (before, claimed, after) == (False, True, True)

    async def test_looking_at_a_scan_does_not_keep_its_worker_from_claiming_it(
        self, services: Services, tenant: str
    ) -> None:
        """The tenant's scan lock likewise: a reader's probe never holds it."""
        async with tenant_transaction(services.engine, tenant) as reading:
            before = await scan_running(reading, tenant)
            async with services.engine.connect() as worker:
                await worker.execution_options(isolation_level="AUTOCOMMIT")
                claimed = await try_lock_scan(worker, tenant)
                async with tenant_transaction(services.engine, tenant) as again:
                    after = await scan_running(again, tenant)
                await unlock_scan(worker, tenant)
        assert (before, claimed, after) == (False, True, True)


class TestResuming:
    async def test_a_resumed_import_reads_queued_until_its_worker_claims_it(
        self, services: Services, tenant: str, never_claimed: asyncio.Event
    ) -> None:
        """INTERRUPTED before the resume; right after it, while the new worker starts, QUEUED (not INTERRUPTED)."""
        job = await _interrupted_import(services, tenant)
        before = await services.import_queries.job(tenant, job.id)

        async def starting(tenant_id: str, job_id: str) -> ImportJob:
            await never_claimed.wait()
            return job

        desk = ImportDesk(services.engine, _inline_launcher(services, starting), services.clock)
        await desk.start(tenant, job.id)
        after = await services.import_queries.job(tenant, job.id)
        assert (before and before.status, after and after.status) == ("INTERRUPTED", "QUEUED")

    async def test_a_resumed_scan_reads_queued_until_its_worker_claims_it(
        self,
        services: Services,
        tenant: str,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        never_claimed: asyncio.Event,
    ) -> None:
        """The scan started again over an interrupted one: QUEUED while its worker starts, the same job."""
        interrupted = dataclasses.replace(new_job(new_id(SCAN_PREFIX), "steward-1", services.clock), status=RUNNING)
        async with tenant_transaction(services.engine, tenant) as connection:
            await store_job(connection, tenant, interrupted)
        path = f"/api/v1/crm/duplicates/scan/{interrupted.id}"
        before = (await client.get(path, headers=headers)).json()["status"]

        async def starting(tenant_id: str, job_id: str) -> ScanJob:
            await never_claimed.wait()
            return interrupted

        launcher = ScanLauncher(services.engine, _inline_launcher(services, starting), clock=services.clock)
        job, resumed = await launcher.start(tenant, "steward-1")
        after = (await client.get(path, headers=headers)).json()["status"]
        assert (before, job.id, resumed, after) == ("INTERRUPTED", interrupted.id, True, "QUEUED")


class TestStartingOnce:
    async def test_a_scan_asked_for_again_before_its_worker_claims_it_is_started_once(
        self, services: Services, tenant: str, never_claimed: asyncio.Event
    ) -> None:
        """Three requests while the queued job's worker starts: one worker, the same job for all three."""
        started: list[str] = []

        async def starting(tenant_id: str, job_id: str) -> object:
            started.append(job_id)
            await never_claimed.wait()
            return None

        launcher = ScanLauncher(services.engine, _inline_launcher(services, starting), clock=services.clock)
        jobs = [(await launcher.start(tenant, "steward-1"))[0].id for _ in range(3)]
        await asyncio.sleep(0)
        assert (len(set(jobs)), len(started)) == (1, 1)
