"""OpenTelemetry spans for HTTP requests, SQL statements and Kafka publish/consume — off unless
OTEL_EXPORTER_OTLP_ENDPOINT is set, then exported over OTLP/HTTP.

Official instrumentation does the work: FastAPI's own telemetry for HTTP (a server span per request named
after its route, and spans of dependency resolution and the endpoint; its query-string values are
redacted to parameter names here, search terms being personal data; it records no client address, no
user agent and, without a logger provider, no exception messages) and ``opentelemetry-instrumentation-
asyncpg`` for SQL (SQLAlchemy's statements run through asyncpg's prepared statements, so it sees them
too; statements only, never parameters). Kafka spans are ours, a few lines around ``produce`` and each
consumed message, because the record's ``traceparent`` is part of our event contract
(messaging/cloudevents.py, trace_context.py).

Trace ids follow the correlation id (trace_context.py): a span that starts a trace takes the trace id of
the correlation id in hand (``rooted_in``), and a caller's ``traceparent`` is continued only when it is
the trace of the request's correlation id — otherwise the request starts its own trace, named by its
correlation id. So in logs, events and the tracing backend one id finds everything.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from importlib.metadata import version
from typing import Any
from urllib.parse import parse_qsl

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import (
    CarrierT,
    Getter,
    Setter,
    TextMapPropagator,
    default_getter,
    default_setter,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import Receive, Scope, Send

from customer360.infrastructure.asgi import HttpMiddleware
from customer360.infrastructure.trace_context import TRACEPARENT, correlation_id_of, trace_id_for
from customer360.settings import Settings

_log = logging.getLogger("customer360.tracing")
_TRACER = "customer360"
# The trace id a span starting a trace takes (set around work that has a correlation id).
_root_trace_id: ContextVar[int | None] = ContextVar("customer360_root_trace_id", default=None)
_enabled = False
_CORRELATION_HEADERS = ("x-correlation-id", "correlation-id")


def enabled() -> bool:
    return _enabled


@contextlib.contextmanager
def rooted_in(correlation_id: str | None) -> Iterator[None]:
    """Spans that start a trace inside this block take the correlation id's trace id."""
    token = _root_trace_id.set(int(trace_id_for(correlation_id), 16) if correlation_id else None)
    try:
        yield
    finally:
        _root_trace_id.reset(token)


class _CorrelationPropagator(TextMapPropagator):
    """W3C trace context, continued only when it is the trace of the carrier's correlation id."""

    def __init__(self) -> None:
        self._w3c = TraceContextTextMapPropagator()

    def extract(
        self, carrier: CarrierT, context: Context | None = None, getter: Getter[CarrierT] = default_getter
    ) -> Context:
        extracted = self._w3c.extract(carrier, context, getter)
        found = trace.get_current_span(extracted).get_span_context()
        if not found.is_valid:
            return extracted
        for name in _CORRELATION_HEADERS:
            values = getter.get(carrier, name)
            if values:
                if trace_id_for(values[0]) != f"{found.trace_id:032x}":
                    return context if context is not None else Context()
                break
        return extracted

    def inject(
        self, carrier: CarrierT, context: Context | None = None, setter: Setter[CarrierT] = default_setter
    ) -> None:
        self._w3c.inject(carrier, context, setter)

    @property
    def fields(self) -> set[str]:
        return self._w3c.fields


def configure_tracing(settings: Settings) -> bool:
    """Install the SDK, the OTLP exporter and the SQL instrumentation in this process, if configured."""
    global _enabled
    if _enabled or not settings.otel_exporter_otlp_endpoint:
        return _enabled
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

    class CorrelationIdGenerator(RandomIdGenerator):
        def generate_trace_id(self) -> int:
            return _root_trace_id.get() or super().generate_trace_id()

    resource = Resource.create({"service.name": settings.otel_service_name, "service.version": version("customer360")})

    class QueryRedaction(SpanProcessor):
        """FastAPI records the query string with its values; search terms are personal data: names only."""

        def on_start(self, span: Any, parent_context: Context | None = None) -> None:
            query = (span.attributes or {}).get("url.query")
            if isinstance(query, str):
                span.set_attribute("url.query", "&".join(f"{name}=" for name, _ in parse_qsl(query, True)))

    provider = TracerProvider(resource=resource, id_generator=CorrelationIdGenerator())
    endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
    provider.add_span_processor(QueryRedaction())
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    propagate.set_global_textmap(_CorrelationPropagator())
    AsyncPGInstrumentor().instrument(tracer_provider=provider)
    _enabled = True
    _log.info("tracing on: spans exported over OTLP/HTTP", extra={"endpoint": endpoint})
    return True


# --- HTTP -----------------------------------------------------------------------------------------------


class CorrelatedRequests(HttpMiddleware):
    """Outside FastAPI (whose own telemetry starts the request's span before any middleware runs): decides
    the request's correlation id once — the edge middleware uses it — so that its span takes that id's
    trace when it starts a trace."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        correlation = correlation_id_of(scope["headers"])
        scope.setdefault("state", {})["correlation_id"] = correlation
        with rooted_in(correlation):
            await self.app(scope, receive, send)


def name_server_span(method: str, route: str) -> None:
    """For a route answered outside FastAPI's router (rest/profile_read.py): name the request's span."""
    span = trace.get_current_span()
    if span.is_recording():
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)


# --- Kafka ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def publish_span(
    topic: str, event_id: str, correlation_id: str | None, headers: list[tuple[str, Any]]
) -> Iterator[list[tuple[str, Any]]]:
    """Around one ``produce``: the headers to send, their traceparent naming the publish span."""
    if not _enabled:
        yield headers
        return
    with (
        rooted_in(correlation_id or event_id),
        trace.get_tracer(_TRACER).start_as_current_span(
            f"{topic} publish",
            context=Context(),  # a root: its trace is the event's correlation id's
            kind=trace.SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": topic,
                "messaging.message.id": event_id,
            },
        ),
    ):
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        yield [*((k, v) for k, v in headers if k != TRACEPARENT), (TRACEPARENT, carrier[TRACEPARENT].encode())]


@contextlib.contextmanager
def process_span(topic: str, headers: Mapping[str, bytes]) -> Iterator[None]:
    """Around the handling of one consumed message: continues its producer's trace when that is the trace
    of its correlation id, else starts the correlation id's own."""
    if not _enabled:
        yield
        return
    carrier = {name: value.decode("utf-8", "replace") for name, value in headers.items()}
    parent = propagate.extract(carrier)
    with (
        rooted_in(carrier.get("correlation-id") or carrier.get("ce_id")),
        trace.get_tracer(_TRACER).start_as_current_span(
            f"{topic} process",
            context=parent,
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": topic,
                "messaging.message.id": carrier.get("ce_id", ""),
            },
        ),
    ):
        yield
