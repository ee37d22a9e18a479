"""The one place where errors become HTTP responses, all in the seed's error body.

Each known error class has its status; anything else is an unexpected 500 that is logged with an error
id and answered without details. Messages never carry personal data (the domain guarantees it for its
errors; validation errors report the field and the rule, never the rejected value).
"""

from __future__ import annotations

import logging
import traceback
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from customer360.domain.errors import (
    BusinessRuleViolation,
    Conflict,
    CustomerMerged,
    DomainError,
    InvalidValue,
    NotFound,
    PreconditionRequired,
    VersionMismatch,
)
from customer360.domain.ids import new_ulid
from customer360.domain.primitives import iso_millis
from customer360.infrastructure.rest.auth import Forbidden, TenantRequired, Unauthenticated

_log = logging.getLogger("customer360.errors")

INVALID_REQUEST = "The request is not valid"

_STATUS_BY_ERROR: tuple[tuple[type[DomainError], int], ...] = (
    (InvalidValue, 400),
    (NotFound, 404),
    (CustomerMerged, 409),
    (Conflict, 409),
    (VersionMismatch, 412),
    (PreconditionRequired, 428),
    (BusinessRuleViolation, 422),
)


def correlation_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("correlation_id", ""))


def error_body(code: str, message: str, details: dict[str, Any] | None, correlation: str) -> bytes:
    """The seed's error body; every error answer of the service is made here."""
    return orjson.dumps(
        {
            "error": code,
            "message": message,
            "details": details or {},
            "timestamp": iso_millis(datetime.now(UTC)),
            "traceId": correlation,
        }
    )


def error_response(
    request: Request, status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> Response:
    return Response(
        error_body(code, message, details, correlation_id(request)), status_code=status, media_type="application/json"
    )


def invalid_request_body(fields: list[dict[str, str]], correlation: str) -> bytes:
    return error_body("VALIDATION_ERROR", INVALID_REQUEST, {"fields": fields}, correlation)


def service_unavailable_body(retry_after_seconds: int, correlation: str) -> bytes:
    return error_body(
        "SERVICE_UNAVAILABLE",
        "The database cannot be reached; retry later",
        {"retryAfterSeconds": retry_after_seconds},
        correlation,
    )


def field_path(loc: tuple[Any, ...]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def status_of(exc: DomainError) -> int | None:
    """The HTTP status of a known error (the console renders the same errors as pages); None if unknown."""
    return status_of_type(type(exc))


def status_of_type(error_type: type[DomainError]) -> int | None:
    """The HTTP status of an error class (the OpenAPI document lists what each operation can raise)."""
    for known, status in _STATUS_BY_ERROR:
        if issubclass(error_type, known):
            return status
    return None


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    status = status_of(exc)
    if status is None:
        return await _unexpected(request, exc)
    return error_response(request, status, exc.code, exc.message, exc.details)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields = []
    malformed = False
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            malformed = True
        # 'msg' states the rule; 'input' (the rejected value) is left out on purpose.
        fields.append({"field": field_path(tuple(error.get("loc", ()))), "reason": str(error.get("msg", ""))})
    if malformed:
        return error_response(request, 400, "MALFORMED_JSON", "The request body is not valid JSON")
    return error_response(request, 400, "VALIDATION_ERROR", INVALID_REQUEST, {"fields": fields})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE"}
    response = error_response(request, exc.status_code, codes.get(exc.status_code, "HTTP_ERROR"), str(exc.detail))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    if exc.status_code == 405:
        response.headers["Allow"] = ", ".join(_allowed_methods(request))
    return response


def _allowed_methods(request: Request) -> list[str]:
    """Every method of every route on this path (Starlette's own Allow names only the first route's). The
    app's routes are FastAPI's included routers: their routes, with the prefixes, are the route contexts."""
    path = request.scope.get("path", "")
    methods: set[str] = set()
    for context in iter_route_contexts(request.app.routes):
        regex = getattr(context, "path_regex", None)
        if context.methods and regex is not None and regex.match(path):
            methods |= context.methods
    methods.discard("HEAD")
    return sorted(methods)


async def _unauthenticated(request: Request, exc: Exception) -> Response:
    response = error_response(request, 401, "UNAUTHENTICATED", str(exc))
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


async def _forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Forbidden)
    return error_response(request, 403, "FORBIDDEN", str(exc), {"permission": exc.permission})


async def _tenant_required(request: Request, exc: Exception) -> Response:
    response = error_response(request, 401, "TENANT_REQUIRED", str(exc), {"header": "X-Tenant-ID"})
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def log_unexpected(exc: BaseException) -> str:
    """Log an unexpected error under a new error id: its type and stack frames, never its message,
    which may quote personal data (a database error repeats the offending key values)."""
    error_id = new_ulid()
    frames = "".join(traceback.format_tb(exc.__traceback__))
    _log.error("unexpected error", extra={"error_id": error_id, "error_type": type(exc).__name__, "stack": frames})
    return error_id


def unexpected_body(correlation: str, error_id: str) -> bytes:
    return error_body(
        "INTERNAL_ERROR", "Unexpected error; quote the errorId to support", {"errorId": error_id}, correlation
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    return Response(
        unexpected_body(correlation_id(request), log_unexpected(exc)), status_code=500, media_type="application/json"
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Unauthenticated, _unauthenticated)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(TenantRequired, _tenant_required)
    # Exceptions nobody expected are answered by the edge middleware (see middleware.py), so that
    # Starlette does not re-raise them into the server's log with their messages.
