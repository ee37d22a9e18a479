"""The seed's SearchCustomers query: turn what a caller typed into normalised search criteria."""

from __future__ import annotations

import re

from customer360.application.queries import SearchCriteria
from customer360.domain.errors import InvalidValue
from customer360.domain.values import ExternalReference, parse_phone


def search_criteria(
    *,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    external_ref: str | None = None,
    tax_id: str | None = None,
    region: str | None = None,
    include_inactive: bool = True,
    limit: int = 20,
) -> SearchCriteria:
    if not any((name, email, phone, external_ref, tax_id)):
        raise InvalidValue("query", "give at least one of name, email, phone, externalRef or taxId")
    email_key = None
    if email:
        email_key = email.strip().lower()
        if "@" not in email_key:
            raise InvalidValue("email", "must be a whole e-mail address")
    return SearchCriteria(
        name=name.strip() if name else None,
        email=email_key,
        phone=phone_keys(phone, region) if phone else (),
        external_ref=_external_ref(external_ref) if external_ref else None,
        tax_id=re.sub(r"[\s.\-/]", "", tax_id).upper() if tax_id else None,
        include_inactive=include_inactive,
        limit=limit,
    )


def phone_keys(text: str, region: str | None) -> tuple[str, ...]:
    """E.164 when the number can be read, plus its national digits, so any written form finds it."""
    keys: list[str] = []
    number = parse_phone(text, region)
    if number is not None:
        keys.append(f"+{number.country_code}{number.national_number}")
        keys.append(str(number.national_number))
    digits = re.sub(r"\D", "", text).lstrip("0")
    if digits and not text.strip().startswith("+") and digits not in keys:
        keys.append(digits)
    if not keys:
        raise InvalidValue("phone", "contains no digits")
    return tuple(keys)


def _external_ref(value: str) -> tuple[str, str]:
    system, sep, external_id = value.partition(":")
    if not sep:
        raise InvalidValue("externalRef", "must be SOURCE_SYSTEM:externalId")
    ref = ExternalReference.create("externalRef", source_system=system, external_id=external_id)
    return ref.source_system, ref.external_id
