"""A record normalised once into the features that comparisons and blocking read."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TypeVar

from customer360.domain.matching.addresses import (
    address_line_key,
    normalise_city,
    normalise_house_number,
    normalise_postal_code,
    normalise_street,
    split_address_lines,
)
from customer360.domain.matching.contact_points import (
    is_shared_line,
    is_valid_tax_id,
    normalise_domain,
    normalise_email,
    normalise_national_id,
    normalise_phone,
    normalise_tax_id,
    organisation_domain,
)
from customer360.domain.matching.legal_forms import split_legal_form
from customer360.domain.matching.names import person_name, strip_particles
from customer360.domain.matching.nicknames import canonical_given_names
from customer360.domain.matching.records import ORGANIZATION, MatchAddress, MatchRecord
from customer360.domain.matching.text import fold_or_none

T = TypeVar("T")
_NOT_DIGIT = re.compile(r"\D")
_DATE_DIGITS = 8


@dataclass(frozen=True, slots=True)
class PreparedAddress:
    """Normalised address parts (``*_key``: abbreviated street types and no spaces); ``unit`` is the
    sub-premise (the flat's number), ``line2_key`` what is left of the other lines (a building name)."""

    street: str | None
    street_key: str | None
    house_number: str | None
    line2_key: str | None
    postal_code: str | None
    city: str | None
    region: str | None
    country: str | None
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class PreparedRecord:
    """Normalised features of one `MatchRecord`; built by `prepare`, read by comparisons and blocking."""

    record_id: str
    kind: str
    source_system: str | None
    given: str | None
    given_canonical: frozenset[str]
    family: str | None
    family_key: str | None
    org_name: str | None
    org_key: str | None
    legal_form: str | None
    birth_date: str | None
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    """Personal numbers (mobiles, and numbers that cannot be classified)."""
    addresses: tuple[PreparedAddress, ...]
    tax_ids: tuple[str, ...]
    domains: tuple[str, ...]
    national_ids: tuple[str, ...]
    landlines: tuple[str, ...] = ()
    """Numbers a household or a site shares (landlines, switchboards)."""
    valid_tax_ids: frozenset[str] = frozenset()
    """The tax ids whose check digits are right."""


def _unique(raw: tuple[str, ...], normalise: Callable[[str], str | None]) -> tuple[str, ...]:
    if not raw:
        return ()
    # order-preserving de-duplication: the first value is the one a caller listed first
    return tuple(dict.fromkeys(v for v in map(normalise, raw) if v))


@lru_cache(maxsize=65536)
def _birth_date(raw: str) -> str | None:
    digits = _NOT_DIGIT.sub("", raw)
    return digits if len(digits) == _DATE_DIGITS else None


def _address(raw: MatchAddress) -> PreparedAddress | None:
    if raw.house_number:
        # the number has its own field: the first line is the street, as given (FEBRL, most ERPs)
        street_line, line2, unit = raw.street, raw.line2, raw.unit
        split = split_address_lines(tuple(line for line in (street_line, line2, *raw.more_lines) if line))
        if split.unit is not None:
            street_line, line2, unit = split.street, split.rest, unit or split.unit
        elif raw.more_lines:
            line2 = ", ".join(line for line in (line2, *raw.more_lines) if line)
    else:
        split = split_address_lines(tuple(line for line in (raw.street, raw.line2, *raw.more_lines) if line))
        street_line, line2, unit = split.street, split.rest, raw.unit or split.unit
    street = normalise_street(street_line) if street_line else None
    house_number = normalise_house_number(raw.house_number) if raw.house_number else None
    if house_number is None and street is not None:
        house_number = street.house_number
    street_name = street.name if street else None
    parts = (
        street_name,
        street_name.replace(" ", "") if street_name else None,
        house_number,
        address_line_key(line2) if line2 else None,
        normalise_postal_code(raw.postal_code) if raw.postal_code else None,
        normalise_city(raw.city) if raw.city else None,
        fold_or_none(raw.region),
        (raw.country.strip().upper() or None) if raw.country else None,
        normalise_house_number(unit) if unit else None,
    )
    if not any(parts):
        return None
    return PreparedAddress(*parts)


def prepare(record: MatchRecord, default_region: str | None = None) -> PreparedRecord:
    """Normalise every feature of ``record`` (``default_region`` parses national phone numbers)."""
    addresses = tuple(a for a in map(_address, record.addresses) if a is not None)
    region = next((a.country for a in addresses if a.country), None) or default_region

    def phone(raw: str) -> str | None:
        return normalise_phone(raw, region)

    given: str | None = None
    family: str | None = None
    org_name: str | None = None
    legal_form: str | None = None
    if record.kind == ORGANIZATION:
        raw_name = record.legal_name or record.name
        if raw_name:
            split = split_legal_form(raw_name)
            org_name, legal_form = split.core or None, split.legal_form
    else:
        parsed = person_name(record.given_name, record.family_name, record.name)
        given, family = parsed.given, parsed.family
    numbers = _unique(record.phones, phone)
    tax_ids = _unique(record.tax_ids, normalise_tax_id)
    emails = _unique(record.emails, normalise_email)
    domains = _unique(record.domains, normalise_domain)
    if record.kind == ORGANIZATION:
        # a company's own mail domain is its web domain, whichever field a source wrote it in
        domains = tuple(dict.fromkeys((*domains, *(d for d in map(organisation_domain, emails) if d))))
    return PreparedRecord(
        record_id=record.record_id,
        kind=record.kind,
        source_system=record.source_system,
        given=given,
        given_canonical=canonical_given_names(given.split()[0]) if given else frozenset(),
        family=family,
        family_key=strip_particles(family).replace(" ", "") if family else None,
        org_name=org_name,
        org_key=org_name.replace(" ", "") if org_name else None,
        legal_form=legal_form,
        birth_date=_birth_date(record.birth_date) if record.birth_date else None,
        emails=emails,
        phones=tuple(n for n in numbers if not is_shared_line(n)),
        addresses=addresses,
        tax_ids=tax_ids,
        domains=domains,
        national_ids=_unique(record.national_ids, normalise_national_id),
        landlines=tuple(n for n in numbers if is_shared_line(n)),
        valid_tax_ids=frozenset(t for t in tax_ids if is_valid_tax_id(t)),
    )


HISTORY_LIMIT = 5
"""Previous addresses, phone numbers and e-mails kept per profile as matching data, each."""


def with_history(
    current: PreparedRecord, previous: PreparedRecord | None, limit: int = HISTORY_LIMIT
) -> PreparedRecord:
    """``current`` with what ``previous`` (the profile's matching data before a change) had and it no longer
    has: a moved customer's old address and phone still block and compare, so an old source sending
    them again finds the profile. The newest come first; at most ``limit`` previous values of each kind.
    """
    if previous is None:
        return current

    def kept(now: tuple[T, ...], before: tuple[T, ...]) -> tuple[T, ...]:
        return now + tuple(v for v in before if v not in now)[:limit]

    return replace(
        current,
        addresses=kept(current.addresses, previous.addresses),
        emails=kept(current.emails, previous.emails),
        phones=kept(current.phones, tuple(p for p in previous.phones if p not in current.landlines)),
        landlines=kept(current.landlines, tuple(p for p in previous.landlines if p not in current.phones)),
    )
