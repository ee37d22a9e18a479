"""Text folding and phonetic codes shared by every normaliser.

Folding is deliberately aggressive: matching cares about what a clerk would consider "the same
spelling", so case, accents, transliteration and punctuation are all erased before comparison.
"""

from __future__ import annotations

import re
from functools import lru_cache

from unidecode import unidecode

# Apostrophes join the letters around them ("O'Brien" -> "obrien"), and so do the dots of a dotted
# abbreviation ("G.m.b.H." -> "gmbh", "S.A." -> "sa"), but not the dot in "J.Smith" or "Co. KG".
_APOSTROPHES = str.maketrans("", "", "'`")
_DOTTED_ABBREVIATION = re.compile(r"(?<![a-z0-9])[a-z](?:\.[a-z])+\.?(?![a-z0-9])")
_SEPARATORS = re.compile(r"[^a-z0-9&]+")


@lru_cache(maxsize=65536)
def fold(value: str) -> str:
    """Lower-case ASCII with accents transliterated, punctuation removed, single spaces."""
    # unidecode turns ’ and ´ into ' and `, so one translation table removes every apostrophe
    text = (value if value.isascii() else unidecode(value)).lower().translate(_APOSTROPHES)
    if "." in text:
        text = _DOTTED_ABBREVIATION.sub(lambda m: m.group(0).replace(".", ""), text)
    if "&" in text:
        text = text.replace("&", " & ")
    return " ".join(_SEPARATORS.sub(" ", text).split())


def fold_or_none(value: str | None) -> str | None:
    """`fold`, mapping empty results (and ``None``) to ``None`` so that "missing" has one spelling."""
    if value is None:
        return None
    folded = fold(value)
    return folded or None


def compact(value: str) -> str:
    """Folded text without spaces, so that "Haupt Str" and "Hauptstr" compare equal."""
    return fold(value).replace(" ", "")


_SOUNDEX_CODES = {
    **dict.fromkeys("bfpv", "1"),
    **dict.fromkeys("cgjkqsxz", "2"),
    **dict.fromkeys("dt", "3"),
    "l": "4",
    **dict.fromkeys("mn", "5"),
    "r": "6",
}


@lru_cache(maxsize=65536)
def soundex(word: str) -> str:
    """American Soundex of a folded word (letters only); empty input gives an empty code.

    Used only for blocking keys: it groups spelling variants of a name into one bucket cheaply.
    """
    letters = [c for c in word if "a" <= c <= "z"]
    if not letters:
        return ""
    first = letters[0]
    digits: list[str] = []
    previous = _SOUNDEX_CODES.get(first, "")
    for letter in letters[1:]:
        code = _SOUNDEX_CODES.get(letter, "")
        if code and code != previous:
            digits.append(code)
            if len(digits) == 3:
                break
        # "h" and "w" do not separate equal codes, vowels do (the Soundex rule)
        if letter not in "hw":
            previous = code
    return (first + "".join(digits)).ljust(4, "0")
