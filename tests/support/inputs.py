"""Test data in the API's short spelling (snake_case keys, plain strings and dicts) as typed use-case input.

``profile_input({"name": "Acme", "emails": ["a@acme.example"]})`` reads like the request body it stands
for; an e-mail or phone may be a plain string, an enum its value, a date ISO text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

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


def _email(value: str | Mapping[str, Any]) -> EmailInput:
    if isinstance(value, str):
        return EmailInput(address=value)
    return EmailInput(**{**value, **({"type": EmailType(value["type"])} if "type" in value else {})})


def _phone(value: str | Mapping[str, Any]) -> PhoneInput:
    if isinstance(value, str):
        return PhoneInput(number=value)
    return PhoneInput(**{**value, **({"type": PhoneType(value["type"])} if "type" in value else {})})


def _address(value: Mapping[str, Any]) -> AddressInput:
    typed = {"type": AddressType(value["type"])} if "type" in value else {}
    return AddressInput(**{**value, "lines": tuple(value["lines"]), **typed})


def _tax_id(value: Mapping[str, Any]) -> TaxIdInput:
    return TaxIdInput(**{**value, **({"type": TaxIdType(value["type"])} if "type" in value else {})})


def _communication(value: Mapping[str, Any] | None) -> CommunicationInput | None:
    if value is None:
        return None
    fields: dict[str, Any] = dict(value)
    if fields.get("preferred_channel") is not None:
        fields["preferred_channel"] = Channel(fields["preferred_channel"])
    if fields.get("channels") is not None:
        fields["channels"] = tuple(
            ChannelPreferenceInput(**{**c, "channel": Channel(c["channel"])}) for c in fields["channels"]
        )
    if fields.get("quiet_hours") is not None:
        fields["quiet_hours"] = QuietHoursInput(**fields["quiet_hours"])
    if fields.get("frequency_cap") is not None:
        cap = fields["frequency_cap"]
        fields["frequency_cap"] = FrequencyCapInput(**{**cap, "period": FrequencyPeriod(cap["period"])})
    return CommunicationInput(**fields)


def _many(values: Any, convert: Any) -> Any:
    return None if values is None else tuple(convert(v) for v in values)


def profile_input(fields: Mapping[str, Any]) -> ProfileInput:
    values: dict[str, Any] = dict(fields)
    if values.get("kind") is not None:
        values["kind"] = CustomerKind(values["kind"])
    if isinstance(values.get("birth_date"), str):
        values["birth_date"] = date.fromisoformat(values["birth_date"])
    converters: dict[str, Any] = {
        "emails": _email,
        "phones": _phone,
        "addresses": _address,
        "tax_ids": _tax_id,
        "external_refs": lambda r: ExternalRefInput(**r),
        "tags": str,
    }
    for name, convert in converters.items():
        if name in values:
            values[name] = _many(values[name], convert)
    if "locale" in values:
        values["locale"] = None if values["locale"] is None else LocaleInput(**values["locale"])
    if "communication" in values:
        values["communication"] = _communication(values["communication"])
    return ProfileInput(**values)


def contact_input(fields: Mapping[str, Any]) -> ContactInput:
    values: dict[str, Any] = dict(fields)
    if values.get("role") is not None:
        values["role"] = ContactRole(values["role"])
    for name in ("roles", "primary_roles"):
        if name in values:
            values[name] = _many(values[name], ContactRole)
    if "emails" in values:
        values["emails"] = _many(values["emails"], _email)
    if "phones" in values:
        values["phones"] = _many(values["phones"], _phone)
    if "communication" in values:
        values["communication"] = _communication(values["communication"])
    return ContactInput(**values)


def contact_inputs(contacts: Any) -> tuple[ContactInput, ...]:
    return tuple(contact_input(c) for c in contacts)
