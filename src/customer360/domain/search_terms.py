"""Accent-free, lower-case forms of names and addresses for search, shared by the write side and the query side.

"Müller" is stored as both "muller" (transliteration) and "mueller" (German spelling of umlauts), so a
search for either finds it; a query is reduced the same way.

A profile's **search tokens** are the words of its names and addresses, each with the field it came from
(``n:`` name, ``s:`` street, ``c:`` city, ``p:`` postal code, ``k:`` country): ``n:mueller``, ``s:hauptstrasse``,
``c:berlin``, ``p:10115``, ``k:de``. They are posted in a word index (``search_token``, migration 0009) whose
order answers exact and prefix matches: a query word is a prefix of a token of the same field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from unidecode import unidecode

if TYPE_CHECKING:
    from customer360.domain.values import PostalAddress

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
# "Hauptstr." and "Hauptstraße" are one street; the long form is the one stored and searched.
_STREET_SUFFIX = re.compile(r"(^|(?<=[a-z]))str$")

NAME, STREET, CITY, POSTAL_CODE, COUNTRY = "n", "s", "c", "p", "k"
# A token longer than this is cut: index entries stay small, and no real word is that long.
MAX_TOKEN_LENGTH = 40


def simplify(text: str) -> str:
    return _NON_ALNUM.sub(" ", unidecode(text.casefold())).strip()


def name_variants(text: str) -> list[str]:
    lowered = text.casefold()
    variants = [simplify(lowered), simplify(lowered.translate(_GERMAN))]
    return [v for i, v in enumerate(variants) if v and v not in variants[:i]]


def search_text(*names: str | None) -> str:
    seen: list[str] = []
    for name in names:
        for variant in name_variants(name or ""):
            if variant not in seen:
                seen.append(variant)
    return " | ".join(seen)


def search_query(text: str) -> str:
    return simplify(text)


def street_words(text: str) -> list[str]:
    return [_STREET_SUFFIX.sub("strasse", w) for w in simplify(text.casefold().translate(_GERMAN)).split()]


def postal_code_word(text: str) -> str:
    return simplify(text).replace(" ", "")


def token(field: str, word: str) -> str:
    return f"{field}:{word[:MAX_TOKEN_LENGTH]}"


def search_tokens(names: Iterable[str | None], addresses: Iterable[PostalAddress]) -> list[str]:
    """The sorted, distinct tokens of a profile's names (every spelling variant) and addresses."""
    tokens: set[str] = set()
    for name in names:
        for variant in name_variants(name or ""):
            tokens.update(token(NAME, w) for w in variant.split())
    for address in addresses:
        for line in address.lines:
            tokens.update(token(STREET, w) for w in street_words(line))
        tokens.update(token(CITY, w) for w in simplify(address.city).split())
        if address.postal_code and (code := postal_code_word(address.postal_code)):
            tokens.add(token(POSTAL_CODE, code))
        tokens.add(token(COUNTRY, address.country.lower()))
    return sorted(tokens)


def query_terms(field: str, text: str) -> list[str]:
    """The terms a query text asks for in one field; each must be a prefix of one of a profile's tokens."""
    if field == STREET:
        words = street_words(text)
    elif field == POSTAL_CODE:
        words = [postal_code_word(text)]
    elif field == COUNTRY:
        words = [text.strip().lower()]
    else:
        words = simplify(text).split()
    return list(dict.fromkeys(token(field, w) for w in words if w))
