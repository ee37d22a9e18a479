"""The duplicate review queue, one pair side by side with the engine's explanation, and dismissal."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from starlette.responses import Response

from customer360.application import duplicates as uc
from customer360.application.queries import QUEUE_STATUSES, QueueFilter
from customer360.domain.duplicates import PAIR_ID_PATTERN, parse_pair_id
from customer360.domain.errors import NotFound
from customer360.infrastructure.rest.access import record_reads
from customer360.infrastructure.rest.console.dependencies import Acting, Seen, run_as, services_of
from customer360.infrastructure.rest.console.rendering import ConsoleRoute, is_fragment, redirect, render_page
from customer360.infrastructure.rest.console.side_by_side import compare, explain

router = APIRouter(prefix="/console/duplicates", route_class=ConsoleRoute, include_in_schema=False)

PairId = Annotated[str, Path(alias="pairId", pattern=PAIR_ID_PATTERN)]
Percent = Annotated[float, Query(ge=0, le=100)]
NOTICES = {"dismissed": "Recorded as not a duplicate: the pair will not be suggested again."}
PAGE_SIZE = 50


class PairNotInQueue(NotFound):
    code = "PAIR_NOT_FOUND"

    def __init__(self, pair: str) -> None:
        super().__init__(
            f"The pair {pair} is not in the review queue: the latest scan did not find it.", {"pairId": pair}
        )


@router.get("")
async def review_queue(
    request: Request,
    seen: Seen,
    status: Annotated[str, Query(pattern=f"^({'|'.join(QUEUE_STATUSES)})$")] = "OPEN",
    min_percent: Annotated[Percent, Query(alias="min")] = 0,
    max_percent: Annotated[Percent, Query(alias="max")] = 100,
    cluster: Annotated[str | None, Query(max_length=40)] = None,
    customer: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
    notice: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    seen.require("crm.duplicates:read")
    page = await services_of(request).duplicates.queue(
        seen.principal.tenant_id,
        QueueFilter(status, min_percent / 100, max_percent / 100, cluster or None, customer or None, cursor, PAGE_SIZE),
    )
    shown = [profile["id"] for item in page.items for profile in (item["left"], item["right"])]
    record_reads(request, seen.principal, "DUPLICATE_QUEUE", dict.fromkeys(shown))
    context = {
        "items": page.items,
        "next_cursor": page.next_cursor,
        "filters": {"status": status, "min": min_percent, "max": max_percent, "cluster": cluster, "customer": customer},
        "statuses": QUEUE_STATUSES,
        "notice": NOTICES.get(notice or ""),
    }
    template = "fragments/queue_rows.html" if is_fragment(request) else "queue.html"
    return render_page(request, seen, template, context)


async def find_pair(request: Request, tenant_id: str, pair: str) -> dict[str, Any]:
    """The pair as the queue shows it (any status), or 404."""
    low, _ = parse_pair_id(pair)
    queue = services_of(request).duplicates
    cursor = None
    while True:
        page = await queue.queue(tenant_id, QueueFilter("ALL", 0.0, 1.0, None, low, cursor, 200))
        for item in page.items:
            if item["pairId"] == pair:
                found: dict[str, Any] = item
                return found
        cursor = page.next_cursor
        if cursor is None:
            raise PairNotInQueue(pair)


@router.get("/{pairId}")
async def review_pair(pair: PairId, request: Request, seen: Seen) -> Response:
    seen.require("crm.duplicates:read")
    low, high = parse_pair_id(pair)
    item = await find_pair(request, seen.principal.tenant_id, f"{low}~{high}")
    record_reads(request, seen.principal, "DUPLICATE_QUEUE", [low, high])
    return render_page(request, seen, "pair.html", _pair_context(item))


def _pair_context(item: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "item": item,
        "rows": compare(item["left"], item["right"]),
        "explanation": explain(item["explanation"]),
        **extra,
    }


@router.post("/{pairId}/dismiss")
async def dismiss_pair(
    pair: PairId,
    request: Request,
    seen: Acting,
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    seen.require("crm.duplicates:write")
    low, high = parse_pair_id(pair)
    services = services_of(request)
    before = services.clock.now()
    decision = await run_as(request, seen, uc.dismiss_pair, uc.DismissPair(low, high, note.strip() or None))
    if decision.decided_at < before:
        # Someone decided first: say so instead of pretending this decision was recorded.
        item = await find_pair(request, seen.principal.tenant_id, f"{low}~{high}")
        return render_page(request, seen, "pair.html", _pair_context(item, decided_before=True), 409)
    return redirect("/console/duplicates?notice=dismissed")
