"""From an HTTP request to a command and back: request context, If-Match, Idempotency-Key, rendering."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, overload

import orjson
from fastapi import Depends, Header, Request
from pydantic import BaseModel
from starlette.responses import Response

from customer360.application.context import RequestContext
from customer360.application.executor import Handler
from customer360.application.ports import StoredResponse, UnitOfWork
from customer360.domain.errors import IdempotencyKeyInProgress, IdempotencyKeyReused, InvalidValue
from customer360.infrastructure.rest.auth import Principal
from customer360.infrastructure.rest.dependencies import ApiServices, services
from customer360.infrastructure.rest.errors import correlation_id

C = TypeVar("C")
R = TypeVar("R")
V = TypeVar("V")

IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
_ETAG = re.compile(r'^(?:W/)?"?(\d{1,10})"?$')
# What expected_version accepts, for the OpenAPI document (servers strip the spaces around a header value).
IF_MATCH_PATTERN = r'^(\*|(W/)?"?\d{1,10}"?)$'


@dataclass(frozen=True, slots=True)
class Rendered:
    status_code: int
    body: bytes
    headers: dict[str, str]

    def response(self, replayed: bool = False) -> Response:
        headers = dict(self.headers)
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(self.body, status_code=self.status_code, headers=headers, media_type="application/json")


def context_of(request: Request, principal: Principal, source: str = "API") -> RequestContext:
    return RequestContext(
        tenant_id=principal.tenant_id, actor=principal.user_id, correlation_id=correlation_id(request), source=source
    )


async def _if_match(
    value: Annotated[
        str | None,
        Header(
            alias="If-Match",
            pattern=IF_MATCH_PATTERN,
            description='The version the change is based on, as its ETag ("3"); 412 if it is no longer current. '
            "`*` or no header: any version",
        ),
    ] = None,
) -> int | None:
    """The version named by If-Match; a parameter of the routes that honour it, so the OpenAPI document
    declares it there."""
    if value is None:
        return None
    match = _ETAG.match(value.strip())
    return int(match.group(1)) if match is not None else None


IfMatch = Annotated[int | None, Depends(_if_match)]


async def _idempotency_key(
    value: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=IDEMPOTENCY_KEY_PATTERN,
            description="Makes the POST safe to retry: a retry with the same key and request gets the first answer "
            "back (Idempotent-Replayed: true); the same key with another request is 422 IDEMPOTENCY_KEY_REUSED",
        ),
    ] = None,
) -> str | None:
    return value


# For the POST routes whose command run_command executes: it declares the header that run_command honours.
IDEMPOTENT = Depends(_idempotency_key)


def etag(version: int) -> str:
    return f'"{version}"'


def not_modified(value: str | None, tag: str) -> bool:
    """Whether If-None-Match (``value``) names ``tag`` (a list, weak ``W/`` tags and ``*`` included, RFC 9110
    13.1.2)."""
    if value is None:
        return False
    candidates = [candidate.strip() for candidate in value.split(",")]
    return "*" in candidates or any(candidate.removeprefix("W/") == tag for candidate in candidates)


def render(model: type[BaseModel], document: dict[str, Any], status_code: int = 200, **headers: str) -> Rendered:
    body = model.model_validate(document).model_dump_json(by_alias=True).encode()
    return Rendered(status_code, body, headers)


Read = Callable[[R, UnitOfWork], Awaitable[V]]


@overload
async def run_command(
    request: Request,
    principal: Principal,
    handler: Handler[C, R],
    command: C,
    render: Callable[[R], Rendered],
) -> Response: ...


@overload
async def run_command(
    request: Request,
    principal: Principal,
    handler: Handler[C, R],
    command: C,
    render: Callable[[V], Rendered],
    read: Read[R, V],
    *,
    reveal: Callable[[V], dict[str, Any]] | None = None,
) -> Response: ...


async def run_command(
    request: Request,
    principal: Principal,
    handler: Handler[C, Any],
    command: C,
    render: Callable[[Any], Rendered],
    read: Read[Any, Any] | None = None,
    *,
    reveal: Callable[[Any], dict[str, Any]] | None = None,
) -> Response:
    """Execute in one transaction and render what it answers; ``read`` (the use case's ``…_answer``) reads
    the read model of what changed in that transaction. With an Idempotency-Key on POST, a retry gets the
    first response back. ``reveal``: fields answered once and never stored (a double opt-in token)."""
    api = services(request)
    context = context_of(request, principal)
    key = request.headers.get("idempotency-key")
    if key is None or request.method != "POST":
        answer = await api.executor.execute(context, handler, command, present=read)
        return _revealed(render(answer), answer, reveal)
    if not _IDEMPOTENCY_KEY.match(key):
        raise InvalidValue("Idempotency-Key", "must be 1-255 visible ASCII characters")
    fingerprint = hashlib.sha256(
        b"\n".join([request.method.encode(), request.url.path.encode(), await request.body()])
    ).hexdigest()
    replay = await _replay(api, principal.tenant_id, key, fingerprint)
    if replay is not None:
        return replay
    stored: list[Rendered] = []

    def remember(answer: Any) -> StoredResponse:
        stored.append(render(answer))
        return StoredResponse(fingerprint, stored[0].status_code, stored[0].body, stored[0].headers)

    try:
        answer = await api.executor.execute(context, handler, command, present=read, replay_key=key, remember=remember)
    except IdempotencyKeyInProgress:
        replay = await _replay(api, principal.tenant_id, key, fingerprint)
        if replay is None:
            raise
        return replay
    return _revealed(stored[0], answer, reveal)


def _revealed(rendered: Rendered, answer: Any, reveal: Callable[[Any], dict[str, Any]] | None) -> Response:
    fields = reveal(answer) if reveal is not None else {}
    if not fields:
        return rendered.response()
    body = {**orjson.loads(rendered.body), **fields}
    return Rendered(rendered.status_code, orjson.dumps(body), rendered.headers).response()


async def _replay(api: ApiServices, tenant_id: str, key: str, fingerprint: str) -> Response | None:
    stored = await api.idempotency.find(tenant_id, key)
    if stored is None:
        return None
    if stored.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return Rendered(stored.status_code, stored.body, stored.headers).response(replayed=True)
