"""Person names: "Last, First" and "First Last" parsing, titles, suffixes and family-name particles."""

from __future__ import annotations

from dataclasses import dataclass

from customer360.domain.matching.text import fold, fold_or_none

_TITLES = frozenset(
    (
        *("mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "lord", "lady", "rev"),
        *("herr", "frau", "fr", "hr", "dipl", "ing", "mag", "monsieur", "madame", "mme", "mlle"),
        *("sr", "sra", "srta", "dott"),
    )
)
_SUFFIXES = frozenset(("jr", "jnr", "sr", "snr", "ii", "iii", "iv", "phd", "md", "esq", "msc", "bsc", "mba"))
# Particles belong to the family name ("Ludwig van Beethoven" -> family "van beethoven").
_PARTICLES = frozenset(
    (
        *("van", "von", "vom", "zu", "zur", "der", "den", "de", "del", "della", "di", "da", "dos", "das"),
        *("du", "la", "le", "ten", "ter", "al", "el", "bin", "ibn"),
    )
)


@dataclass(frozen=True, slots=True)
class PersonName:
    """Folded given and family names (``None`` when unknown)."""

    given: str | None
    family: str | None


def _clean(words: list[str]) -> list[str]:
    return [w for w in words if w not in _TITLES and w not in _SUFFIXES]


def parse_person_name(full_name: str) -> PersonName:
    """Split a one-string person name into given and family names.

    "Smith, John" is read as family-then-given; "John Smith" and "John van Smith" as given-then-family.

    >>> parse_person_name("Dr. Smith, John")
    PersonName(given='john', family='smith')
    """
    if "," in full_name:
        family_part, _, given_part = full_name.partition(",")
        family = " ".join(_clean(fold(family_part).split())) or None
        given = " ".join(_clean(fold(given_part).split())) or None
        return PersonName(given=given, family=family)
    words = _clean(fold(full_name).split())
    if not words:
        return PersonName(given=None, family=None)
    if len(words) == 1:
        # A single word is more often a family name ("Müller") than a given name in business data.
        return PersonName(given=None, family=words[0])
    start = len(words) - 1
    while start > 1 and words[start - 1] in _PARTICLES:
        start -= 1
    return PersonName(given=" ".join(words[:start]), family=" ".join(words[start:]))


def person_name(given_name: str | None, family_name: str | None, full_name: str | None) -> PersonName:
    """The folded person name from separate fields, falling back to parsing the one-string name."""
    given = fold_or_none(given_name)
    family = fold_or_none(family_name)
    if given is None and family is None and full_name:
        return parse_person_name(full_name)
    if family is not None and given is None and full_name is None and "," in (family_name or ""):
        return parse_person_name(family_name or "")
    return PersonName(given=given, family=family)


def strip_particles(family: str) -> str:
    """The family name without leading particles, so "van Beethoven" also matches "Beethoven"."""
    words = family.split()
    while len(words) > 1 and words[0] in _PARTICLES:
        words.pop(0)
    return " ".join(words)
