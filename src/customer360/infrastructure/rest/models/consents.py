"""Request and response models of consent."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, WithJsonSchema, model_validator

from customer360.domain.consent import CaptureSource, LegalBasis
from customer360.domain.ids import CONTACT_PREFIX, id_pattern
from customer360.domain.values import Channel
from customer360.infrastructure.rest.models.common import CLEANED, EMAIL, ApiInput, ApiOutput, IsoDateTime, TopicCode

# MERGE records are derived by merges, never captured: the domain refuses MERGE from callers.
CapturedSource = Annotated[
    CaptureSource,
    WithJsonSchema({"type": "string", "enum": [s.value for s in CaptureSource if s is not CaptureSource.MERGE]}),
]


class ContactPointIn(ApiInput):
    """Exactly one of email, phone or contactId; omit the whole object for every point of the channel."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": [name], "properties": {name: {"type": "string"}}}
                for name in ("email", "phone", "contactId")
            ]
        }
    )

    email: Annotated[str, StringConstraints(max_length=320), EMAIL] | None = None
    phone: Annotated[str, StringConstraints(max_length=64)] | None = None
    contact_id: Annotated[str, StringConstraints(max_length=40, pattern=id_pattern(CONTACT_PREFIX))] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ContactPointIn:
        if sum(v is not None for v in (self.email, self.phone, self.contact_id)) != 1:
            raise ValueError("give exactly one of email, phone or contactId")
        return self


class EvidenceIn(ApiInput):
    captured_by: Annotated[str, StringConstraints(max_length=100), CLEANED] | None = None
    captured_at: IsoDateTime | None = Field(None, description="When the customer gave or withdrew consent")
    text: Annotated[str, StringConstraints(max_length=2000), CLEANED] | None = None
    ip_address: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        None, description="Stored only as a keyed hash"
    )
    user_agent: Annotated[str, StringConstraints(max_length=512)] | None = Field(
        None, description="Stored only as a keyed hash"
    )


class ConsentIn(ApiInput):
    """UpdateConsent. The seed's body ``{"type": "EMAIL", "status": "GRANTED"}`` is a valid request."""

    type: Channel = Field(description="The channel: EMAIL, SMS, CALL or POST")
    status: Annotated[str, Field(pattern="^(GRANTED|REVOKED)$")]
    purpose: TopicCode = "MARKETING"
    contact_point: ContactPointIn | None = None
    legal_basis: LegalBasis = LegalBasis.CONSENT
    source: CapturedSource = CaptureSource.API
    policy_version: Annotated[str, StringConstraints(max_length=50), CLEANED] | None = None
    evidence: EvidenceIn | None = None
    expires_at: IsoDateTime | None = Field(
        None, description="A grant stops counting then; default: the purpose policy's grant validity, if any"
    )


class ContactPointOut(ApiOutput):
    kind: str
    value: str


class ConsentRecordOut(ApiOutput):
    id: str
    customer_id: str
    type: str
    purpose: str
    status: str
    contact_point: ContactPointOut | None
    legal_basis: str
    source: str
    policy_version: str | None
    evidence: dict[str, Any]
    effective_at: datetime
    recorded_at: datetime
    recorded_by: str
    expires_at: datetime | None = None
    confirmation_token: str | None = Field(
        None,
        description="Double opt-in (status PENDING): the single-use token for the customer's confirmation link; "
        "answered only here, once (a replayed request does not repeat it), stored only as a hash",
    )
    confirmation_expires_at: datetime | None = None


class ConsentHistoryPage(ApiOutput):
    items: list[ConsentRecordOut]
    next_cursor: str | None


class ConsentStateOut(ApiOutput):
    type: str
    purpose: str
    contact_point: ContactPointOut | None
    status: str
    legal_basis: str
    effective_at: datetime
    consent_id: str


class ConsentStateList(ApiOutput):
    customer_id: str
    items: list[ConsentStateOut] = Field(description="Absent combinations mean no consent")
