"""``customer360 dedup scan`` and ``customer360 dedup reindex``: progress on the terminal, counts only.

Ctrl-C (or any interruption) leaves the scan resumable: running the command again continues from the
last checkpoint. The summary prints counts and ids, never personal data.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from customer360.application.duplicate_ports import ScanJob
from customer360.application.duplicate_scan import COMPLETED, ScanInProgress, ScanNotFound
from customer360.application.duplicate_scan import Progress as OnProgress
from customer360.infrastructure.persistence.scan_store import SqlScanStore

# Runs the scan, reporting progress to the callback given.
ScanRun = Callable[[OnProgress], Awaitable[ScanJob]]

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


async def run_scan_command(scan: ScanRun, *, quiet: bool) -> int:
    # A scan allocates millions of short-lived, acyclic objects (prepared records, comparison vectors):
    # the cyclic garbage collector would walk them again and again for nothing.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        with ScanProgressBar() if not quiet else _NoProgress() as bar:
            job = await scan(bar.update)
    except ScanInProgress:
        typer.echo("a scan of this tenant is running already", err=True)
        return EXIT_IN_PROGRESS
    except ScanNotFound:
        typer.echo("no such scan job in this tenant", err=True)
        return EXIT_NOT_FOUND
    except (KeyboardInterrupt, asyncio.CancelledError):
        typer.echo("interrupted: run the same command again to resume", err=True)
        return EXIT_INTERRUPTED
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


async def run_reindex_command(store: SqlScanStore, batch: int = 500) -> int:
    done, after = 0, None
    with Progress(TextColumn("re-indexing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
        task = bar.add_task("re-indexing", total=None)
        while ids := await store.reindex(after, batch):
            done, after = done + len(ids), ids[-1]
            bar.update(task, completed=done)
    return done
