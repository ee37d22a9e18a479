"""Tracing: with OTEL_EXPORTER_OTLP_ENDPOINT set, the service exports spans of its HTTP requests and SQL
statements over OTLP/HTTP (to a collector in the test), with the correlation id's trace id and without
personal data."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from customer360.infrastructure.persistence.database import DatabaseUrls
from customer360.infrastructure.trace_context import trace_id_for
from tests.support.otlp_collector import CollectedSpan, OtlpCollector
from tests.support.service import ServiceProcess

CUSTOMERS = "/api/v1/crm/customers"
SERVER, CLIENT = 2, 3  # OTLP span kinds


@pytest.fixture(scope="module")
def traced_service(
    database: DatabaseUrls, collector: OtlpCollector, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    service = ServiceProcess(
        database.admin.render_as_string(hide_password=False),
        tmp_path_factory.mktemp("traced") / "service.log",
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
        OTEL_BSP_SCHEDULE_DELAY="100",
    )
    service.start(timeout=120)  # a bound against hanging; a loaded CI machine starts slowly
    yield service
    service.stop()


def _headers(**extra: str) -> dict[str, str]:
    return {"X-User-Id": "tracer", "X-Tenant-ID": f"t-{secrets.token_hex(5)}", "X-User-Roles": "TENANT_ADMIN", **extra}


def _in_trace(trace_id: str, name: str) -> Callable[[list[CollectedSpan]], bool]:
    def holds(spans: list[CollectedSpan]) -> bool:
        mine = [s for s in spans if s.trace_id == trace_id]
        return any(s.name == name for s in mine) and any(s.kind == CLIENT for s in mine)

    return holds


def test_a_request_and_its_sql_are_spans_of_the_correlation_ids_trace(
    traced_service: ServiceProcess, collector: OtlpCollector
) -> None:
    """POST /customers with X-Correlation-ID: a server span named after the route, SQL spans under it, all in
    the trace the correlation id names."""
    correlation = f"order-{secrets.token_hex(6)}"
    response = httpx.post(
        f"{traced_service.url}{CUSTOMERS}",
        json={"name": "Traced GmbH"},
        headers=_headers(**{"X-Correlation-ID": correlation}),
    )
    trace_id = trace_id_for(correlation)
    spans = collector.wait_for(_in_trace(trace_id, "POST /api/v1/crm/customers"))
    mine = [s for s in spans if s.trace_id == trace_id]
    [server] = [s for s in mine if s.kind == SERVER]
    ids = {s.span_id for s in mine}
    sql = [s for s in mine if s.kind == CLIENT]
    assert (response.status_code, server.service, server.attributes.get("http.route")) == (
        201,
        "crm-customer360",
        "/api/v1/crm/customers",
    )
    assert all(s.parent_span_id in ids for s in sql)
    assert {s.attributes.get("db.system") or s.attributes.get("db.system.name") for s in sql} == {"postgresql"}


def test_spans_carry_no_search_terms_client_address_or_user_agent(
    traced_service: ServiceProcess, collector: OtlpCollector
) -> None:
    """A search by name and e-mail: neither the terms nor the caller's address or browser reach a span."""
    correlation = f"search-{secrets.token_hex(6)}"
    headers = _headers(**{"X-Correlation-ID": correlation, "User-Agent": "BrowserOfIngrid/1.0"})
    httpx.get(
        f"{traced_service.url}{CUSTOMERS}/search",
        params={"name": "Ingridsecret", "email": "ingrid@private.example"},
        headers=headers,
    )
    trace_id = trace_id_for(correlation)
    spans = collector.wait_for(_in_trace(trace_id, "GET /api/v1/crm/customers/search"))
    values = " ".join(f"{k}={v}" for s in spans if s.trace_id == trace_id for k, v in s.attributes.items())
    assert (
        "Ingridsecret" in values,
        "private.example" in values,
        "BrowserOfIngrid" in values,
        "127.0.0.1:" in values,
    ) == (
        False,
        False,
        False,
        False,
    )


def test_a_callers_traceparent_is_continued(traced_service: ServiceProcess, collector: OtlpCollector) -> None:
    """traceparent alone: the server span is the caller's child, and the trace id is our correlation id."""
    trace_id, parent = secrets.token_hex(16), secrets.token_hex(8)
    response = httpx.get(f"{traced_service.url}{CUSTOMERS}", headers=_headers(traceparent=f"00-{trace_id}-{parent}-01"))
    spans = collector.wait_for(_in_trace(trace_id, "GET /api/v1/crm/customers"))
    [server] = [s for s in spans if s.trace_id == trace_id and s.kind == SERVER]
    assert (server.parent_span_id, response.headers["x-correlation-id"]) == (parent, trace_id)


def test_a_traceparent_of_another_trace_than_the_correlation_id_starts_the_correlation_ids_trace(
    traced_service: ServiceProcess, collector: OtlpCollector
) -> None:
    """X-Correlation-ID and a traceparent that disagree: the correlation id decides, the span is a root."""
    correlation = f"own-{secrets.token_hex(6)}"
    foreign = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"
    httpx.get(
        f"{traced_service.url}{CUSTOMERS}",
        headers=_headers(**{"X-Correlation-ID": correlation, "traceparent": foreign}),
    )
    trace_id = trace_id_for(correlation)
    spans = collector.wait_for(_in_trace(trace_id, "GET /api/v1/crm/customers"))
    [server] = [s for s in spans if s.trace_id == trace_id and s.kind == SERVER]
    assert server.parent_span_id == ""


def test_the_request_log_names_the_trace(traced_service: ServiceProcess, collector: OtlpCollector) -> None:
    """Each request's log line carries its correlation id and that id's trace id."""
    correlation = f"log-{secrets.token_hex(6)}"
    httpx.get(f"{traced_service.url}{CUSTOMERS}", headers=_headers(**{"X-Correlation-ID": correlation}))
    collector.wait_for(_in_trace(trace_id_for(correlation), "GET /api/v1/crm/customers"))
    lines = [line for line in Path(traced_service.log_path).read_text().splitlines() if correlation in line]
    assert any(f'"trace_id": "{trace_id_for(correlation)}"' in line for line in lines)
