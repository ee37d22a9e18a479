"""Data-subject rights over HTTP: export, erasure, legal holds, privacy flags, and the access log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from customer360.application import privacy as uc
from customer360.domain.errors import CustomerNotFound
from customer360.domain.ids import CUSTOMER_PREFIX, LEGAL_HOLD_PREFIX, id_pattern
from customer360.domain.privacy import SUPPRESSED_FLAG, ErasureRequest, LegalHold, LegalHoldActive
from customer360.infrastructure.rest.access import record_reads
from customer360.infrastructure.rest.auth import Principal
from customer360.infrastructure.rest.dependencies import Services, require
from customer360.infrastructure.rest.dispatch import IDEMPOTENT, Rendered, context_of, render, run_command
from customer360.infrastructure.rest.models.privacy import (
    AccessLogPage,
    ErasureIn,
    ErasureRequestList,
    ErasureRequestOut,
    LegalHoldIn,
    LegalHoldList,
    LegalHoldOut,
    PersonalDataExport,
    PrivacyFlagsOut,
)
from customer360.infrastructure.rest.parameters import Cursor, CustomerId, Limit

router = APIRouter(prefix="/api/v1/crm", tags=["privacy"])

Exporter = Annotated[Principal, Depends(require("crm.privacy:export"))]
Eraser = Annotated[Principal, Depends(require("crm.privacy:erase"))]
HoldKeeper = Annotated[Principal, Depends(require("crm.privacy:hold"))]
ConsentWriter = Annotated[Principal, Depends(require("crm.consent:write"))]
Auditor = Annotated[Principal, Depends(require("crm.audit:read"))]
HoldId = Annotated[str, Path(alias="holdId", pattern=id_pattern(LEGAL_HOLD_PREFIX))]


def hold_document(hold: LegalHold, now: Any) -> dict[str, Any]:
    return {
        "id": hold.id,
        "customerId": hold.customer_id,
        "reason": hold.reason,
        "placedBy": hold.placed_by,
        "placedAt": hold.placed_at,
        "expiresAt": hold.expires_at,
        "releasedAt": hold.released_at,
        "releasedBy": hold.released_by,
        "active": hold.active(now),
    }


def request_document(request: ErasureRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "customerId": request.customer_id,
        "status": request.status.value,
        "reason": request.reason,
        "requester": request.requester,
        "requestedAt": request.requested_at,
        "requestedBy": request.requested_by,
        "completedAt": request.completed_at,
        "erasedCustomerIds": list(request.erased_customer_ids),
        "dataClasses": list(request.data_classes),
        "blockedBy": request.blocked_by,
    }


# -- export ---------------------------------------------------------------------------------------------
@router.get(
    "/customers/{customerId}/privacy/export",
    response_model=PersonalDataExport,
    summary="Data-subject access (Art. 15/20): everything held about the person, merged profiles included",
)
async def export_personal_data(
    customer_id: CustomerId,
    request: Request,
    principal: Exporter,
    services: Services,
    download: Annotated[bool, Query(description="As a file (Content-Disposition: attachment)")] = False,
) -> Response:
    context = context_of(request, principal)
    document = await services.executor.execute(context, uc.export_personal_data, uc.ExportPersonalData(customer_id))
    record_reads(request, principal, "EXPORT", document["lineage"])
    rendered = render(PersonalDataExport, document)
    if download:
        rendered.headers["Content-Disposition"] = f'attachment; filename="personal-data-{customer_id}.json"'
    return rendered.response()


# -- erasure -------------------------------------------------------------------------------------------
def _render_request(result: ErasureRequest) -> Rendered:
    return render(ErasureRequestOut, request_document(result), 201)


@router.post(
    "/customers/{customerId}/privacy/erasure",
    status_code=201,
    response_model=ErasureRequestOut,
    summary="Erasure (Art. 17) of the customer and its whole merge lineage; 409 while a legal hold is active",
    dependencies=[IDEMPOTENT],
)
async def erase_customer(
    customer_id: CustomerId, body: ErasureIn, request: Request, principal: Eraser, services: Services
) -> Response:
    command = uc.EraseCustomer(customer_id, body.reason, body.requester)
    try:
        return await run_command(request, principal, uc.erase_customer, command, _render_request)
    except LegalHoldActive as blocked:
        # The refused request stays on record (to be taken up when the hold ends), then the 409 goes out.
        blocked_command = uc.RecordBlockedErasure(customer_id, body.reason, body.requester, blocked.hold.id)
        await services.executor.execute(context_of(request, principal), uc.record_blocked_erasure, blocked_command)
        raise


@router.get(
    "/customers/{customerId}/privacy/erasure-requests",
    response_model=ErasureRequestList,
    summary="The customer's erasure requests (completed and blocked)",
)
async def list_erasure_requests(customer_id: CustomerId, principal: Eraser, services: Services) -> Response:
    requests = await services.privacy.erasure_requests(principal.tenant_id, customer_id)
    if requests is None:
        raise CustomerNotFound(customer_id)
    return render(ErasureRequestList, {"items": [request_document(r) for r in requests]}).response()


# -- legal holds -----------------------------------------------------------------------------------------
@router.post(
    "/customers/{customerId}/legal-holds",
    status_code=201,
    response_model=LegalHoldOut,
    summary="Place a legal hold: erasure of the customer's lineage is refused while it is active",
    dependencies=[IDEMPOTENT],
)
async def place_legal_hold(
    customer_id: CustomerId, body: LegalHoldIn, request: Request, principal: HoldKeeper, services: Services
) -> Response:
    clock = services.clock

    def placed(hold: LegalHold) -> Rendered:
        return render(LegalHoldOut, hold_document(hold, clock.now()), 201)

    command = uc.PlaceLegalHold(customer_id, body.reason, body.expires_at)
    return await run_command(request, principal, uc.place_legal_hold, command, placed)


@router.get("/customers/{customerId}/legal-holds", response_model=LegalHoldList, summary="The customer's legal holds")
async def list_legal_holds(customer_id: CustomerId, principal: HoldKeeper, services: Services) -> Response:
    holds = await services.privacy.holds(principal.tenant_id, customer_id)
    if holds is None:
        raise CustomerNotFound(customer_id)
    now = services.clock.now()
    return render(LegalHoldList, {"items": [hold_document(h, now) for h in holds]}).response()


@router.post(
    "/customers/{customerId}/legal-holds/{holdId}/release",
    response_model=LegalHoldOut,
    summary="Release a legal hold",
    dependencies=[IDEMPOTENT],
)
async def release_legal_hold(
    customer_id: CustomerId, hold_id: HoldId, request: Request, principal: HoldKeeper, services: Services
) -> Response:
    clock = services.clock

    def released(hold: LegalHold) -> Rendered:
        return render(LegalHoldOut, hold_document(hold, clock.now()))

    return await run_command(
        request, principal, uc.release_legal_hold, uc.ReleaseLegalHold(customer_id, hold_id), released
    )


# -- privacy flags ----------------------------------------------------------------------------------------
@router.delete(
    "/customers/{customerId}/privacy/flags/{flag}",
    response_model=PrivacyFlagsOut,
    summary="Clear a privacy flag (SUPPRESSED_CONTACT_POINT) after verifying the person's fresh consent",
)
async def clear_privacy_flag(
    customer_id: CustomerId,
    flag: Annotated[str, Path(pattern=f"^{SUPPRESSED_FLAG}$")],
    request: Request,
    principal: ConsentWriter,
) -> Response:
    def cleared(remaining: list[str]) -> Rendered:
        return render(PrivacyFlagsOut, {"customerId": customer_id, "privacyFlags": remaining})

    return await run_command(request, principal, uc.clear_privacy_flag, uc.ClearPrivacyFlag(customer_id, flag), cleared)


# -- access log --------------------------------------------------------------------------------------------
@router.get(
    "/access-log",
    response_model=AccessLogPage,
    summary="Who read whose personal data (profile reads, lists, searches, exports); ids only",
)
async def access_log(
    principal: Auditor,
    services: Services,
    customer_id: Annotated[str | None, Query(alias="customerId", pattern=id_pattern(CUSTOMER_PREFIX))] = None,
    actor: Annotated[str | None, Query(pattern=r"^[\w.@:\-]{1,128}$", description="A user id")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    page = await services.access_log.entries(
        principal.tenant_id, customer_id=customer_id, actor=actor, cursor=cursor, limit=limit
    )
    return render(AccessLogPage, {"items": page.items, "nextCursor": page.next_cursor}).response()
