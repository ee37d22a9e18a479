"""The OpenAPI document as clients need it, and /docs and /redoc served without a CDN.

FastAPI writes the paths and schemas from the routes; this adds what it cannot know:

- **security schemes**: the API gateway's trusted headers (``X-User-Id``, ``X-Tenant-ID``, ``X-User-Roles``,
  ``X-User-Permissions``) and a bearer JWT (``AUTH_MODE=jwt``); an operation is satisfied by the user and
  tenant headers with roles or permissions, or by the token; operations without a permission (health,
  metrics) need none;
- **permissions**: each operation's ``x-permissions`` and a line of its description, read from the
  ``Requirement`` dependency the route itself uses (dependencies.py), so the document cannot drift.

The pages use Swagger UI's and ReDoc's files from the ``fastapi-offline`` package (which ships them), served
by the service under ``/docs/assets``: the documentation works without internet access.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

from customer360.domain.values import FORBIDDEN_CATEGORIES
from customer360.infrastructure.rest.dependencies import Requirement
from customer360.infrastructure.rest.error_responses import error_responses, operation_errors
from customer360.infrastructure.rest.models.common import FREE_TEXT, ErrorBody

ASSETS = "/docs/assets"
GATEWAY_SCHEMES = {
    "gatewayUser": ("X-User-Id", "The caller, as the API gateway authenticated it"),
    "gatewayTenant": ("X-Tenant-ID", "The caller's tenant"),
    "gatewayRoles": ("X-User-Roles", "Comma-separated roles: TENANT_ADMIN has every permission in its tenant"),
    "gatewayPermissions": ("X-User-Permissions", "Comma-separated permissions, e.g. crm.customer:read"),
}
BEARER = "bearerJwt"
# The user and tenant headers with roles, or with permissions, or a token (AUTH_MODE=jwt).
SECURITY: list[dict[str, list[str]]] = [
    {"gatewayUser": [], "gatewayTenant": [], "gatewayRoles": []},
    {"gatewayUser": [], "gatewayTenant": [], "gatewayPermissions": []},
    {BEARER: []},
]

COMPONENT = "#/components/schemas/"


@cache
def _invisible_class() -> str:
    """A regular expression class of the characters domain.values.clean_text refuses in text: controls and
    format characters such as U+200B, tab and line breaks aside. It refuses private-use and unassigned code
    points too, but they are left out of the class: the first spans 137,000 code points that generators
    such as hypothesis expand one by one, the second some 700 gaps (tests/e2e/schemathesis_refusals.py)."""
    spans: list[tuple[int, int]] = []
    for point in range(0x110000):
        character = chr(point)
        category = unicodedata.category(character)
        # Surrogates cannot be written in every engine's patterns (Rust's regex refuses them); JSON text holds
        # them only as escapes, which input_rules.py refuses before any model sees them.
        if category in FORBIDDEN_CATEGORIES - {"Cn", "Cs", "Co"} and character not in "\t\n\r":
            if spans and spans[-1][1] == point - 1:
                spans[-1] = (spans[-1][0], point)
            else:
                spans.append((point, point))

    def one(point: int) -> str:
        # \uXXXX reads alike in ECMA-262 and Python; beyond the BMP the character itself.
        return f"\\u{point:04x}" if point <= 0xFFFF else chr(point)

    return "".join(one(a) if a == b else f"{one(a)}-{one(b)}" for a, b in spans)


# input_rules.py's rule as JSON Schema patterns: no C0 or C1 controls or DEL in parameters;
# in bodies tabs and line breaks pass; header values are bytes, where tabs pass and 0x80-0x9f belong to raw
# UTF-8.
PARAMETER_TEXT = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
BODY_TEXT = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"
HEADER_TEXT = "^[^\\u0000-\\u0008\\u000a-\\u001f\\u007f]*$"


def visible_text() -> str:
    """Something visible, no control or invisible characters but tabs and line breaks (clean_text)."""
    invisible = _invisible_class()
    return f"^[^{invisible}]*[^{invisible}\\s][^{invisible}]*$"


CORRELATION_PARAMETER: dict[str, Any] = {
    "name": "X-Correlation-ID",
    "in": "header",
    "required": False,
    "description": "Your id for the request (1-128 of A-Z a-z 0-9 . _ : -), echoed and carried into the logs and "
    "events; another value is replaced by a generated one (or a valid traceparent's trace id)",
    "schema": {"type": "string", "pattern": HEADER_TEXT},
}
CORRELATION_HEADER: dict[str, Any] = {
    "description": "The request's correlation id: the one sent, or the one generated (errors carry it as traceId)",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:\\-]{1,128}$"},
}
RETRY_AFTER_HEADER: dict[str, Any] = {
    "description": "Seconds to wait before retrying",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
}
SERVICE_UNAVAILABLE: dict[str, Any] = {
    "description": "The database cannot be reached (SERVICE_UNAVAILABLE); retry after Retry-After seconds",
    "headers": {"Retry-After": RETRY_AFTER_HEADER},
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    "x-error-codes": ["SERVICE_UNAVAILABLE"],
}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A header is sent or not: an optional one's ``anyOf [..., null]`` (FastAPI's ``str | None``) would let
    clients and generators send the text "null"."""
    members = [m for m in schema.get("anyOf", []) if m.get("type") != "null"]
    if len(members) != 1 or len(members) == len(schema.get("anyOf", [])):
        return schema
    return {**{k: v for k, v in schema.items() if k != "anyOf"}, **members[0]}


def _declare_errors(operation: dict[str, Any], method: str, secured: bool) -> None:
    """Only the error statuses the operation can answer, each with its codes (error_responses.py)."""
    responses = {k: v for k, v in operation.get("responses", {}).items() if not k.startswith("4")}
    codes = operation_errors(operation["operationId"], method, operation, secured)
    operation["responses"] = {**responses, **error_responses(codes, {"$ref": f"{COMPONENT}ErrorBody"})}


def _declare_input_rules(operation: dict[str, Any], components: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        pattern = HEADER_TEXT if parameter.get("in") == "header" else PARAMETER_TEXT
        _declare_text_rule(parameter.get("schema"), components, pattern)
    for content in operation.get("requestBody", {}).get("content", {}).values():
        _declare_text_rule(content.get("schema"), components, BODY_TEXT)


def _declare_headers(operation: dict[str, Any], uses_database: bool) -> None:
    """What the edge does for every request (middleware.py): the correlation id in and out, and 503 with
    Retry-After while the database is away for every operation that reads or writes it."""
    parameters = operation.setdefault("parameters", [])
    for parameter in parameters:
        if parameter.get("in") == "header":
            parameter["schema"] = _without_null(parameter.get("schema", {}))
    if not any(p.get("in") == "header" and p.get("name") == "X-Correlation-ID" for p in parameters):
        parameters.append(CORRELATION_PARAMETER)
    responses = operation.setdefault("responses", {})
    if uses_database:
        responses.setdefault("503", SERVICE_UNAVAILABLE)
    for status, response in responses.items():
        # New dicts: FastAPI's response objects and the constants above may be shared between operations.
        responses[status] = {
            **response,
            "headers": {**response.get("headers", {}), "X-Correlation-ID": CORRELATION_HEADER},
        }


def _walk(schema: Any, components: dict[str, Any], seen: set[str]) -> Iterator[dict[str, Any]]:
    """Every schema object within ``schema``, following references into ``components`` once each."""
    pending = [schema]
    while pending:
        current = pending.pop()
        if isinstance(current, list):
            pending.extend(current)
            continue
        if not isinstance(current, dict):
            continue
        reference = current.get("$ref")
        if isinstance(reference, str) and reference.startswith(COMPONENT):
            name = reference.removeprefix(COMPONENT)
            if name not in seen:
                seen.add(name)
                pending.append(components.get(name, {}))
            continue
        yield current
        for key in ("properties", "$defs"):
            pending.extend(current.get(key, {}).values())
        for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf", "prefixItems"):
            pending.append(current.get(key))


def _declare_text_rule(schema: Any, components: dict[str, Any], pattern: str) -> None:
    """The edge's one rule (input_rules.py: no control characters) as the pattern of every string of a request;
    strings with a pattern, an enum or a format of their own are already narrower, and the free text the
    service cleans (models marked FREE_TEXT) gets clean_text's rule."""
    for member in _walk(schema, components, set()):
        if member.get("type") != "string":
            continue
        if member.pop(FREE_TEXT, False):
            member["pattern"] = visible_text()
        elif not {"pattern", "enum", "const", "format"} & set(member):
            member["pattern"] = pattern


def _requirements(dependant: Dependant) -> Iterator[str]:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, Requirement):
            yield dependency.call.permission
        yield from _requirements(dependency)


def _permissions(app: FastAPI) -> dict[tuple[str, str], list[str]]:
    """(path, method) → the permissions its route requires."""
    found: dict[tuple[str, str], list[str]] = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            permissions = sorted(set(_requirements(route.dependant)))
            for method in route.methods or ():
                found[(context.path_format or route.path_format, method.lower())] = permissions
    return found


def build_document(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
        separate_input_output_schemas=app.separate_input_output_schemas,
    )
    schemes: dict[str, Any] = {
        name: {"type": "apiKey", "in": "header", "name": header, "description": description}
        for name, (header, description) in GATEWAY_SCHEMES.items()
    }
    schemes[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "AUTH_MODE=jwt: a token signed by the configured keys (tenant, roles, permissions in claims)",
    }
    document.setdefault("components", {})["securitySchemes"] = schemes
    permissions = _permissions(app)
    components = document.setdefault("components", {}).setdefault("schemas", {})
    # Validation errors are answered 400 in the error body (errors.py), never as FastAPI's 422 models.
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    components["ErrorBody"] = ErrorBody.model_json_schema(by_alias=True, mode="serialization")
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            needed = permissions.get((path, method), [])
            _declare_errors(operation, method, secured=bool(needed))
            # Operations that need a permission are the tenant's data, read from the database.
            _declare_headers(operation, uses_database=bool(needed))
            _declare_input_rules(operation, components)
            if not needed:
                operation["security"] = []
                continue
            operation["security"] = SECURITY
            operation["x-permissions"] = needed
            line = f"**Permission:** {', '.join(f'`{p}`' for p in needed)} (or the role `TENANT_ADMIN`)."
            operation["description"] = f"{line}\n\n{operation.get('description', '')}".rstrip()
    return document


def install_api_docs(app: FastAPI) -> None:
    """/openapi.json with the additions above, /docs (Swagger UI) and /redoc (ReDoc) with local assets."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    assets = files("fastapi_offline") / "static"
    app.mount(ASSETS, StaticFiles(directory=str(assets)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
            # Credentials entered under "Authorize" survive a reload; "Try it out" needs them.
            swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True},
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS}/favicon.png",
            with_google_fonts=False,
        )
