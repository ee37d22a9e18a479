"""Field comparisons: how alike two prepared records are, field by field, as discrete levels.

A pair of records becomes a *comparison vector*, one level per field of `levels.COMPARISONS`, which is
all the Fellegi–Sunter model looks at.

Multi-valued fields (e-mails, phones, ids) take the best level over all value pairs. Address fields
are read from the single best-agreeing pair of addresses, so that a street from one address is never
credited with the postcode of another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.fuzz import token_set_ratio

from customer360.domain.matching.features import PreparedAddress, PreparedRecord
from customer360.domain.matching.levels import MISSING

ComparisonVector = tuple[int, ...]
_LevelOf = Callable[[str, str], int]

# Similarity levels shared by free-text fields (1 = exact ... 5 = different).
_EXACT, _TYPO, _CLOSE, _FUZZY, _DIFFERENT = 1, 2, 3, 4, 5
_CLOSE_JW = 0.92
_FUZZY_JW = 0.84


def text_similarity(a: str, b: str) -> int:
    """Exact (1), one edit (2), Jaro–Winkler ≥ 0.92 (3), ≥ 0.84 (4), or different (5)."""
    if a == b:
        return _EXACT
    if abs(len(a) - len(b)) <= 1 and OSA.distance(a, b, score_cutoff=1) <= 1:
        return _TYPO
    similarity = JaroWinkler.similarity(a, b, score_cutoff=_FUZZY_JW)
    if similarity >= _CLOSE_JW:
        return _CLOSE
    if similarity >= _FUZZY_JW:
        return _FUZZY
    return _DIFFERENT


def _swapped(name: str, other_field: str) -> bool:
    # a given name found in the other record's family name field (or the reverse), give or take a typo;
    # checked on most pairs, hence the cheap tests first
    if name == other_field:
        return True
    if abs(len(name) - len(other_field)) <= 1 and OSA.distance(name, other_field, score_cutoff=1) <= 1:
        return True
    return name[0] == other_field[0] and JaroWinkler.similarity(name, other_field, score_cutoff=_CLOSE_JW) > 0


def _edits(a: str, b: str, cutoff: int) -> int:
    return int(OSA.distance(a, b, score_cutoff=cutoff))


def _given_name(a: PreparedRecord, b: PreparedRecord) -> int:
    ga, gb = a.given, b.given
    if ga is None or gb is None:
        return MISSING
    if ga == gb:
        return 1
    if not a.given_canonical.isdisjoint(b.given_canonical):
        return 2
    level = text_similarity(ga, gb)
    if level < _DIFFERENT:
        return level + 1  # typo 3, close 4, fuzzy 5
    if (len(ga) == 1 or len(gb) == 1) and ga[0] == gb[0]:
        return 6
    return _GIVEN_DIFFERENT


def _family_name(a: PreparedRecord, b: PreparedRecord) -> int:
    fa, fb = a.family_key, b.family_key
    if fa is None or fb is None or a.family is None or b.family is None:
        return MISSING
    if fa == fb:
        return 1
    level = text_similarity(fa, fb)
    if level < _DIFFERENT:
        return level  # typo 2, close 3, fuzzy 4
    if " " in a.family or " " in b.family:
        # double-barrelled or with particles: "Smith Jones" against "Jones" is a partial agreement
        words_a, words_b = set(a.family.split()), set(b.family.split())
        if words_a <= words_b or words_b <= words_a:
            return 5
    return _FAMILY_DIFFERENT


_GIVEN_CLOSE, _GIVEN_SWAPPED, _GIVEN_DIFFERENT = 4, 7, 8
_FAMILY_CLOSE, _FAMILY_SWAPPED, _FAMILY_DIFFERENT = 3, 6, 7


def _credit_crossings(
    first: int, second: int, crossings: int, first_swapped: int, second_swapped: int
) -> tuple[int, int]:
    # Two fields whose values may sit in each other's place (given/family name, street/extra line).
    # One value found crosswise is one coincidence and is credited once, to the first field unless it
    # is missing; two crosswise agreements (a true swap) credit both. Symmetric in the two records.
    if crossings == 0:
        return first, second
    if crossings == 2:
        return first_swapped, second_swapped
    if first != MISSING or second == MISSING:
        return first_swapped, second
    return first, second_swapped


def _names(a: PreparedRecord, b: PreparedRecord) -> tuple[int, int]:
    given, family = _given_name(a, b), _family_name(a, b)
    if MISSING < given <= _GIVEN_CLOSE or MISSING < family <= _FAMILY_CLOSE:
        return given, family
    crossings = int(bool(a.given and b.family_key and _swapped(a.given, b.family_key))) + int(
        bool(b.given and a.family_key and _swapped(b.given, a.family_key))
    )
    return _credit_crossings(given, family, crossings, _GIVEN_SWAPPED, _FAMILY_SWAPPED)


def _birth_date(a: PreparedRecord, b: PreparedRecord) -> int:
    da, db = a.birth_date, b.birth_date
    if da is None or db is None:
        return MISSING
    if da == db:
        return 1
    if _edits(da, db, 1) <= 1:
        return 2
    if da[:4] == db[:4] and da[4:6] == db[6:8] and da[6:8] == db[4:6]:
        return 3
    if da[:4] == db[:4]:
        return 4
    return 5


def _organisation_name(a: PreparedRecord, b: PreparedRecord) -> int:
    ka, kb = a.org_key, b.org_key
    if ka is None or kb is None or a.org_name is None or b.org_name is None:
        return MISSING
    if ka == kb:
        return 1
    if _edits(ka, kb, 1) <= 1:
        return 2
    tokens = token_set_ratio(a.org_name, b.org_name)
    if tokens >= 90 or JaroWinkler.similarity(ka, kb) >= 0.95:
        return 3
    if tokens >= 75:
        return 4
    return 5


def _equal(a: str | None, b: str | None) -> int:
    if a is None or b is None:
        return MISSING
    return 1 if a == b else 2


def _text(a: str | None, b: str | None) -> int:
    if a is None or b is None:
        return MISSING
    return text_similarity(a, b)


def _one_edit(a: str | None, b: str | None) -> int:
    if a is None or b is None:
        return MISSING
    if a == b:
        return 1
    return 2 if abs(len(a) - len(b)) <= 1 and _edits(a, b, 1) <= 1 else 3


_LINE_SWAPPED, _LINE_DIFFERENT = 5, 6


def _line(a: str | None, b: str | None) -> int:
    level = _text(a, b)
    return _LINE_DIFFERENT if level == _DIFFERENT else level


def _crosses(a: str | None, b: str | None) -> int:
    return int(a is not None and b is not None and text_similarity(a, b) <= _CLOSE)


def _lines(a: PreparedAddress, b: PreparedAddress) -> tuple[int, int]:
    street, line2 = _line(a.street_key, b.street_key), _line(a.line2_key, b.line2_key)
    if MISSING < street <= _CLOSE or MISSING < line2 <= _CLOSE:
        return street, line2
    crossings = _crosses(a.street_key, b.line2_key) + _crosses(a.line2_key, b.street_key)
    return _credit_crossings(street, line2, crossings, _LINE_SWAPPED, _LINE_SWAPPED)


def _address_vector(a: PreparedAddress, b: PreparedAddress) -> tuple[int, ...]:
    street, line2 = _lines(a, b)
    return (
        street,
        _one_edit(a.house_number, b.house_number),
        line2,
        _one_edit(a.postal_code, b.postal_code),
        _text(a.city, b.city),
        _equal(a.region, b.region),
        _equal(a.country, b.country),
    )


_NO_ADDRESS = (MISSING,) * 7


def _addresses(a: PreparedRecord, b: PreparedRecord) -> tuple[int, ...]:
    if not a.addresses or not b.addresses:
        return _NO_ADDRESS
    if len(a.addresses) == 1 and len(b.addresses) == 1:
        return _address_vector(a.addresses[0], b.addresses[0])
    best: tuple[int, ...] = _NO_ADDRESS
    best_agreements = -1
    for address_a in a.addresses:
        for address_b in b.addresses:
            vector = _address_vector(address_a, address_b)
            agreements = sum(1 for level in vector if level == 1)
            if agreements > best_agreements:
                best, best_agreements = vector, agreements
    return best


def _best_of(values_a: tuple[str, ...], values_b: tuple[str, ...], level_of: _LevelOf) -> int:
    if not values_a or not values_b:
        return MISSING
    return min(level_of(x, y) for x in values_a for y in values_b)


def _email_level(a: str, b: str) -> int:
    if a == b:
        return 1
    if a.partition("@")[0] == b.partition("@")[0]:
        return 2
    return 3 if _edits(a, b, 1) <= 1 else 4


_SUBSCRIBER_DIGITS = 8


def _phone_level(a: str, b: str) -> int:
    if a == b:
        return 1
    # "+4930123456" against an unparsed "030123456": the subscriber part is what both kept
    if a[-_SUBSCRIBER_DIGITS:] == b[-_SUBSCRIBER_DIGITS:]:
        return 2
    return 3 if _edits(a, b, 1) <= 1 else 4


def _tax_id_level(a: str, b: str) -> int:
    if a == b:
        return 1
    return 2 if _edits(a, b, 1) <= 1 else 3


def _domain_level(a: str, b: str) -> int:
    if a == b:
        return 1
    # "acme.de" and "acme.com": same name, another top-level domain
    return 2 if a.split(".")[0] == b.split(".")[0] else 3


def _national_id_level(a: str, b: str) -> int:
    if a == b:
        return 1
    edits = _edits(a, b, 2)
    return 2 if edits <= 1 else 3 if edits <= 2 else 4


def comparison_vector(a: PreparedRecord, b: PreparedRecord) -> ComparisonVector:
    """The level of every field in `COMPARISONS` order for the pair ``(a, b)``.

    Each number is a position in that field's ``Comparison.levels`` (0 = missing); the functions
    above return them in the order the table in `levels` lists them.
    """
    return (
        *_names(a, b),
        _birth_date(a, b),
        _organisation_name(a, b),
        _equal(a.legal_form, b.legal_form),
        *_addresses(a, b),
        _best_of(a.emails, b.emails, _email_level),
        _best_of(a.phones, b.phones, _phone_level),
        _best_of(a.tax_ids, b.tax_ids, _tax_id_level),
        _best_of(a.domains, b.domains, _domain_level),
        _best_of(a.national_ids, b.national_ids, _national_id_level),
    )


@dataclass(frozen=True, slots=True)
class ComparedPairs:
    """Pairs of positions with their comparison vectors (``None`` for a person/organisation pair).

    Vectors do not depend on model parameters, so a batch computes them once (`compare_pairs`) and
    hands them to both `MatchModel.estimate` and `MatchModel.score_pairs`.
    """

    pairs: tuple[tuple[int, int], ...]
    vectors: tuple[ComparisonVector | None, ...]


def compare_pairs(records: Sequence[PreparedRecord], pairs: Iterable[tuple[int, int]]) -> ComparedPairs:
    """Compare every pair ``(i, j)`` of positions in ``records``."""
    pair_list = tuple(pairs)
    vectors = tuple(
        comparison_vector(records[i], records[j]) if records[i].kind == records[j].kind else None for i, j in pair_list
    )
    return ComparedPairs(pairs=pair_list, vectors=vectors)
