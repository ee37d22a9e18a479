"""Mapping between value objects and the JSON documents stored in JSONB columns (API spelling)."""

from __future__ import annotations

from typing import Any

from customer360.domain.primitives import to_primitive
from customer360.domain.values import (
    AddressType,
    Channel,
    ChannelPreference,
    CommunicationPreferences,
    EmailAddress,
    EmailType,
    FrequencyCap,
    FrequencyPeriod,
    LocalePreferences,
    PhoneNumber,
    PhoneType,
    PostalAddress,
    QuietHours,
    TaxId,
    TaxIdType,
)


def to_document(value: Any) -> Any:
    """The stored JSON of a value object: its primitive form (camelCase keys)."""
    return to_primitive(value)


def email_from(doc: dict[str, Any]) -> EmailAddress:
    return EmailAddress(address=doc["address"], type=EmailType(doc["type"]), primary=doc["primary"])


def phone_from(doc: dict[str, Any]) -> PhoneNumber:
    return PhoneNumber(
        e164=doc["e164"],
        original=doc["original"],
        type=PhoneType(doc["type"]),
        country=doc["country"],
        # documents written before unvalidated numbers were kept hold validated ones only
        validated=doc.get("validated", True),
        invalid_reason=doc.get("invalidReason"),
    )


def address_from(doc: dict[str, Any]) -> PostalAddress:
    return PostalAddress(
        type=AddressType(doc["type"]),
        lines=tuple(doc["lines"]),
        city=doc["city"],
        country=doc["country"],
        postal_code=doc.get("postalCode"),
        region=doc.get("region"),
    )


def tax_id_from(doc: dict[str, Any]) -> TaxId:
    return TaxId(
        country=doc["country"],
        type=TaxIdType(doc["type"]),
        value=doc["value"],
        validated=doc["validated"],
        invalid_reason=doc.get("invalidReason"),
    )


def locale_from(doc: dict[str, Any]) -> LocalePreferences:
    return LocalePreferences(language=doc.get("language"), time_zone=doc.get("timeZone"), currency=doc.get("currency"))


def communication_from(doc: dict[str, Any]) -> CommunicationPreferences:
    quiet = doc.get("quietHours")
    cap = doc.get("frequencyCap")
    preferred = doc.get("preferredChannel")
    return CommunicationPreferences(
        preferred_channel=Channel(preferred) if preferred else None,
        channels=tuple(
            ChannelPreference(channel=Channel(c["channel"]), topic=c["topic"], opt_in=c["optIn"])
            for c in doc.get("channels", [])
        ),
        quiet_hours=QuietHours(start=quiet["start"], end=quiet["end"]) if quiet else None,
        frequency_cap=FrequencyCap(max_messages=cap["maxMessages"], period=FrequencyPeriod(cap["period"]))
        if cap
        else None,
    )
