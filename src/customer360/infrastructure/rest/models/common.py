"""Base models of the HTTP edge: camelCase on the wire, unknown input fields refused."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$")


def _iso(pattern: re.Pattern[str], what: str) -> Any:
    def check(value: Any) -> Any:
        # pydantic would otherwise read numbers (and numeric strings) as seconds since 1970.
        if isinstance(value, str) and pattern.match(value):
            return value
        if isinstance(value, date) and not isinstance(value, str):
            return value
        raise ValueError(f"must be {what}")

    return check


IsoDate = Annotated[date, BeforeValidator(_iso(_ISO_DATE, "an ISO-8601 date YYYY-MM-DD"))]
IsoDateTime = Annotated[
    AwareDatetime, BeforeValidator(_iso(_ISO_DATETIME, "an ISO-8601 timestamp with offset, e.g. 2026-01-31T12:00:00Z"))
]


# Purposes and topics as domain.values.topic_code reads them: a letter, then letters, digits and '_', in any
# case, with surrounding spaces trimmed.
# White space the service trims, without the control characters the edge refuses (\s would admit \x1c-\x1f).
SPACE = "[^\\S\\u0000-\\u001f\\u007f-\\u009f]"
TOPIC_PATTERN = f"^{SPACE}*[A-Za-z][A-Za-z0-9_]{{0,39}}{SPACE}*$"
TopicCode = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=TOPIC_PATTERN)]
# Free text the service cleans (domain.values.clean_text: something visible, no invisible characters): the
# OpenAPI document gives it that pattern (openapi_document.py); other strings get the edge's rule only.
FREE_TEXT = "x-free-text"
CLEANED = Field(json_schema_extra={FREE_TEXT: True})
# Addresses are checked by email-validator (domain.values.EmailAddress); JSON Schema's format says the most of it.
EMAIL = Field(json_schema_extra={"format": "email"})
# Source systems as domain.values.ExternalReference reads them (upper-cased, trimmed).
SourceSystem = Annotated[
    str, StringConstraints(max_length=40, pattern=f"^{SPACE}*[A-Za-z0-9][A-Za-z0-9_.\\-]*{SPACE}*$")
]


class ApiInput(BaseModel):
    # Unknown fields are refused: a silently ignored field in a master-data API is lost data.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ApiOutput(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class ErrorBody(ApiOutput):
    """The seed's error body, on every error."""

    error: str = Field(description="Stable machine-readable code, e.g. CUSTOMER_NOT_FOUND")
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    timestamp: datetime
    trace_id: str = Field(description="The request's correlation id")


# Response headers an operation declares where it sends them (``responses={200: headers("ETag")}``); the
# headers every answer carries (X-Correlation-ID, Retry-After on 503) are added by openapi_document.py.
_RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": 'The version of the resource ("3"): send it as If-Match to change what you read',
        "required": True,
        "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
    },
    "Location": {
        "description": "The path of what was created (or of the job that was started)",
        "required": True,
        "schema": {"type": "string", "pattern": "^/api/v1/crm/"},
    },
    "Link": {
        "description": 'For a merged profile: `<path of the survivor>; rel="canonical"`',
        "schema": {"type": "string"},
    },
    "Content-Location": {
        "description": "With resolve=true for a merged profile: the path of the survivor the body describes",
        "schema": {"type": "string"},
    },
}


def headers(*names: str) -> dict[str, Any]:
    """The response headers named, as a ``responses`` entry of a route."""
    return {"headers": {name: _RESPONSE_HEADERS[name] for name in names}}


def links(source: str, targets: dict[str, str], **parameters: str) -> dict[str, Any]:
    """OpenAPI links from an operation's response to the operations its result identifies (clients and
    schemathesis' stateful tests follow them). ``parameters`` maps a path parameter to a runtime expression."""
    return {
        name: {"operationId": operation, "parameters": dict(parameters), "description": f"{source} → {operation}"}
        for name, operation in targets.items()
    }


def created_with_links(
    model: type[BaseModel], source: str, targets: dict[str, str], *, sends: tuple[str, ...] = (), **parameters: str
) -> dict[int | str, dict[str, Any]]:
    """The 201 answer with its links and the response headers it ``sends``."""
    return {
        201: {
            "model": model,
            "description": "Created",
            "links": links(source, targets, **parameters),
            **headers(*sends),
        },
    }
