"""The seed's integration points: Service Orders (entitlements, service history), Finance/AR (billing and
credit), Pipeline (exact-key look-up for enrichment). Registered before the customers router, so that
``/customers/lookup`` is not read as a customer id."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from customer360.application.integration_queries import lookup_criteria
from customer360.domain.errors import CustomerNotFound
from customer360.infrastructure.rest.access import record_reads
from customer360.infrastructure.rest.dependencies import Services
from customer360.infrastructure.rest.dispatch import render
from customer360.infrastructure.rest.models.common import IsoDate
from customer360.infrastructure.rest.models.integration import Billing, Entitlements, LookupResults, ServiceHistory
from customer360.infrastructure.rest.parameters import WHOLE_EMAIL, Cursor, CustomerId, Limit, Reader

router = APIRouter(prefix="/api/v1/crm/customers", tags=["integration"])


@router.get("/lookup", response_model=LookupResults, summary="Profiles matching exact keys (Pipeline enrichment)")
async def lookup_customers(
    request: Request,
    principal: Reader,
    services: Services,
    email: Annotated[
        str | None, Query(max_length=320, pattern=WHOLE_EMAIL, description="Of the profile or of a contact")
    ] = None,
    domain: Annotated[str | None, Query(max_length=255, description="Web domain (or an e-mail's domain)")] = None,
    phone: Annotated[str | None, Query(max_length=64, description="Any format")] = None,
    tax_id: Annotated[str | None, Query(alias="taxId", max_length=64)] = None,
    external_ref: Annotated[str | None, Query(alias="externalRef", max_length=150, description="SYSTEM:id")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    criteria = lookup_criteria(
        email=email,
        domain=domain,
        phone=phone,
        tax_id=tax_id,
        external_ref=external_ref,
        region=services.settings.phone_default_region,
        limit=limit,
    )
    items = await services.integration.lookup(principal.tenant_id, criteria)
    record_reads(request, principal, "LOOKUP", [item["id"] for item in items])
    return render(LookupResults, {"matchedOn": criteria.labels, "items": items}).response()


@router.get(
    "/{customerId}/entitlements",
    response_model=Entitlements,
    summary="Active entitlements and the effective SLA on a day (Service Orders)",
)
async def get_entitlements(
    customer_id: CustomerId,
    request: Request,
    principal: Reader,
    services: Services,
    at: Annotated[IsoDate | None, Query(description="Day to evaluate (YYYY-MM-DD); default today (UTC)")] = None,
) -> Response:
    day = at or datetime.now(UTC).date()
    document = await services.integration.entitlements(principal.tenant_id, customer_id, day)
    if document is None:
        raise CustomerNotFound(customer_id)
    record_reads(request, principal, "ENTITLEMENTS_READ", [customer_id])
    return render(Entitlements, document).response()


@router.get(
    "/{customerId}/billing",
    response_model=Billing,
    summary="Billing contacts, billing address, tax ids and the credit read model (Finance/AR)",
)
async def get_billing(customer_id: CustomerId, request: Request, principal: Reader, services: Services) -> Response:
    document = await services.integration.billing(principal.tenant_id, customer_id)
    if document is None:
        raise CustomerNotFound(customer_id)
    record_reads(request, principal, "BILLING_READ", [customer_id])
    return render(Billing, document).response()


@router.get(
    "/{customerId}/service-history",
    response_model=ServiceHistory,
    summary="Service orders opened for the customer, newest first (from ServiceOrderCreatedEvent)",
)
async def get_service_history(
    customer_id: CustomerId,
    request: Request,
    principal: Reader,
    services: Services,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    document = await services.integration.service_history(principal.tenant_id, customer_id, cursor, limit)
    if document is None:
        raise CustomerNotFound(customer_id)
    record_reads(request, principal, "SERVICE_HISTORY_READ", [customer_id])
    return render(ServiceHistory, document).response()
