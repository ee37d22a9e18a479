"""Consent (the seed's ConsentRecord): capture, current state, history."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from customer360.application import consents as uc
from customer360.application.queries import Answer, consent_state
from customer360.domain.errors import CustomerNotFound
from customer360.domain.primitives import iso_millis
from customer360.infrastructure.rest.auth import Principal
from customer360.infrastructure.rest.dependencies import Services, require
from customer360.infrastructure.rest.dispatch import IDEMPOTENT, Rendered, render, run_command
from customer360.infrastructure.rest.models.consents import (
    ConsentHistoryPage,
    ConsentIn,
    ConsentRecordOut,
    ConsentStateList,
)
from customer360.infrastructure.rest.parameters import Cursor, CustomerId, Limit

router = APIRouter(prefix="/api/v1/crm/customers/{customerId}/consent", tags=["consent"])

ConsentReader = Annotated[Principal, Depends(require("crm.consent:read"))]
ConsentWriter = Annotated[Principal, Depends(require("crm.consent:write"))]


def render_recorded(answer: Answer[uc.ConsentRecorded]) -> Rendered:
    return render(ConsentRecordOut, answer.documents[answer.result.consent_id], 201)


def confirmation_token(answer: Answer[uc.ConsentRecorded]) -> dict[str, Any]:
    """Double opt-in: the token goes out in the first response only (stored replays never hold it)."""
    result = answer.result
    if result.confirmation_token is None or result.confirmation_expires_at is None:
        return {}
    return {
        "confirmationToken": result.confirmation_token,
        "confirmationExpiresAt": iso_millis(result.confirmation_expires_at),
    }


@router.post(
    "",
    status_code=201,
    response_model=ConsentRecordOut,
    summary="Record a consent grant or revocation (PENDING with a confirmation token when double opt-in applies)",
    dependencies=[IDEMPOTENT],
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
    return await run_command(
        request, principal, uc.record_consent, command, render_recorded, uc.consent_answer, reveal=confirmation_token
    )


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
