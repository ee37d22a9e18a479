"""``customer360 import`` and ``customer360 export``: files on the terminal, with a progress bar.

``import FILE`` stages the file (progress in bytes read), then applies it (progress in rows); killed
anywhere after staging, ``import --job ID`` resumes it from its last committed chunk. The summary
prints counts and ids, never personal data.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import BinaryIO

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from customer360.application.context import Clock
from customer360.application.import_ports import (
    COMPLETED,
    Exports,
    ImportInProgress,
    ImportJob,
    ImportJobs,
    ImportNotFound,
    ImportOptions,
    OnDuplicate,
    new_import_job,
)
from customer360.application.imports import Progress as ImportProgress
from customer360.application.queries import CustomerFilter
from customer360.domain.ids import new_id
from customer360.infrastructure.export_files import csv_export, ndjson_export
from customer360.infrastructure.import_files import UnreadableFile
from customer360.infrastructure.imports import quiet_collector, stage_file

EXIT_UNREADABLE, EXIT_IN_PROGRESS, EXIT_NOT_FOUND, EXIT_INTERRUPTED = 2, 3, 4, 130
CLI_ACTOR = "system:import-cli"


def file_format(path: Path, given: str | None) -> str:
    if given:
        return given.upper()
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    return "NDJSON" if suffixes and suffixes[-1] in (".ndjson", ".jsonl") else "CSV"


async def _chunks(
    handle: BinaryIO, progress: Progress | None, task: object, size: int = 1 << 20
) -> AsyncIterator[bytes]:
    while chunk := await asyncio.to_thread(handle.read, size):
        if progress is not None:
            progress.update(task, advance=len(chunk))  # type: ignore[arg-type]
        yield chunk


def _summary(job: ImportJob) -> str:
    counts = ", ".join(f"{name} {job.counts.get(name, 0)}" for name in ("created", "updated", "unchanged"))
    counts += ", " + ", ".join(f"{name} {job.counts.get(name, 0)}" for name in ("invalid", "skipped", "pairsQueued"))
    return f"import {job.id}: {job.status} ({job.processed_rows} rows: {counts})"


ApplyJob = Callable[[str, ImportProgress | None], Awaitable[ImportJob]]


async def run_import_command(
    jobs: ImportJobs,
    apply: ApplyJob,
    clock: Clock,
    *,
    path: Path | None,
    job_id: str | None,
    fmt: str | None,
    on_duplicate: OnDuplicate,
    dry_run: bool,
    mapping: Mapping[str, str] | None,
    quiet: bool,
) -> int:
    """Stage ``path`` as a new job (or take ``job_id``) and apply it; the exit code."""
    quiet_collector()
    progress = (
        None
        if quiet
        else Progress(TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    )
    try:
        if progress is not None:
            progress.start()
        if path is not None:
            options = ImportOptions(format=file_format(path, fmt), on_duplicate=on_duplicate, dry_run=dry_run)
            job = new_import_job(options, CLI_ACTOR, new_id("corr"), clock)
            await jobs.create(job)
            job_id = job.id
            if progress is not None:
                progress.console.print(f"import {job.id}: reading {path.name}")
            size = (await asyncio.to_thread(path.stat)).st_size
            with path.open("rb") as handle:
                reading = progress.add_task("reading file (bytes)", total=size) if progress else None
                job = await stage_file(jobs, job, _chunks(handle, progress, reading), mapping=mapping, clock=clock)
        assert job_id is not None
        applying = progress.add_task("applying rows", total=None) if progress else None

        def report(current: ImportJob) -> None:
            if progress is not None and applying is not None:
                progress.update(applying, total=current.staged_rows or None, completed=current.processed_rows)

        job = await apply(job_id, report)
    except UnreadableFile as error:
        typer.echo(f"the file cannot be imported: {error.code}: {error.field} {error.reason}", err=True)
        return EXIT_UNREADABLE
    except ImportInProgress:
        typer.echo("this import is being applied by another process", err=True)
        return EXIT_IN_PROGRESS
    except ImportNotFound:
        typer.echo("no such import job in this tenant", err=True)
        return EXIT_NOT_FOUND
    except (KeyboardInterrupt, asyncio.CancelledError):
        typer.echo(f"interrupted: resume with customer360 import --job {job_id} (and the same --tenant)", err=True)
        return EXIT_INTERRUPTED
    finally:
        if progress is not None:
            progress.stop()
    if not quiet:
        typer.echo(_summary(job))
    return 0 if job.status == COMPLETED else 1


async def run_export_command(
    exports: Exports, tenant: str, *, fmt: str, output: Path | None, query: CustomerFilter
) -> int:
    batches = exports.documents(tenant, query, actor=CLI_ACTOR, correlation_id=new_id("corr"))
    lines = csv_export(batches) if fmt.lower() == "csv" else ndjson_export(batches)
    target = output.open("wb") if output is not None else sys.stdout.buffer
    try:
        async for chunk in lines:
            target.write(chunk)
    finally:
        if output is not None:
            target.close()
        else:
            target.flush()
    return 0
