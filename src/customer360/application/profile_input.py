"""Turn the edge's already type-checked input (plain dicts, snake_case keys) into domain values.

Field paths in errors use the API's spelling (``emails[1].address``) so a caller sees which item failed.
Already-parsed value objects pass through unchanged, which is what makes JSON merge patch work: the
current attributes are merged with the patch, and only what the patch brought in gets parsed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from customer360.domain.errors import InvalidValue
from customer360.domain.profile_attributes import ContactAttributes, ProfileAttributes
from customer360.domain.values import (
    AddressType,
    Channel,
    ChannelPreference,
    CommunicationPreferences,
    ContactRole,
    CustomerKind,
    EmailAddress,
    EmailType,
    ExternalReference,
    FrequencyCap,
    FrequencyPeriod,
    LocalePreferences,
    PhoneNumber,
    PhoneType,
    PostalAddress,
    QuietHours,
    TaxId,
    TaxIdType,
    clean_optional_text,
    tag,
    topic_code,
    website_and_domain,
)

Raw = Mapping[str, Any]


def parse_email(raw: Any, field: str) -> EmailAddress:
    if isinstance(raw, EmailAddress):
        return raw
    if isinstance(raw, str):
        return EmailAddress.parse(raw, field)
    return EmailAddress.parse(
        raw["address"],
        f"{field}.address",
        type=EmailType(raw.get("type") or "WORK"),
        primary=bool(raw.get("primary")),
    )


def parse_phone(raw: Any, field: str, region: str | None) -> PhoneNumber:
    if isinstance(raw, PhoneNumber):
        return raw
    if isinstance(raw, str):
        return PhoneNumber.parse(raw, field, default_region=region)
    return PhoneNumber.parse(
        raw["number"],
        f"{field}.number",
        default_region=raw.get("country") or region,
        type=PhoneType(raw.get("type") or "OTHER"),
    )


def parse_address(raw: Any, field: str) -> PostalAddress:
    if isinstance(raw, PostalAddress):
        return raw
    return PostalAddress.create(
        field,
        type=AddressType(raw.get("type") or "OTHER"),
        lines=list(raw.get("lines") or []),
        city=raw["city"],
        country=raw["country"],
        postal_code=raw.get("postal_code"),
        region=raw.get("region"),
    )


def parse_tax_id(raw: Any, field: str) -> TaxId:
    if isinstance(raw, TaxId):
        return raw
    return TaxId.parse(field, country=raw["country"], type=TaxIdType(raw.get("type") or "VAT"), value=raw["value"])


def parse_external_ref(raw: Any, field: str) -> ExternalReference:
    if isinstance(raw, ExternalReference):
        return raw
    return ExternalReference.create(field, source_system=raw["source_system"], external_id=raw["external_id"])


def parse_locale(raw: Any, field: str) -> LocalePreferences:
    if isinstance(raw, LocalePreferences):
        return raw
    raw = raw or {}
    return LocalePreferences.create(
        field, language=raw.get("language"), time_zone=raw.get("time_zone"), currency=raw.get("currency")
    )


def parse_communication(raw: Any, field: str) -> CommunicationPreferences:
    if isinstance(raw, CommunicationPreferences):
        return raw
    raw = raw or {}
    channels = tuple(
        ChannelPreference(
            channel=Channel(item["channel"]),
            topic=topic_code(item.get("topic") or "ALL", f"{field}.channels[{i}].topic"),
            opt_in=bool(item.get("opt_in", True)),
        )
        for i, item in enumerate(raw.get("channels") or [])
    )
    quiet = raw.get("quiet_hours")
    cap = raw.get("frequency_cap")
    preferred = raw.get("preferred_channel")
    return CommunicationPreferences(
        preferred_channel=Channel(preferred) if preferred else None,
        channels=channels,
        quiet_hours=None
        if quiet is None
        else QuietHours.create(f"{field}.quietHours", start=quiet["start"], end=quiet["end"]),
        frequency_cap=None
        if cap is None
        else FrequencyCap.create(
            f"{field}.frequencyCap",
            max_messages=int(cap["max_messages"]),
            period=FrequencyPeriod(cap["period"]),
        ),
    )


def parse_timestamp(value: str, field: str) -> datetime:
    """An ISO-8601 timestamp with an offset (a naive one would silently mean the server's zone)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidValue(field, "is not an ISO-8601 timestamp") from None
    if moment.tzinfo is None:
        raise InvalidValue(field, "needs a time zone offset, e.g. Z")
    return moment


def _items(raw: Any) -> list[Any]:
    return list(raw or [])


def parse_profile(raw: Raw, *, region: str | None, today: date) -> ProfileAttributes:
    """Build validated profile attributes from a complete input (create, or current merged with a patch)."""
    kind = raw.get("kind") or CustomerKind.ORGANIZATION
    kind = kind if isinstance(kind, CustomerKind) else CustomerKind(kind)
    website = raw.get("website")
    site, domain = (None, None) if website is None else website_and_domain(website, "website")
    birth = raw.get("birth_date")
    emails = [parse_email(e, f"emails[{i}]") for i, e in enumerate(_items(raw.get("emails")))]
    phones = [parse_phone(p, f"phones[{i}]", region) for i, p in enumerate(_items(raw.get("phones")))]
    return ProfileAttributes.build(
        today=today,
        kind=kind,
        name=clean_optional_text(raw.get("name"), "name"),
        legal_name=clean_optional_text(raw.get("legal_name"), "legalName"),
        given_name=clean_optional_text(raw.get("given_name"), "givenName", max_length=100),
        family_name=clean_optional_text(raw.get("family_name"), "familyName", max_length=100),
        birth_date=birth if birth is None or isinstance(birth, date) else date.fromisoformat(birth),
        segment=clean_optional_text(raw.get("segment"), "segment", max_length=50),
        industry=clean_optional_text(raw.get("industry"), "industry", max_length=100),
        website=site,
        domain=domain,
        tax_ids=[parse_tax_id(t, f"taxIds[{i}]") for i, t in enumerate(_items(raw.get("tax_ids")))],
        emails=emails,
        phones=phones,
        addresses=[parse_address(a, f"addresses[{i}]") for i, a in enumerate(_items(raw.get("addresses")))],
        locale=parse_locale(raw.get("locale"), "locale"),
        communication=parse_communication(raw.get("communication"), "communication"),
        tags=[tag(t, f"tags[{i}]") for i, t in enumerate(_items(raw.get("tags")))],
        external_refs=[
            parse_external_ref(r, f"externalRefs[{i}]") for i, r in enumerate(_items(raw.get("external_refs")))
        ],
    )


def parse_contact(raw: Raw, *, region: str | None) -> ContactAttributes:
    roles = {ContactRole(r) for r in _items(raw.get("roles"))}
    if raw.get("role"):
        roles.add(ContactRole(raw["role"]))
    primary_roles = {ContactRole(r) for r in _items(raw.get("primary_roles"))}
    if raw.get("primary"):
        primary_roles |= roles
    emails = [parse_email(e, f"emails[{i}]") for i, e in enumerate(_items(raw.get("emails")))]
    if raw.get("email"):
        emails.insert(0, parse_email(raw["email"], "email"))
    phones = [parse_phone(p, f"phones[{i}]", region) for i, p in enumerate(_items(raw.get("phones")))]
    if raw.get("phone"):
        phones.insert(0, parse_phone(raw["phone"], "phone", region))
    return ContactAttributes.build(
        name=clean_optional_text(raw.get("name"), "name"),
        given_name=clean_optional_text(raw.get("given_name"), "givenName", max_length=100),
        family_name=clean_optional_text(raw.get("family_name"), "familyName", max_length=100),
        job_title=clean_optional_text(raw.get("job_title"), "jobTitle", max_length=100),
        roles=frozenset(roles),
        primary_roles=frozenset(primary_roles),
        emails=tuple(emails),
        phones=tuple(phones),
        communication=parse_communication(raw.get("communication"), "communication"),
    )


# Fields whose value is an object: a merge patch merges into them instead of replacing them.
_OBJECT_FIELDS = frozenset({"locale", "communication"})


def _as_input(value: Any) -> Any:
    """Turn a nested value object back into input shape so a patch can merge into it."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _as_input(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_as_input(v) for v in value]
    return getattr(value, "value", value)


def merge_patch(target: dict[str, Any], patch: Raw) -> dict[str, Any]:
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


def profile_as_input(attributes: ProfileAttributes) -> dict[str, Any]:
    current: dict[str, Any] = {}
    for f in dataclasses.fields(attributes):
        value = getattr(attributes, f.name)
        if value is None:
            continue
        current[f.name] = _as_input(value) if f.name in _OBJECT_FIELDS else value
    current.pop("domain", None)
    return current


def patched_profile(current: ProfileAttributes, patch: Raw, *, region: str | None, today: date) -> ProfileAttributes:
    if "kind" in patch and patch["kind"] != current.kind.value:
        raise InvalidValue("kind", "cannot change; create a new profile instead")
    return parse_profile(merge_patch(profile_as_input(current), patch), region=region, today=today)


def contact_as_input(attributes: ContactAttributes) -> dict[str, Any]:
    current: dict[str, Any] = {}
    for f in dataclasses.fields(attributes):
        value = getattr(attributes, f.name)
        if value is None:
            continue
        if f.name == "communication":
            current[f.name] = _as_input(value)
        elif isinstance(value, frozenset):
            current[f.name] = sorted(v.value for v in value)
        else:
            current[f.name] = value
    return current


def patched_contact(current: ContactAttributes, patch: Raw, *, region: str | None) -> ContactAttributes:
    merged = merge_patch(contact_as_input(current), patch)
    if "name" not in patch and ("given_name" in patch or "family_name" in patch):
        merged.pop("name", None)
    return parse_contact(merged, region=region)
