"""Synthetic customers of the CRM benchmark (benchmarks/crm_dataset.py): persons and companies of four
countries, where they live or sit, and the identifiers they own.

Everything is invented: names from the word lists, addresses on invented streets of real cities, phone
numbers built from phonenumbers' example numbers with random subscriber digits (each one checked
valid), VAT numbers with correct check digits (each one checked with python-stdnum).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache
from itertools import accumulate

import phonenumbers
from benchmarks.crm_vocabulary import (
    COUNTRIES,
    COUNTRY_WEIGHTS,
    GB_BUILDING_TYPES,
    GB_BUILDINGS,
    ROLE_MAILBOX,
    SUB_PREMISES,
    City,
    Country,
)
from stdnum import get_cc_module, luhn
from unidecode import unidecode

_CITY_WEIGHTS = {c.code: list(accumulate(city.weight for city in c.cities)) for c in COUNTRIES}
_COUNTRY_WEIGHTS = list(accumulate(COUNTRY_WEIGHTS))
BY_CODE = {c.code: c for c in COUNTRIES}


@dataclass(frozen=True, slots=True)
class Place:
    """Where someone lives or a company sits: a real city, an invented street, maybe a flat."""

    country: str
    city: str
    postcode: str
    street: str
    house: str
    sub_premise: str | None = None
    """``Flat 3``, ``Studio 67``, ``Appartement 12``: the unit inside the building."""
    building: str | None = None
    landline_area: str = ""


@dataclass(frozen=True, slots=True)
class Person:
    entity: str
    country: str
    female: bool
    given: str
    family: str
    birth_date: date
    email: str | None
    mobile: str | None
    landline: str | None
    place: Place
    suffix: str | None = None


@dataclass(frozen=True, slots=True)
class Company:
    entity: str
    country: str
    core: str
    trade: str | None
    legal_form: str
    tax_id: str | None
    domain: str
    email: str | None
    switchboard: str | None
    place: Place
    contact: tuple[str, str, str] | None = None
    """A contact person: given name, family name, e-mail."""


Entity = Person | Company


def _zipf(n: int, s: float) -> list[float]:
    return list(accumulate(1.0 / (k**s) for k in range(1, n + 1)))


@cache
def _weights(n: int, s: float) -> list[float]:
    return _zipf(n, s)


def country(rng: random.Random) -> Country:
    return rng.choices(COUNTRIES, cum_weights=_COUNTRY_WEIGHTS)[0]


def ascii_word(text: str) -> str:
    return "".join(c for c in unidecode(text).lower() if c.isalnum())


def invented(rng: random.Random, c: Country, shortest: int = 2, longest: int = 3) -> str:
    return "".join(rng.choice(c.syllables) for _ in range(rng.randint(shortest, longest))).capitalize()


def given_name(rng: random.Random, c: Country, female: bool) -> str:
    # the commonest given name of a country is about 2 % of its people
    names = c.female if female else c.male
    return rng.choices(names, cum_weights=_weights(len(names), 0.5))[0]


def family_name(rng: random.Random, c: Country) -> str:
    # a head of common names (a quarter of the people, the commonest about 1 %) and a long tail of rare
    # ones, as in population registers
    if rng.random() < 0.25:
        return rng.choices(c.family, cum_weights=_weights(len(c.family), 0.45))[0]
    return invented(rng, c, 1, 2) + rng.choice(c.family_endings)


def _fill(rng: random.Random, pattern: str) -> str:
    return "".join(
        str(rng.randrange(10)) if ch == "#" else rng.choice("ABDEFGHJLNPQRSTUWXYZ") if ch == "@" else ch
        for ch in pattern
    )


@cache
def _streets(country_code: str, city_index: int) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The city's streets, each with the postcodes along it (fixed per city, so neighbours share them)."""
    c = BY_CODE[country_code]
    city = c.cities[city_index]
    rng = random.Random(f"streets-{country_code}-{city_index}")
    postcodes = sorted({_fill(rng, city.postcode) for _ in range(city.postcodes * 2)})[: city.postcodes]
    streets: dict[str, tuple[str, ...]] = {}
    for _ in range(max(40, city.postcodes * 6)):
        root = rng.choice(c.street_roots) if rng.random() < 0.5 else invented(rng, c, 2, 3)
        kind = rng.choice(c.street_types)
        if c.code in ("DE", "NL"):
            name = f"{root}{kind}"  # "Hauptstraße", "Kerkstraat"
        elif c.code == "FR":
            name = f"{kind} {root}"  # "rue de la Paix"
        else:
            name = f"{root} {kind}"  # "High Street"
        streets[name] = tuple(rng.sample(postcodes, rng.choice((1, 1, 1, 2))))
    return tuple(streets.items())


def place(rng: random.Random, c: Country, *, city: City | None = None, flat_share: float = 0.2) -> Place:
    if city is None:
        city = rng.choices(c.cities, cum_weights=_CITY_WEIGHTS[c.code])[0]
    index = c.cities.index(city)
    streets = _streets(c.code, index)
    street, postcodes = rng.choices(streets, cum_weights=_weights(len(streets), 0.4))[0]
    house = str(rng.randint(1, 120) if rng.random() < 0.8 else rng.randint(121, 400))
    if c.code in ("DE", "NL", "FR") and rng.random() < 0.06:
        house += rng.choice(("a", "b", " bis") if c.code == "FR" else ("a", "b"))
    sub_premise = building = None
    if c.code in SUB_PREMISES and rng.random() < flat_share * (2 if c.code == "GB" else 1):
        sub_premise = f"{rng.choice(SUB_PREMISES[c.code])} {rng.randint(1, 80)}"
        if c.code == "GB" and rng.random() < 0.35:
            building = f"{rng.choice(GB_BUILDINGS)} {rng.choice(GB_BUILDING_TYPES)}"
    return Place(c.code, city.name, rng.choice(postcodes), street, house, sub_premise, building, city.landline_area)


def moved(rng: random.Random, old: Place) -> Place:
    """A new home: mostly another city of the same country, sometimes another street of the same one."""
    c = BY_CODE[old.country]
    if rng.random() < 0.3:
        city = next(x for x in c.cities if x.name == old.city)
        new = place(rng, c, city=city)
    else:
        new = place(rng, c, city=rng.choice([x for x in c.cities if x.name != old.city]))
    return new if (new.street, new.house) != (old.street, old.house) else moved(rng, old)


def neighbour(rng: random.Random, home: Place) -> Place:
    """Another unit of the same building (GB/FR flats), or another house in the same postcode."""
    if home.sub_premise:
        kind, _, number = home.sub_premise.partition(" ")
        other = str(int(number) + rng.randint(1, 12))
        return replace(home, sub_premise=f"{kind} {other}")
    return replace(home, house=str(int("".join(ch for ch in home.house if ch.isdigit()) or 1) + rng.randint(1, 40)))


# -- identifiers -----------------------------------------------------------------------------------------
def _valid_number(rng: random.Random, region: str, prefix: str, lengths: tuple[int, ...]) -> str:
    """An E.164 number whose national part starts with ``prefix`` and that phonenumbers calls valid."""
    code = phonenumbers.country_code_for_region(region)
    for attempt in range(400):
        length = lengths[attempt % len(lengths)]
        rest = "".join(str(rng.randrange(10)) for _ in range(length - len(prefix)))
        candidate = f"+{code}{prefix}{rest}"
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            return candidate
    raise RuntimeError(f"no valid number for {region} {prefix}")


_MOBILE_LENGTHS = {"DE": (11, 10), "GB": (10,), "FR": (9,), "NL": (9,)}


def mobile(rng: random.Random, c: Country) -> str:
    return _valid_number(rng, c.code, rng.choice(c.mobile_prefixes), _MOBILE_LENGTHS[c.code])


def landline(rng: random.Random, home: Place) -> str:
    area = home.landline_area.lstrip("0")
    if home.country == "DE":
        lengths: tuple[int, ...] = (len(area) + 7, len(area) + 8)
    else:
        lengths = (10,) if home.country == "GB" else (9,)
    return _valid_number(rng, home.country, area, lengths)


def _vat_valid(number: str) -> bool:
    return bool(get_cc_module(number[:2].lower(), "vat").is_valid(number))


def vat_number(rng: random.Random, c: Country) -> str:
    """A VAT number with correct check digits (tried until python-stdnum accepts it)."""
    for _ in range(1000):
        if c.code == "DE":
            body = "".join(str(rng.randrange(10)) for _ in range(9))
            candidate = f"DE{body}"
        elif c.code == "GB":
            candidate = "GB" + "".join(str(rng.randrange(10)) for _ in range(9))
        elif c.code == "FR":
            siren = "".join(str(rng.randrange(10)) for _ in range(8))
            siren += luhn.calc_check_digit(siren)
            key = (12 + 3 * (int(siren) % 97)) % 97
            candidate = f"FR{key:02d}{siren}"
        else:
            candidate = "NL" + "".join(str(rng.randrange(10)) for _ in range(9)) + "B01"
        if _vat_valid(candidate):
            return candidate
    raise RuntimeError(f"no valid VAT number for {c.code}")


def broken_checksum(rng: random.Random, tax_id: str) -> str:
    """The same VAT number with one digit mistyped so that its check digits fail."""
    digits = [i for i, ch in enumerate(tax_id) if ch.isdigit()]
    for _ in range(100):
        i = rng.choice(digits)
        candidate = tax_id[:i] + str((int(tax_id[i]) + rng.randint(1, 9)) % 10) + tax_id[i + 1 :]
        if not _vat_valid(candidate):
            return candidate
    return tax_id[:-1]


def impossible_phone(rng: random.Random, number: str) -> str:
    """A phone number as a clerk mistyped it so that it cannot be a number at all (digits lost or added)."""
    digits = number[1:]
    if rng.random() < 0.5:
        return "+" + digits[: len(digits) - rng.randint(3, 4)]
    return "+" + digits + "".join(str(rng.randrange(10)) for _ in range(rng.randint(4, 5)))


def personal_email(rng: random.Random, c: Country, given: str, family: str, born: date) -> str:
    g, f = ascii_word(given), ascii_word(family)
    local = rng.choice(
        (
            f"{g}.{f}",
            f"{g}.{f}",
            f"{g[0]}{f}",
            f"{g}{f}{born.year % 100:02d}",
            f"{f}.{g}",
            f"{g}_{f}",
            f"{g}{rng.randint(1, 999)}",
            f"{f}{g[0]}{rng.randint(1, 99)}",
        )
    )
    return f"{local}@{rng.choice(c.providers)}"


def birth_date(rng: random.Random, oldest: int = 1935, youngest: int = 2006) -> date:
    start = date(oldest, 1, 1)
    return start + timedelta(days=rng.randrange((date(youngest, 12, 31) - start).days))


# -- entities --------------------------------------------------------------------------------------------
def person(rng: random.Random, entity: str, c: Country | None = None, *, home: Place | None = None) -> Person:
    c = c or country(rng)
    female = rng.random() < 0.5
    given, family = given_name(rng, c, female), family_name(rng, c)
    born = birth_date(rng)
    home = home or place(rng, c)
    return Person(
        entity=entity,
        country=c.code,
        female=female,
        given=given,
        family=family,
        birth_date=born,
        email=personal_email(rng, c, given, family, born) if rng.random() < 0.85 else None,
        mobile=mobile(rng, c) if rng.random() < 0.8 else None,
        landline=landline(rng, home) if rng.random() < 0.45 else None,
        place=home,
    )


def company(rng: random.Random, entity: str, c: Country | None = None) -> Company:
    c = c or country(rng)
    core = invented(rng, c, 2, 3) if rng.random() < 0.7 else family_name(rng, c)
    trade = rng.choice(c.trades) if rng.random() < 0.8 else None
    words = [ascii_word(core)] + ([ascii_word(trade)] if trade and rng.random() < 0.5 else [])
    domain = f"{'-'.join(words)}.{c.tld if rng.random() < 0.7 else 'com'}"
    site = place(rng, c, flat_share=0.0)
    if c.code == "GB" and rng.random() < 0.2:
        site = replace(site, sub_premise=f"Unit {rng.randint(1, 40)}")
    contact = None
    if rng.random() < 0.5:
        female = rng.random() < 0.5
        g, f = given_name(rng, c, female), family_name(rng, c)
        contact = (g, f, f"{ascii_word(g)}.{ascii_word(f)}@{domain}")
    return Company(
        entity=entity,
        country=c.code,
        core=core,
        trade=trade,
        legal_form=rng.choice(c.legal_forms),
        tax_id=vat_number(rng, c) if rng.random() < 0.85 else None,
        domain=domain,
        email=f"{ROLE_MAILBOX[c.code]}@{domain}" if rng.random() < 0.7 else None,
        switchboard=landline(rng, site) if rng.random() < 0.85 else None,
        place=site,
        contact=contact,
    )
