"""The engine's input: a flat, source-neutral view of a customer profile."""

from __future__ import annotations

from dataclasses import dataclass

PERSON = "PERSON"
ORGANIZATION = "ORGANIZATION"


@dataclass(frozen=True, slots=True)
class MatchAddress:
    """One postal address; every part is optional and may be raw (it is normalised on use).

    ``country`` is an ISO 3166 alpha-2 code; ``line2`` and ``more_lines`` are further lines (building,
    locality, a flat). The unit inside a building ("Flat 3", "Studio 67", "Appartement 12") may be given
    as ``unit`` or sit in any line; it is found there and never taken for the street.
    """

    street: str | None = None
    house_number: str | None = None
    postal_code: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    line2: str | None = None
    unit: str | None = None
    more_lines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MatchRecord:
    """What the matching engine knows about one customer profile.

    ``kind`` is ``"PERSON"`` or ``"ORGANIZATION"``. Persons use ``given_name``/``family_name`` (or, when
    both are missing, ``name`` parsed as "First Last" or "Last, First"); organisations use
    ``legal_name`` or else ``name``. ``birth_date`` is an ISO date (``YYYY-MM-DD``). ``tax_ids`` are
    country-prefixed ("DE136695976"); ``phones`` are E.164 or raw (raw numbers get the country of the
    record's first address, else the model's default region).
    """

    record_id: str
    kind: str
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    legal_name: str | None = None
    birth_date: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    addresses: tuple[MatchAddress, ...] = ()
    tax_ids: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    national_ids: tuple[str, ...] = ()
    source_system: str | None = None
