"""Customer profiles: create, read, patch, status, list, search, audit."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from customer360.application import customers as uc
from customer360.application.duplicates import DuplicateCheck
from customer360.application.profile_input import parse_timestamp
from customer360.application.queries import Answer, CustomerFilter, survivor
from customer360.application.search import search_criteria
from customer360.domain.duplicates import override_reason
from customer360.domain.errors import CustomerNotFound
from customer360.domain.values import CustomerKind
from customer360.infrastructure.rest.access import record_reads
from customer360.infrastructure.rest.auth import Principal
from customer360.infrastructure.rest.dependencies import Services, require
from customer360.infrastructure.rest.dispatch import (
    IDEMPOTENT,
    IfMatch,
    Rendered,
    etag,
    not_modified,
    render,
    run_command,
)
from customer360.infrastructure.rest.models.common import created_with_links, headers
from customer360.infrastructure.rest.models.customers import (
    CustomerCreate,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    SearchResults,
    StatusChange,
)
from customer360.infrastructure.rest.models.relationships import AuditPage
from customer360.infrastructure.rest.parameters import (
    ISO_TIMESTAMP,
    PROFILE_PATH,
    SEARCH_EMAIL,
    Cursor,
    CustomerId,
    Limit,
    Reader,
    Writer,
)

router = APIRouter(prefix="/api/v1/crm/customers", tags=["customers"])


def duplicate_check(check_on_create: bool, override: bool, reason: str | None) -> DuplicateCheck | None:
    """The real-time duplicate check a create asks for: None when the service does not check on create
    (DUPLICATE_CHECK_ON_CREATE=false) and no override is asked for. ``?override=true`` with an
    ``X-Override-Reason`` creates a likely duplicate anyway (the reason is audited on the new profile);
    HTTP headers are ASCII, so a reason with other characters comes percent-encoded (UTF-8)."""
    if override:
        return DuplicateCheck(override_reason=override_reason(unquote(reason) if reason is not None else None))
    if check_on_create:
        return DuplicateCheck()
    return None


def render_profile(answer: Answer[uc.ProfileChanged], status_code: int = 200) -> Rendered:
    document = answer.documents[answer.result.customer_id]
    headers = {"ETag": etag(document["version"])}
    if status_code == 201:
        headers["Location"] = f"/api/v1/crm/customers/{document['id']}"
    return render(CustomerOut, document, status_code, **headers)


def render_created(answer: Answer[uc.ProfileChanged]) -> Rendered:
    return render_profile(answer, 201)


_CUSTOMER_LINKS = {
    "GetCustomer": "get_customer",
    "PatchCustomer": "patch_customer",
    "ChangeStatus": "change_status",
    "GetAudit": "get_audit",
    "ListContacts": "list_contacts",
    "AddContact": "add_contact",
    "RecordConsent": "record_consent",
    "CurrentConsent": "current_consent",
    "ConsentHistory": "consent_history",
    "AddRelationship": "add_relationship",
    "ListRelationships": "list_relationships",
    "Hierarchy": "hierarchy",
}


@router.post(
    "",
    status_code=201,
    response_model=CustomerOut,
    summary="Create a customer profile",
    responses=created_with_links(
        CustomerOut, "create_customer", _CUSTOMER_LINKS, sends=("ETag", "Location"), customerId="$response.body#/id"
    ),
    dependencies=[IDEMPOTENT],
)
async def create_customer(
    body: CustomerCreate,
    request: Request,
    principal: Writer,
    services: Services,
    override: Annotated[
        bool, Query(description="Create even if it is a likely duplicate (409 DUPLICATE_CUSTOMER otherwise)")
    ] = False,
    override_reason: Annotated[
        str | None,
        Header(alias="X-Override-Reason", max_length=1500, description="Required with override=true (audited)"),
    ] = None,
) -> Response:
    command = uc.CreateCustomerProfile(
        attributes=body.to_input(),
        status=body.status,
        contacts=body.contact_inputs(),
        duplicate_check=duplicate_check(services.settings.duplicate_check_on_create, override, override_reason),
    )
    return await run_command(request, principal, uc.create_customer_profile, command, render_created, uc.profile_answer)


@router.get("", response_model=CustomerPage, summary="List customers (keyset pagination)")
async def list_customers(
    request: Request,
    principal: Reader,
    services: Services,
    status: Annotated[str | None, Query(pattern="^(ACTIVE|INACTIVE|ON_HOLD|MERGED|ERASED)$")] = None,
    segment: Annotated[str | None, Query(max_length=50)] = None,
    kind: CustomerKind | None = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    updated_since: Annotated[
        str | None,
        Query(alias="updatedSince", pattern=ISO_TIMESTAMP, description="ISO-8601 timestamp with offset"),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    page = await services.profiles.profiles(
        principal.tenant_id,
        CustomerFilter(
            status=status,
            segment=segment,
            kind=kind.value if kind else None,
            tag=tag,
            updated_since=parse_timestamp(updated_since, "updatedSince") if updated_since else None,
            cursor=cursor,
            limit=limit,
        ),
    )
    record_reads(request, principal, "PROFILE_LIST", [item["id"] for item in page.items])
    return render(CustomerPage, {"items": page.items, "nextCursor": page.next_cursor}).response()


@router.get("/search", response_model=SearchResults, summary="Search customers (SearchCustomersQuery)")
async def search_customers(
    request: Request,
    principal: Reader,
    services: Services,
    name: Annotated[
        str | None, Query(max_length=200, description="Accent/case-insensitive, partial, typo-tolerant")
    ] = None,
    email: Annotated[str | None, Query(max_length=320, pattern=SEARCH_EMAIL)] = None,
    phone: Annotated[str | None, Query(max_length=64, description="Any format")] = None,
    external_ref: Annotated[str | None, Query(alias="externalRef", max_length=150, description="SYSTEM:id")] = None,
    tax_id: Annotated[str | None, Query(alias="taxId", max_length=64)] = None,
    street: Annotated[str | None, Query(max_length=200, description="Words of a street line, each a prefix")] = None,
    city: Annotated[str | None, Query(max_length=100, description="Words of the city, each a prefix")] = None,
    postal_code: Annotated[str | None, Query(alias="postalCode", max_length=20, description="Or its start")] = None,
    country: Annotated[str | None, Query(max_length=2, description="ISO 3166-1 alpha-2")] = None,
    q: Annotated[
        str | None,
        Query(max_length=200, description="Free text: name words, an e-mail, a phone, a tax id or a reference"),
    ] = None,
    active_only: Annotated[bool, Query(alias="activeOnly")] = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    criteria = search_criteria(
        name=name,
        email=email,
        phone=phone,
        external_ref=external_ref,
        tax_id=tax_id,
        street=street,
        city=city,
        postal_code=postal_code,
        country=country,
        q=q,
        region=services.settings.phone_default_region,
        include_inactive=not active_only,
        limit=limit,
    )
    page = await services.profiles.search_text(principal.tenant_id, criteria)
    # Validated from PostgreSQL's text in one step: parsing it into dicts first and validating those cost
    # about a third more of the service's CPU per search (ten documents).
    results = SearchResults.model_validate_json(f'{{"items":{page}}}')
    record_reads(request, principal, "SEARCH", [hit.customer.id for hit in results.items])
    return Response(results.model_dump_json(by_alias=True).encode(), media_type="application/json")


@router.get(
    PROFILE_PATH,
    response_model=CustomerOut,
    summary="Get a customer profile (GetCustomerProfileById)",
    responses={
        200: headers("ETag", "Link", "Content-Location"),
        304: {"description": "Not modified: If-None-Match names the current version", **headers("ETag", "Link")},
    },
)
async def get_customer(
    customer_id: CustomerId,
    request: Request,
    principal: Reader,
    services: Services,
    resolve: Annotated[
        bool, Query(description="For a merged id, answer with its survivor (Content-Location names it)")
    ] = False,
    if_none_match: Annotated[
        str | None,
        Header(alias="If-None-Match", description="ETags the caller holds: 304 without a body if one is current"),
    ] = None,
) -> Response:
    profiles = services.profiles
    document = await profiles.profile(principal.tenant_id, customer_id)
    if document is None:
        raise CustomerNotFound(customer_id)
    headers: dict[str, str] = {}
    if document["status"] == "MERGED":
        # The merged profile stays readable; Link (or, with resolve, Content-Location) names the survivor.
        final = await survivor(profiles, principal.tenant_id, document)
        location = f"/api/v1/crm/customers/{final['id']}"
        if resolve:
            document, headers["Content-Location"] = final, location
        else:
            headers["Link"] = f'<{location}>; rel="canonical"'
    record_reads(request, principal, "PROFILE_READ", [customer_id, document["id"]])
    tag = etag(document["version"])
    if not_modified(if_none_match, tag):
        return Response(status_code=304, headers={"ETag": tag, **headers})
    rendered = render(CustomerOut, document, ETag=tag)
    rendered.headers.update(headers)
    return rendered.response()


def search_route() -> APIRoute:
    """The route rest/search_read.py answers the valid requests of."""
    return next(r for r in router.routes if isinstance(r, APIRoute) and r.endpoint is search_customers)


def get_customer_route() -> APIRoute:
    """The route rest/profile_read.py answers the plain case of."""
    return next(r for r in router.routes if isinstance(r, APIRoute) and r.endpoint is get_customer)


@router.patch(
    PROFILE_PATH,
    response_model=CustomerOut,
    summary="Update a customer profile (JSON merge patch; If-Match honoured)",
    responses={200: headers("ETag")},
    openapi_extra={
        "requestBody": {
            "content": {"application/merge-patch+json": {"schema": {"$ref": "#/components/schemas/CustomerPatch"}}}
        }
    },
)
async def patch_customer(
    customer_id: CustomerId, body: CustomerPatch, request: Request, principal: Writer, version: IfMatch
) -> Response:
    command = uc.UpdateCustomerProfile(customer_id, body.to_input(), version)
    return await run_command(request, principal, uc.update_customer_profile, command, render_profile, uc.profile_answer)


@router.post(
    "/{customerId}/status",
    response_model=CustomerOut,
    summary="Change the status",
    responses={200: headers("ETag")},
    dependencies=[IDEMPOTENT],
)
async def change_status(
    customer_id: CustomerId, body: StatusChange, request: Request, principal: Writer, version: IfMatch
) -> Response:
    command = uc.ChangeCustomerStatus(customer_id, body.status, body.reason, version)
    return await run_command(request, principal, uc.change_customer_status, command, render_profile, uc.profile_answer)


@router.get("/{customerId}/audit", response_model=AuditPage, summary="The customer's audit trail")
async def get_audit(
    customer_id: CustomerId,
    principal: Annotated[Principal, Depends(require("crm.audit:read"))],
    services: Services,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    page = await services.history.audit(principal.tenant_id, customer_id, cursor, limit)
    if page is None:
        raise CustomerNotFound(customer_id)
    return render(AuditPage, {"items": page.items, "nextCursor": page.next_cursor}).response()
