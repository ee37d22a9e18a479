"""Finding a customer: one box, searched by name, e-mail, phone, tax id or external reference as you type."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from customer360.application.search import search_criteria
from customer360.domain.errors import InvalidValue
from customer360.infrastructure.rest.access import record_reads
from customer360.infrastructure.rest.console.dependencies import Seen, services_of
from customer360.infrastructure.rest.console.rendering import ConsoleRoute, is_fragment, redirect, render_page

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

SearchBy = Literal["name", "email", "phone", "taxId", "externalRef"]
SEARCH_BY: dict[str, tuple[str, str]] = {
    "name": ("Name", "e.g. Müller Maschinenbau (accents, case and typos do not matter)"),
    "email": ("E-mail", "a whole address, e.g. anna@example.com"),
    "phone": ("Phone", "any format, e.g. 030 1234567 or +49 30 1234567"),
    "taxId": ("Tax id", "e.g. DE136695976"),
    "externalRef": ("External ref", "SYSTEM:id, e.g. SALES:L-1001"),
}


@router.get("")
async def console_home() -> Response:
    return redirect("/console/customers")


@router.get("/customers")
async def search_customers_page(
    request: Request,
    seen: Seen,
    q: Annotated[str, Query(max_length=200)] = "",
    by: SearchBy = "name",
) -> Response:
    """The whole page, or (htmx, as the steward types) only the results."""
    seen.require("crm.customer:read")
    hits: list[dict[str, Any]] = []
    hint = ""
    query = q.strip()
    if query:
        services = services_of(request)
        try:
            criteria = search_criteria(
                name=query if by == "name" else None,
                email=query if by == "email" else None,
                phone=query if by == "phone" else None,
                tax_id=query if by == "taxId" else None,
                external_ref=query if by == "externalRef" else None,
                region=services.settings.phone_default_region,
                limit=50,
            )
        except InvalidValue as invalid:
            hint = invalid.details["fields"][0]["reason"]
        else:
            hits = await services.profiles.search(seen.principal.tenant_id, criteria)
            record_reads(request, seen.principal, "SEARCH", [hit["customer"]["id"] for hit in hits])
    context = {"q": query, "by": by, "search_by": SEARCH_BY, "hits": hits, "hint": hint}
    template = "fragments/search_results.html" if is_fragment(request) else "search.html"
    return render_page(request, seen, template, context)
