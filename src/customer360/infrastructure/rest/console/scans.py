"""Clusters of duplicates, and the batch scan: start it, watch its progress live."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from customer360.application.duplicate_scan import ScanInProgress, ScanNotFound
from customer360.domain.duplicates import SCAN_PREFIX
from customer360.domain.ids import id_pattern
from customer360.infrastructure.rest.access import record_reads
from customer360.infrastructure.rest.console.dependencies import Acting, Seen, services_of
from customer360.infrastructure.rest.console.rendering import ConsoleRoute, is_fragment, redirect, render_page

router = APIRouter(prefix="/console/duplicates", route_class=ConsoleRoute, include_in_schema=False)

JobId = Annotated[str, Path(alias="jobId", pattern=id_pattern(SCAN_PREFIX))]
NAMES_PER_CLUSTER = 8
PHASES = ("INDEX", "STOP_KEYS", "TRAIN", "PAIRS", "CLUSTERS", "AUTO_MERGE", "DONE")
PHASE_WORDS = {
    "INDEX": "Indexing profiles",
    "STOP_KEYS": "Refreshing stop keys",
    "TRAIN": "Training the model",
    "PAIRS": "Scoring candidate pairs",
    "CLUSTERS": "Grouping pairs into clusters",
    "AUTO_MERGE": "Merging certain duplicates",
    "DONE": "Done",
}


@router.get("/clusters")
async def clusters_page(
    request: Request, seen: Seen, cursor: Annotated[str | None, Query(max_length=300)] = None
) -> Response:
    seen.require("crm.duplicates:read")
    services = services_of(request)
    tenant = seen.principal.tenant_id
    page = await services.duplicates.clusters(tenant, cursor, 50)
    clusters: list[dict[str, Any]] = []
    for cluster in page.items:
        members = []
        for customer_id in cluster["customerIds"][:NAMES_PER_CLUSTER]:
            profile = await services.profiles.profile(tenant, customer_id)
            members.append({"id": customer_id, "name": profile["name"] if profile else customer_id})
        clusters.append({**cluster, "members": members})
    shown = [m["id"] for c in clusters for m in c["members"]]
    record_reads(request, seen.principal, "DUPLICATE_QUEUE", shown)
    return render_page(request, seen, "clusters.html", {"clusters": clusters, "next_cursor": page.next_cursor})


@router.get("/scans")
async def scans_page(request: Request, seen: Seen) -> Response:
    seen.require("crm.duplicates:read")
    policy = await services_of(request).duplicates.policy(seen.principal.tenant_id)
    return render_page(request, seen, "scans.html", {"policy": policy, "job": None})


@router.post("/scans")
async def start_scan(request: Request, seen: Acting) -> Response:
    """Starts (or resumes) the tenant's scan; while one runs, shows that one instead of failing."""
    seen.require("crm.duplicates:write")
    try:
        job, _ = await services_of(request).scans.start(seen.principal.tenant_id, seen.principal.user_id)
    except ScanInProgress as running:
        if "jobId" not in running.details:
            raise
        return redirect(f"/console/duplicates/scans/{running.details['jobId']}")
    return redirect(f"/console/duplicates/scans/{job.id}")


@router.get("/scans/{jobId}")
async def scan_page(job_id: JobId, request: Request, seen: Seen) -> Response:
    """The scan's progress; htmx polls the progress part every second until the scan ends."""
    seen.require("crm.duplicates:read")
    services = services_of(request)
    job = await services.duplicates.scan(seen.principal.tenant_id, job_id)
    if job is None:
        raise ScanNotFound(job_id)
    progress = job["progress"]
    context = {
        "job": job,
        "running": job["status"] in ("QUEUED", "RUNNING"),
        "phase_words": PHASE_WORDS,
        "phases": PHASES,
        "percent": round(100 * progress["processed"] / progress["total"]) if progress["total"] else None,
    }
    if is_fragment(request):
        return render_page(request, seen, "fragments/scan_progress.html", context)
    context["policy"] = await services.duplicates.policy(seen.principal.tenant_id)
    return render_page(request, seen, "scans.html", context)
