"""Postal addresses: street types abbreviated one way, house numbers and postal codes compacted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from unidecode import unidecode

from customer360.domain.matching.text import fold, fold_or_none

# Every spelling of a street type maps to one short form, so "Main Street" == "Main St." and
# "Hauptstraße" == "Haupt Str.". Same-meaning types across languages share the form (Straße = street).
_STREET_TYPES: dict[str, tuple[str, ...]] = {
    "st": ("street", "st", "str", "strt", "strasse"),
    "ave": ("avenue", "ave", "av", "avn", "avenida"),
    "rd": ("road", "rd"),
    "dr": ("drive", "dr", "drv"),
    "ln": ("lane", "ln"),
    "blvd": ("boulevard", "blvd", "bd", "boul"),
    "ct": ("court", "ct", "crt"),
    "cres": ("crescent", "cres", "cr", "cresc"),
    "cct": ("circuit", "cct", "circ"),
    "cir": ("circle", "cir"),
    "pde": ("parade", "pde"),
    "tce": ("terrace", "tce", "terr"),
    "hwy": ("highway", "hwy"),
    "cl": ("close", "cl"),
    "sq": ("square", "sq"),
    "pkwy": ("parkway", "pkwy"),
    "gr": ("grove", "gr", "grv"),
    "esp": ("esplanade", "esp"),
    "wy": ("way", "wy"),
    "aly": ("alley", "aly"),
    "cove": ("cove", "cv"),
    "mews": ("mews",),
    "pl": ("place", "pl", "plc", "platz"),
    "weg": ("weg",),
    "gasse": ("gasse",),
    "allee": ("allee",),
    "ch": ("chemin", "ch"),
}
_ABBREVIATION: dict[str, str] = {
    spelling: short for short, spellings in _STREET_TYPES.items() for spelling in spellings
}
# German-speaking streets glue the type to the name ("Hauptstraße", "Lindenweg"); only these long,
# unambiguous suffixes are split off, to leave names such as "Weststreet Mall" mostly alone.
_GLUED_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("strasse", "st"),
    ("street", "st"),
    ("avenue", "ave"),
    ("crescent", "cres"),
    ("circuit", "cct"),
    ("terrace", "tce"),
    ("parade", "pde"),
    ("platz", "pl"),
    ("weg", "weg"),
    ("allee", "allee"),
    ("gasse", "gasse"),
)
_MIN_STEM = 3
_MIN_MISTYPED_TYPE = 5
# the long spellings of each street type: one edit away from "st" or "rd" is another word, one edit away
# from "crescent" or "street" is a typo
_LONG_SPELLINGS: dict[str, tuple[str, ...]] = {
    short: tuple(s for s in spellings if len(s) >= _MIN_MISTYPED_TYPE) for short, spellings in _STREET_TYPES.items()
}
_NUMBER_PATTERN = r"\d+\s*[a-z]?(?:\s*[-/]\s*\d+\s*[a-z]?)?"
_HOUSE_NUMBER = re.compile(r"^(\d+)(?!\d)\s*([a-z]?)(?![a-z])(?:\s*[-/]\s*(\d+)(?!\d)\s*([a-z]?)(?![a-z]))?")
_TRAILING_HOUSE_NUMBER = re.compile(rf"(?:[\s,]|(?<=[a-z.]))({_NUMBER_PATTERN})[\s.,]*$")
_LEADING_HOUSE_NUMBER = re.compile(rf"^\s*({_NUMBER_PATTERN})[\s,]")


@dataclass(frozen=True, slots=True)
class Street:
    """A normalised street name and, when it was written into the street line, its house number."""

    name: str | None
    house_number: str | None


_GLUED_ENDINGS = (*(suffix for suffix, _ in _GLUED_SUFFIXES), "str")


def _abbreviate(word: str) -> list[str]:
    short = _ABBREVIATION.get(word)
    if short is not None:
        return [short]
    if not word.endswith(_GLUED_ENDINGS):
        return [word]
    for suffix, abbreviation in _GLUED_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return [word[: -len(suffix)], abbreviation]
    if word.endswith("str") and len(word) - 3 >= _MIN_STEM:
        return [word[:-3], "st"]
    return [word]


def type_spellings(street: str) -> tuple[str, tuple[str, ...]] | None:
    """A normalised street's name without its type word, and the type's long spellings (``None`` when
    it ends in no type): ``"herron cres"`` -> ``("herron", ("crescent",))``."""
    head, _, short = street.rpartition(" ")
    spellings = _LONG_SPELLINGS.get(short)
    return (head, spellings) if head and spellings else None


@lru_cache(maxsize=65536)
def normalise_street(raw: str) -> Street:
    """Folded street with street types abbreviated and a written-in house number split off.

    >>> normalise_street("Hauptstraße 5a")
    Street(name='haupt st', house_number='5a')
    """
    # the number is looked for before folding, which would turn "3-5" into "3 5"
    text = unidecode(raw).lower().strip()
    house_number: str | None = None
    trailing = _TRAILING_HOUSE_NUMBER.search(text)
    leading = _LEADING_HOUSE_NUMBER.search(text)
    if trailing is not None:
        house_number, text = trailing.group(1), text[: trailing.start()]
    elif leading is not None:
        house_number, text = leading.group(1), text[leading.end() :]
    words: list[str] = []
    for word in fold(text).split():
        words.extend(_abbreviate(word))
    name = " ".join(words) or None
    return Street(name=name, house_number=normalise_house_number(house_number) if house_number else None)


@lru_cache(maxsize=65536)
def address_line_key(raw: str) -> str | None:
    """A free address line (building, locality) as a comparable key: folded, street types abbreviated,
    spaces removed, so that it can also be compared with a street that landed in the other line."""
    words: list[str] = []
    for word in fold(raw).split():
        words.extend(_abbreviate(word))
    return "".join(words) or None


@lru_cache(maxsize=65536)
def normalise_house_number(raw: str) -> str | None:
    """Digits plus an optional letter and range ("12 A" -> "12a", "12 - 14" -> "12-14")."""
    text = unidecode(raw).lower().strip()
    match = _HOUSE_NUMBER.match(text)
    if match is None:
        return fold(text).replace(" ", "") or None
    number = match.group(1).lstrip("0") or "0"
    result = number + match.group(2)
    if match.group(3):
        result += "-" + (match.group(3).lstrip("0") or "0") + match.group(4)
    return result


@lru_cache(maxsize=65536)
def normalise_postal_code(raw: str) -> str | None:
    """Upper-case letters and digits only ("sw1a 1aa" -> "SW1A1AA")."""
    return re.sub(r"[^0-9A-Za-z]", "", raw).upper() or None


def normalise_city(raw: str) -> str | None:
    """Folded city name."""
    return fold_or_none(raw)


# A unit inside a building: "Flat 3", "Studio 67", "Apartment 4B", "Unit 5", "Appartement 12", "Whg. 5".
# It is the sub-premise, never the street: "Flat 3, 12 High Street" is number 12 of High Street.
_UNIT_WORDS = (
    "flat|apartment|apt|studio|unit|suite|ste|room|rm|maisonette|penthouse|"
    "appartement|app|logement|wohnung|whg|appartamento|apartamento|piso|bus"
)
_UNIT = re.compile(rf"(?:^|[\s,])(?:{_UNIT_WORDS})\.?\s*(?:no\.?\s*)?(\d+[a-z]?|[a-z])(?![a-z0-9])[\s,]*")
_BUILDING_WORDS = frozenset(("house", "court", "lodge", "mansions", "building", "tower", "centre", "center", "hall"))
_NUMBER_ONLY = re.compile(rf"^{_NUMBER_PATTERN}(?:\s*(?:bis|ter))?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class AddressLines:
    """Address lines sorted into the street line, the unit (sub-premise) and what is left (building...)."""

    street: str | None
    unit: str | None
    rest: str | None


def _has_number(text: str) -> bool:
    return any(c.isdigit() for c in text)


@lru_cache(maxsize=65536)
def split_address_lines(lines: tuple[str, ...]) -> AddressLines:
    """Find the unit in any line, then the street among what is left.

    >>> split_address_lines(("Flat 3, 12 High Street",))
    AddressLines(street='12 High Street', unit='3', rest=None)
    >>> split_address_lines(("Studio 67", "Mill House", "5 Canal Road"))
    AddressLines(street='5 Canal Road', unit='67', rest='Mill House')
    """
    unit: str | None = None
    parts: list[str] = []
    for line in lines:
        text = unidecode(line).strip()
        if unit is None:
            found = _UNIT.search(text.lower())
            if found is not None:
                unit = found.group(1).lstrip("0") or found.group(1)
                text = (text[: found.start()] + " " + text[found.end() :]).strip(" ,")
        # "Mill House, 5 Canal Road" in one line: a building and a street; "12, rue de la Paix": one street
        pieces = [p.strip() for p in text.split(",") if p.strip()]
        while pieces:
            piece = pieces.pop(0)
            if pieces and _NUMBER_ONLY.match(piece):
                piece = f"{piece} {pieces.pop(0)}"
            parts.append(piece)
    streets = [p for p in parts if _has_number(p) and not _is_building(p)] or [p for p in parts if not _is_building(p)]
    street = streets[0] if streets else None
    rest = [p for p in parts if p != street]
    return AddressLines(street=street, unit=unit, rest=", ".join(rest) or None)


def _is_building(text: str) -> bool:
    words = fold(text).split()
    return bool(words) and words[-1] in _BUILDING_WORDS and not any(w.isdigit() for w in words)
