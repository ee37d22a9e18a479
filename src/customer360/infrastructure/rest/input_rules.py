"""The one rule every request passes at the edge, whatever the route: no control characters in the path, in
query parameters, in headers or in any string (or member name) of the body, and the identity headers sent
once. A NUL would otherwise reach PostgreSQL (which refuses it in text, a 500), and the second of two
``X-Tenant-ID`` headers would be silently ignored.

Each function returns the offending fields as ``{"field", "reason"}`` (the shape of ``details.fields``),
never the rejected value. Text in bodies may hold tabs and line breaks (notes, addresses); names in the
path, parameters and headers may not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl

from fastapi.routing import iter_route_contexts
from starlette.routing import Match
from starlette.types import Scope

Field = dict[str, str]

# C0 controls, DEL and C1 controls; lone surrogates (only a JSON escape can produce them) are not text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_BODY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Header values are bytes: UTF-8 sent raw has bytes 0x80-0x9f, which are not controls there. Tabs are allowed.
_HEADER_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
# A control character reaches a parameter only percent-encoded (httptools refuses raw ones in the target).
_QUERY_SUSPECT = re.compile(rb"%[01][0-9a-fA-F]|%7[fF]|%[cC]2%[89][0-9a-fA-F]|[\x00-\x1f\x7f]")
# A body can only hold a forbidden character as a raw byte or as a \u escape, which the three cheap
# scans of _suspect find (a regular expression over a 3.5 MB bulk check took 100 ms; these take 5).
_RAW_CONTROLS = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_RAW_C1 = re.compile(rb"\xc2[\x80-\x9f]")
_ESCAPED = re.compile(rb"\\u(00[01][0-9a-fA-F]|007[fF]|00[89][0-9a-fA-F]|[dD][89a-fA-F])")
_JSON_TYPE = re.compile(r"^application/([\w.+-]*\+)?json\b|^application/merge-patch\+json\b", re.IGNORECASE)

CONTROL_REASON = "must not contain control characters"

# Headers whose meaning is one value: a second copy is refused rather than guessed at.
SINGLE_HEADERS = {
    b"x-tenant-id": "X-Tenant-ID",
    b"x-user-id": "X-User-Id",
    b"x-user-roles": "X-User-Roles",
    b"x-user-permissions": "X-User-Permissions",
    b"authorization": "Authorization",
    b"x-correlation-id": "X-Correlation-ID",
    b"idempotency-key": "Idempotency-Key",
    b"if-match": "If-Match",
    b"x-override-reason": "X-Override-Reason",
}


def header_errors(headers: Iterable[tuple[bytes, bytes]]) -> list[Field]:
    errors: list[Field] = []
    seen: set[bytes] = set()
    for name, value in headers:
        label = SINGLE_HEADERS.get(name)
        if label is not None:
            if name in seen:
                errors.append({"field": label, "reason": "must be sent once"})
            seen.add(name)
        if _HEADER_CONTROL.search(value):
            errors.append({"field": label or _header_label(name), "reason": CONTROL_REASON})
    return _unique(errors)


def query_errors(query_string: bytes) -> list[Field]:
    """Parsed as Starlette parses it (percent-decoding, UTF-8), so what is checked is what routes see."""
    if not _QUERY_SUSPECT.search(query_string):
        return []
    errors: list[Field] = []
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if _CONTROL.search(name):
            errors.append({"field": "query", "reason": "a parameter name " + CONTROL_REASON})
        elif _CONTROL.search(value):
            errors.append({"field": name, "reason": CONTROL_REASON})
    return _unique(errors)


def path_errors(scope: Scope) -> list[Field]:
    path: str = scope.get("path", "")
    if not _CONTROL.search(path):
        return []
    # Named after the path parameter when a route matches (only on this rare path).
    for context in iter_route_contexts(getattr(scope.get("app"), "routes", ())):
        match, child = context.original_route.matches(scope)
        if match is not Match.NONE:
            named = [
                {"field": name, "reason": CONTROL_REASON}
                for name, value in child.get("path_params", {}).items()
                if isinstance(value, str) and _CONTROL.search(value)
            ]
            if named:
                return named
    return [{"field": "path", "reason": CONTROL_REASON}]


def _suspect(body: bytes) -> bool:
    return (
        len(body.translate(None, _RAW_CONTROLS)) != len(body)
        or (b"\xc2" in body and _RAW_C1.search(body) is not None)
        or (b"\\" in body and _ESCAPED.search(body) is not None)
    )


def body_errors(body: bytes, content_type: str) -> list[Field]:
    if not _suspect(body):
        return []
    if _JSON_TYPE.match(content_type):
        try:
            # The standard library's parser, as FastAPI's: it accepts lone surrogates, which must be found.
            document = json.loads(body)
        except (ValueError, RecursionError):
            return []  # not JSON (or nested beyond the parser): the route answers it as malformed
        return _unique(list(_json_errors(document)))
    text = body.decode("utf-8", errors="replace")
    return [{"field": "body", "reason": CONTROL_REASON}] if _BODY_CONTROL.search(text) else []


def _json_errors(document: Any) -> Iterator[Field]:
    # Iterative: a body nested as deep as the parser allows must not exhaust the stack here.
    pending: list[tuple[Any, str]] = [(document, "")]
    while pending:
        value, path = pending.pop()
        if isinstance(value, str):
            if _BODY_CONTROL.search(value):
                yield {"field": path or "body", "reason": CONTROL_REASON}
        elif isinstance(value, list):
            pending.extend((item, f"{path}[{index}]") for index, item in reversed(list(enumerate(value))))
        elif isinstance(value, dict):
            if any(_CONTROL.search(key) for key in value):
                yield {"field": path or "body", "reason": "a member name " + CONTROL_REASON}
            members = [
                (item, f"{path}.{key}" if path else key) for key, item in value.items() if not _CONTROL.search(key)
            ]
            pending.extend(reversed(members))


def _header_label(name: bytes) -> str:
    return "-".join(part.capitalize() for part in name.decode("latin-1").split("-"))


def _unique(errors: list[Field]) -> list[Field]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for error in errors:
        key = (error["field"], error["reason"])
        if key not in seen:
            seen.add(key)
            unique.append(error)
    return unique
