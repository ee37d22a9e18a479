"""The Avro schema catalog over HTTP: every event we publish or consume, by name, version or fingerprint."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import Field
from starlette.responses import Response

from customer360.application.integration_queries import EventSchemaNotFound
from customer360.application.queries import Document
from customer360.infrastructure.rest.auth import Principal
from customer360.infrastructure.rest.dependencies import Services, require
from customer360.infrastructure.rest.dispatch import render
from customer360.infrastructure.rest.models.common import ApiOutput

router = APIRouter(prefix="/api/v1/crm/events/schemas", tags=["events"])

Reader = Annotated[Principal, Depends(require("crm.events:read"))]
EventName = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z_][A-Za-z0-9_.]{0,200}$",
        description="Short or full record name",
        examples=["CustomerMergedEvent", "com.erp.crm.customer360.events.CustomerMergedEvent"],
    ),
]


class EventSchema(ApiOutput):
    name: str = Field(description="Record name = event type")
    namespace: str
    full_name: str
    version: int
    latest: bool = Field(description="The version we write (produced) or read into (consumed)")
    direction: Literal["produced", "consumed"]
    fingerprint: str = Field(description="CRC-64-AVRO of the Parsing Canonical Form, 8 bytes in wire order, hex")
    fingerprint_long: int = Field(description="The same as Java's SchemaNormalization.parsingFingerprint64")
    canonical_form: str
    schema_: dict[str, Any] = Field(alias="schema", description="The .avsc document")


class EventSchemaList(ApiOutput):
    items: list[EventSchema]


def _document(described: Document) -> dict[str, Any]:
    document = dict(described)
    document["schema_"] = document.pop("schema")
    return document


@router.get("", response_model=EventSchemaList, summary="Every event schema (produced and consumed), all versions")
async def list_event_schemas(
    principal: Reader,
    services: Services,
    direction: Literal["produced", "consumed"] | None = None,
    latest_only: Annotated[bool, Query(alias="latestOnly")] = False,
) -> Response:
    items = [
        _document(s)
        for s in services.event_schemas.all()
        if (direction is None or s["direction"] == direction) and (s["latest"] or not latest_only)
    ]
    return render(EventSchemaList, {"items": items}).response()


@router.get(
    "/fingerprints/{fingerprint}",
    response_model=EventSchema,
    summary="The schema with a fingerprint (as found after C3 01 in a single-object-encoded value)",
)
async def get_event_schema_by_fingerprint(
    principal: Reader,
    services: Services,
    fingerprint: Annotated[
        str,
        Path(
            pattern=r"^([0-9a-fA-F]{16}|-?[0-9]{1,20})$",
            description="16 hex digits in wire order, or the signed/unsigned 64-bit value",
            examples=["588a51f72bfbf849", "5330286325244463704"],
        ),
    ],
) -> Response:
    # 16 hex digits are the wire bytes; a number is the 64-bit value (a 16-digit number may be either).
    candidates: list[str | int] = [fingerprint] if len(fingerprint) == 16 else []
    if fingerprint.lstrip("-").isdigit():
        candidates.append(int(fingerprint))
    schema = next(
        (found for c in candidates if (found := services.event_schemas.with_fingerprint(c)) is not None), None
    )
    if schema is None:
        raise EventSchemaNotFound(f"with fingerprint {fingerprint}")
    return render(EventSchema, _document(schema)).response()


@router.get("/{name}", response_model=EventSchemaList, summary="Every version of one event type, oldest first")
async def get_event_schema_versions(principal: Reader, services: Services, name: EventName) -> Response:
    versions = services.event_schemas.versions(name)
    return render(EventSchemaList, {"items": [_document(s) for s in versions]}).response()


@router.get("/{name}/versions/{version}", response_model=EventSchema, summary="One version of an event type")
async def get_event_schema(
    principal: Reader, services: Services, name: EventName, version: Annotated[int, Path(ge=1, le=10_000)]
) -> Response:
    schema = services.event_schemas.version(name, version)
    return render(EventSchema, _document(schema)).response()
