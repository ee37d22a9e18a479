"""The edge of every request, as one plain ASGI middleware (cheap on the hot lookup path):

- correlation id: taken from X-Correlation-ID when well-formed, else from a traceparent's trace id, else
  generated; echoed and logged;
- input rules (input_rules.py): control characters anywhere in the request, or an identity header sent
  twice, are answered 400 with the fields before any route sees them;
- body limit: bodies over MAX_BODY_BYTES are refused with 413 before the application sees them; a
  route that takes large bodies by design (the bulk consent check) has its own limit in ``body_limits``
  (exact path → bytes), so the default stays small everywhere else; the import upload is not buffered
  at all (``streamed_paths``): its route reads the body as a stream and applies IMPORT_MAX_BODY_BYTES;
- metrics: request count and latency by method, route template and status (never the raw path);
- access log: one JSON line per request without query strings or bodies (they hold personal data), with
  the correlation id and its trace id (trace_context.py);
- the database away: 503 SERVICE_UNAVAILABLE with Retry-After, counted, one warning per outage
  (infrastructure/availability.py);
- unexpected exceptions: answered with a 500 carrying an error id, logged without their message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from customer360.infrastructure.asgi import HttpMiddleware
from customer360.infrastructure.availability import DatabaseOutage, database_unavailable
from customer360.infrastructure.rest.errors import (
    error_body,
    invalid_request_body,
    log_unexpected,
    service_unavailable_body,
    unexpected_body,
)
from customer360.infrastructure.rest.input_rules import body_errors, header_errors, path_errors, query_errors
from customer360.infrastructure.trace_context import correlation_id_of, trace_id_for

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_access_log = logging.getLogger("customer360.access")


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "crm_customer360_http_requests", "HTTP requests", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "crm_customer360_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5),
            registry=registry,
        )


def _too_large(limit: int, correlation: str) -> bytes:
    return error_body(
        "PAYLOAD_TOO_LARGE", f"Request bodies are limited to {limit} bytes", {"maxBytes": limit}, correlation
    )


class EdgeMiddleware(HttpMiddleware):
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        metrics: HttpMetrics,
        outage: DatabaseOutage,
        body_limits: Mapping[str, int] | None = None,
        streamed_paths: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(app)
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics
        self.outage = outage
        self.body_limits = dict(body_limits or {})
        self.streamed_paths = streamed_paths

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        # Decided before FastAPI when tracing (tracing.CorrelatedRequests), else here.
        state = scope.setdefault("state", {})
        correlation = state.get("correlation_id") or correlation_id_of(scope["headers"])
        state["correlation_id"] = correlation
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-correlation-id", correlation.encode())]
            await send(message)

        try:
            invalid = header_errors(scope["headers"]) + query_errors(scope["query_string"]) + path_errors(scope)
            # A streamed body (a bulk import) is read by its route row by row, which checks each value.
            if scope["method"] in _BODY_METHODS and scope.get("path", "") not in self.streamed_paths:
                limit = self.body_limits.get(scope.get("path", ""), self.max_body_bytes)
                body = await self._read_body(receive, limit)
                if body is None:
                    await _send_json(send_with_headers, 413, _too_large(limit, correlation))
                    return
                invalid += body_errors(body, _content_type(scope))
                receive = _replay(body, receive)
            if invalid:
                await _send_json(send_with_headers, 400, invalid_request_body(invalid, correlation))
                return
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            if response_started:
                raise
            if database_unavailable(exc):
                self.outage.request_failed(exc)
                retry_after = self.outage.retry_after_seconds
                body = service_unavailable_body(retry_after, correlation)
                await _send_json(send_with_headers, 503, body, [(b"retry-after", str(retry_after).encode())])
                return
            await _send_json(send_with_headers, 500, unexpected_body(correlation, log_unexpected(exc)))
        finally:
            self._observe(scope, status, time.perf_counter() - started, correlation)

    async def _read_body(self, receive: Receive, limit: int) -> bytes | None:
        chunks = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _observe(self, scope: Scope, status: int, seconds: float, correlation: str) -> None:
        route = scope.get("route")
        template = getattr(route, "path_format", None) or getattr(route, "path", None) or "unmatched"
        method = scope["method"]
        self.metrics.requests.labels(method, template, str(status)).inc()
        self.metrics.latency.labels(method, template).observe(seconds)
        state: dict[str, Any] = scope.get("state", {})
        _access_log.info(
            "request",
            extra={
                "method": method,
                "route": template,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "correlation_id": correlation,
                "trace_id": trace_id_for(correlation),
                "tenant_id": state.get("tenant_id"),
            },
        )


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return str(value.decode("latin-1"))
    return ""


def _replay(body: bytes, original: Receive) -> Receive:
    """Hand the buffered body to the application, then pass through (a later receive waits for disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive


async def _send_json(
    send: Send, status: int, payload: bytes, extra_headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra_headers or [])})
    await send({"type": "http.response.body", "body": payload})
