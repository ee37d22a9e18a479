"""The privacy officer's pages: data-subject export, legal holds, and erasure with confirmation."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from starlette.responses import Response

from customer360.application import privacy as uc
from customer360.domain.errors import InvalidValue
from customer360.domain.ids import LEGAL_HOLD_PREFIX, id_pattern
from customer360.domain.privacy import LegalHoldActive
from customer360.infrastructure.rest.access import record_reads
from customer360.infrastructure.rest.auth import Forbidden
from customer360.infrastructure.rest.console.customer import read_profile
from customer360.infrastructure.rest.console.dependencies import Acting, Seen, run_as, services_of
from customer360.infrastructure.rest.console.rendering import ConsoleRoute, redirect, render_page
from customer360.infrastructure.rest.dispatch import context_of, render
from customer360.infrastructure.rest.models.privacy import PersonalDataExport
from customer360.infrastructure.rest.parameters import CustomerId
from customer360.infrastructure.rest.routers.privacy import hold_document, request_document

router = APIRouter(prefix="/console/customers/{customerId}", route_class=ConsoleRoute, include_in_schema=False)

HoldId = Annotated[str, Path(alias="holdId", pattern=id_pattern(LEGAL_HOLD_PREFIX))]
PRIVACY_PERMISSIONS = ("crm.privacy:export", "crm.privacy:hold", "crm.privacy:erase")
NOTICES = {"hold-placed": "Legal hold placed.", "hold-released": "Legal hold released."}


@router.get("/privacy")
async def privacy_page(customer_id: CustomerId, request: Request, seen: Seen, notice: str | None = None) -> Response:
    if not any(seen.may(p) for p in PRIVACY_PERMISSIONS):
        raise Forbidden(" or ".join(PRIVACY_PERMISSIONS))
    services = services_of(request)
    tenant = seen.principal.tenant_id
    profile = await read_profile(request, seen, customer_id)
    now = services.clock.now()
    context: dict[str, Any] = {
        "customer": profile,
        "holds": None,
        "requests": None,
        "notice": NOTICES.get(notice or ""),
    }
    if seen.may("crm.privacy:hold"):
        context["holds"] = [hold_document(h, now) for h in await services.privacy.holds(tenant, customer_id) or []]
    if seen.may("crm.privacy:erase"):
        requests = await services.privacy.erasure_requests(tenant, customer_id) or []
        context["requests"] = [request_document(r) for r in requests]
    return render_page(request, seen, "privacy.html", context)


@router.get("/privacy/export")
async def export_personal_data(customer_id: CustomerId, request: Request, seen: Seen) -> Response:
    """Everything held about the person, as the API's export (audited, in the access log), as a file."""
    seen.require("crm.privacy:export")
    document = await run_as(request, seen, uc.export_personal_data, uc.ExportPersonalData(customer_id))
    record_reads(request, seen.principal, "EXPORT", document["lineage"])
    rendered = render(PersonalDataExport, document)
    rendered.headers["Content-Disposition"] = f'attachment; filename="personal-data-{customer_id}.json"'
    rendered.headers["Cache-Control"] = "no-store"
    return rendered.response()


def _end_of_day(day: str) -> datetime | None:
    if not day:
        return None
    try:
        return datetime.combine(datetime.fromisoformat(day).date(), time(23, 59, 59), tzinfo=UTC)
    except ValueError:
        raise InvalidValue("expires", "must be a date such as 2027-06-30") from None


@router.post("/legal-holds")
async def place_legal_hold(
    customer_id: CustomerId,
    request: Request,
    seen: Acting,
    reason: Annotated[str, Form(min_length=1, max_length=500)],
    expires: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    seen.require("crm.privacy:hold")
    command = uc.PlaceLegalHold(customer_id, reason.strip(), _end_of_day(expires))
    await run_as(request, seen, uc.place_legal_hold, command)
    return redirect(f"/console/customers/{customer_id}/privacy?notice=hold-placed")


@router.post("/legal-holds/{holdId}/release")
async def release_legal_hold(customer_id: CustomerId, hold_id: HoldId, request: Request, seen: Acting) -> Response:
    seen.require("crm.privacy:hold")
    command = uc.ReleaseLegalHold(customer_id, hold_id)
    await run_as(request, seen, uc.release_legal_hold, command)
    return redirect(f"/console/customers/{customer_id}/privacy?notice=hold-released")


@router.post("/privacy/erasure")
async def erase_customer(
    customer_id: CustomerId,
    request: Request,
    seen: Acting,
    reason: Annotated[str, Form(min_length=1, max_length=500)],
    requester: Annotated[str, Form(min_length=1, max_length=200)],
    confirm: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Erasure of the whole merge lineage, only once the officer typed the customer's id to confirm."""
    seen.require("crm.privacy:erase")
    if confirm.strip() != customer_id:
        raise InvalidValue("confirm", f"type the customer id {customer_id} to confirm the erasure")
    services = services_of(request)
    context = context_of(request, seen.principal)
    try:
        erased = await services.executor.execute(
            context, uc.erase_customer, uc.EraseCustomer(customer_id, reason.strip(), requester.strip())
        )
    except LegalHoldActive as blocked:
        # As the API does: the refused request stays on record, to be taken up when the hold ends.
        blocked_command = uc.RecordBlockedErasure(customer_id, reason.strip(), requester.strip(), blocked.hold.id)
        await services.executor.execute(context, uc.record_blocked_erasure, blocked_command)
        raise
    return render_page(
        request, seen, "erased.html", {"request_doc": request_document(erased), "customer_id": customer_id}
    )
