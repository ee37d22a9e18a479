"""Base models of the HTTP edge: camelCase on the wire, unknown input fields refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


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


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "Malformed input: the field and the reason are in details.fields",
        401: "No authenticated user",
        403: "The user lacks the permission",
        404: "No such resource in this tenant",
        409: "Conflict with the current state (duplicate, concurrent change, merged customer)",
        412: "If-Match does not name the current version",
        413: "Request body too large",
        422: "A business rule forbids it",
    }.items()
}
