"""``customer360 dedup scan`` and ``customer360 dedup reindex``: progress on the terminal, counts only.

Ctrl-C (or any interruption) leaves the scan resumable: running the command again continues from the
last checkpoint. The summary prints counts and ids, never personal data.
"""

from __future__ import annotations

import asyncio
import gc

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from customer360.application.duplicate_ports import ScanJob
from customer360.application.duplicate_scan import COMPLETED
from customer360.bootstrap import build_services, duplicate_defaults, scan_options
from customer360.infrastructure.duplicate_scans import ScanInProgress, ScanNotFound, auto_merger, run_scan_job
from customer360.infrastructure.persistence.scan_store import SqlScanStore
from customer360.settings import Settings

PHASE_LABELS = {
    "INDEX": "indexing profiles without matching data",
    "STOP_KEYS": "finding over-shared keys",
    "TRAIN": "training the tenant's model (EM)",
    "PAIRS": "scoring candidate pairs",
    "CLUSTERS": "grouping pairs into clusters",
    "AUTO_MERGE": "merging certain duplicates",
    "DONE": "done",
}
EXIT_INTERRUPTED, EXIT_IN_PROGRESS, EXIT_NOT_FOUND = 130, 3, 4


class ScanProgressBar:
    """One bar per phase; the current one moves as the scan reports."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("{task.description:<38}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
        )
        self._tasks: dict[str, TaskID] = {}
        self._totals: dict[str, int] = {}

    def __enter__(self) -> ScanProgressBar:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def update(self, job: ScanJob) -> None:
        for phase, task in self._tasks.items():
            if phase != job.phase:
                finished = self._totals.get(phase) or 1
                self._progress.update(task, total=finished, completed=finished)
        if job.phase == "DONE":
            return
        if job.phase not in self._tasks:
            self._tasks[job.phase] = self._progress.add_task(PHASE_LABELS[job.phase], total=None)
        self._totals[job.phase] = job.total
        self._progress.update(self._tasks[job.phase], completed=job.processed, total=job.total or None)


async def run_scan_command(settings: Settings, tenant: str, *, job_id: str | None, restart: bool, quiet: bool) -> int:
    # A scan allocates millions of short-lived, acyclic objects (prepared records, comparison vectors):
    # the cyclic garbage collector would walk them again and again for nothing.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    services = await build_services(settings)
    try:
        with ScanProgressBar() if not quiet else _NoProgress() as bar:
            job = await run_scan_job(
                services.engine,
                tenant,
                default_policy=duplicate_defaults(settings),
                options=scan_options(settings),
                clock=services.clock,
                job_id=job_id,
                restart=restart,
                on_progress=bar.update,
                merge=auto_merger(services.executor, tenant),
            )
    except ScanInProgress:
        typer.echo("a scan of this tenant is running already", err=True)
        return EXIT_IN_PROGRESS
    except ScanNotFound:
        typer.echo("no such scan job in this tenant", err=True)
        return EXIT_NOT_FOUND
    except (KeyboardInterrupt, asyncio.CancelledError):
        typer.echo("interrupted: run the same command again to resume", err=True)
        return EXIT_INTERRUPTED
    finally:
        await services.aclose()
    if not quiet:
        counts = ", ".join(f"{name} {value}" for name, value in sorted(job.result.items()))
        typer.echo(f"scan {job.id}: {job.status} ({counts})")
    return 0 if job.status == COMPLETED else 1


class _NoProgress:
    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, job: ScanJob) -> None:
        return None


async def run_reindex_command(settings: Settings, tenant: str, batch: int = 500) -> int:
    services = await build_services(settings)
    try:
        store = SqlScanStore(services.engine, tenant, duplicate_defaults(settings))
        done, after = 0, None
        with Progress(TextColumn("re-indexing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
            task = bar.add_task("re-indexing", total=None)
            while ids := await store.reindex(after, batch):
                done, after = done + len(ids), ids[-1]
                bar.update(task, completed=done)
        return done
    finally:
        await services.aclose()
