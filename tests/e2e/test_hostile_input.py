"""Hostile input against every operation of the OpenAPI document, through the running service.

For each operation, a request that is otherwise well-formed (real ids of the caller's tenant, a body built
from the operation's schema) is sent with one thing made hostile at a time: every query parameter, path
parameter and string of the body set to control characters, brackets, overlong or odd text; bad cursors;
identity headers sent twice; raw bodies no parser should choke on. Nothing may answer 5xx; every error
is the seed's body; a control character is always a 400 naming the field (the edge's one rule).

Requests whose bytes break HTTP itself (a control character in a raw header value) never reach the
service: uvicorn's parser refuses them with its own plain-text 400, which is accepted here as such.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import secrets
import socket
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from customer360.infrastructure.rest.app import ServicesScope, create_app
from customer360.infrastructure.rest.dependencies import ApiServices
from customer360.settings import Settings
from tests.support.service import ServiceProcess

API = "/api/v1/crm"
ERROR_KEYS = {"error", "message", "details", "timestamp", "traceId"}
CONTROL = ["a\x00b", "\x1b[31m", "x\x7f", "\x85", "a\x08"]
ODD = ["[", "]", "http://[evil", "[::1", "%00", "\u202eevil", "🚀", "'; SELECT 1;--", "x" * 5000, ""]
CURSORS = ["AA==", "AAAA", "wrI", "!!!", "=", "eA", "x" * 5000, "MHwwfDA"]
CONCURRENCY = 8


def _operations() -> list[tuple[str, str, str]]:
    """(operationId, method, path) of the service's document, read in-process so tests can be named (the
    document needs no services: their scope is never opened)."""

    def unopened() -> AbstractAsyncContextManager[ApiServices]:
        raise AssertionError("the document is read without starting the app")

    document = create_app(Settings.model_validate({}), ServicesScope(CollectorRegistry(), unopened)).openapi()
    return sorted(
        (operation["operationId"], method, path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    )


OPERATIONS = _operations()


@dataclass
class Probe:
    """One hostile request and what it must get."""

    label: str
    method: str
    url: str
    params: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    json_body: Any = None
    content: bytes | None = None
    content_type: str | None = None
    expect_control_400: bool = False


@dataclass
class World:
    """Real resources of a fresh tenant that path parameters and bodies refer to."""

    headers: dict[str, str]
    values: dict[str, Any]


def _admin(tenant: str) -> dict[str, str]:
    return {"X-User-Id": "hostile-steward", "X-Tenant-ID": tenant, "X-User-Roles": "TENANT_ADMIN"}


def _world(http: httpx.Client) -> World:
    headers = _admin(f"hostile-{secrets.token_hex(5)}")

    def create(name: str) -> dict[str, Any]:
        body = {"name": name, "contacts": [{"name": "Anna Probe", "email": "anna@probe.example", "role": "BILLING"}]}
        response = http.post(f"{API}/customers", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return dict(response.json())

    target, source = create("Hostile Target GmbH"), create("Hostile Source AG")
    relationship = http.post(
        f"{API}/customers/{target['id']}/relationships",
        json={"type": "PARTNER_OF", "toCustomerId": source["id"]},
        headers=headers,
    )
    assert relationship.status_code == 201, relationship.text
    versions = {
        c["id"]: http.get(f"{API}/customers/{c['id']}", headers=headers).json()["version"] for c in (target, source)
    }
    return World(
        headers=headers,
        values={
            "customerId": target["id"],
            "sourceCustomerId": source["id"],
            "contactId": target["contacts"][0]["id"],
            "relationshipId": relationship.json()["id"],
            "pairId": "~".join(sorted([target["id"], source["id"]])),
            "mergeId": "MRG-01JDX3Y7ZK8V2N4Q6R8T0W2Y4A",
            "holdId": "HOLD-01JDX3Y7ZK8V2N4Q6R8T0W2Y4A",
            "jobId": "DSCAN-01JDX3Y7ZK8V2N4Q6R8T0W2Y4A",
            "purpose": "MARKETING",
            "flag": "SUPPRESSED_CONTACT_POINT",
            "name": "CustomerProfileCreatedEvent",
            "version": "1",
            "fingerprint": "0" * 16,
            "targetVersion": versions[target["id"]],
            "sourceVersion": versions[source["id"]],
        },
    )


# --- a schema-valid-looking instance of a JSON schema (bodies and parameter values) ---------------------


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = {**document["components"]["schemas"][name], **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


# Realistic values by property name, where a schema's pattern or a domain rule wants more than "x".
REALISTIC: dict[str, Any] = {
    "country": "DE",
    "number": "+49 30 1234567",
    "phone": "+49 30 1234567",
    "address": "anna@probe.example",
    "email": "anna@probe.example",
    "website": "https://probe.example",
    "domain": "probe.example",
    "start": "08:00",
    "end": "20:00",
    "timeZone": "Europe/Berlin",
    "language": "de",
    "currency": "EUR",
    "value": "DE136695976",
    "postalCode": "10115",
    "city": "Berlin",
    "externalRef": "SALES:1",
    "contactPoint": {"email": "anna@probe.example"},
    "name": "Probe Name",
    "within": "30d",
    "capturedAt": "2020-01-31T12:00:00Z",
    "birthDate": None,  # the profiles here are organisations
    "givenName": None,
    "familyName": None,
}
_ALTERNATION = re.compile(r"^\^\(([A-Za-z0-9_|]+)\)\$$")


def _instance(schema: dict[str, Any], document: dict[str, Any], name: str, world: World, depth: int = 0) -> Any:
    schema = _resolve(schema, document)
    if name in world.values and name not in ("name", "purpose", "version"):
        return world.values[name]
    if name.endswith("CustomerId") or name == "customerIds":
        return [world.values["sourceCustomerId"]] if name == "customerIds" else world.values["sourceCustomerId"]
    if name in REALISTIC and not isinstance(REALISTIC[name], str) and depth:
        return copy.deepcopy(REALISTIC[name])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if _resolve(o, document).get("type") != "null"]
            return _instance(options[0], document, name, world, depth) if options else None
    if "allOf" in schema:
        return _instance(schema["allOf"][0], document, name, world, depth)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 8:
            return {}
        return {
            prop: _instance(sub, document, prop, world, depth + 1) for prop, sub in schema.get("properties", {}).items()
        }
    if kind == "array":
        return [_instance(schema.get("items", {}), document, name, world, depth + 1)] if depth <= 8 else []
    for key in ("const", "default"):
        if key in schema and schema[key] is not None:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    if schema.get("examples"):
        return schema["examples"][0]
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return 0.5
    if kind == "boolean":
        return False
    alternation = _ALTERNATION.match(schema.get("pattern", ""))
    if alternation:
        return alternation.group(1).split("|")[0]
    if isinstance(REALISTIC.get(name), str):
        return REALISTIC[name]
    formats = {"date": "2020-01-31", "date-time": "2099-01-31T12:00:00Z", "email": "probe@probe.example"}
    if schema.get("format") in formats:
        return formats[schema["format"]]
    return "x" * max(1, int(schema.get("minLength", 1)))


def _string_leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, str):
        yield path
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _string_leaves(item, (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _string_leaves(item, (*path, key))


def _replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    changed = copy.deepcopy(document)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


# Optional criteria an operation needs one of, so that its baseline request succeeds.
BASE_QUERY = {"search_customers": ("name",), "lookup_customers": ("email",)}


def _query_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


# --- probes -------------------------------------------------------------------------------------------------


def _probes(method: str, path: str, operation: dict[str, Any], document: dict[str, Any], world: World) -> list[Probe]:
    parameters = operation.get("parameters", [])
    path_values = {p["name"]: world.values.get(p["name"], "x") for p in parameters if p["in"] == "path"}
    query = [
        (p["name"], _query_value(_instance(p["schema"], document, p["name"], world)))
        for p in parameters
        if p["in"] == "query" and (p.get("required") or p["name"] in BASE_QUERY.get(operation["operationId"], ()))
    ]
    body_content = operation.get("requestBody", {}).get("content", {})
    body = (
        _instance(body_content["application/json"]["schema"], document, "body", world)
        if "application/json" in body_content
        else None
    )

    def url(**override: str) -> str:
        return path.format(**{**path_values, **override})

    def probe(label: str, **fields: Any) -> Probe:
        fields.setdefault("url", url())
        fields.setdefault("params", query)
        fields.setdefault("json_body", body)
        return Probe(label=label, method=method.upper(), **fields)

    probes: list[Probe] = []
    for parameter in parameters:
        name, where = parameter["name"], parameter["in"]
        values = CURSORS + CONTROL if name == "cursor" else CONTROL + ODD
        for value in values:
            control = value in CONTROL
            if where == "query":
                params = [(k, v) for k, v in query if k != name] + [(name, value)]
                probes.append(probe(f"query {name}={value[:20]!r}", params=params, expect_control_400=control))
            elif where == "path":
                encoded = httpx.URL(url(**{name: "PLACEHOLDER"})).raw_path.decode()
                hostile = encoded.replace("PLACEHOLDER", httpx.QueryParams({"v": value}).__str__()[2:] or "%20")
                probes.append(probe(f"path {name}={value[:20]!r}", url=hostile, expect_control_400=control))
            elif where == "header" and not control:
                probes.append(probe(f"header {name}={value[:20]!r}", headers=[(name, value)]))
    if body is not None:
        for leaf in _string_leaves(body):
            for value in [*CONTROL[:2], "http://[evil", "[", "x" * 5000, "\x85"]:
                control = value in CONTROL or value == "\x85"
                hostile_body = _replaced(body, leaf, value)
                probes.append(probe(f"body {leaf}={value[:20]!r}", json_body=hostile_body, expect_control_400=control))
        if isinstance(body, dict):
            probes.append(probe("body member name", json_body={**body, "a\x00": "x"}, expect_control_400=True))
        raw_bodies = {
            "lone surrogate": (b'{"name": "\\ud800", "x": "\\udfff"}', True),
            "invalid UTF-8": (b'{"name": "\xff\xfe"}', False),
            "nested 100000 deep": (b"[" * 100_000 + b"]" * 100_000, False),
            "nested with a NUL": (b'{"a": ' + b"[" * 5000 + b'"\\u0000"' + b"]" * 5000 + b"}", False),
            "huge number": (b'{"name": 1e999999}', False),
            "not an object": (b"[]", False),
            "null": (b"null", False),
            "truncated": (b'{"name": "x', False),
        }
        for label, (raw, control) in raw_bodies.items():
            probes.append(
                probe(
                    f"raw body {label}",
                    json_body=None,
                    content=raw,
                    content_type="application/json",
                    expect_control_400=control,
                )
            )
    for header in ("X-Tenant-ID", "X-User-Id", "X-User-Roles", "X-Correlation-ID", "Idempotency-Key", "If-Match"):
        value = world.headers.get(header, "TENANT_ADMIN" if header == "X-User-Roles" else '"1"')
        probes.append(probe(f"header {header} twice", headers=[(header, value), (header, value)]))
    for header, value in [
        ("If-Match", '"[evil'),
        ("If-Match", '"' + "9" * 5000 + '"'),
        ("If-None-Match", "W/" * 2000),
        ("Idempotency-Key", "k" * 5000),
        ("X-Correlation-ID", "[" * 200),
        ("X-Tenant-ID", "t" * 5000),
        ("X-User-Permissions", "crm.customer:read," * 1000),
        ("Content-Type", "application/json; charset=[evil"),
    ]:
        probes.append(probe(f"header {header}={value[:20]!r}", headers=[(header, value)]))
    return probes


async def _send(http: httpx.AsyncClient, world: World, probe: Probe) -> httpx.Response:
    replaced = {name for name, _ in probe.headers}
    # Header names and values go as UTF-8 bytes (httpx would refuse non-ASCII text).
    headers = [(k.encode(), v.encode()) for k, v in [*world.headers.items(), *probe.headers] if k not in replaced]
    headers += [(k.encode(), v.encode()) for k, v in probe.headers]
    content = probe.content
    if content is None and probe.json_body is not None and probe.method in ("POST", "PUT", "PATCH"):
        content = json.dumps(probe.json_body).encode()
    if content is not None:
        headers.append((b"Content-Type", (probe.content_type or "application/json").encode()))
    params = httpx.QueryParams(tuple(probe.params))
    return await http.request(probe.method, probe.url, params=params, headers=headers, content=content)


def _complaint(probe: Probe, response: httpx.Response) -> str | None:
    status = response.status_code
    if status >= 500:
        return f"{probe.label}: {status} {response.text[:200]}"
    if status >= 400:
        try:
            body = response.json()
        except ValueError:
            return f"{probe.label}: {status} without a JSON error body"
        if set(body) != ERROR_KEYS:
            return f"{probe.label}: {status} body {sorted(body)}"
    if probe.expect_control_400:
        body = response.json() if status == 400 else {}
        if body.get("error") != "VALIDATION_ERROR" or not body.get("details", {}).get("fields"):
            return f"{probe.label}: {status} instead of 400 with details.fields"
    return None


@pytest.fixture(scope="module")
def openapi(service: ServiceProcess) -> dict[str, Any]:
    return dict(httpx.get(f"{service.url}/openapi.json").json())


@pytest.mark.parametrize(("operation_id", "method", "path"), OPERATIONS, ids=[o[0] for o in OPERATIONS])
async def test_hostile_input_gets_no_5xx_and_the_error_body(
    service: ServiceProcess, openapi: dict[str, Any], operation_id: str, method: str, path: str
) -> None:
    """Every hostile variant of the operation is a 2xx/3xx/4xx; errors are the seed's body; a control
    character is a 400 naming the field."""
    operation = openapi["paths"][path][method]
    with httpx.Client(base_url=service.url, timeout=60) as setup:
        world = _world(setup)
    probes = _probes(method, path, operation, openapi, world)
    limit = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(base_url=service.url, timeout=60) as http:

        async def check(probe: Probe) -> str | None:
            async with limit:
                return _complaint(probe, await _send(http, world, probe))

        complaints = [c for c in await asyncio.gather(*(check(p) for p in probes)) if c is not None]
    assert (operation_id, complaints) == (operation_id, [])


def _raw_request(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("header", [b"X-Tenant-ID", b"X-User-Id", b"If-Match", b"Idempotency-Key", b"X-Correlation-ID"])
def test_a_raw_control_character_in_a_header_never_reaches_the_service(service: ServiceProcess, header: bytes) -> None:
    """HTTP itself forbids it: the server's parser answers 400 before any route, and the service lives on."""
    head = (
        b"GET /api/v1/crm/customers HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-User-Id: u\r\n"
        b"X-User-Roles: TENANT_ADMIN\r\n" + header + b": a\x00b\r\n\r\n"
    )
    answer = _raw_request(service.port, head)
    assert (answer.split(b"\r\n", 1)[0], httpx.get(f"{service.url}/health/live").status_code) == (
        b"HTTP/1.1 400 Bad Request",
        200,
    )
