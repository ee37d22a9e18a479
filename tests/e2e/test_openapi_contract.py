"""schemathesis, run against the service's own OpenAPI document with valid credentials."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.support.service import ServiceProcess

# positive_data_acceptance runs as positive_data_acceptance_but_listed (schemathesis_refusals.py): the same
# check, except for the refusals listed there one by one with the reason JSON Schema cannot state their rule
# (validTo ≥ validFrom, a pair of two different customers, a cursor this API returned...).
HOOKS = Path(__file__).with_name("schemathesis_refusals.py")
EXCLUDED_CHECKS = "positive_data_acceptance"


def test_the_api_never_answers_5xx_nor_breaks_its_own_schema(service: ServiceProcess, tmp_path: Path) -> None:
    """Every generated request gets a documented status and a body that matches the OpenAPI schema."""
    st = Path(sys.executable).parent / "st"
    seed = os.environ.get("SCHEMATHESIS_SEED", "20261127")
    result = subprocess.run(
        [
            str(st),
            "run",
            f"{service.url}/openapi.json",
            "-H",
            "X-User-Id: schemathesis",
            "-H",
            "X-Tenant-ID: schemathesis-tenant",
            "-H",
            "X-User-Roles: TENANT_ADMIN",
            "--checks",
            "all",
            "--exclude-checks",
            EXCLUDED_CHECKS,
            "--max-examples",
            os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10"),
            "--seed",
            seed,
            # One worker: CPython 3.11.7's ast.parse is not thread-safe (gh-106905), and hypothesis parses
            # lambda sources while describing filters, so two worker threads can crash schemathesis itself.
            "--workers",
            "1",
            "--no-color",
            "--generation-database",
            "none",
            "--report-dir",
            str(tmp_path),
        ],
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-8000:]


def test_the_openapi_document_is_version_3_1_and_describes_every_route(service: ServiceProcess) -> None:
    """/openapi.json is OpenAPI 3.1 and lists the seed's four endpoints."""
    document = httpx.get(f"{service.url}/openapi.json").json()
    paths = document["paths"]
    assert document["openapi"].startswith("3.1")
    assert {"post"} <= set(paths["/api/v1/crm/customers"])
    assert {"get"} <= set(paths["/api/v1/crm/customers/{customerId}"])
    assert {"post"} <= set(paths["/api/v1/crm/customers/{customerId}/consent"])


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for item in document["paths"].values() for op in item.values()}


def _header_parameters(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}


def test_if_match_is_declared_on_the_operations_that_honour_it(service: ServiceProcess) -> None:
    """If-Match is a header parameter of exactly the operations that take the version they change."""
    operations = _operations(httpx.get(f"{service.url}/openapi.json").json())
    declared = {name for name, op in operations.items() if "If-Match" in _header_parameters(op)}
    assert declared == {
        "patch_customer",
        "change_status",
        "add_contact",
        "update_contact",
        "remove_contact",
        "merge_customer",
        "preview_merge",
        "unmerge_customer",
        "set_survivorship_policy",
        "put_duplicate_settings",
        "set_consent_policy",
    }


def test_idempotency_key_is_declared_on_every_post_that_runs_a_command(service: ServiceProcess) -> None:
    """Idempotency-Key is a header parameter of the POST operations whose command honours it."""
    operations = _operations(httpx.get(f"{service.url}/openapi.json").json())
    declared = {name for name, op in operations.items() if "Idempotency-Key" in _header_parameters(op)}
    assert {"create_customer", "add_contact", "record_consent", "merge_customer", "place_legal_hold"} <= declared
    assert "start_import" not in declared


def test_every_operation_declares_the_correlation_id_both_ways(service: ServiceProcess) -> None:
    """X-Correlation-ID is a request header of every operation and a response header of every answer."""
    operations = _operations(httpx.get(f"{service.url}/openapi.json").json())
    without = [
        f"{name} {status}"
        for name, op in operations.items()
        for status, response in op["responses"].items()
        if "X-Correlation-ID" not in response.get("headers", {}) or "X-Correlation-ID" not in _header_parameters(op)
    ]
    assert without == []


def test_operations_on_the_database_declare_503_with_retry_after(service: ServiceProcess) -> None:
    """Every operation that needs a permission can answer 503 with Retry-After; health and metrics do not."""
    operations = _operations(httpx.get(f"{service.url}/openapi.json").json())
    with_retry = {
        name for name, op in operations.items() if "Retry-After" in op["responses"].get("503", {}).get("headers", {})
    }
    secured = {name for name, op in operations.items() if op.get("x-permissions")}
    assert (with_retry, "live" in with_retry) == (secured, False)


def test_created_and_versioned_answers_declare_etag_location_and_link(service: ServiceProcess) -> None:
    """A create declares ETag and Location; the profile read declares ETag, Link and its 304."""
    operations = _operations(httpx.get(f"{service.url}/openapi.json").json())
    created = operations["create_customer"]["responses"]["201"]["headers"]
    read = operations["get_customer"]["responses"]
    assert {"ETag", "Location"} <= set(created)
    assert {"ETag", "Link"} <= set(read["200"]["headers"]) & set(read["304"]["headers"])


def test_optional_headers_are_never_declared_as_null(service: ServiceProcess) -> None:
    """An optional header parameter is a string schema (sent or not), never one that admits null."""
    operations = _operations(httpx.get(f"{service.url}/openapi.json").json())
    nullable = [
        f"{name} {p['name']}"
        for name, op in operations.items()
        for p in op.get("parameters", [])
        if p["in"] == "header" and p["schema"].get("type") != "string"
    ]
    assert (nullable, operations["patch_customer"]["parameters"][1]["schema"]["type"]) == ([], "string")
