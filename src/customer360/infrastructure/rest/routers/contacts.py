"""Contacts of a customer (the seed's Contact entity): list, add, update, remove."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from customer360.application import customers as uc
from customer360.application.queries import Answer
from customer360.domain.errors import ContactNotFound, CustomerNotFound
from customer360.domain.ids import CONTACT_PREFIX, id_pattern
from customer360.infrastructure.rest.access import record_reads
from customer360.infrastructure.rest.dependencies import Services
from customer360.infrastructure.rest.dispatch import IDEMPOTENT, IfMatch, Rendered, etag, render, run_command
from customer360.infrastructure.rest.models.common import created_with_links, headers
from customer360.infrastructure.rest.models.customers import ContactIn, ContactList, ContactOut, ContactPatch
from customer360.infrastructure.rest.parameters import CustomerId, Reader, Writer

router = APIRouter(prefix="/api/v1/crm/customers/{customerId}/contacts", tags=["contacts"])

ContactId = Annotated[str, Path(alias="contactId", pattern=id_pattern(CONTACT_PREFIX))]


def _contact(answer: Answer[uc.ProfileChanged], status_code: int) -> Rendered:
    result = answer.result
    document = answer.documents[result.customer_id]
    for contact in document["contacts"]:
        if contact["id"] == result.contact_id:
            headers = {"ETag": etag(document["version"])}
            if status_code == 201:
                headers["Location"] = f"/api/v1/crm/customers/{result.customer_id}/contacts/{result.contact_id}"
            return render(ContactOut, contact, status_code, **headers)
    if status_code == 204:
        return Rendered(204, b"", {"ETag": etag(document["version"])})
    raise ContactNotFound(result.customer_id, result.contact_id or "")


def render_added(answer: Answer[uc.ProfileChanged]) -> Rendered:
    return _contact(answer, 201)


def render_updated(answer: Answer[uc.ProfileChanged]) -> Rendered:
    return _contact(answer, 200)


def render_removed(answer: Answer[uc.ProfileChanged]) -> Rendered:
    return _contact(answer, 204)


@router.get("", response_model=ContactList, summary="List the customer's contacts")
async def list_contacts(customer_id: CustomerId, request: Request, principal: Reader, services: Services) -> Response:
    contacts = await services.profiles.contacts(principal.tenant_id, customer_id)
    if contacts is None:
        raise CustomerNotFound(customer_id)
    record_reads(request, principal, "CONTACTS_READ", [customer_id])
    return render(ContactList, {"items": contacts}).response()


@router.post(
    "",
    status_code=201,
    response_model=ContactOut,
    summary="Add a contact",
    responses=created_with_links(
        ContactOut,
        "add_contact",
        {"UpdateContact": "update_contact", "RemoveContact": "remove_contact"},
        sends=("ETag", "Location"),
        customerId="$request.path.customerId",
        contactId="$response.body#/id",
    ),
    dependencies=[IDEMPOTENT],
)
async def add_contact(
    customer_id: CustomerId, body: ContactIn, request: Request, principal: Writer, version: IfMatch
) -> Response:
    command = uc.AddContact(customer_id, body.to_input(), version)
    return await run_command(request, principal, uc.add_contact, command, render_added, uc.profile_answer)


@router.patch(
    "/{contactId}",
    response_model=ContactOut,
    summary="Update a contact (JSON merge patch)",
    responses={200: headers("ETag")},
)
async def update_contact(
    customer_id: CustomerId,
    contact_id: ContactId,
    body: ContactPatch,
    request: Request,
    principal: Writer,
    version: IfMatch,
) -> Response:
    command = uc.UpdateContact(customer_id, contact_id, body.to_input(), version)
    return await run_command(request, principal, uc.update_contact, command, render_updated, uc.profile_answer)


@router.delete(
    "/{contactId}",
    status_code=204,
    summary="Remove a contact (kept for history, hidden from reads)",
    responses={204: headers("ETag")},
)
async def remove_contact(
    customer_id: CustomerId, contact_id: ContactId, request: Request, principal: Writer, version: IfMatch
) -> Response:
    command = uc.RemoveContact(customer_id, contact_id, version)
    return await run_command(request, principal, uc.remove_contact, command, render_removed, uc.profile_answer)
