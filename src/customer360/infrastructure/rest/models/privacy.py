"""Request and response models of data-subject rights: legal holds, erasure, export, access log, flags."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from customer360.infrastructure.rest.access import ACCESS_ACTIONS
from customer360.infrastructure.rest.models.common import CLEANED, ApiInput, ApiOutput, IsoDateTime


class LegalHoldIn(ApiInput):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500), CLEANED] = Field(
        description="The case or obligation (a reference, not personal data)"
    )
    expires_at: IsoDateTime | None = Field(None, description="The hold ends by itself then; none: until released")


class LegalHoldOut(ApiOutput):
    id: str
    customer_id: str
    reason: str
    placed_by: str
    placed_at: datetime
    expires_at: datetime | None
    released_at: datetime | None
    released_by: str | None
    active: bool


class LegalHoldList(ApiOutput):
    items: list[LegalHoldOut]


class ErasureIn(ApiInput):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500), CLEANED]
    requester: Annotated[str, StringConstraints(min_length=1, max_length=200), CLEANED] = Field(
        description="Who asked, as a reference (a ticket id or 'data subject'), not the person's name"
    )


class ErasureRequestOut(ApiOutput):
    id: str
    customer_id: str
    status: str = Field(description="COMPLETED, or BLOCKED by a legal hold")
    reason: str
    requester: str
    requested_at: datetime
    requested_by: str
    completed_at: datetime | None
    erased_customer_ids: list[str]
    data_classes: list[str] = Field(description="What was erased: the proof of erasure")
    blocked_by: str | None = Field(description="The legal hold that blocked it")


class ErasureRequestList(ApiOutput):
    items: list[ErasureRequestOut]


class PersonalDataExport(ApiOutput):
    """Everything held about the person: the golden profile and every profile merged into it, and each
    location of the personal-data registry by section (consent history with evidence, audit, service
    history, entitlements, …)."""

    model_config = ConfigDict(extra="allow")

    customer_id: str
    golden_customer_id: str
    lineage: list[str]
    exported_at: datetime
    exported_by: str
    profiles: list[dict[str, Any]]
    consent_history: list[dict[str, Any]]
    audit: list[dict[str, Any]]


class AccessEntryOut(ApiOutput):
    id: int
    customer_id: str
    actor: str
    action: str = Field(description="One of " + ", ".join(ACCESS_ACTIONS))
    correlation_id: str
    occurred_at: datetime


class AccessLogPage(ApiOutput):
    items: list[AccessEntryOut]
    next_cursor: str | None


class PrivacyFlagsOut(ApiOutput):
    customer_id: str
    privacy_flags: list[str]
