"""Relationships between customers and the account hierarchy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from customer360.application import relationships as uc
from customer360.application.queries import Answer
from customer360.domain.errors import CustomerNotFound, RelationshipNotFound
from customer360.domain.ids import RELATIONSHIP_PREFIX, id_pattern
from customer360.infrastructure.rest.dependencies import Services
from customer360.infrastructure.rest.dispatch import IDEMPOTENT, Rendered, render, run_command
from customer360.infrastructure.rest.models.common import IsoDate, created_with_links
from customer360.infrastructure.rest.models.relationships import (
    HierarchyOut,
    RelationshipIn,
    RelationshipList,
    RelationshipOut,
    RelationshipValidityIn,
)
from customer360.infrastructure.rest.parameters import CustomerId, Reader, Writer

router = APIRouter(prefix="/api/v1/crm/customers/{customerId}", tags=["relationships"])

RelationshipId = Annotated[str, Path(alias="relationshipId", pattern=id_pattern(RELATIONSHIP_PREFIX))]


def _render(answer: Answer[uc.RelationshipChanged], status_code: int) -> Rendered:
    document = answer.documents.get(answer.result.relationship_id)
    if document is None:
        if status_code == 204:
            return Rendered(204, b"", {})
        raise RelationshipNotFound(answer.result.relationship_id)
    return render(RelationshipOut, document, status_code)


def render_added(answer: Answer[uc.RelationshipChanged]) -> Rendered:
    return _render(answer, 201)


def render_changed(answer: Answer[uc.RelationshipChanged]) -> Rendered:
    return _render(answer, 200)


def render_removed(answer: Answer[uc.RelationshipChanged]) -> Rendered:
    return _render(answer, 204)


@router.post(
    "/relationships",
    status_code=201,
    response_model=RelationshipOut,
    summary="Link to another customer",
    responses=created_with_links(
        RelationshipOut,
        "add_relationship",
        {"ChangeRelationship": "change_relationship", "RemoveRelationship": "remove_relationship"},
        customerId="$request.path.customerId",
        relationshipId="$response.body#/id",
    ),
    dependencies=[IDEMPOTENT],
)
async def add_relationship(
    customer_id: CustomerId, body: RelationshipIn, request: Request, principal: Writer
) -> Response:
    command = uc.AddRelationship(customer_id, body.to_customer_id, body.type.value, body.valid_from, body.valid_to)
    return await run_command(request, principal, uc.add_relationship, command, render_added, uc.relationship_answer)


@router.get("/relationships", response_model=RelationshipList, summary="Relationships in both directions")
async def list_relationships(
    customer_id: CustomerId,
    principal: Reader,
    services: Services,
    on: Annotated[IsoDate | None, Query(description="Only those valid on this day")] = None,
) -> Response:
    items = await services.relationships.relationships(principal.tenant_id, customer_id, on)
    if items is None:
        raise CustomerNotFound(customer_id)
    return render(RelationshipList, {"items": items}).response()


@router.patch(
    "/relationships/{relationshipId}", response_model=RelationshipOut, summary="Change a relationship's validity"
)
async def change_relationship(
    customer_id: CustomerId,
    relationship_id: RelationshipId,
    body: RelationshipValidityIn,
    request: Request,
    principal: Writer,
) -> Response:
    command = uc.ChangeRelationshipValidity(customer_id, relationship_id, body.valid_from, body.valid_to)
    return await run_command(
        request, principal, uc.change_relationship_validity, command, render_changed, uc.relationship_answer
    )


@router.delete("/relationships/{relationshipId}", status_code=204, summary="End a relationship")
async def remove_relationship(
    customer_id: CustomerId, relationship_id: RelationshipId, request: Request, principal: Writer
) -> Response:
    command = uc.RemoveRelationship(customer_id, relationship_id)
    return await run_command(
        request, principal, uc.remove_relationship, command, render_removed, uc.relationship_answer
    )


@router.get("/hierarchy", response_model=HierarchyOut, summary="Account hierarchy: ancestors and descendants")
async def hierarchy(
    customer_id: CustomerId,
    principal: Reader,
    services: Services,
    on: Annotated[IsoDate | None, Query(description="The day the hierarchy is valid on; default today")] = None,
    depth: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Response:
    day = on or services.clock.now().date()
    document = await services.relationships.hierarchy(principal.tenant_id, customer_id, day, depth)
    if document is None:
        raise CustomerNotFound(customer_id)
    return render(HierarchyOut, document).response()
