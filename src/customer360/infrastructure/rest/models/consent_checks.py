"""Request and response models of the consent policy: checks, expiring grants, double opt-in, policies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from customer360.domain.consent import LegalBasis
from customer360.domain.values import Channel
from customer360.infrastructure.rest.models.common import TOPIC_PATTERN, ApiInput, ApiOutput
from customer360.infrastructure.rest.models.consents import CapturedSource, ContactPointOut


class QuietHoursAnswer(ApiOutput):
    start: str
    end: str
    time_zone: str


class FrequencyCapAnswer(ApiOutput):
    max_messages: int
    period: str


class ConsentCheckOut(ApiOutput):
    customer_id: str
    channel: str
    purpose: str
    contact_point: ContactPointOut | None
    allowed: bool
    reason: str = Field(
        description="GRANTED or LEGAL_BASIS (allowed); NO_RECORD, REVOKED, OBJECTED, EXPIRED, PENDING_CONFIRMATION, "
        "NOT_COVERED, CHANNEL_OPTED_OUT, SUPPRESSED, CUSTOMER_ERASED (denied)"
    )
    rule: str = Field(description="The rule that decided, in words")
    deciding_consent_id: str | None = Field(description="The consent record that decided (none: default deny)")
    legal_basis: str | None
    expires_at: datetime | None = Field(description="When the deciding grant stops counting")
    allowed_now: bool = Field(description="Allowed and outside the customer's quiet hours")
    next_allowed_at: datetime | None = Field(description="When a message may go out (end of quiet hours); null: denied")
    time_zone: str = Field(description="The customer's time zone (locale.timeZone, else UTC)")
    quiet_hours: QuietHoursAnswer | None
    frequency_cap: FrequencyCapAnswer | None = Field(description="For the sender to enforce")
    checked_at: datetime


class BulkCheckIn(ApiInput):
    """Up to 100,000 ids. The same list can be sent as text/plain or application/x-ndjson, one id per line,
    with channel and purpose as query parameters."""

    channel: Channel | None = None
    # Read by hand (routers/consent_checks.py), trimmed before its length counts.
    purpose: Annotated[str, StringConstraints(pattern=TOPIC_PATTERN)] | Literal[""] | None = Field(
        None, description="Empty or left out: the query's purpose"
    )
    customer_ids: Annotated[list[Annotated[str, StringConstraints(max_length=64)]], Field(max_length=100_000)]


class BulkCheckOut(ApiOutput):
    channel: str
    purpose: str
    checked: int = Field(description="Distinct ids checked")
    allowed_count: int
    allowed: list[str] = Field(description="The ids the channel-wide consent check allows, in the order sent")
    checked_at: datetime


class ExpiringGrantOut(ApiOutput):
    customer_id: str
    consent_id: str
    channel: str
    purpose: str
    contact_point: ContactPointOut | None
    expires_at: datetime


class ExpiringPage(ApiOutput):
    items: list[ExpiringGrantOut]
    next_cursor: str | None


class ConfirmIn(ApiInput):
    token: Annotated[str, StringConstraints(min_length=16, max_length=200)]
    ip_address: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        None, description="Of the confirming click; stored only as a keyed hash"
    )
    user_agent: Annotated[str, StringConstraints(max_length=512)] | None = Field(
        None, description="Of the confirming click; stored only as a keyed hash"
    )


class PurposePolicyIn(ApiInput):
    legal_bases: Annotated[list[LegalBasis], Field(min_length=1, max_length=4)]
    grant_validity_days: Annotated[int, Field(ge=1, le=36_500)] | None = None
    double_opt_in_sources: Annotated[list[CapturedSource], Field(max_length=10)] = Field(default_factory=list)


class PurposePolicyOut(ApiOutput):
    purpose: str
    legal_bases: list[str]
    grant_validity_days: int | None
    double_opt_in_sources: list[str]
    source: str = Field(description="TENANT (stored) or DEFAULT (the service's default)")
    version: int = Field(description="0 for a default; If-Match on PUT")
    updated_at: datetime | None = None
    updated_by: str | None = None


class PurposePolicyList(ApiOutput):
    items: list[PurposePolicyOut]
