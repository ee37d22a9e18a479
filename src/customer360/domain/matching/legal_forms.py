"""Legal forms of organisations: recognised, stripped from the name and kept as a separate feature.

"Acme GmbH" and "ACME G.m.b.H." are one company; "Acme GmbH" and "Acme AG" are, more often than not,
two. So the core name is compared without the legal form, and the legal form is compared on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from customer360.domain.matching.text import fold

# canonical code -> spellings, each written as folded words (see `text.fold`); lookups compare the
# spelling with its spaces removed, so "sa rl", "s a r l" and "sarl" are one entry.
_SPELLINGS: dict[str, tuple[str, ...]] = {
    "gmbh": ("gmbh", "gesellschaft mit beschrankter haftung", "ges mbh", "gesmbh"),
    "gmbh_co_kg": ("gmbh & co kg", "gmbh und co kg", "gmbh & co kgaa"),
    "ag": ("ag", "aktiengesellschaft"),
    "kg": ("kg", "kommanditgesellschaft"),
    "kgaa": ("kgaa",),
    "ohg": ("ohg",),
    "ug": ("ug", "ug haftungsbeschrankt"),
    "ev": ("ev", "eingetragener verein"),
    "eg": ("eg", "eingetragene genossenschaft"),
    "gbr": ("gbr",),
    "ek": ("ek", "ek fm", "eingetragener kaufmann", "eingetragene kauffrau"),
    "inc": ("inc", "incorporated"),
    "corp": ("corp", "corporation"),
    "co": ("co", "company"),
    "ltd": ("ltd", "limited", "co ltd", "company limited"),
    "pty_ltd": ("pty ltd", "pty limited", "proprietary limited"),
    "pte_ltd": ("pte ltd", "private limited"),
    "pvt_ltd": ("pvt ltd",),
    "plc": ("plc", "public limited company"),
    "llc": ("llc", "l l c", "limited liability company"),
    "llp": ("llp", "limited liability partnership"),
    "lp": ("lp", "limited partnership"),
    "sa": ("sa", "societe anonyme", "sociedad anonima", "sociedade anonima"),
    "sarl": ("sarl", "sa rl", "societe a responsabilite limitee"),
    "sas": ("sas", "sasu", "societe par actions simplifiee"),
    "snc": ("snc",),
    "eurl": ("eurl",),
    "sca": ("sca",),
    "bv": ("bv", "besloten vennootschap"),
    "nv": ("nv", "naamloze vennootschap"),
    "vof": ("vof",),
    "bvba": ("bvba", "bv ba"),
    "spa": ("spa", "societa per azioni"),
    "srl": ("srl", "societa a responsabilita limitata"),
    "sl": ("sl", "slu", "sociedad limitada"),
    "ab": ("ab", "aktiebolag"),
    "as": ("as", "asa", "aktieselskab", "aksjeselskap"),
    "aps": ("aps", "anpartsselskab"),
    "oy": ("oy", "oyj", "osakeyhtio"),
    "se": ("se", "societas europaea"),
    "sp_zoo": ("sp z oo", "spolka z oo"),
    "sro": ("sro", "spol sro"),
    "kft": ("kft",),
    "zrt": ("zrt", "nyrt"),
    "kk": ("kk", "kabushiki kaisha"),
    "gk": ("gk", "godo kaisha"),
}

_BY_SPELLING: dict[str, str] = {
    spelling.replace(" ", ""): code for code, spellings in _SPELLINGS.items() for spelling in spellings
}
_LONGEST_SPELLING_WORDS = max(len(s.split()) for spellings in _SPELLINGS.values() for s in spellings)


@dataclass(frozen=True, slots=True)
class OrganisationName:
    """A folded organisation name split into its core and its legal form (``None`` if none found)."""

    core: str
    legal_form: str | None


def _strip_one(words: list[str]) -> tuple[list[str], str | None]:
    # Longest spelling first, so that "gmbh & co kg" wins over "kg"; a name is never reduced to nothing.
    for size in range(min(_LONGEST_SPELLING_WORDS, len(words) - 1), 0, -1):
        code = _BY_SPELLING.get("".join(words[-size:]))
        if code is not None:
            return words[:-size], code
    return words, None


def split_legal_form(name: str) -> OrganisationName:
    """Fold an organisation name and separate a trailing legal form from its core.

    >>> split_legal_form("ACME G.m.b.H.")
    OrganisationName(core='acme', legal_form='gmbh')
    """
    words = fold(name).split()
    words, legal_form = _strip_one(words)
    if legal_form is not None:
        # "Acme Holdings Co., Ltd." carries two; the outer one is the legal form, the inner one is noise
        words, _ = _strip_one(words)
    while len(words) > 1 and words[-1] in {"&", "and", "und", "et"}:
        words.pop()
    return OrganisationName(core=" ".join(words), legal_form=legal_form)
