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

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from customer360.domain.ids import CUSTOMER_PREFIX, is_valid_id
from customer360.infrastructure.rest.access import record_reads
from customer360.infrastructure.rest.auth import Forbidden, TenantRequired, Unauthenticated
from customer360.infrastructure.rest.dependencies import require, services
from customer360.infrastructure.rest.dispatch import etag, not_modified
from customer360.infrastructure.rest.models.customers import CustomerOut
from customer360.infrastructure.tracing import name_server_span

_authorise = require("crm.customer:read")
_IDENTITY_ERRORS = (Unauthenticated, Forbidden, TenantRequired)


class ProfileReadRoute:
    def __init__(self, app: ASGIApp, *, stands_for: APIRoute) -> None:
        self.app = app
        # Its path template is matched here, and it becomes the request's route, so that metrics label
        # the request as the FastAPI route would.
        self.stands_for = stands_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and not scope["query_string"]
            and await self._answered(scope, receive, send)
        ):
            await self.app(scope, receive, send)

    async def _answered(self, scope: Scope, receive: Receive, send: Send) -> bool:
        match = self.stands_for.path_regex.match(scope["path"])
        # Checked before authenticating: /customers/search and /customers/lookup fit the template too.
        if match is None or not is_valid_id(CUSTOMER_PREFIX, customer_id := match["customerId"]):
            return False
        request = Request(scope, receive)
        try:
            principal = await _authorise(request)
        except _IDENTITY_ERRORS:
            return False
        text = await services(request).profiles.profile_text(principal.tenant_id, customer_id)
        if text is None:
            return False
        profile = CustomerOut.model_validate_json(text)
        if profile.status == "MERGED":
            return False
        scope["route"] = self.stands_for
        name_server_span("GET", self.stands_for.path_format)
        record_reads(request, principal, "PROFILE_READ", [customer_id])
        tag = etag(profile.version)
        if not_modified(request.headers.get("if-none-match"), tag):
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
