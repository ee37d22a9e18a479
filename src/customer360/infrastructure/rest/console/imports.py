"""Bulk imports in the console: the tenant's jobs, a file uploaded with its options, live progress, the report.

The same intake, jobs and report as ``POST /api/v1/crm/imports`` (``routers/imports.py``); the upload is a
multipart form (its file spooled to disk by the form parser, then staged as it is read, chunk by chunk).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from customer360.application.import_ports import (
    QUEUED,
    RECEIVING,
    RUNNING,
    ImportOptions,
    OnDuplicate,
    new_import_job,
)
from customer360.domain.errors import InvalidValue
from customer360.domain.ids import IMPORT_PREFIX, id_pattern
from customer360.infrastructure.rest.console.dependencies import Acting, Seen, services_of
from customer360.infrastructure.rest.console.rendering import ConsoleRoute, is_fragment, redirect, render_page
from customer360.infrastructure.rest.errors import correlation_id
from customer360.infrastructure.rest.routers.imports import (
    job_document,
    limited,
    parse_mapping,
    report_csv,
    resume,
    view_document,
)

router = APIRouter(prefix="/console/imports", route_class=ConsoleRoute, include_in_schema=False)

JobId = Annotated[str, Path(alias="jobId", pattern=id_pattern(IMPORT_PREFIX))]
PERMISSION = "crm.customer:import"
REPORT_LINES_SHOWN = 20
UPLOAD_CHUNK = 1 << 20
POLICIES = {
    OnDuplicate.QUEUE: "Import it and put the pair in the review queue",
    OnDuplicate.SKIP: "Leave the row out (the report names the existing profile)",
    OnDuplicate.CREATE: "Import it without checking",
}


@router.get("")
async def imports_page(request: Request, seen: Seen) -> Response:
    seen.require(PERMISSION)
    views, _ = await services_of(request).import_queries.jobs(seen.principal.tenant_id, None, 50)
    jobs = [job_document(v.job, v.status) for v in views]
    return render_page(request, seen, "imports.html", {"jobs": jobs, "policies": POLICIES})


def _format(chosen: str, filename: str) -> str:
    if chosen in ("CSV", "NDJSON"):
        return chosen
    if chosen != "auto":
        raise InvalidValue("format", "must be auto, CSV or NDJSON")
    suffixes = [s.lower() for s in PurePath(filename).suffixes if s.lower() != ".gz"]
    return "NDJSON" if suffixes and suffixes[-1] in (".ndjson", ".jsonl") else "CSV"


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(UPLOAD_CHUNK):
        yield chunk


@router.post("")
async def start_import(request: Request, seen: Acting) -> Response:
    """Stages the uploaded file as a new job and starts it; the job's page follows its progress."""
    seen.require(PERMISSION)
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidValue("file", "choose a CSV or NDJSON file to import")
    try:
        policy = OnDuplicate(str(form.get("onDuplicate", OnDuplicate.QUEUE.value)))
    except ValueError:
        raise InvalidValue("onDuplicate", "must be queue, skip or create") from None
    mapping = parse_mapping(str(form.get("mapping") or "").strip() or None)
    options = ImportOptions(
        format=_format(str(form.get("format", "auto")), upload.filename),
        on_duplicate=policy,
        dry_run=form.get("dryRun") == "on",
    )
    services = services_of(request)
    tenant = seen.principal.tenant_id
    job = new_import_job(options, seen.principal.user_id, correlation_id(request), services.clock)
    body = limited(_chunks(upload), services.settings.import_max_body_bytes)
    job = await services.imports.receive(tenant, job, body, gzipped=None, mapping=mapping)
    if job.status == QUEUED:
        await services.imports.start(tenant, job.id)
    return redirect(f"/console/imports/{job.id}")


@router.get("/{jobId}")
async def import_page(job_id: JobId, request: Request, seen: Seen) -> Response:
    """The job's progress and counts; htmx polls the progress part every second while it runs."""
    seen.require(PERMISSION)
    queries = services_of(request).import_queries
    tenant = seen.principal.tenant_id
    job = view_document(await queries.job(tenant, job_id), job_id)
    issues, more = await queries.report(tenant, job_id, None, REPORT_LINES_SHOWN)
    context: dict[str, Any] = {
        "job": job,
        "running": job["status"] in (RECEIVING, QUEUED, RUNNING),
        "percent": round(100 * job["processed"] / job["rows"]) if job["rows"] else None,
        "issues": issues,
        "more_issues": more is not None,
    }
    if is_fragment(request):
        return render_page(request, seen, "fragments/import_progress.html", context)
    return render_page(request, seen, "import.html", context)


@router.post("/{jobId}/resume")
async def resume_import(job_id: JobId, request: Request, seen: Acting) -> Response:
    seen.require(PERMISSION)
    await resume(services_of(request), seen.principal.tenant_id, job_id)
    return redirect(f"/console/imports/{job_id}")


@router.get("/{jobId}/report.csv")
async def import_report_csv(job_id: JobId, request: Request, seen: Seen) -> Response:
    seen.require(PERMISSION)
    queries = services_of(request).import_queries
    view_document(await queries.job(seen.principal.tenant_id, job_id), job_id)
    return report_csv(queries, seen.principal.tenant_id, job_id)
