"""The application's routes against its own OpenAPI document, in-process (no services are opened)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from customer360.domain.errors import DomainError
from customer360.infrastructure import import_files
from customer360.infrastructure.rest.app import ServicesScope, create_app
from customer360.infrastructure.rest.dependencies import ApiServices
from customer360.infrastructure.rest.errors import status_of_type
from customer360.settings import Settings

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CALLER = {"X-User-Id": "u", "X-Tenant-ID": "t", "X-User-Roles": "TENANT_ADMIN"}


def _app() -> FastAPI:
    def unopened() -> AbstractAsyncContextManager[ApiServices]:
        raise AssertionError("routing and the document need no services")

    return create_app(Settings.model_validate({}), ServicesScope(CollectorRegistry(), unopened))


APP = _app()
DOCUMENT: dict[str, Any] = APP.openapi()


def _concrete(template: str) -> str:
    # A value no literal segment has: a collision with a literal sibling is then the literal path's own.
    return re.sub(r"\{[^}]+\}", "p1", template)


@pytest.mark.parametrize("path", sorted(DOCUMENT["paths"]))
async def test_a_method_the_path_does_not_offer_is_405_with_allow(path: str) -> None:
    """Every method a documented path lacks is 405 with Allow naming exactly the documented methods (not a
    parameter route beside it taking the literal word for an id)."""
    offered = sorted(method.upper() for method in DOCUMENT["paths"][path])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=APP), base_url="http://test") as client:
        answers = {
            method: (response.status_code, response.headers.get("allow"), response.json().get("error"))
            for method in METHODS
            if method not in offered
            for response in [await client.request(method, _concrete(path), headers=CALLER)]
        }
    expected = (405, ", ".join(offered), "METHOD_NOT_ALLOWED")
    assert answers == dict.fromkeys(answers, expected)


def _operations() -> list[tuple[str, dict[str, Any]]]:
    return [(method, op) for item in DOCUMENT["paths"].values() for method, op in item.items()]


def _errors(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The answers in the error body (readiness' 503 is its health document)."""
    return {
        status: r
        for status, r in operation["responses"].items()
        if status[0] in "45" and "ErrorBody" in str(r.get("content", {}).get("application/json", {}).get("schema"))
    }


def _headers(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}


def test_an_operation_without_a_body_declares_neither_413_nor_malformed_json() -> None:
    """413 and MALFORMED_JSON belong to the operations that take a body, and to all of them."""
    wrong = [
        op["operationId"]
        for _, op in _operations()
        if ("413" in op["responses"]) != ("requestBody" in op)
        or ("MALFORMED_JSON" in op["responses"]["400"]["x-error-codes"])
        != ("application/json" in op.get("requestBody", {}).get("content", {}))
    ]
    assert wrong == []


def test_412_is_declared_by_exactly_the_operations_taking_if_match() -> None:
    """A read (or a change without If-Match) cannot answer 412."""
    wrong = [op["operationId"] for _, op in _operations() if ("412" in op["responses"]) != ("If-Match" in _headers(op))]
    assert wrong == []


def test_404_needs_an_id_in_the_path() -> None:
    """An operation without a path parameter (a list, a search, a create) never answers 404."""
    wrong = [
        op["operationId"]
        for _, op in _operations()
        if "404" in op["responses"] and not any(p["in"] == "path" for p in op.get("parameters", []))
    ]
    assert wrong == []


def test_every_error_response_lists_its_codes() -> None:
    """Each declared 4xx/5xx names its error codes in x-error-codes and in its description."""
    wrong = [
        f"{op['operationId']} {status}"
        for _, op in _operations()
        for status, response in _errors(op).items()
        if not response.get("x-error-codes")
        or (status != "503" and not all(f"`{code}`" in response["description"] for code in response["x-error-codes"]))
    ]
    assert wrong == []


def _error_classes(root: type[DomainError]) -> Iterator[type[DomainError]]:
    for child in root.__subclasses__():
        yield child
        yield from _error_classes(child)


def test_each_error_code_is_declared_under_the_status_the_service_answers_it_with() -> None:
    """A code of an error class sits under the status errors.py maps that class to (one mapping)."""
    status_by_code = {
        error.code: status_of_type(error)
        for error in _error_classes(DomainError)
        if error.code not in ("DOMAIN_ERROR", "BUSINESS_RULE_VIOLATION") and status_of_type(error) is not None
    }
    wrong = [
        f"{op['operationId']} {status} {code}"
        for _, op in _operations()
        for status, response in _errors(op).items()
        for code in response["x-error-codes"]
        if code in status_by_code and str(status_by_code[code]) != status
    ]
    assert (wrong, len(status_by_code) > 15) == ([], True)


def _strings(schema: Any, seen: set[str]) -> Iterator[dict[str, Any]]:
    if isinstance(schema, list):
        for item in schema:
            yield from _strings(item, seen)
    elif isinstance(schema, dict):
        reference = schema.get("$ref", "")
        if reference:
            name = reference.rsplit("/", 1)[1]
            if name not in seen:
                seen.add(name)
                yield from _strings(DOCUMENT["components"]["schemas"][name], seen)
            return
        if schema.get("type") == "string":
            yield schema
        for value in schema.values():
            yield from _strings(value, seen)


def test_every_string_a_request_carries_states_what_the_service_accepts() -> None:
    """Each string parameter and body member has a pattern, an enum or a format: the edge's rule on control
    characters at least (schemathesis' positive data is then data the service takes)."""
    loose = [
        f"{op['operationId']} {schema.get('title', '')}"
        for _, op in _operations()
        for part in [*op.get("parameters", []), *op.get("requestBody", {}).get("content", {}).values()]
        for schema in _strings(part.get("schema"), set())
        if not {"pattern", "enum", "const", "format"} & set(schema)
    ]
    assert loose == []


def test_every_refusal_of_an_imported_file_is_declared_on_start_import() -> None:
    """Each code import_files.py refuses a file with is one of start_import's declared 400 codes."""
    source = Path(import_files.__file__).read_text(encoding="utf-8")
    raised = set(re.findall(r'UnreadableFile\(\s*"([A-Z_]+)"', source))
    start_import = next(op for _, op in _operations() if op["operationId"] == "start_import")
    declared = set(start_import["responses"]["400"]["x-error-codes"])
    assert (len(raised) >= 5, raised - declared) == (True, set())
