"""Health, metrics and the JSON change feed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import JSONResponse, Response

from customer360.infrastructure.rest.auth import Principal
from customer360.infrastructure.rest.dependencies import Services, require
from customer360.infrastructure.rest.dispatch import render
from customer360.infrastructure.rest.models.relationships import EventFeedPage

router = APIRouter()


@router.get("/health/live", tags=["operations"], summary="The process is up")
async def live() -> dict[str, str]:
    return {"status": "UP"}


@router.get(
    "/health/ready",
    tags=["operations"],
    summary="Database reachable and migrations current",
    responses={503: {"description": "Not ready"}},
)
async def ready(services: Services) -> Response:
    checks = await services.readiness()
    healthy = all(c["status"] == "UP" for c in checks.values())
    return JSONResponse({"status": "UP" if healthy else "DOWN", "checks": checks}, status_code=200 if healthy else 503)


@router.get("/metrics", tags=["operations"], summary="Prometheus metrics", response_class=Response)
async def metrics(services: Services) -> Response:
    return Response(generate_latest(services.registry), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/api/v1/crm/events",
    tags=["events"],
    response_model=EventFeedPage,
    summary="Change feed of this tenant's events, in commit order",
)
async def events(
    services: Services,
    principal: Annotated[Principal, Depends(require("crm.events:read"))],
    after: Annotated[
        int, Query(ge=0, le=2**63 - 1, description="Feed position from the previous page's nextCursor")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    items, last = await services.history.events(principal.tenant_id, after, limit)
    return render(EventFeedPage, {"items": items, "nextCursor": str(last)}).response()
