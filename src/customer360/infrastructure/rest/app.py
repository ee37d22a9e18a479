"""The FastAPI application. Its services are handed in (by bootstrap.py, or by tests), never built here."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from customer360.infrastructure.availability import DatabaseOutage
from customer360.infrastructure.rest.console.setup import install_console
from customer360.infrastructure.rest.dependencies import ApiServices
from customer360.infrastructure.rest.errors import install_error_handlers
from customer360.infrastructure.rest.middleware import EdgeMiddleware, HttpMetrics
from customer360.infrastructure.rest.openapi_document import install_api_docs
from customer360.infrastructure.rest.profile_read import ProfileReadRoute
from customer360.infrastructure.rest.read_after_write import ReadAfterWrite
from customer360.infrastructure.rest.routers import (
    consent_checks,
    consents,
    contacts,
    customers,
    duplicates,
    event_schemas,
    imports,
    integration,
    merges,
    operations,
    privacy,
    relationships,
)
from customer360.infrastructure.rest.search_read import SearchReadRoute
from customer360.settings import Settings


@dataclass(frozen=True, slots=True)
class ServicesScope:
    """Services that exist while the app runs: ``open`` is entered at startup and left at shutdown."""

    registry: CollectorRegistry
    open: Callable[[], AbstractAsyncContextManager[ApiServices]]


DESCRIPTION = """
The golden customer profile of the ERP: organisations and persons, contacts, preferences,
relationships and consent history.

**Authentication.** In `gateway` mode (the default) the ERP's API gateway passes the caller in trusted
headers: `X-User-Id`, `X-Tenant-ID`, `X-User-Roles`, `X-User-Permissions` (comma-separated
`resource:action` strings such as `crm.customer:read`). In `jwt` mode send `Authorization: Bearer <token>`.

**Conventions.** Errors use one body (`error`, `message`, `details`, `timestamp`, `traceId`).
`ETag`/`If-Match` carry the version; `Idempotency-Key` makes a POST safe to retry; `X-Correlation-ID`
is taken or generated and echoed. Lists are paginated with `limit` and `cursor` → `nextCursor`.
"""


def create_app(settings: Settings, services: ApiServices | ServicesScope) -> FastAPI:
    registry = services.registry

    async def database_reachable() -> bool:
        # Read when the probe runs: a ServicesScope's services exist only once the lifespan has begun.
        checks = await app.state.services.readiness()
        return bool(checks["database"]["status"] == "UP")

    outage = DatabaseOutage(registry, database_reachable)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            if isinstance(services, ApiServices):
                yield
                return
            async with services.open() as opened:
                app.state.services = opened
                # Everything loaded so far (modules, routes, schemas, the services) lives as long as the
                # process: out of the collector's reach, a full collection no longer walks it (~115 ms on
                # this machine's 2 vCPUs, the event loop stopped meanwhile: the creates' p99).
                gc.freeze()
                yield
        finally:
            await outage.close()

    app = FastAPI(
        title="crm-customer360",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        # /docs and /redoc with local assets: openapi_document.install_api_docs.
        docs_url=None,
        redoc_url=None,
        # operationIds are the endpoint function names: stable, readable, and the targets of OpenAPI links.
        generate_unique_id_function=lambda route: route.name,
        # FastAPI's own spans when tracing is configured (infrastructure/tracing.py); never its log records,
        # which would carry exception messages (a database error quotes row values).
        telemetry={"logs": False},
    )
    if isinstance(services, ApiServices):
        app.state.services = services
    install_error_handlers(app)
    install_api_docs(app)
    # Added first, so it runs inside the edge middleware (correlation id, metrics, request log).
    app.add_middleware(ProfileReadRoute, stands_for=customers.get_customer_route())
    app.add_middleware(SearchReadRoute, stands_for=customers.search_route())
    # Outside the plain lookup route, which reads with the caller's floor too.
    app.add_middleware(ReadAfterWrite)
    app.add_middleware(
        EdgeMiddleware,
        max_body_bytes=settings.max_body_bytes,
        metrics=HttpMetrics(registry),
        outage=outage,
        body_limits={consent_checks.BULK_CHECK_PATH: settings.consent_check_max_body_bytes},
        streamed_paths=frozenset({imports.IMPORTS_PATH}),
    )
    # integration first: its /customers/lookup must not be taken for /customers/{customerId}.
    for module in (
        integration,
        customers,
        contacts,
        consents,
        consent_checks,
        relationships,
        merges,
        duplicates,
        privacy,
        imports,
        operations,
        event_schemas,
    ):
        app.include_router(module.router)
    install_console(app, settings)
    return app
