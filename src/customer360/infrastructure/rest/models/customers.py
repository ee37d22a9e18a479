"""Request and response models of profiles and contacts."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from typing import Annotated, Any

# Booleans in bodies are JSON booleans: pydantic would otherwise read "yes", 1 or "on" as true.
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, WithJsonSchema

from customer360.application.inputs import (
    AddressInput,
    ChannelPreferenceInput,
    CommunicationInput,
    ContactInput,
    EmailInput,
    ExternalRefInput,
    FrequencyCapInput,
    LocaleInput,
    PhoneInput,
    ProfileInput,
    QuietHoursInput,
    TaxIdInput,
)
from customer360.domain.values import (
    AddressType,
    Channel,
    ContactRole,
    CustomerKind,
    EmailType,
    FrequencyPeriod,
    PhoneType,
    TaxIdType,
)
from customer360.infrastructure.rest.models.common import (
    CLEANED,
    EMAIL,
    SPACE,
    ApiInput,
    ApiOutput,
    IsoDate,
    SourceSystem,
    TopicCode,
)

CLOCK = "^([01][0-9]|2[0-3]):[0-5][0-9]$"
TIME_ZONES = {"type": "string", "enum": sorted(zoneinfo.available_timezones()), "description": "An IANA time zone"}
Text200 = Annotated[str, StringConstraints(max_length=200), CLEANED]
Text100 = Annotated[str, StringConstraints(max_length=100), CLEANED]
SettableStatus = Annotated[str, Field(pattern="^(ACTIVE|INACTIVE|ON_HOLD)$", examples=["ACTIVE"])]


def _as_input(value: Any) -> Any:
    # Not isinstance(value, <a runtime-checkable protocol>): that inspects the class on every call, which
    # was a quarter of the bulk import's parsing time.
    to_input = getattr(type(value), "to_input", None)
    if to_input is not None:
        return to_input(value)
    if isinstance(value, list):
        return tuple(_as_input(item) for item in value)
    return value


def named(model: BaseModel, *, leave_out: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields the request named, as application input: a field left out of the body stays out (a merge
    patch leaves it as it is), an explicit null is None (removes it)."""
    return {name: _as_input(getattr(model, name)) for name in model.model_fields_set - leave_out}


class EmailIn(ApiInput):
    address: Annotated[str, StringConstraints(max_length=320), EMAIL]
    type: EmailType = EmailType.WORK
    primary: StrictBool = False

    def to_input(self) -> EmailInput:
        return EmailInput(**named(self))


class PhoneIn(ApiInput):
    number: Annotated[str, StringConstraints(max_length=64), CLEANED] = Field(
        description="Any common format; without a country code the PHONE_DEFAULT_REGION (or country) is used"
    )
    type: PhoneType = PhoneType.OTHER
    country: Annotated[str, StringConstraints(pattern="^[A-Za-z]{2}$")] | None = None

    def to_input(self) -> PhoneInput:
        return PhoneInput(**named(self))


class AddressIn(ApiInput):
    type: AddressType
    lines: Annotated[list[Text200], Field(min_length=1, max_length=4)]
    city: Text100
    postal_code: Annotated[str, StringConstraints(max_length=20), CLEANED] | None = None
    region: Text100 | None = None
    country: Annotated[str, StringConstraints(pattern="^[A-Za-z]{2}$")] = Field(description="ISO 3166-1 alpha-2")

    def to_input(self) -> AddressInput:
        return AddressInput(**named(self))


class TaxIdIn(ApiInput):
    country: Annotated[str, StringConstraints(pattern="^[A-Za-z]{2}$")]
    type: TaxIdType = TaxIdType.VAT
    value: Annotated[str, StringConstraints(max_length=64), CLEANED]

    def to_input(self) -> TaxIdInput:
        return TaxIdInput(**named(self))


class ExternalRefIn(ApiInput):
    source_system: SourceSystem
    external_id: Text100

    def to_input(self) -> ExternalRefInput:
        return ExternalRefInput(**named(self))


class LocaleIn(ApiInput):
    language: (
        Annotated[
            str, StringConstraints(max_length=20, pattern=r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")
        ]
        | None
    ) = Field(None, description="A BCP 47 tag such as de or de-CH")
    time_zone: Annotated[str, StringConstraints(max_length=64), WithJsonSchema(TIME_ZONES)] | None = None
    currency: Annotated[str, StringConstraints(max_length=3, pattern="^[A-Za-z]{3}$")] | None = Field(
        None, description="ISO 4217, e.g. EUR"
    )

    def to_input(self) -> LocaleInput:
        return LocaleInput(**named(self))


class ChannelPreferenceIn(ApiInput):
    channel: Channel
    topic: TopicCode = "ALL"
    opt_in: StrictBool = True

    def to_input(self) -> ChannelPreferenceInput:
        return ChannelPreferenceInput(**named(self))


class QuietHoursIn(ApiInput):
    start: Annotated[str, StringConstraints(pattern=CLOCK)]
    end: Annotated[str, StringConstraints(pattern=CLOCK)]

    def to_input(self) -> QuietHoursInput:
        return QuietHoursInput(**named(self))


class FrequencyCapIn(ApiInput):
    max_messages: Annotated[int, Field(ge=1, le=1000)]
    period: FrequencyPeriod

    def to_input(self) -> FrequencyCapInput:
        return FrequencyCapInput(**named(self))


class CommunicationIn(ApiInput):
    preferred_channel: Channel | None = None
    channels: Annotated[list[ChannelPreferenceIn], Field(max_length=40)] | None = None
    quiet_hours: QuietHoursIn | None = None
    frequency_cap: FrequencyCapIn | None = None

    def to_input(self) -> CommunicationInput:
        return CommunicationInput(**named(self))


class ContactIn(ApiInput):
    """A contact; the seed's short form ``{"name", "email", "role"}`` works as shown in the seed."""

    name: Text200 | None = None
    given_name: Text100 | None = None
    family_name: Text100 | None = None
    job_title: Text100 | None = None
    role: ContactRole | None = Field(None, description="Shortcut for roles: [role]")
    roles: Annotated[list[ContactRole], Field(max_length=4)] | None = None
    primary: StrictBool | None = Field(None, description="Shortcut: primary for every role of the contact")
    primary_roles: Annotated[list[ContactRole], Field(max_length=4)] | None = None
    email: Annotated[str, StringConstraints(max_length=320), EMAIL] | None = Field(
        None, description="Shortcut for emails"
    )
    emails: Annotated[list[EmailIn], Field(max_length=20)] | None = None
    phone: Annotated[str, StringConstraints(max_length=64), CLEANED] | None = Field(
        None, description="Shortcut for phones"
    )
    phones: Annotated[list[PhoneIn], Field(max_length=20)] | None = None
    communication: CommunicationIn | None = None

    def to_input(self) -> ContactInput:
        return ContactInput(**named(self))


class ContactPatch(ContactIn):
    """JSON merge patch of a contact: absent = unchanged, null = removed."""


class ProfileFields(ApiInput):
    name: Text200 | None = None
    legal_name: Text200 | None = None
    given_name: Text100 | None = None
    family_name: Text100 | None = None
    birth_date: IsoDate | None = None
    segment: Annotated[str, StringConstraints(max_length=50), CLEANED] | None = None
    industry: Text100 | None = None
    website: Annotated[str, StringConstraints(max_length=255), CLEANED] | None = None
    tax_ids: Annotated[list[TaxIdIn], Field(max_length=20)] | None = None
    emails: Annotated[list[EmailIn], Field(max_length=20)] | None = None
    phones: Annotated[list[PhoneIn], Field(max_length=20)] | None = None
    addresses: Annotated[list[AddressIn], Field(max_length=20)] | None = None
    locale: LocaleIn | None = None
    communication: CommunicationIn | None = None
    tags: (
        Annotated[
            list[Annotated[str, StringConstraints(max_length=50, pattern=f"^{SPACE}*\\w(?:[\\w.:/\\-]|{SPACE})*$")]],
            Field(max_length=50),
        ]
        | None
    ) = None
    external_refs: Annotated[list[ExternalRefIn], Field(max_length=20)] | None = None

    def to_input(self) -> ProfileInput:
        return ProfileInput(**named(self))


class CustomerCreate(ProfileFields):
    """CreateCustomerProfile. The seed's body ``{"name","status","contacts":[…]}`` is a valid request."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Müller Maschinenbau GmbH",
                    "status": "ACTIVE",
                    "segment": "SMB",
                    "emails": [{"address": "info@mueller-maschinenbau.example", "primary": True}],
                    "phones": [{"number": "+49 30 1234567", "type": "LANDLINE"}],
                    "taxIds": [{"country": "DE", "type": "VAT", "value": "DE136695976"}],
                    "contacts": [
                        {"name": "Anna Schmidt", "email": "anna@mueller-maschinenbau.example", "role": "BILLING"}
                    ],
                }
            ]
        }
    )

    kind: CustomerKind = CustomerKind.ORGANIZATION
    status: SettableStatus = "ACTIVE"
    contacts: Annotated[list[ContactIn], Field(max_length=100)] = Field(default_factory=list)

    def to_input(self) -> ProfileInput:
        return ProfileInput(**named(self, leave_out=frozenset({"status", "contacts"})))

    def contact_inputs(self) -> tuple[ContactInput, ...]:
        return tuple(contact.to_input() for contact in self.contacts)


class CustomerPatch(ProfileFields):
    """UpdateCustomerProfile as a JSON merge patch (RFC 7396): absent = unchanged, null = removed."""

    kind: CustomerKind | None = None


class StatusChange(ApiInput):
    status: SettableStatus
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None


# --- responses ------------------------------------------------------------------------------------


class EmailOut(ApiOutput):
    address: str
    type: str
    primary: bool


class PhoneOut(ApiOutput):
    e164: str = Field(
        description="E.164 when validated; otherwise the digits as given (after + and the country code when known)"
    )
    original: str
    type: str
    country: str | None
    validated: bool = Field(True, description="false: kept as given, it is not a possible phone number")
    invalid_reason: str | None = Field(None, description="why it is not validated (null when it is)")


class AddressOut(ApiOutput):
    type: str
    lines: list[str]
    city: str
    postal_code: str | None
    region: str | None
    country: str


class TaxIdOut(ApiOutput):
    country: str
    type: str
    value: str
    validated: bool = Field(description="checked against the country's rules (python-stdnum) and passed")
    invalid_reason: str | None = Field(
        None, description="why the check failed (the value is kept as given); null when it passed or none exists"
    )


class ExternalRefOut(ApiOutput):
    source_system: str
    external_id: str


class LocaleOut(ApiOutput):
    language: str | None = None
    time_zone: str | None = None
    currency: str | None = None


class ChannelPreferenceOut(ApiOutput):
    channel: str
    topic: str
    opt_in: bool


class QuietHoursOut(ApiOutput):
    start: str
    end: str


class FrequencyCapOut(ApiOutput):
    max_messages: int
    period: str


class CommunicationOut(ApiOutput):
    preferred_channel: str | None = None
    channels: list[ChannelPreferenceOut] = Field(default_factory=list)
    quiet_hours: QuietHoursOut | None = None
    frequency_cap: FrequencyCapOut | None = None


class ContactOut(ApiOutput):
    id: str
    name: str
    given_name: str | None
    family_name: str | None
    job_title: str | None
    roles: list[str]
    primary_roles: list[str]
    emails: list[EmailOut]
    phones: list[PhoneOut]
    communication: CommunicationOut
    created_at: datetime
    updated_at: datetime


class TombstoneOut(ApiOutput):
    erased_at: datetime
    erasure_request_id: str


class CustomerOut(ApiOutput):
    id: str
    kind: str
    name: str
    legal_name: str | None
    given_name: str | None
    family_name: str | None
    birth_date: date | None
    status: str
    segment: str | None
    industry: str | None
    website: str | None
    domain: str | None
    tax_ids: list[TaxIdOut]
    emails: list[EmailOut]
    phones: list[PhoneOut]
    addresses: list[AddressOut]
    locale: LocaleOut
    communication: CommunicationOut
    tags: list[str]
    external_refs: list[ExternalRefOut]
    contacts: list[ContactOut]
    merged_into: str | None = Field(description="Set when this profile was merged: the survivor's id")
    privacy_flags: list[str] = Field(
        default_factory=list,
        description="SUPPRESSED_CONTACT_POINT: an e-mail or phone of an erased person; not contactable until cleared",
    )
    tombstone: TombstoneOut | None = Field(None, description="Set when the profile was erased (status ERASED)")
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    version: int


class CustomerPage(ApiOutput):
    items: list[CustomerOut]
    next_cursor: str | None


class ContactList(ApiOutput):
    items: list[ContactOut]


class SearchHit(ApiOutput):
    score: float = Field(description="1.0 for exact matches; trigram word similarity for names")
    matched_on: list[str]
    customer: CustomerOut


class SearchResults(ApiOutput):
    items: list[SearchHit]
