"""What the HTTP API is given, and the two FastAPI dependencies every route uses.

``ApiServices`` holds the application's ports (commands through ``executor``, reads through the query
ports of ``application/queries.py``); ``bootstrap.py`` builds it with the SQL adapters, tests with whatever
they need. A route asks for it with a parameter ``services: Services``; routers import no adapter.
``require`` is the caller, checked for a permission.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from prometheus_client import CollectorRegistry

from customer360.application.consent_checks import ConsentCheckQueries
from customer360.application.context import Clock
from customer360.application.duplicate_ports import ScanStarter
from customer360.application.executor import CommandExecutor
from customer360.application.import_ports import Exports, ImportIntake, ImportQueries
from customer360.application.integration_queries import EventSchemas, IntegrationQueries
from customer360.application.ports import IdempotencyLookup
from customer360.application.queries import (
    AccessLog,
    DuplicateQueries,
    HistoryQueries,
    MergeQueries,
    PrivacyQueries,
    ProfileQueries,
    RelationshipQueries,
)
from customer360.infrastructure.rest.auth import Authenticator, Forbidden, Principal
from customer360.settings import Settings

Readiness = Callable[[], Awaitable[dict[str, dict[str, Any]]]]


@dataclass(frozen=True, slots=True)
class ApiServices:
    settings: Settings
    executor: CommandExecutor
    profiles: ProfileQueries
    history: HistoryQueries
    relationships: RelationshipQueries
    merges: MergeQueries
    integration: IntegrationQueries
    consent_checks: ConsentCheckQueries
    privacy: PrivacyQueries
    duplicates: DuplicateQueries
    scans: ScanStarter
    imports: ImportIntake
    import_queries: ImportQueries
    exports: Exports
    event_schemas: EventSchemas
    idempotency: IdempotencyLookup
    access_log: AccessLog
    authenticator: Authenticator
    clock: Clock
    readiness: Readiness
    registry: CollectorRegistry


def services(request: Request) -> ApiServices:
    """The app's services: handed to ``create_app`` or built by its lifespan before the first request."""
    found = request.app.state.services
    if not isinstance(found, ApiServices):
        raise RuntimeError("the app has no services: it was created without them and its lifespan has not run")
    return found


async def _services(request: Request) -> ApiServices:
    # A coroutine: FastAPI runs a plain function dependency in its thread pool (two thread switches a request).
    return services(request)


Services = Annotated[ApiServices, Depends(_services)]


class Requirement:
    """A FastAPI dependency: the authenticated principal, if it holds ``permission``. The OpenAPI document
    reads ``permission`` from it (rest/openapi_document.py): every operation states what it needs."""

    def __init__(self, permission: str) -> None:
        self.permission = permission

    async def __call__(self, request: Request) -> Principal:
        principal = await services(request).authenticator.authenticate(request)
        if not principal.may(self.permission):
            raise Forbidden(self.permission)
        request.state.tenant_id = principal.tenant_id
        return principal


def require(permission: str) -> Requirement:
    return Requirement(permission)
