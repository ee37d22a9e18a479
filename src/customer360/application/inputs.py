"""The typed input of the profile use cases: what a caller asks for, before any validation.

The REST layer converts its request models into these, the consumers their event payloads. Values stay
raw (an e-mail address, a phone number, a tax id as typed) so that ``profile_input`` decides what each
becomes, and can keep the text it was given next to what it made of it.

One class serves a create and a JSON merge patch (RFC 7396) alike: a field left :data:`UNSET` is not
part of the input (a patch leaves it as it is), ``None`` removes it, a value sets it. In a create,
``UNSET`` and ``None`` both mean "not given". Lists replace as a whole; ``locale`` and ``communication``
merge field by field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Final, TypeAlias, TypeVar

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


class Unset(Enum):
    """The marker of a field the input does not name."""

    UNSET = "UNSET"


UNSET: Final = Unset.UNSET

T = TypeVar("T")
#: Left as it is (UNSET), removed (None) or set to a value.
Patchable: TypeAlias = T | Unset | None


def given(value: T | None) -> Patchable[T]:
    """``None`` read as "not given": for payloads where a null means "unchanged"."""
    return UNSET if value is None else value


# -- list items: complete values -------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class EmailInput:
    address: str
    type: EmailType = EmailType.WORK
    primary: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PhoneInput:
    number: str
    type: PhoneType = PhoneType.OTHER
    #: Read a number without a country code as this country's (else the service's default region).
    country: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressInput:
    type: AddressType = AddressType.OTHER
    lines: tuple[str, ...]
    city: str
    country: str
    postal_code: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxIdInput:
    country: str
    value: str
    type: TaxIdType = TaxIdType.VAT


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalRefInput:
    source_system: str
    external_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelPreferenceInput:
    channel: Channel
    topic: str = "ALL"
    opt_in: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class QuietHoursInput:
    start: str
    end: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FrequencyCapInput:
    max_messages: int
    period: FrequencyPeriod


# -- objects that merge field by field -------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class LocaleInput:
    language: Patchable[str] = UNSET
    time_zone: Patchable[str] = UNSET
    currency: Patchable[str] = UNSET


@dataclass(frozen=True, slots=True, kw_only=True)
class CommunicationInput:
    preferred_channel: Patchable[Channel] = UNSET
    channels: Patchable[tuple[ChannelPreferenceInput, ...]] = UNSET
    quiet_hours: Patchable[QuietHoursInput] = UNSET
    frequency_cap: Patchable[FrequencyCapInput] = UNSET


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileInput:
    """A profile's attributes (CreateCustomerProfile), or a merge patch of them (UpdateCustomerProfile)."""

    kind: Patchable[CustomerKind] = UNSET
    name: Patchable[str] = UNSET
    legal_name: Patchable[str] = UNSET
    given_name: Patchable[str] = UNSET
    family_name: Patchable[str] = UNSET
    birth_date: Patchable[date] = UNSET
    segment: Patchable[str] = UNSET
    industry: Patchable[str] = UNSET
    website: Patchable[str] = UNSET
    tax_ids: Patchable[tuple[TaxIdInput, ...]] = UNSET
    emails: Patchable[tuple[EmailInput, ...]] = UNSET
    phones: Patchable[tuple[PhoneInput, ...]] = UNSET
    addresses: Patchable[tuple[AddressInput, ...]] = UNSET
    locale: Patchable[LocaleInput] = UNSET
    communication: Patchable[CommunicationInput] = UNSET
    tags: Patchable[tuple[str, ...]] = UNSET
    external_refs: Patchable[tuple[ExternalRefInput, ...]] = UNSET


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactInput:
    """A contact (AddContact), or a merge patch of one (UpdateContact). ``role``, ``primary``, ``email`` and
    ``phone`` are the seed's shortcuts: they add to ``roles``, ``primary_roles``, ``emails`` and ``phones``."""

    name: Patchable[str] = UNSET
    given_name: Patchable[str] = UNSET
    family_name: Patchable[str] = UNSET
    job_title: Patchable[str] = UNSET
    role: Patchable[ContactRole] = UNSET
    roles: Patchable[tuple[ContactRole, ...]] = UNSET
    primary: Patchable[bool] = UNSET
    primary_roles: Patchable[tuple[ContactRole, ...]] = UNSET
    email: Patchable[str] = UNSET
    emails: Patchable[tuple[EmailInput, ...]] = UNSET
    phone: Patchable[str] = UNSET
    phones: Patchable[tuple[PhoneInput, ...]] = UNSET
    communication: Patchable[CommunicationInput] = UNSET


def named_fields(value: ProfileInput | ContactInput | LocaleInput | CommunicationInput) -> frozenset[str]:
    """The fields the input names (set or removed)."""
    return frozenset(f.name for f in dataclasses.fields(value) if getattr(value, f.name) is not UNSET)
