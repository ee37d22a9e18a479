"""Consent (the seed's ConsentRecord): capture, current state, history."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from customer360.application import consents as uc
from customer360.application.ports import UnitOfWork
from customer360.application.queries import consent_state
from customer360.domain.errors import CustomerNotFound
from customer360.domain.primitives import iso_millis
from customer360.infrastructure.rest.auth import Principal
from customer360.infrastructure.rest.dependencies import Services, require
from customer360.infrastructure.rest.dispatch import Rendered, render, run_command
from customer360.infrastructure.rest.models.common import ERROR_RESPONSES
from customer360.infrastructure.rest.models.consents import (
    ConsentHistoryPage,
    ConsentIn,
    ConsentRecordOut,
    ConsentStateList,
)
from customer360.infrastructure.rest.parameters import Cursor, CustomerId, Limit

router = APIRouter(prefix="/api/v1/crm/customers/{customerId}/consent", tags=["consent"], responses=ERROR_RESPONSES)

ConsentReader = Annotated[Principal, Depends(require("crm.consent:read"))]
ConsentWriter = Annotated[Principal, Depends(require("crm.consent:write"))]


async def present_recorded(result: uc.ConsentRecorded, uow: UnitOfWork) -> Rendered:
    document = await uow.views.consent(result.consent_id)
    assert document is not None, "the record was written in this transaction"
    return render(ConsentRecordOut, document, 201)


def _with_fields(response: Response, fields: dict[str, Any]) -> Response:
    """The response with fields added to its JSON body (what must be answered once, never stored)."""
    body = {**orjson.loads(response.body), **fields}
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return Response(orjson.dumps(body), status_code=response.status_code, headers=headers)


@router.post(
    "",
    status_code=201,
    response_model=ConsentRecordOut,
    summary="Record a consent grant or revocation (PENDING with a confirmation token when double opt-in applies)",
)
async def record_consent(
    customer_id: CustomerId, body: ConsentIn, request: Request, principal: ConsentWriter, services: Services
) -> Response:
    point = body.contact_point
    evidence = body.evidence
    command = uc.RecordConsent(
        customer_id=customer_id,
        channel=body.type.value,
        status=body.status,
        purpose=body.purpose,
        contact_email=point.email if point else None,
        contact_phone=point.phone if point else None,
        contact_id=point.contact_id if point else None,
        legal_basis=body.legal_basis.value,
        source=body.source.value,
        policy_version=body.policy_version,
        captured_by=evidence.captured_by if evidence else None,
        captured_at=evidence.captured_at if evidence else None,
        evidence_text=evidence.text if evidence else None,
        ip_address=evidence.ip_address if evidence else None,
        user_agent=evidence.user_agent if evidence else None,
        expires_at=body.expires_at,
        confirmation_ttl=timedelta(hours=services.settings.consent_confirmation_ttl_hours),
    )
    # The token is added to the first response only: the stored (replayable) response never holds it.
    revealed: dict[str, Any] = {}

    async def present(result: uc.ConsentRecorded, uow: UnitOfWork) -> Rendered:
        if result.confirmation_token is not None and result.confirmation_expires_at is not None:
            revealed["confirmationToken"] = result.confirmation_token
            revealed["confirmationExpiresAt"] = iso_millis(result.confirmation_expires_at)
        return await present_recorded(result, uow)

    response = await run_command(request, principal, uc.record_consent, command, present)
    return _with_fields(response, revealed) if revealed else response


@router.get("", response_model=ConsentStateList, summary="Current consent per channel, purpose and contact point")
async def current_consent(customer_id: CustomerId, principal: ConsentReader, services: Services) -> Response:
    records = await services.history.consent_records(principal.tenant_id, customer_id)
    if records is None:
        raise CustomerNotFound(customer_id)
    return render(ConsentStateList, {"customerId": customer_id, "items": consent_state(records)}).response()


@router.get("/history", response_model=ConsentHistoryPage, summary="Consent history (GetConsentHistoryQuery)")
async def consent_history(
    customer_id: CustomerId, principal: ConsentReader, services: Services, cursor: Cursor = None, limit: Limit = 50
) -> Response:
    page = await services.history.consent_history(principal.tenant_id, customer_id, cursor, limit)
    if page is None:
        raise CustomerNotFound(customer_id)
    return render(ConsentHistoryPage, {"items": page.items, "nextCursor": page.next_cursor}).response()
