"""Merge, merge preview, unmerge, provenance, merge history and the survivorship policy."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import Response

from customer360.application import golden_record as gr
from customer360.application import merges as uc
from customer360.application.queries import Answer
from customer360.domain.errors import CustomerNotFound, InvalidValue, MergeNotFound
from customer360.domain.ids import MERGE_PREFIX, id_pattern
from customer360.domain.primitives import to_primitive
from customer360.domain.survivorship import SurvivorshipPolicy
from customer360.infrastructure.rest.auth import Principal
from customer360.infrastructure.rest.dependencies import Services, require
from customer360.infrastructure.rest.dispatch import IDEMPOTENT, IfMatch, Rendered, etag, render, run_command
from customer360.infrastructure.rest.models.common import headers
from customer360.infrastructure.rest.models.merges import (
    MergeIn,
    MergeOut,
    MergePage,
    MergePreviewOut,
    MergeRecordOut,
    PolicyIn,
    PolicyOut,
    ProvenanceOut,
    UnmergeIn,
    UnmergeOut,
)
from customer360.infrastructure.rest.parameters import Cursor, CustomerId, Limit

router = APIRouter(prefix="/api/v1/crm", tags=["merge"])

Reader = Annotated[Principal, Depends(require("crm.customer:read"))]
Merger = Annotated[Principal, Depends(require("crm.customer:merge"))]
Auditor = Annotated[Principal, Depends(require("crm.audit:read"))]
MergeId = Annotated[str, Path(alias="mergeId", pattern=id_pattern(MERGE_PREFIX))]
POLICY = "/survivorship-policy"


def _target_version(in_header: int | None, in_body: int | None) -> int | None:
    if in_header is not None and in_body is not None and in_header != in_body:
        raise InvalidValue("targetVersion", "differs from If-Match")
    return in_body if in_body is not None else in_header


def _merge_command(customer_id: str, body: MergeIn, in_header: int | None) -> uc.MergeCustomers:
    return uc.MergeCustomers(
        target_id=customer_id,
        source_id=body.source_customer_id,
        reason=body.merge_reason,
        field_choices=dict(body.field_choices or {}),
        target_version=_target_version(in_header, body.target_version),
        source_version=body.source_version,
    )


def render_merge(answer: Answer[uc.MergeOutcome]) -> Rendered:
    result = answer.result
    customer = answer.documents[result.target_id]
    body = {
        "mergeId": result.merge_id,
        "targetCustomerId": result.target_id,
        "sourceCustomerId": result.source_id,
        "mergeReason": result.reason,
        "customer": customer,
        "moved": result.moved,
        "leftBehind": result.left_behind,
        "retiredContacts": list(result.retired_contacts),
        "retiredRelationships": list(result.retired_relationships),
        "derivedConsents": list(result.derived_consents),
    }
    return render(MergeOut, body, ETag=etag(customer["version"]))


def render_preview(result: uc.MergePreview) -> Rendered:
    golden = to_primitive(result.golden.attributes)
    golden["contacts"] = [
        {"id": c.id, **to_primitive(c.attributes), "createdAt": c.created_at, "updatedAt": c.updated_at}
        for c in result.contacts
        if c.active
    ]
    body = {
        "targetCustomerId": result.target_id,
        "sourceCustomerId": result.source_id,
        "targetVersion": result.target_version,
        "sourceVersion": result.source_version,
        "golden": golden,
        "decisions": [
            {"field": d.field, "rule": d.rule, "winner": d.winner, "fallback": d.fallback}
            for d in result.golden.decisions
        ],
        "provenance": gr.provenance_document(result.provenance, status="ACTIVE", merged_into=None),
        "wouldMove": result.would_move,
        "retiredContacts": list(result.retired_contacts),
        "retiredRelationships": list(result.retired_relationships),
        "consentChanges": [
            {
                "type": r.channel.value,
                "purpose": r.purpose,
                "contactPoint": r.contact_point.key if r.contact_point else None,
                "status": r.status.value,
                "note": r.evidence.text or "",
            }
            for r in result.derived_consents
        ],
    }
    return render(MergePreviewOut, body)


def render_unmerge(answer: Answer[uc.UnmergeOutcome]) -> Rendered:
    result = answer.result
    target = answer.documents[result.target_id]
    body = {
        "mergeId": result.merge_id,
        "target": target,
        "source": answer.documents[result.source_id],
        **result.to_document(),
    }
    return render(UnmergeOut, body, ETag=etag(target["version"]))


def render_provenance(result: dict[str, Any]) -> Rendered:
    return render(ProvenanceOut, result)


def render_policy(result: SurvivorshipPolicy) -> Rendered:
    body = {**result.to_document(), "version": result.version}
    return render(PolicyOut, body, ETag=etag(result.version))


@router.post(
    "/customers/{customerId}/merge",
    response_model=MergeOut,
    summary="Merge a source profile into this one (MergeCustomerProfiles); If-Match and sourceVersion required",
    responses={200: headers("ETag")},
    dependencies=[IDEMPOTENT],
)
async def merge_customer(
    customer_id: CustomerId, body: MergeIn, request: Request, principal: Merger, version: IfMatch
) -> Response:
    command = _merge_command(customer_id, body, version)
    return await run_command(request, principal, uc.merge_customers, command, render_merge, uc.merge_answer)


@router.post(
    "/customers/{customerId}/merge/preview",
    response_model=MergePreviewOut,
    summary="The golden record a merge would produce, and what it would move; changes nothing",
    dependencies=[IDEMPOTENT],
)
async def preview_merge(
    customer_id: CustomerId, body: MergeIn, request: Request, principal: Reader, version: IfMatch
) -> Response:
    command = _merge_command(customer_id, body, version)
    return await run_command(request, principal, uc.preview_merge, command, render_preview)


@router.post(
    "/customers/{customerId}/unmerge",
    response_model=UnmergeOut,
    summary="Undo the merge of a source into this profile; later changes stay, conflicts are reported",
    responses={200: headers("ETag")},
    dependencies=[IDEMPOTENT],
)
async def unmerge_customer(
    customer_id: CustomerId, body: UnmergeIn, request: Request, principal: Merger, version: IfMatch
) -> Response:
    command = uc.UnmergeCustomers(customer_id, body.source_customer_id, _target_version(version, body.target_version))
    return await run_command(request, principal, uc.unmerge_customers, command, render_unmerge, uc.unmerge_answer)


@router.get(
    "/customers/{customerId}/provenance",
    response_model=ProvenanceOut,
    summary="Where every field of the golden record came from (record, merge, rule)",
)
async def get_provenance(customer_id: CustomerId, request: Request, principal: Reader) -> Response:
    return await run_command(
        request, principal, gr.describe_provenance, gr.GetProvenance(customer_id), render_provenance
    )


@router.get("/customers/{customerId}/merges", response_model=MergePage, summary="Merges of this customer")
async def list_merges(
    customer_id: CustomerId, principal: Reader, services: Services, cursor: Cursor = None, limit: Limit = 50
) -> Response:
    page = await services.merges.merges_of(principal.tenant_id, customer_id, cursor, limit)
    if page is None:
        raise CustomerNotFound(customer_id)
    return render(MergePage, {"items": page.items, "nextCursor": page.next_cursor}).response()


@router.get(
    "/merges/{mergeId}",
    response_model=MergeRecordOut,
    summary="The merge audit record: before-images, golden record, decisions, re-pointed rows",
)
async def get_merge(merge_id: MergeId, principal: Auditor, services: Services) -> Response:
    document = await services.merges.merge(principal.tenant_id, merge_id)
    if document is None:
        raise MergeNotFound(merge_id)
    return render(MergeRecordOut, document).response()


@router.get(
    POLICY, response_model=PolicyOut, summary="The tenant's survivorship policy", responses={200: headers("ETag")}
)
async def get_survivorship_policy(request: Request, principal: Reader) -> Response:
    return await run_command(request, principal, gr.get_policy, gr.GetSurvivorshipPolicy(), render_policy)


@router.put(
    POLICY,
    response_model=PolicyOut,
    summary="Set the tenant's survivorship policy (If-Match honoured)",
    responses={200: headers("ETag")},
)
async def set_survivorship_policy(body: PolicyIn, request: Request, principal: Merger, version: IfMatch) -> Response:
    command = gr.SetSurvivorshipPolicy(dict(body.rules), body.source_priority, version)
    return await run_command(request, principal, gr.set_policy, command, render_policy)
