"""Accent-free, lower-case forms of names for search, shared by the write side and the query side.

"Müller" is stored as both "muller" (transliteration) and "mueller" (German spelling of umlauts), so a
search for either finds it; a query is reduced the same way before trigram matching.
"""

from __future__ import annotations

import re

from unidecode import unidecode

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


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
