"""The bulk import's vocabulary and driven ports: jobs, staged rows, the report, and the unit of work
that applies a chunk of rows set-based.

An import job goes RECEIVING (rows are being staged) → QUEUED → RUNNING → COMPLETED, or FAILED (an
unreadable file, a wrong encoding, a missing required column: nothing was applied). A RUNNING job
whose process died is shown as INTERRUPTED by the read side and resumes where it stopped; resuming puts
it back to QUEUED first, so that it never reads as stopped while its new process is starting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from customer360.application.context import Clock, RequestContext
from customer360.application.inputs import ContactInput, ProfileInput
from customer360.application.ports import UnitOfWork
from customer360.application.queries import CustomerFilter
from customer360.domain.customer import CustomerProfile
from customer360.domain.duplicates import DuplicateCandidate
from customer360.domain.errors import Conflict, NotFound
from customer360.domain.ids import IMPORT_PREFIX, new_id
from customer360.domain.matching import PreparedRecord
from customer360.domain.privacy import ContactPointValue
from customer360.domain.values import ExternalReference

RECEIVING, QUEUED, RUNNING, COMPLETED, FAILED = "RECEIVING", "QUEUED", "RUNNING", "COMPLETED", "FAILED"
FORMATS = ("CSV", "NDJSON")
COUNTS = ("created", "updated", "unchanged", "invalid", "skipped", "pairsQueued")

# Outcomes of a reported row.
INVALID = "INVALID"  # refused by validation: the field and the rule
DUPLICATE = "DUPLICATE"  # a likely duplicate skipped (policy skip): the existing profile's id
CONFLICT = "CONFLICT"  # applied alone it still clashed with concurrent changes


class OnDuplicate(StrEnum):
    """What a row that would create a likely duplicate does."""

    QUEUE = "queue"  # created; its pairs go to the review queue (the default)
    SKIP = "skip"  # not imported; the report names the existing profile
    CREATE = "create"  # created without a check


@dataclass(frozen=True, slots=True)
class ImportOptions:
    format: str
    on_duplicate: OnDuplicate = OnDuplicate.QUEUE
    dry_run: bool = False
    # File column -> field, as applied (given by the caller or inferred from the header).
    mapping: Mapping[str, str] = field(default_factory=dict)
    ignored_columns: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "onDuplicate": self.on_duplicate.value,
            "dryRun": self.dry_run,
            "mapping": dict(self.mapping),
            "ignoredColumns": list(self.ignored_columns),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImportOptions:
        return cls(
            format=data["format"],
            on_duplicate=OnDuplicate(data.get("onDuplicate", OnDuplicate.QUEUE.value)),
            dry_run=bool(data.get("dryRun", False)),
            mapping=dict(data.get("mapping") or {}),
            ignored_columns=tuple(data.get("ignoredColumns") or ()),
        )


@dataclass(frozen=True, slots=True)
class ImportJob:
    id: str
    status: str
    options: ImportOptions
    requested_by: str
    correlation_id: str
    requested_at: datetime
    staged_rows: int = 0
    # Every row up to this number is applied (or reported): the resume point.
    processed_rows: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)
    error: str | None = None
    error_details: Mapping[str, Any] | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def counted(self, counts: Mapping[str, int]) -> ImportJob:
        merged = {name: int(self.counts.get(name, 0)) + int(counts.get(name, 0)) for name in COUNTS}
        return replace(self, counts=merged)


@dataclass(frozen=True, slots=True)
class StagedRow:
    """A well-formed row: its number in the file and its create body (snake_case, shape-checked)."""

    number: int
    body: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RowInput:
    """A row as the use cases take it: the profile's input (a create, or a merge patch when the row names
    an existing profile), its status and contacts, and the customer it names, if any."""

    attributes: ProfileInput
    customer_id: str | None = None
    status: str | None = None
    contacts: tuple[ContactInput, ...] = ()


RowReader = Callable[[Mapping[str, Any]], RowInput]
"""Turns a staged row's body (the API's JSON, checked when staged) into its typed input (the HTTP edge's
request model does it: the same conversion as POST /customers)."""


@dataclass(frozen=True, slots=True)
class RowIssue:
    """A line of the report. ``reason`` states the rule; the rejected value is never kept."""

    row: int
    field: str
    outcome: str
    reason: str
    customer_id: str | None = None


@dataclass(frozen=True, slots=True)
class QueuedPair:
    """A pair for the review queue: a profile the import created and a candidate at or above review."""

    customer_id: str
    candidate: DuplicateCandidate


class ImportJobs(Protocol):
    """Job rows, staging and the report, each call in a short transaction of its own."""

    async def create(self, job: ImportJob) -> None: ...

    async def job(self, job_id: str) -> ImportJob | None: ...

    async def save(self, job: ImportJob) -> None: ...

    async def stage(self, job: ImportJob, rows: Sequence[StagedRow], issues: Sequence[RowIssue]) -> None:
        """Copy well-formed rows into staging and malformed ones into the report; save the job's counts."""
        ...

    async def staged(self, job_id: str, after: int, limit: int) -> list[StagedRow]:
        """Staged rows numbered above ``after``, in order."""
        ...

    async def save_progress(self, job: ImportJob, issues: Sequence[RowIssue]) -> None:
        """The report lines and the job (its resume point) in one transaction (dry runs)."""
        ...

    async def finish(self, job: ImportJob) -> None:
        """Save the finished job and drop its staged rows."""
        ...


class ImportUnit(UnitOfWork, Protocol):
    """A unit of work that also reads and writes in bulk: one per chunk of rows."""

    async def owners(self, refs: Collection[ExternalReference]) -> dict[ExternalReference, str]:
        """The profile holding each reference (absent: none)."""
        ...

    async def suppressed(self, points: Mapping[str, Collection[ContactPointValue]]) -> set[str]:
        """Of the profiles given with their e-mails and phones, the ids of those with one on the tenant's
        suppression list."""
        ...

    async def postings(self, keys: Collection[Hashable], max_block_size: int) -> dict[Hashable, list[str] | None]:
        """Per blocking key (as ``EncodedProfile.keys``), the stored profiles holding it; None for a key held
        by more than ``max_block_size`` profiles (too common to tell anything); stop keys and keys nobody
        holds are left out."""
        ...

    async def records(self, customer_ids: Collection[str]) -> dict[str, str]:
        """The stored matching records of these profiles, encoded (as ``EncodedProfile.record``)."""
        ...

    def add_created(self, rows: EncodedRows) -> None:
        """A new profile's rows (``RowEncoder``), written set-based at commit."""
        ...

    def queue_pairs(self, job_id: str, pairs: Sequence[QueuedPair]) -> None: ...

    def report(self, job_id: str, issues: Sequence[RowIssue]) -> None: ...

    def save_job(self, job: ImportJob) -> None:
        """Saved in this transaction (the resume point commits with the rows it covers)."""
        ...


EncodedRows = Mapping[str, Sequence[tuple[Any, ...]]]
"""A new profile's rows per table (profile, contacts, keys, references, matching data, audit and outbox
rows), every value already as the database takes it: opaque to the application."""


@dataclass(frozen=True, slots=True)
class EncodedProfile:
    """A new profile as the unit writes it and as the duplicate check reads it: its rows, its matching
    record as stored (``records`` returns the same form; a ``RecordDecoder`` reads it back) and its blocking
    keys as ``postings`` takes them. Opaque values: they only travel between adapters and the scorer."""

    rows: EncodedRows
    record: str
    keys: tuple[Hashable, ...]


class RowEncoder(Protocol):
    """Encodes a new profile (with its events) and its matching record. It runs where the row is planned (a
    worker process): plain tuples and text travel back far cheaper than the domain objects."""

    def __call__(self, context: RequestContext, profile: CustomerProfile, record: PreparedRecord) -> EncodedProfile: ...


RecordDecoder = Callable[[str, str], PreparedRecord]
"""(customer id, a record as ``EncodedProfile.record`` / ``ImportUnit.records`` hold it) → the record."""


class ImportUnitFactory(Protocol):
    def __call__(self, context: RequestContext) -> ImportUnit: ...


@dataclass(frozen=True, slots=True)
class ImportJobView:
    """A job as the read side shows it: RUNNING without a process holding it means INTERRUPTED."""

    job: ImportJob
    running: bool

    @property
    def status(self) -> str:
        return "INTERRUPTED" if self.job.status == RUNNING and not self.running else self.job.status


class ImportQueries(Protocol):
    """The read side of imports (the API and the console): jobs with progress and counts, the report."""

    async def job(self, tenant_id: str, job_id: str) -> ImportJobView | None: ...

    async def jobs(self, tenant_id: str, cursor: str | None, limit: int) -> tuple[list[ImportJobView], str | None]:
        """Newest first; the cursor of the next page or None."""
        ...

    async def report(
        self, tenant_id: str, job_id: str, cursor: str | None, limit: int
    ) -> tuple[list[RowIssue], str | None]:
        """The report lines in row order; the cursor of the next page or None."""
        ...


class ImportIntake(Protocol):
    """Receiving a file as a new job, and starting the application of a staged job (the HTTP edge)."""

    async def receive(
        self,
        tenant_id: str,
        job: ImportJob,
        chunks: AsyncIterator[bytes],
        *,
        gzipped: bool | None,
        mapping: Mapping[str, str] | None,
    ) -> ImportJob:
        """Create the job and stage the stream's rows; the job QUEUED, or FAILED with the file's error raised."""
        ...

    async def start(self, tenant_id: str, job_id: str) -> None:
        """Apply (or resume) the job in the background; an interrupted job reads QUEUED until it is claimed."""
        ...


class Exports(Protocol):
    def documents(
        self, tenant_id: str, query: CustomerFilter, *, actor: str, correlation_id: str, batch: int = 1000
    ) -> AsyncIterator[list[tuple[str, str]]]:
        """Batches of (customer id, profile document JSON) from one snapshot, each on record in the access log
        before it is yielded."""
        ...


def new_import_job(options: ImportOptions, actor: str, correlation_id: str, clock: Clock) -> ImportJob:
    return ImportJob(
        id=new_id(IMPORT_PREFIX),
        status=RECEIVING,
        options=options,
        requested_by=actor,
        correlation_id=correlation_id,
        requested_at=clock.now(),
    )


class ImportInProgress(Conflict):
    code = "IMPORT_IN_PROGRESS"

    def __init__(self, job_id: str) -> None:
        super().__init__("The import is being applied by another process", {"jobId": job_id})


class ImportNotFound(NotFound):
    code = "IMPORT_NOT_FOUND"

    def __init__(self, job_id: str) -> None:
        super().__init__(f"Import {job_id} not found", {"jobId": job_id})


class ImportNotResumable(Conflict):
    code = "IMPORT_NOT_RESUMABLE"

    def __init__(self, job_id: str, status: str) -> None:
        super().__init__(f"Import {job_id} is {status}", {"jobId": job_id, "status": status})
