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
_NUMBER_PATTERN = r"\d+\s*[a-z]?(?:\s*[-/]\s*\d+\s*[a-z]?)?"
_HOUSE_NUMBER = re.compile(r"^(\d+)(?!\d)\s*([a-z]?)(?![a-z])(?:\s*[-/]\s*(\d+)(?!\d)\s*([a-z]?)(?![a-z]))?")
_TRAILING_HOUSE_NUMBER = re.compile(rf"[\s,]({_NUMBER_PATTERN})[\s.,]*$")
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
