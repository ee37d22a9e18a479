"""SearchCustomers (``GET /api/v1/crm/customers/search``), what a service desk and a typeahead call all day,
as a plain ASGI route in front of FastAPI.

FastAPI's routing through every route of the service, its dependency resolution and its inner middleware
cost about a fifth of the service's CPU per search (py-spy; the database answers the whole page in one
round trip). This route skips them and runs the FastAPI route's own code: the query parameters are
validated by FastAPI's own function against the route's own declarations (``request_params_to_args``), and
the endpoint function (routers/customers.py: search_customers) is called with them. Everything else — a
failed authentication, a missing permission, an invalid parameter, a refused criterion — is handed to the
FastAPI route, which stays the definition of the endpoint and its errors. Both answer the same body and
access-log record (tests/integration/test_search_read.py compares them).
"""

from __future__ import annotations

from fastapi.dependencies.utils import request_params_to_args
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from customer360.domain.errors import DomainError
from customer360.infrastructure.rest.auth import Forbidden, TenantRequired, Unauthenticated
from customer360.infrastructure.rest.dependencies import require, services
from customer360.infrastructure.tracing import name_server_span

_authorise = require("crm.customer:read")
_IDENTITY_ERRORS = (Unauthenticated, Forbidden, TenantRequired)


class SearchReadRoute:
    def __init__(self, app: ASGIApp, *, stands_for: APIRoute) -> None:
        self.app = app
        # Its path is matched here, and it becomes the request's route, so that metrics label the request
        # as the FastAPI route would.
        self.stands_for = stands_for
        self.path = stands_for.path_format
        self.parameters = stands_for.dependant.query_params

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"] == self.path
            and await self._answered(scope, receive, send)
        ):
            await self.app(scope, receive, send)

    async def _answered(self, scope: Scope, receive: Receive, send: Send) -> bool:
        request = Request(scope, receive)
        values, errors = request_params_to_args(self.parameters, request.query_params)
        if errors:
            return False
        try:
            principal = await _authorise(request)
        except _IDENTITY_ERRORS:
            return False
        scope["route"] = self.stands_for
        try:
            # Refused criteria are raised before the database is asked and before anything is recorded.
            response: Response = await self.stands_for.endpoint(
                request=request, principal=principal, services=services(request), **values
            )
        except DomainError:
            del scope["route"]
            return False
        name_server_span("GET", self.path)
        await response(scope, receive, send)
        return True
