"""Duplicate detection: real-time checks, the review queue, dismissals, clusters, scans, thresholds, model.

The check on create is asked for by routers/customers.py (``duplicate_check``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from customer360.application import duplicates as uc
from customer360.application.duplicate_scan import ScanNotFound
from customer360.application.queries import QUEUE_STATUSES, QueueFilter
from customer360.domain.duplicates import PAIR_ID_PATTERN, SCAN_PREFIX, DuplicatePolicy, pair_id, parse_pair_id
from customer360.domain.ids import id_pattern
from customer360.domain.merge import PairDecision
from customer360.infrastructure.rest.access import record_reads
from customer360.infrastructure.rest.auth import Principal
from customer360.infrastructure.rest.dependencies import Services, require
from customer360.infrastructure.rest.dispatch import (
    IDEMPOTENT,
    IfMatch,
    Rendered,
    context_of,
    etag,
    render,
    run_command,
)
from customer360.infrastructure.rest.models.common import headers
from customer360.infrastructure.rest.models.customers import CustomerCreate
from customer360.infrastructure.rest.models.duplicates import (
    ClusterPage,
    DismissIn,
    DismissOut,
    DuplicateCheckOut,
    DuplicatePage,
    DuplicatePolicyIn,
    DuplicatePolicyOut,
    MatchModelOut,
    ScanOut,
    ScanStartedOut,
)
from customer360.infrastructure.rest.parameters import Cursor, CustomerId, Limit

router = APIRouter(prefix="/api/v1/crm", tags=["duplicates"])

Reader = Annotated[Principal, Depends(require("crm.duplicates:read"))]
Writer = Annotated[Principal, Depends(require("crm.duplicates:write"))]
PairId = Annotated[str, Path(alias="pairId", pattern=PAIR_ID_PATTERN, description="`{customerId}~{customerId}`")]
JobId = Annotated[str, Path(alias="jobId", pattern=id_pattern(SCAN_PREFIX))]
DUPLICATES = "/duplicates"


def _check_document(result: uc.CheckResult) -> dict[str, Any]:
    return {
        "likelyDuplicate": result.likely_duplicate,
        "likelyThreshold": result.likely_threshold,
        "reviewThreshold": result.review_threshold,
        "candidates": [c.to_dict() for c in result.candidates],
    }


def render_check(result: uc.CheckResult) -> Rendered:
    return render(DuplicateCheckOut, _check_document(result))


@router.post(
    f"{DUPLICATES}/check",
    response_model=DuplicateCheckOut,
    summary="Check a would-be profile for duplicates",
    dependencies=[IDEMPOTENT],
)
async def check_duplicates(body: CustomerCreate, request: Request, principal: Reader) -> Response:
    """The create body, scored against the tenant's profiles (nothing is written): candidates at or above
    the review threshold, and whether one reaches the likely-duplicate threshold (create would answer 409)."""
    command = uc.CheckDuplicates(attributes=body.to_input(), contacts=body.contact_inputs())
    return await run_command(request, principal, uc.check_duplicates, command, render_check)


@router.get("/customers/{customerId}/duplicates", response_model=DuplicateCheckOut, summary="Duplicates of a profile")
async def duplicates_of_customer(
    customer_id: CustomerId, request: Request, principal: Reader, services: Services
) -> Response:
    """Candidates for an existing profile now, at or above the review threshold; decided pairs are left out."""
    result = await services.executor.execute(
        context_of(request, principal), uc.duplicates_of, uc.DuplicatesOf(customer_id)
    )
    return render_check(result).response()


@router.get(DUPLICATES, response_model=DuplicatePage, summary="The duplicate review queue")
async def list_duplicates(
    request: Request,
    principal: Reader,
    services: Services,
    status: Annotated[str, Query(pattern=f"^({'|'.join(QUEUE_STATUSES)})$")] = "OPEN",
    min_probability: Annotated[float, Query(alias="minProbability", ge=0, le=1)] = 0.0,
    max_probability: Annotated[float, Query(alias="maxProbability", ge=0, le=1)] = 1.0,
    cluster_id: Annotated[str | None, Query(alias="clusterId", max_length=40)] = None,
    customer_id: Annotated[str | None, Query(alias="customerId", max_length=40)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    """Pairs found by the latest scan, most probable first, with both profiles side by side, the
    explanation, the decision if any, and links to dismiss or to preview and run the merge."""
    page = await services.duplicates.queue(
        principal.tenant_id,
        QueueFilter(status, min_probability, max_probability, cluster_id, customer_id, cursor, limit),
    )
    shown = [profile["id"] for item in page.items for profile in (item["left"], item["right"])]
    record_reads(request, principal, "DUPLICATE_QUEUE", dict.fromkeys(shown))
    return render(DuplicatePage, {"items": page.items, "nextCursor": page.next_cursor}).response()


def _decision(decision: PairDecision) -> dict[str, Any]:
    return {
        "status": decision.status.value,
        "reason": decision.reason,
        "decidedBy": decision.decided_by,
        "decidedAt": decision.decided_at,
        "mergeId": decision.merge_id,
    }


def render_dismissal(decision: PairDecision) -> Rendered:
    return render(DismissOut, {"pairId": pair_id(decision.low_id, decision.high_id), "decision": _decision(decision)})


@router.post(
    f"{DUPLICATES}/{{pairId}}/dismiss",
    response_model=DismissOut,
    summary="Dismiss a pair: not a duplicate",
    dependencies=[IDEMPOTENT],
)
async def dismiss_duplicate(pair: PairId, body: DismissIn, request: Request, principal: Writer) -> Response:
    """Records the pair as NOT_DUPLICATE (never suggested again), audits it on both profiles and refines
    the tenant's model with the decision. Dismissing again answers the first decision."""
    low, high = parse_pair_id(pair)
    command = uc.DismissPair(low, high, body.note)
    return await run_command(request, principal, uc.dismiss_pair, command, render_dismissal)


@router.get(f"{DUPLICATES}/clusters", response_model=ClusterPage, summary="Clusters of duplicates")
async def list_duplicate_clusters(
    principal: Reader, services: Services, cursor: Cursor = None, limit: Limit = 50
) -> Response:
    """Transitive groups of the latest scan's pairs (A~B and B~C make one cluster A, B, C), most probable first;
    `GET /duplicates?clusterId=` lists a cluster's pairs."""
    page = await services.duplicates.clusters(principal.tenant_id, cursor, limit)
    return render(ClusterPage, {"items": page.items, "nextCursor": page.next_cursor}).response()


@router.post(
    f"{DUPLICATES}/scan",
    status_code=202,
    response_model=ScanStartedOut,
    summary="Start (or resume) a batch duplicate scan",
    responses={202: headers("Location")},
)
async def start_duplicate_scan(principal: Writer, services: Services) -> Response:
    """202 with the job id (`Location` is its status). An interrupted or queued scan is taken up where it
    stopped; while one runs, 409 SCAN_IN_PROGRESS."""
    job, resumed = await services.scans.start(principal.tenant_id, principal.user_id)
    location = f"/api/v1/crm/duplicates/scan/{job.id}"
    body = {"jobId": job.id, "status": job.status, "resumed": resumed}
    return render(ScanStartedOut, body, 202, Location=location).response()


@router.get(f"{DUPLICATES}/scan/{{jobId}}", response_model=ScanOut, summary="Status of a duplicate scan")
async def get_duplicate_scan(job_id: JobId, principal: Reader, services: Services) -> Response:
    document = await services.duplicates.scan(principal.tenant_id, job_id)
    if document is None:
        raise ScanNotFound(job_id)
    return render(ScanOut, document).response()


def _policy_document(policy: DuplicatePolicy) -> dict[str, Any]:
    return {
        "reviewThreshold": policy.review_threshold,
        "likelyThreshold": policy.likely_threshold,
        "autoMerge": policy.auto_merge,
        "autoMergeThreshold": policy.auto_merge_threshold,
        "version": policy.version,
    }


@router.get(
    f"{DUPLICATES}/settings",
    response_model=DuplicatePolicyOut,
    summary="The tenant's duplicate thresholds",
    responses={200: headers("ETag")},
)
async def get_duplicate_settings(principal: Reader, services: Services) -> Response:
    policy = await services.duplicates.policy(principal.tenant_id)
    return render(DuplicatePolicyOut, _policy_document(policy), ETag=etag(policy.version)).response()


def render_policy(policy: DuplicatePolicy) -> Rendered:
    return render(DuplicatePolicyOut, _policy_document(policy), ETag=etag(policy.version))


@router.put(
    f"{DUPLICATES}/settings",
    response_model=DuplicatePolicyOut,
    summary="Set the tenant's thresholds",
    responses={200: headers("ETag")},
)
async def put_duplicate_settings(
    body: DuplicatePolicyIn, request: Request, principal: Writer, version: IfMatch
) -> Response:
    """review ≤ likely ≤ automatic merge; `If-Match` with the version read guards concurrent edits."""
    command = uc.UpdateDuplicatePolicy(
        body.review_threshold,
        body.likely_threshold,
        body.auto_merge,
        body.auto_merge_threshold,
        version,
    )
    return await run_command(request, principal, uc.update_duplicate_policy, command, render_policy)


@router.get(
    f"{DUPLICATES}/model",
    response_model=MatchModelOut,
    summary="The tenant's match model",
    responses={200: headers("ETag")},
)
async def get_match_model(principal: Reader, services: Services) -> Response:
    """Its m and u per field and level and its prior, how and when it was trained (version 0: defaults)."""
    document = await services.duplicates.model(principal.tenant_id)
    return render(MatchModelOut, document, ETag=etag(document["version"])).response()
