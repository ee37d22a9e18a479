"""The customer 360 page: profile, contacts, addresses, relationships and hierarchy, consent, preferences,
merges, audit trail and events, each section shown to those whose permissions the API would ask for."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from customer360.application.queries import consent_state
from customer360.domain.errors import CustomerNotFound
from customer360.infrastructure.rest.access import record_reads
from customer360.infrastructure.rest.console.dependencies import Seen, services_of
from customer360.infrastructure.rest.console.rendering import ConsoleRoute, render_page
from customer360.infrastructure.rest.console.security import Viewer
from customer360.infrastructure.rest.dependencies import ApiServices
from customer360.infrastructure.rest.parameters import CustomerId

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

NOTICES = {
    "merged": "Merged. The other profile's data is now part of this golden record; the merge can be undone below.",
    "dismissed": "Recorded as not a duplicate. The pair will not be suggested again.",
    "hold-placed": "Legal hold placed.",
    "hold-released": "Legal hold released.",
}
SHOWN = 50


@router.get("/customers/{customerId}")
async def customer_page(
    customer_id: CustomerId,
    request: Request,
    seen: Seen,
    notice: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    seen.require("crm.customer:read")
    services = services_of(request)
    tenant = seen.principal.tenant_id
    profile = await read_profile(request, seen, customer_id)
    today = services.clock.now().date()
    context: dict[str, Any] = {
        "customer": profile,
        "notice": NOTICES.get(notice or ""),
        "relationships": await services.relationships.relationships(tenant, customer_id, None) or [],
        "tree": hierarchy_tree(profile, await services.relationships.hierarchy(tenant, customer_id, today, 10)),
        "merges": await merges_of(services, tenant, customer_id),
        "consents": None,
        "consent_history": None,
        "audit": None,
        "events": None,
    }
    if seen.may("crm.consent:read"):
        records = await services.history.consent_records(tenant, customer_id) or []
        context["consents"] = consent_state(records)
        history = await services.history.consent_history(tenant, customer_id, None, 200)
        context["consent_history"] = list(reversed(history.items)) if history else []
    if seen.may("crm.audit:read"):
        context["audit"] = await services.history.recent_audit(tenant, customer_id, SHOWN)
    if seen.may("crm.events:read"):
        context["events"] = await services.history.customer_events(tenant, customer_id, SHOWN)
    return render_page(request, seen, "customer.html", context)


async def read_profile(request: Request, seen: Viewer, customer_id: str) -> dict[str, Any]:
    """The profile a page shows, recorded as read; 404 when the tenant has none of that id."""
    profile: dict[str, Any] | None = await services_of(request).profiles.profile(seen.principal.tenant_id, customer_id)
    if profile is None:
        raise CustomerNotFound(customer_id)
    record_reads(request, seen.principal, "PROFILE_READ", [customer_id])
    return profile


def hierarchy_tree(profile: dict[str, Any], hierarchy: dict[str, Any] | None) -> dict[str, Any] | None:
    """The hierarchy as one nested tree from the root down (None when the customer stands alone):
    ancestors as a chain down to the customer, then the customer's descendants under their parents."""
    if hierarchy is None or not (hierarchy["ancestors"] or hierarchy["descendants"]):
        return None
    me: dict[str, Any] = {"id": profile["id"], "name": profile["name"], "children": []}
    nodes = {me["id"]: me}
    for descendant in hierarchy["descendants"]:
        node = {"id": descendant["id"], "name": descendant["name"], "children": []}
        nodes[node["id"]] = node
        parent = nodes.get(descendant["parentId"])
        if parent is not None:
            parent["children"].append(node)
    root = me
    for ancestor in hierarchy["ancestors"]:
        root = {"id": ancestor["id"], "name": ancestor["name"], "children": [root]}
    return root


async def merges_of(services: ApiServices, tenant_id: str, customer_id: str) -> list[dict[str, Any]]:
    """Every merge the customer took part in, newest first."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await services.merges.merges_of(tenant_id, customer_id, cursor, 200)
        if page is None:
            return items
        items.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return list(reversed(items))
