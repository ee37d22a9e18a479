"""Bulk import (``POST /imports``: a streamed CSV or NDJSON file, gzip accepted) and its jobs and reports;
bulk export (``GET /exports``: a streamed, consistent snapshot)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response, StreamingResponse

from customer360.application.import_ports import (
    QUEUED,
    ImportJob,
    ImportJobView,
    ImportNotFound,
    ImportNotResumable,
    ImportOptions,
    ImportQueries,
    OnDuplicate,
    RowIssue,
    new_import_job,
)
from customer360.application.profile_input import parse_timestamp
from customer360.application.queries import CustomerFilter
from customer360.domain.errors import InvalidValue
from customer360.domain.ids import IMPORT_PREFIX, id_pattern
from customer360.domain.values import CustomerKind
from customer360.infrastructure.export_files import csv_export, ndjson_export
from customer360.infrastructure.rest.auth import Principal
from customer360.infrastructure.rest.dependencies import ApiServices, Services, require
from customer360.infrastructure.rest.dispatch import render
from customer360.infrastructure.rest.errors import correlation_id
from customer360.infrastructure.rest.models.common import headers
from customer360.infrastructure.rest.models.imports import ImportJobOut, ImportJobPage, ImportReportPage
from customer360.infrastructure.rest.parameters import ISO_TIMESTAMP, Cursor, Limit

IMPORTS_PATH = "/api/v1/crm/imports"
router = APIRouter(prefix="/api/v1/crm", tags=["import and export"])

Importer = Annotated[Principal, Depends(require("crm.customer:import"))]
Exporter = Annotated[Principal, Depends(require("crm.customer:export"))]
JobId = Annotated[str, Path(alias="jobId", pattern=id_pattern(IMPORT_PREFIX))]

# The file is streamed past the edge's character rule (app.py): each row is checked and reported on its own.
_ANY_TEXT = {"type": "string", "pattern": "^[\\s\\S]*$"}
_MEDIA = {"text/csv": "CSV", "application/csv": "CSV", "application/x-ndjson": "NDJSON", "application/jsonl": "NDJSON"}
_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {**_ANY_TEXT, "description": "A header row, then one customer per row"}},
        "application/x-ndjson": {"schema": {**_ANY_TEXT, "description": "One create body per line"}},
    },
}


def job_document(job: ImportJob, status: str) -> dict[str, Any]:
    base = f"{IMPORTS_PATH}/{job.id}"
    return {
        "id": job.id,
        "status": status,
        "format": job.options.format,
        "onDuplicate": job.options.on_duplicate.value,
        "dryRun": job.options.dry_run,
        "mapping": dict(job.options.mapping),
        "ignoredColumns": list(job.options.ignored_columns),
        "rows": job.staged_rows,
        "processed": job.processed_rows,
        "counts": {k: job.counts.get(k, 0) for k in ("created", "updated", "unchanged", "invalid", "skipped")}
        | {"pairsQueued": job.counts.get("pairsQueued", 0)},
        "error": job.error,
        "errorDetails": job.error_details,
        "requestedBy": job.requested_by,
        "requestedAt": job.requested_at,
        "startedAt": job.started_at,
        "finishedAt": job.finished_at,
        "links": {
            "self": base,
            "report": f"{base}/report",
            "reportCsv": f"{base}/report.csv",
            "resume": f"{base}/resume",
        },
    }


def _format(request: Request, requested: str | None) -> str:
    if requested:
        return requested.upper()
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in _MEDIA:
        raise InvalidValue("Content-Type", "must be text/csv or application/x-ndjson (or give format=csv|ndjson)")
    return _MEDIA[media]


def parse_mapping(raw: str | None) -> dict[str, str] | None:
    if raw is None:
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidValue("mapping", 'must be a JSON object {"column": "field"}') from None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InvalidValue("mapping", 'must be a JSON object {"column": "field"}')
    return value


async def limited(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    """The uploaded file's chunks, refused once it grows past the import limit."""
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise InvalidValue("body", f"is larger than the import limit of {limit} bytes")
        yield chunk


@router.post(
    "/imports",
    status_code=202,
    response_model=ImportJobOut,
    summary="Import customers from a CSV or NDJSON file (streamed; gzip accepted); answers the job",
    responses={202: headers("Location")},
    openapi_extra={"requestBody": _BODY},
)
async def start_import(
    request: Request,
    principal: Importer,
    services: Services,
    format: Annotated[str | None, Query(pattern="^(?i:csv|ndjson)$", description="Default: from Content-Type")] = None,
    on_duplicate: Annotated[OnDuplicate, Query(alias="onDuplicate")] = OnDuplicate.QUEUE,
    dry_run: Annotated[bool, Query(alias="dryRun", description="Validate and match, write nothing")] = False,
    mapping: Annotated[
        str | None,
        Query(max_length=4000, description='CSV column → field as JSON, e.g. {"Firma": "name"}; default: inferred'),
    ] = None,
) -> Response:
    options = ImportOptions(format=_format(request, format), on_duplicate=on_duplicate, dry_run=dry_run)
    given = parse_mapping(mapping)
    job = new_import_job(options, principal.user_id, correlation_id(request), services.clock)
    gzipped = request.headers.get("content-encoding", "").lower() == "gzip" or None
    body = limited(request.stream(), services.settings.import_max_body_bytes)
    job = await services.imports.receive(principal.tenant_id, job, body, gzipped=gzipped, mapping=given)
    if job.status == QUEUED:
        await services.imports.start(principal.tenant_id, job.id)
    location = f"{IMPORTS_PATH}/{job.id}"
    return render(ImportJobOut, job_document(job, job.status), 202, Location=location).response()


def view_document(view: ImportJobView | None, job_id: str) -> dict[str, Any]:
    if view is None:
        raise ImportNotFound(job_id)
    return job_document(view.job, view.status)


@router.get("/imports/{jobId}", response_model=ImportJobOut, summary="An import job: status, progress and counts")
async def get_import(job_id: JobId, principal: Importer, services: Services) -> Response:
    view = await services.import_queries.job(principal.tenant_id, job_id)
    return render(ImportJobOut, view_document(view, job_id)).response()


@router.get("/imports", response_model=ImportJobPage, summary="The tenant's import jobs, newest first")
async def list_imports(principal: Importer, services: Services, cursor: Cursor = None, limit: Limit = 50) -> Response:
    views, next_cursor = await services.import_queries.jobs(principal.tenant_id, cursor, limit)
    items = [job_document(v.job, v.status) for v in views]
    return render(ImportJobPage, {"items": items, "nextCursor": next_cursor}).response()


@router.post(
    "/imports/{jobId}/resume", status_code=202, response_model=ImportJobOut, summary="Resume an interrupted import"
)
async def resume_import(job_id: JobId, principal: Importer, services: Services) -> Response:
    document = await resume(services, principal.tenant_id, job_id)
    return render(ImportJobOut, document, 202).response()


async def resume(services: ApiServices, tenant_id: str, job_id: str) -> dict[str, Any]:
    """Start an interrupted (or still queued) job again; the job as it reads right after."""
    document = view_document(await services.import_queries.job(tenant_id, job_id), job_id)
    if document["status"] not in ("INTERRUPTED", QUEUED):
        raise ImportNotResumable(job_id, document["status"])
    await services.imports.start(tenant_id, job_id)
    return view_document(await services.import_queries.job(tenant_id, job_id), job_id)


def _issue(issue: RowIssue) -> dict[str, Any]:
    return {
        "row": issue.row,
        "field": issue.field,
        "outcome": issue.outcome,
        "reason": issue.reason,
        "customerId": issue.customer_id,
    }


@router.get("/imports/{jobId}/report", response_model=ImportReportPage, summary="The rows refused or skipped")
async def import_report(
    job_id: JobId,
    principal: Importer,
    services: Services,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    queries = services.import_queries
    view_document(await queries.job(principal.tenant_id, job_id), job_id)
    issues, next_cursor = await queries.report(principal.tenant_id, job_id, cursor, limit)
    return render(ImportReportPage, {"items": [_issue(i) for i in issues], "nextCursor": next_cursor}).response()


REPORT_COLUMNS = ("row", "field", "outcome", "reason", "customerId")


def report_csv(queries: ImportQueries, tenant_id: str, job_id: str) -> StreamingResponse:
    """The job's report as a streamed CSV download (the API's and the console's)."""

    async def lines() -> AsyncIterator[bytes]:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(REPORT_COLUMNS)
        cursor: str | None = None
        while True:
            issues, cursor = await queries.report(tenant_id, job_id, cursor, 5000)
            writer.writerows([i.row, i.field, i.outcome, i.reason, i.customer_id or ""] for i in issues)
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
            if cursor is None:
                return

    headers = {"Content-Disposition": f'attachment; filename="{job_id}-report.csv"'}
    return StreamingResponse(lines(), media_type="text/csv", headers=headers)


@router.get(
    "/imports/{jobId}/report.csv",
    summary="The report as a CSV file (row, field, outcome, reason, customerId)",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "The report"}},
)
async def import_report_csv(job_id: JobId, principal: Importer, services: Services) -> Response:
    queries = services.import_queries
    view_document(await queries.job(principal.tenant_id, job_id), job_id)
    return report_csv(queries, principal.tenant_id, job_id)


@router.get(
    "/exports",
    summary="Export the customers matching the list filters (CSV or NDJSON, streamed, one consistent snapshot)",
    responses={
        200: {
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
            "description": "One profile per line (NDJSON: the profile document; CSV: the import's columns)",
        }
    },
)
async def export_customers(
    request: Request,
    principal: Exporter,
    services: Services,
    format: Annotated[str, Query(pattern="^(?i:csv|ndjson)$")] = "ndjson",
    status: Annotated[str | None, Query(pattern="^(ACTIVE|INACTIVE|ON_HOLD|MERGED|ERASED)$")] = None,
    segment: Annotated[str | None, Query(max_length=50)] = None,
    kind: CustomerKind | None = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    updated_since: Annotated[
        str | None, Query(alias="updatedSince", pattern=ISO_TIMESTAMP, description="ISO-8601 timestamp with offset")
    ] = None,
) -> Response:
    query = CustomerFilter(
        status=status,
        segment=segment,
        kind=kind.value if kind else None,
        tag=tag,
        updated_since=parse_timestamp(updated_since, "updatedSince") if updated_since else None,
    )
    batches = services.exports.documents(
        principal.tenant_id, query, actor=principal.user_id, correlation_id=correlation_id(request)
    )
    csv_wanted = format.lower() == "csv"
    body = csv_export(batches) if csv_wanted else ndjson_export(batches)
    media = "text/csv" if csv_wanted else "application/x-ndjson"
    name = f"customers.{'csv' if csv_wanted else 'ndjson'}"
    return StreamingResponse(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
