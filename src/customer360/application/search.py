"""The seed's SearchCustomers query: turn what a caller typed into normalised search criteria."""

from __future__ import annotations

import re

from customer360.application.queries import FreeText, SearchCriteria
from customer360.domain.errors import InvalidValue
from customer360.domain.search_terms import simplify
from customer360.domain.values import ExternalReference, country_code, parse_phone

CRITERIA = "name, email, phone, externalRef, taxId, street, city, postalCode, country or q"
_PHONE_LIKE = re.compile(r"^\+?[\d\s()./-]+$")
_MIN_PHONE_DIGITS = 5


def search_criteria(
    *,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    external_ref: str | None = None,
    tax_id: str | None = None,
    street: str | None = None,
    city: str | None = None,
    postal_code: str | None = None,
    country: str | None = None,
    q: str | None = None,
    region: str | None = None,
    include_inactive: bool = True,
    limit: int = 20,
) -> SearchCriteria:
    given = (name, email, phone, external_ref, tax_id, street, city, postal_code, country, q)
    if not any(v and v.strip() for v in given):
        raise InvalidValue("query", f"give at least one of {CRITERIA}")
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
        tax_id=_tax_id_key(tax_id) if tax_id else None,
        street=_words("street", street),
        city=_words("city", city),
        postal_code=_words("postalCode", postal_code),
        country=country_code(country, "country") if country else None,
        text=free_text(q, region) if q and q.strip() else None,
        include_inactive=include_inactive,
        limit=limit,
    )


def free_text(q: str, region: str | None) -> FreeText:
    """``q`` read as every kind of value it can be: name words (letters), an e-mail (an @), a phone number,
    a tax id or an external reference (digits)."""
    text = q.strip()
    if "@" in text:
        return FreeText(email=text.lower())
    has_digit = any(c.isdigit() for c in text)
    phone: tuple[str, ...] = ()
    if _PHONE_LIKE.match(text) and sum(c.isdigit() for c in text) >= _MIN_PHONE_DIGITS:
        phone = phone_keys(text, region)
    words = simplify(text) if any(c.isalpha() for c in text) else ""
    if not words and not has_digit:
        raise InvalidValue("q", "contains no letters or digits")
    return FreeText(
        words=words or None,
        phone=phone,
        tax_id=_tax_id_key(text) if has_digit else None,
        reference=text if has_digit else None,
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


def _tax_id_key(text: str) -> str:
    return re.sub(r"[\s.\-/]", "", text).upper()


def _words(field: str, text: str | None) -> str | None:
    if not text or not text.strip():
        return None
    if not simplify(text):
        raise InvalidValue(field, "contains no letters or digits")
    return text.strip()


def _external_ref(value: str) -> tuple[str, str]:
    system, sep, external_id = value.partition(":")
    if not sep:
        raise InvalidValue("externalRef", "must be SOURCE_SYSTEM:externalId")
    ref = ExternalReference.create("externalRef", source_system=system, external_id=external_id)
    return ref.source_system, ref.external_id
