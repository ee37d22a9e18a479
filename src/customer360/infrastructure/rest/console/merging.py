"""Merge with a field-by-field choice of the surviving value (preview first, versions shown), and unmerge."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from customer360.application import golden_record as gr
from customer360.application import merges as uc
from customer360.domain.errors import CustomerNotFound
from customer360.domain.ids import CUSTOMER_PREFIX, id_pattern
from customer360.domain.primitives import to_primitive
from customer360.domain.survivorship import FIELDS, UNION_ONLY
from customer360.infrastructure.rest.console.dependencies import Acting, Seen, run_as, services_of
from customer360.infrastructure.rest.console.rendering import ConsoleRoute, brief, is_fragment, redirect, render_page
from customer360.infrastructure.rest.console.security import Viewer
from customer360.infrastructure.rest.console.side_by_side import comparable
from customer360.infrastructure.rest.parameters import CustomerId

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

IdParam = Annotated[str, Query(pattern=id_pattern(CUSTOMER_PREFIX))]
IdField = Annotated[str, Form(pattern=id_pattern(CUSTOMER_PREFIX))]
CHOICE = "choice."
LABELS = {
    "name": "Name",
    "legalName": "Legal name",
    "givenName": "Given name",
    "familyName": "Family name",
    "birthDate": "Birth date",
    "segment": "Segment",
    "industry": "Industry",
    "website": "Website",
    "locale": "Locale",
    "communication": "Communication preferences",
    "taxIds": "Tax ids",
    "emails": "E-mails",
    "phones": "Phones",
    "addresses": "Addresses",
    "tags": "Tags",
    "externalRefs": "External refs",
}
SIDES = {"TARGET": "target", "SOURCE": "source", "BOTH": "both"}


def _choices(values: Any) -> dict[str, str]:
    """``choice.<field>`` = TARGET | SOURCE | UNION from the form; empty means the tenant's policy decides."""
    return {
        key.removeprefix(CHOICE): str(value)
        for key, value in values.multi_items()
        if key.startswith(CHOICE) and value in ("TARGET", "SOURCE", "UNION")
    }


async def _profile(request: Request, tenant_id: str, customer_id: str) -> dict[str, Any]:
    document: dict[str, Any] | None = await services_of(request).profiles.profile(tenant_id, customer_id)
    if document is None:
        raise CustomerNotFound(customer_id)
    return document


def _rows(target: dict[str, Any], source: dict[str, Any], preview: uc.MergePreview, choices: dict[str, str]) -> Any:
    golden = to_primitive(preview.golden.attributes)
    provenance = gr.provenance_document(preview.provenance, status="ACTIVE", merged_into=None)
    rows = []
    for spec in FIELDS:
        decision = preview.golden.decision(spec.name)
        t, s, g = brief(target.get(spec.name)), brief(source.get(spec.name)), brief(golden.get(spec.name))
        if t == s == g == "—":
            continue
        rows.append(
            {
                "field": spec.name,
                "label": LABELS.get(spec.name, spec.name),
                "target": t,
                "source": s,
                "golden": g,
                "multi": spec.multi,
                "union_only": spec.name in UNION_ONLY,
                "choice": choices.get(spec.name, ""),
                "rule": decision.rule,
                "winner": SIDES.get(decision.winner, decision.winner.lower()),
                "fallback": decision.fallback,
                "same": comparable(spec.name, target.get(spec.name)) == comparable(spec.name, source.get(spec.name)),
                "origin": _origin(provenance, spec.name, spec.multi),
            }
        )
    return rows


def _origin(provenance: dict[str, Any], field: str, multi: bool) -> list[str]:
    """The records the value will have come from after the merge (the provenance the merge stores)."""
    if multi:
        listed = provenance["lists"].get(field)
        holders = {o["customerId"] for item in listed["items"] for o in item["sources"]} if listed else set()
        return sorted(holders)
    entry = provenance["fields"].get(field)
    return [entry["sourceCustomerId"]] if entry else []


async def _merge_form(
    request: Request, seen: Viewer, target: str, source: str, choices: dict[str, str], fragment: bool
) -> Response:
    preview: uc.MergePreview = await run_as(
        request,
        seen,
        uc.preview_merge,
        uc.MergeCustomers(target_id=target, source_id=source, field_choices=choices),
    )
    tenant = seen.principal.tenant_id
    target_doc, source_doc = await _profile(request, tenant, target), await _profile(request, tenant, source)
    context = {
        "target": target_doc,
        "source": source_doc,
        "preview": preview,
        "rows": _rows(target_doc, source_doc, preview, choices),
        "contacts": [c for c in preview.contacts if c.active],
        "retired_contacts": preview.retired_contacts,
        "would_move": {k: v for k, v in preview.would_move.items() if v},
        "consent_changes": preview.derived_consents,
    }
    return render_page(request, seen, "fragments/merge_preview.html" if fragment else "merge.html", context)


@router.get("/merge")
async def merge_page(request: Request, seen: Seen, target: IdParam, source: IdParam) -> Response:
    """The merge form, first as the tenant's survivorship policy would decide every field."""
    seen.require("crm.customer:read")
    return await _merge_form(request, seen, target, source, {}, fragment=False)


@router.post("/merge/preview")
async def merge_preview(request: Request, seen: Acting, target: IdField, source: IdField) -> Response:
    """The form again with the steward's choices applied (htmx swaps only the preview); changes nothing."""
    seen.require("crm.customer:read")
    choices = _choices(await request.form())
    return await _merge_form(request, seen, target, source, choices, fragment=is_fragment(request))


@router.post("/merge")
async def merge(
    request: Request,
    seen: Acting,
    target: IdField,
    source: IdField,
    target_version: Annotated[int, Form(ge=1)],
    source_version: Annotated[int, Form(ge=1)],
) -> Response:
    """MergeCustomerProfiles with the versions the steward saw: a stale page gets 412, nothing merged."""
    seen.require("crm.customer:merge")
    command = uc.MergeCustomers(
        target_id=target,
        source_id=source,
        reason="DUPLICATE",
        field_choices=_choices(await request.form()),
        target_version=target_version,
        source_version=source_version,
    )
    await run_as(request, seen, uc.merge_customers, command)
    return redirect(f"/console/customers/{target}?notice=merged")


@router.post("/customers/{customerId}/unmerge")
async def unmerge(
    customer_id: CustomerId,
    request: Request,
    seen: Acting,
    source: IdField,
    version: Annotated[int, Form(ge=1)],
) -> Response:
    """Undo a merge from the merge history; the conflicts the unmerge reports are shown, not hidden."""
    seen.require("crm.customer:merge")
    command = uc.UnmergeCustomers(customer_id, source, version)
    outcome: uc.UnmergeOutcome = await run_as(request, seen, uc.unmerge_customers, command)
    tenant = seen.principal.tenant_id
    context = {
        "outcome": outcome,
        "target": await _profile(request, tenant, customer_id),
        "source": await _profile(request, tenant, source),
    }
    return render_page(request, seen, "unmerged.html", context)
