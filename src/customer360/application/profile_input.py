"""Turn typed input (``application.inputs``) into domain values: a create, or a JSON merge patch of what is.

Both go the same way: the fields the input names are parsed into value objects (``None`` stays: it
removes), merged into the current values by RFC 7396 (nothing, for a create), and the result is built
by ``ProfileAttributes.build`` / ``ContactAttributes.build``, which check the rules. Current values are
never parsed again: a phone number keeps the text it was given.

Field paths in errors use the API's spelling (``emails[1].address``) so a caller sees which item failed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from customer360.application.inputs import (
    UNSET,
    AddressInput,
    ChannelPreferenceInput,
    CommunicationInput,
    ContactInput,
    EmailInput,
    ExternalRefInput,
    FrequencyCapInput,
    LocaleInput,
    Patchable,
    PhoneInput,
    ProfileInput,
    QuietHoursInput,
    TaxIdInput,
    named_fields,
)
from customer360.domain.errors import InvalidValue
from customer360.domain.profile_attributes import ContactAttributes, ProfileAttributes
from customer360.domain.values import (
    ChannelPreference,
    CommunicationPreferences,
    CustomerKind,
    EmailAddress,
    ExternalReference,
    FrequencyCap,
    LocalePreferences,
    PhoneNumber,
    PostalAddress,
    QuietHours,
    TaxId,
    clean_optional_text,
    tag,
    topic_code,
    website_and_domain,
)

T = TypeVar("T")
V = TypeVar("V")


# -- one value each ------------------------------------------------------------------------------------
def parse_email(email: EmailInput, field: str) -> EmailAddress:
    return EmailAddress.parse(email.address, f"{field}.address", type=email.type, primary=email.primary)


def parse_phone(phone: PhoneInput, field: str, region: str | None) -> PhoneNumber:
    return PhoneNumber.parse(phone.number, f"{field}.number", default_region=phone.country or region, type=phone.type)


def parse_address(address: AddressInput, field: str) -> PostalAddress:
    return PostalAddress.create(
        field,
        type=address.type,
        lines=list(address.lines),
        city=address.city,
        country=address.country,
        postal_code=address.postal_code,
        region=address.region,
    )


def parse_tax_id(tax_id: TaxIdInput, field: str) -> TaxId:
    return TaxId.parse(field, country=tax_id.country, type=tax_id.type, value=tax_id.value)


def parse_external_ref(ref: ExternalRefInput, field: str) -> ExternalReference:
    return ExternalReference.create(field, source_system=ref.source_system, external_id=ref.external_id)


def parse_channel(preference: ChannelPreferenceInput, field: str) -> ChannelPreference:
    topic = topic_code(preference.topic or "ALL", f"{field}.topic")
    return ChannelPreference(channel=preference.channel, topic=topic, opt_in=preference.opt_in)


def parse_quiet_hours(quiet: QuietHoursInput, field: str) -> QuietHours:
    return QuietHours.create(field, start=quiet.start, end=quiet.end)


def parse_frequency_cap(cap: FrequencyCapInput, field: str) -> FrequencyCap:
    return FrequencyCap.create(field, max_messages=cap.max_messages, period=cap.period)


def parse_timestamp(value: str, field: str) -> datetime:
    """An ISO-8601 timestamp with an offset (a naive one would silently mean the server's zone)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidValue(field, "is not an ISO-8601 timestamp") from None
    if moment.tzinfo is None:
        raise InvalidValue(field, "needs a time zone offset, e.g. Z")
    return moment


def _each(items: Sequence[T], field: str, parse: Callable[[T, str], V]) -> tuple[V, ...]:
    return tuple(parse(item, f"{field}[{i}]") for i, item in enumerate(items))


def _parse_set(changes: dict[str, Any], name: str, value: Patchable[T], parse: Callable[[T], object]) -> None:
    """A value the input sets becomes its domain value; an unnamed or removed one stays as it is."""
    if value is not UNSET and value is not None:
        changes[name] = parse(value)


# -- merge patch ---------------------------------------------------------------------------------------
def merge_patch(target: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7396: null removes, objects merge recursively, everything else replaces."""
    result = dict(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(result.get(key), dict):
            result[key] = merge_patch(result[key], value)
        else:
            result[key] = value
    return result


def _values(
    value: ProfileAttributes | ContactAttributes | LocalePreferences | CommunicationPreferences,
) -> dict[str, Any]:
    """A value object's fields that hold something, by name (what a patch merges into)."""
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if getattr(value, f.name) is not None}


def _named(value: ProfileInput | ContactInput | LocaleInput | CommunicationInput) -> dict[str, Any]:
    return {name: getattr(value, name) for name in named_fields(value)}


def _locale_changes(locale: LocaleInput | None) -> dict[str, Any] | None:
    return None if locale is None else _named(locale)


def _communication_changes(communication: CommunicationInput | None, field: str) -> dict[str, Any] | None:
    if communication is None:
        return None
    changes = _named(communication)
    _parse_set(changes, "channels", communication.channels, lambda v: _each(v, f"{field}.channels", parse_channel))
    _parse_set(changes, "quiet_hours", communication.quiet_hours, lambda v: parse_quiet_hours(v, f"{field}.quietHours"))
    _parse_set(
        changes, "frequency_cap", communication.frequency_cap, lambda v: parse_frequency_cap(v, f"{field}.frequencyCap")
    )
    return changes


def _communication(values: Mapping[str, Any] | None) -> CommunicationPreferences:
    values = values or {}
    return CommunicationPreferences(
        preferred_channel=values.get("preferred_channel"),
        channels=values.get("channels") or (),
        quiet_hours=values.get("quiet_hours"),
        frequency_cap=values.get("frequency_cap"),
    )


def _current_communication(current: CommunicationPreferences) -> dict[str, Any]:
    return {**_values(current), "channels": current.channels}


# -- profiles ------------------------------------------------------------------------------------------
_PROFILE_TEXT = {
    "name": ("name", 200),
    "legal_name": ("legalName", 200),
    "given_name": ("givenName", 100),
    "family_name": ("familyName", 100),
    "segment": ("segment", 50),
    "industry": ("industry", 100),
}


def _profile_changes(given: ProfileInput, region: str | None) -> dict[str, Any]:
    """The named fields as domain values (``None`` where the input removes one)."""
    changes = _named(given)
    changes.pop("kind", None)
    for name, (field, max_length) in _PROFILE_TEXT.items():
        if name in changes:
            changes[name] = clean_optional_text(changes[name], field, max_length=max_length)
    if given.website is not UNSET:
        changes["website"], changes["domain"] = (
            (None, None) if given.website is None else website_and_domain(given.website, "website")
        )
    _parse_set(changes, "emails", given.emails, lambda v: _each(v, "emails", parse_email))
    _parse_set(changes, "phones", given.phones, lambda v: _each(v, "phones", lambda p, f: parse_phone(p, f, region)))
    _parse_set(changes, "tax_ids", given.tax_ids, lambda v: _each(v, "taxIds", parse_tax_id))
    _parse_set(changes, "addresses", given.addresses, lambda v: _each(v, "addresses", parse_address))
    if given.locale is not UNSET:
        changes["locale"] = _locale_changes(given.locale)
    if given.communication is not UNSET:
        changes["communication"] = _communication_changes(given.communication, "communication")
    _parse_set(changes, "tags", given.tags, lambda v: _each(v, "tags", tag))
    _parse_set(changes, "external_refs", given.external_refs, lambda v: _each(v, "externalRefs", parse_external_ref))
    return changes


def _profile(kind: CustomerKind, values: dict[str, Any], *, today: date) -> ProfileAttributes:
    locale = values.pop("locale", None) or {}
    communication = _communication(values.pop("communication", None))
    return ProfileAttributes.build(
        today=today,
        **values,
        kind=kind,
        locale=LocalePreferences.create(
            "locale",
            language=locale.get("language"),
            time_zone=locale.get("time_zone"),
            currency=locale.get("currency"),
        ),
        communication=communication,
    )


def parse_profile(given: ProfileInput, *, region: str | None, today: date) -> ProfileAttributes:
    """Validated attributes of a new profile."""
    kind = given.kind if isinstance(given.kind, CustomerKind) else CustomerKind.ORGANIZATION
    return _profile(kind, merge_patch({}, _profile_changes(given, region)), today=today)


def patched_profile(
    current: ProfileAttributes, patch: ProfileInput, *, region: str | None, today: date
) -> ProfileAttributes:
    """The attributes once the merge patch is applied; the kind cannot change."""
    if patch.kind is not UNSET and patch.kind != current.kind:
        raise InvalidValue("kind", "cannot change; create a new profile instead")
    values = _values(current)
    values.pop("kind")
    values["locale"] = _values(current.locale)
    values["communication"] = _current_communication(current.communication)
    return _profile(current.kind, merge_patch(values, _profile_changes(patch, region)), today=today)


# -- contacts ------------------------------------------------------------------------------------------
_CONTACT_TEXT = {
    "name": ("name", 200),
    "given_name": ("givenName", 100),
    "family_name": ("familyName", 100),
    "job_title": ("jobTitle", 100),
}


def _contact_changes(given: ContactInput, region: str | None) -> dict[str, Any]:
    changes = _named(given)
    for name, (field, max_length) in _CONTACT_TEXT.items():
        if name in changes:
            changes[name] = clean_optional_text(changes[name], field, max_length=max_length)
    _parse_set(changes, "emails", given.emails, lambda v: _each(v, "emails", parse_email))
    _parse_set(changes, "email", given.email, lambda v: EmailAddress.parse(v, "email"))
    _parse_set(changes, "phones", given.phones, lambda v: _each(v, "phones", lambda p, f: parse_phone(p, f, region)))
    _parse_set(changes, "phone", given.phone, lambda v: PhoneNumber.parse(v, "phone", default_region=region))
    if given.communication is not UNSET:
        changes["communication"] = _communication_changes(given.communication, "communication")
    return changes


def _contact(values: dict[str, Any]) -> ContactAttributes:
    """Apply the shortcuts (role, primary, email, phone) and build; the shortcuts are never stored."""
    roles = frozenset(values.pop("roles", ()))
    if values.get("role"):
        roles |= {values["role"]}
    primary_roles = frozenset(values.pop("primary_roles", ()))
    if values.pop("primary", None):
        primary_roles |= roles
    emails, phones = tuple(values.pop("emails", ())), tuple(values.pop("phones", ()))
    email, phone = values.pop("email", None), values.pop("phone", None)
    values.pop("role", None)
    communication = _communication(values.pop("communication", None))
    return ContactAttributes.build(
        **values,
        roles=roles,
        primary_roles=primary_roles,
        emails=(email, *emails) if email else emails,
        phones=(phone, *phones) if phone else phones,
        communication=communication,
    )


def parse_contact(given: ContactInput, *, region: str | None) -> ContactAttributes:
    return _contact(merge_patch({}, _contact_changes(given, region)))


def parse_contacts(given: Sequence[ContactInput], *, region: str | None) -> list[ContactAttributes]:
    """Several contacts; an error names the contact (``contacts[1].emails[0].address``)."""
    contacts = []
    for i, contact in enumerate(given):
        try:
            contacts.append(parse_contact(contact, region=region))
        except InvalidValue as error:
            raise InvalidValue(f"contacts[{i}].{error.field}", error.reason) from None
    return contacts


def patched_contact(current: ContactAttributes, patch: ContactInput, *, region: str | None) -> ContactAttributes:
    values = _values(current)
    values["communication"] = _current_communication(current.communication)
    if patch.name is UNSET and (patch.given_name is not UNSET or patch.family_name is not UNSET):
        # A new given or family name without a new name: the name is derived again.
        values.pop("name", None)
    return _contact(merge_patch(values, _contact_changes(patch, region)))
