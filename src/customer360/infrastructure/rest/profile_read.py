"""GetCustomerProfileById, the call Sales, Service Orders and Finance make many times a second, as a plain
ASGI route in front of FastAPI.

Routing, dependency resolution and the response classes cost about as much CPU as the lookup itself
(measured with py-spy: half of the service's time per lookup), which on two cores is the difference
between meeting and missing the p95 target under concurrent load. This route answers only the plain
case: ``GET /api/v1/crm/customers/{customerId}`` without a query string, from a caller holding
``crm.customer:read``, for a profile that exists and is not merged. Everything else — a failed
authentication, a missing permission, an unknown id, a merged profile, ``?resolve`` — is handed to the
FastAPI route (routers/customers.py: get_customer), which stays the definition of the endpoint and its
errors. Both answer the same body, ETag, 304 and access-log record (tests/integration/test_profile_read.py
compares them).
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from customer360.domain.ids import CUSTOMER_PREFIX, id_pattern
from customer360.infrastructure.rest.auth import Forbidden, TenantRequired, Unauthenticated
from customer360.infrastructure.rest.dispatch import etag
from customer360.infrastructure.rest.models.customers import CustomerOut

PATH = re.compile("^/api/v1/crm/customers/(" + id_pattern(CUSTOMER_PREFIX)[1:-1] + ")$")
PERMISSION = "crm.customer:read"
_IDENTITY_ERRORS = (Unauthenticated, Forbidden, TenantRequired)


class ProfileReadRoute:
    def __init__(self, app: ASGIApp, *, stands_for: BaseRoute) -> None:
        self.app = app
        # Set as the request's route, so that metrics label it with the FastAPI route's path template.
        self.stands_for = stands_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = PATH.match(scope["path"]) if scope["type"] == "http" and scope["method"] == "GET" else None
        if match is None or scope["query_string"] or not await self._answered(scope, receive, send, match[1]):
            await self.app(scope, receive, send)

    async def _answered(self, scope: Scope, receive: Receive, send: Send, customer_id: str) -> bool:
        services = scope["app"].state.services
        request = Request(scope, receive)
        try:
            principal = await services.authenticator.authenticate(request)
        except _IDENTITY_ERRORS:
            return False
        if not principal.may(PERMISSION):
            return False
        text = await services.profiles.profile_text(principal.tenant_id, customer_id)
        if text is None:
            return False
        profile = CustomerOut.model_validate_json(text)
        if profile.status == "MERGED":
            return False
        state = scope.setdefault("state", {})
        state["tenant_id"] = principal.tenant_id
        scope["route"] = self.stands_for
        services.access_log.record(
            principal.tenant_id, principal.user_id, "PROFILE_READ", (customer_id,), state.get("correlation_id", "")
        )
        tag = etag(profile.version)
        if request.headers.get("if-none-match") == tag:
            await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", tag.encode())]})
            await send({"type": "http.response.body", "body": b""})
            return True
        body = profile.model_dump_json(by_alias=True).encode()
        headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
            (b"etag", tag.encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True
