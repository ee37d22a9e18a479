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
from functools import lru_cache

from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.fuzz import token_set_ratio

from customer360.domain.matching.addresses import type_spellings
from customer360.domain.matching.contact_points import is_role_address
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
    if (" " in ga or " " in gb) and _one_within_the_other(ga.split(), gb.split()):
        return _GIVEN_CLOSE  # "anna maria" / "maria", "jean pierre" / "jean": a second given name
    return _GIVEN_DIFFERENT


def _one_within_the_other(a: list[str], b: list[str]) -> bool:
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    return all(word in longer for word in shorter)


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
    return _GENERATION_GAP if abs(int(da[:4]) - int(db[:4])) >= _GENERATION_YEARS else _BIRTH_DIFFERENT


_BIRTH_DIFFERENT, _GENERATION_GAP, _GENERATION_YEARS = 5, 6, 18


# Words that distinguish nothing in a company's name.
_NAME_FILLERS = frozenset(("&", "and", "und", "et", "en", "e", "y", "the", "co", "cie", "company"))


def name_words(name: str) -> frozenset[str]:
    """The distinguishing words of a (legal-form-free) organisation name."""
    return frozenset(name.split()) - _NAME_FILLERS


_ORG_EXTRA_WORDS, _ORG_FUZZY, _ORG_DIFFERENT = 4, 5, 6


def _organisation_name(a: PreparedRecord, b: PreparedRecord) -> int:
    ka, kb = a.org_key, b.org_key
    if ka is None or kb is None or a.org_name is None or b.org_name is None:
        return MISSING
    if ka == kb:
        return 1
    if _edits(ka, kb, 1) <= 1:
        return 2
    words_a, words_b = name_words(a.org_name), name_words(b.org_name)
    if words_a == words_b and words_a:
        return 3  # only fillers differ ("Acme & Co" / "Acme")
    if words_a and words_b and (words_a < words_b or words_b < words_a):
        return _ORG_EXTRA_WORDS
    tokens = token_set_ratio(a.org_name, b.org_name)
    if tokens >= 90 or JaroWinkler.similarity(ka, kb) >= 0.95:
        return 3
    if tokens >= 75:
        return _ORG_FUZZY
    return _ORG_DIFFERENT


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


def _crosses(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and text_similarity(a, b) <= _CLOSE


def _street_agrees(a: PreparedAddress, b: PreparedAddress) -> bool | None:
    # the street, give or take a typo, or found in the other record's extra line (sources disagree about
    # which line holds it); None when neither side has a street to compare
    if a.street_key is not None and b.street_key is not None:
        if text_similarity(a.street_key, b.street_key) <= _CLOSE:
            return True
        if _type_mistyped(a.street_key, b.street) or _type_mistyped(b.street_key, a.street):
            return True
    elif a.street_key is None and b.street_key is None:
        return None
    return _crosses(a.street_key, b.line2_key) or _crosses(a.line2_key, b.street_key)


def _type_mistyped(key: str, other: str | None) -> bool:
    # the same street name with its type word misspelt by one letter, which keeps it from being
    # abbreviated: "herron cnescent" / "herron cres" (Crescent), "wellslroad" / "wells rd"
    split = type_spellings(other) if other is not None else None
    if split is None:
        return False
    stem = split[0].replace(" ", "")
    if len(key) <= len(stem) or not key.startswith(stem):
        return False
    rest = key[len(stem) :]
    return any(abs(len(rest) - len(s)) <= 1 and _edits(rest, s, 1) <= 1 for s in split[1])


def _street_resembles(a: PreparedAddress, b: PreparedAddress) -> bool:
    # mistyped past a typo ("banks st" / "banks xtreet"), still recognisably one street
    return (
        a.street_key is not None and b.street_key is not None and text_similarity(a.street_key, b.street_key) <= _FUZZY
    )


# Levels of the address comparison (see levels.COMPARISONS).
(
    SAME_UNIT,
    SAME_PREMISE,
    PREMISE_TYPO,
    HOUSE_NUMBER_TYPO,
    SAME_NUMBER_AND_POSTCODE,
    OTHER_UNIT,
    STREET_NO_NUMBER,
    SAME_STREET,
    SAME_POSTCODE,
    STREET_AND_NUMBER_ELSEWHERE,
    SAME_CITY,
    ADDRESS_DIFFERENT,
) = range(1, 13)
CO_LOCATED = frozenset((SAME_UNIT, SAME_PREMISE, PREMISE_TYPO, HOUSE_NUMBER_TYPO))


def address_level(a: PreparedAddress, b: PreparedAddress) -> int:
    """How far two addresses agree, as one level: the unit, the premise, the street, the postcode, the
    city — or not at all (another country counts as not at all)."""
    if a.country is not None and b.country is not None and a.country != b.country:
        return ADDRESS_DIFFERENT
    postcode = _one_edit(a.postal_code, b.postal_code)
    city = _text(a.city, b.city)
    # the place: the postcode, or the city where a postcode is missing
    place = postcode == 1 or (postcode == MISSING and MISSING < city <= _CLOSE)
    near_place = place or postcode == 2 or (postcode != 1 and MISSING < city <= _CLOSE)
    street = _street_agrees(a, b)
    house = _one_edit(a.house_number, b.house_number)
    if street and place and house == 1:
        if a.unit is not None and b.unit is not None:
            return SAME_UNIT if a.unit == b.unit else OTHER_UNIT
        return SAME_PREMISE
    if street and near_place and house == 1:
        return PREMISE_TYPO
    if street and near_place and house == 2:
        return HOUSE_NUMBER_TYPO
    if house == 1 and near_place and _street_resembles(a, b):
        return PREMISE_TYPO
    if street and near_place and house == MISSING:
        # a record without a house number is not "another house": it does not say which house
        return STREET_NO_NUMBER
    if street and near_place:
        return SAME_STREET
    if postcode == 1 and house == 1:
        return SAME_NUMBER_AND_POSTCODE
    if street and house == 1:
        # the street and number agree, the postcode and town do not (or one side lacks them): the same
        # house with its place mistyped or left out, or a street of that name in another town
        return STREET_AND_NUMBER_ELSEWHERE
    if postcode == 1:
        return SAME_POSTCODE
    if MISSING < city <= _CLOSE:
        return SAME_CITY
    if postcode == MISSING and city == MISSING and not street:
        return MISSING if street is None else ADDRESS_DIFFERENT
    return ADDRESS_DIFFERENT


def _addresses(a: PreparedRecord, b: PreparedRecord) -> int:
    if not a.addresses or not b.addresses:
        return MISSING
    if len(a.addresses) == 1 and len(b.addresses) == 1:
        return address_level(a.addresses[0], b.addresses[0])
    # the best-agreeing pair: a previous address of one may be the other's current one
    levels = [address_level(x, y) for x in a.addresses for y in b.addresses]
    present = [level for level in levels if level != MISSING]
    return min(present) if present else MISSING


def _lines2(a: PreparedRecord, b: PreparedRecord) -> int:
    # the extra line (a building, a locality) on its own: "Mill House", "Rosetta Village"
    lines_a = tuple({x.line2_key for x in a.addresses if x.line2_key})
    lines_b = tuple({x.line2_key for x in b.addresses if x.line2_key})
    if not lines_a or not lines_b:
        return MISSING
    # a line that is the other record's street (sources disagree about which line holds it) was
    # compared as the street already: compared again with the other's extra line, it would count a
    # street against a building name as a disagreement
    lines_a = tuple(line for line in lines_a if not _is_street_of(line, b))
    lines_b = tuple(line for line in lines_b if not _is_street_of(line, a))
    return _best_of(lines_a, lines_b, text_similarity)


def _is_street_of(line: str, record: PreparedRecord) -> bool:
    return any(_crosses(line, address.street_key) for address in record.addresses)


def _best_of(values_a: tuple[str, ...], values_b: tuple[str, ...], level_of: _LevelOf) -> int:
    if not values_a or not values_b:
        return MISSING
    return min(level_of(x, y) for x in values_a for y in values_b)


_DIGITS = str.maketrans("", "", "0123456789")


@lru_cache(maxsize=65536)
def _without_digits(address: str) -> str:
    # asked of most pairs with e-mails on both sides (1.6 µs a call): a batch meets each address often
    return address.translate(_DIGITS)


def _email_level(a: str, b: str) -> int:
    if a == b:
        return _EMAIL_ROLE if is_role_address(a) else 1
    local = a.partition("@")[0]
    if local == b.partition("@")[0] and not is_role_address(a):
        return 4
    if _without_digits(a) == _without_digits(b):
        return 6  # "anna.smith2@" is the provider's way to give another Anna Smith a mailbox
    return 5 if _edits(a, b, 1) <= 1 else 6


_SUBSCRIBER_DIGITS = 8
_MIN_PREFIX_DIGITS = 9
PHONE_EXACT_LANDLINE, PHONE_LANDLINE_SAME_ADDRESS = 2, 3


def _phone_level(a: str, b: str) -> int:
    if a == b:
        return 1
    # "+4930123456" against an unparsed "030123456": the subscriber part is what both kept
    if a[-_SUBSCRIBER_DIGITS:] == b[-_SUBSCRIBER_DIGITS:]:
        return 4
    if _edits(a, b, 1) <= 1:
        return 5
    # an extension typed into the number ("+49301234567-89"), kept as a raw string: one extends the other
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    return 5 if len(shorter) >= _MIN_PREFIX_DIGITS and longer.startswith(shorter) else 6


def _phones(a: PreparedRecord, b: PreparedRecord) -> int:
    numbers_a, numbers_b = a.phones + a.landlines, b.phones + b.landlines
    level = _best_of(numbers_a, numbers_b, _phone_level)
    if level == 1 and not set(a.phones) & set(b.phones):
        return PHONE_EXACT_LANDLINE  # the number both have is a shared line
    return level


def _tax_ids(a: PreparedRecord, b: PreparedRecord) -> int:
    if not a.tax_ids or not b.tax_ids:
        return MISSING
    near = conflict = False
    for x in a.tax_ids:
        for y in b.tax_ids:
            if x == y:
                return 1
            if x in a.valid_tax_ids and y in b.valid_tax_ids and x[:2] == y[:2]:
                conflict = True  # both pass their check digits: not a typo of one another
            elif _edits(x, y, 1) <= 1:
                near = True
    return 2 if near else _TAX_ID_CONFLICT if conflict else 3


_TAX_ID_CONFLICT = 4


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


_EMAIL_ROLE, _EMAIL_ROLE_AT_SAME_DOMAIN = 2, 3
_TWIN, _SIBLING, _HOUSEHOLD_MEMBER, _FLATMATE, _OTHER_GENERATION, _NAMESAKE_NEARBY = 1, 2, 3, 4, 5, 6
_OTHER_COMPANY = 1
_NEARBY = frozenset((HOUSE_NUMBER_TYPO, OTHER_UNIT, SAME_STREET, SAME_POSTCODE))


def _same_national_id(a: PreparedRecord, b: PreparedRecord) -> bool:
    return not set(a.national_ids).isdisjoint(b.national_ids)


def comparison_vector(a: PreparedRecord, b: PreparedRecord) -> ComparisonVector:
    """The level of every field in `COMPARISONS` order for the pair ``(a, b)``.

    Each number is a position in that field's ``Comparison.levels`` (0 = missing); the functions
    above return them in the order the table in `levels` lists them.
    """
    given, family = _names(a, b)
    birth = _birth_date(a, b)
    organisation = _organisation_name(a, b)
    address = _addresses(a, b)
    email = _best_of(a.emails, b.emails, _email_level)
    phone = _phones(a, b)
    tax_id = _tax_ids(a, b)
    domain = _best_of(a.domains, b.domains, _domain_level)
    shared_line = phone == PHONE_EXACT_LANDLINE
    if shared_line and address in CO_LOCATED:
        phone = PHONE_LANDLINE_SAME_ADDRESS  # a household's or a site's line where it lives: little news
    if email == _EMAIL_ROLE and domain == 1:
        email = _EMAIL_ROLE_AT_SAME_DOMAIN
    household = same_site = MISSING
    co_located = address in CO_LOCATED or shared_line
    same_family = MISSING < family <= _FAMILY_CLOSE
    if given == _GIVEN_DIFFERENT and (co_located or (same_family and birth == 1)):
        # visibly another person at the same place, or of the same family name and birth date: the level
        # is the joint state of the fields a household shares, weighed as one pattern
        if not same_family:
            household = _FLATMATE
        elif birth == 1:
            household = _TWIN if co_located else _SIBLING
        else:
            household = _HOUSEHOLD_MEMBER
    elif birth == _GENERATION_GAP and co_located and same_family and MISSING < given <= _GIVEN_CLOSE:
        # the same name, another generation: a junior and a senior (with another name, the birth
        # dates are two people's or a typo, and each field speaks for itself)
        household = _OTHER_GENERATION
    elif (
        address in _NEARBY
        and MISSING < given <= _GIVEN_CLOSE
        and MISSING < family <= _FAMILY_CLOSE
        and birth != 1
        and email != 1
        and phone != 1
        and not _same_national_id(a, b)
    ):
        household = _NAMESAKE_NEARBY
    if ((organisation in (_ORG_FUZZY, _ORG_DIFFERENT) and tax_id != 1) or tax_id == _TAX_ID_CONFLICT) and (
        address in CO_LOCATED or shared_line or domain == 1 or email in (_EMAIL_ROLE, _EMAIL_ROLE_AT_SAME_DOMAIN)
    ):
        # another company of the group, at its site or under its domain: another name, or another valid
        # VAT number ("X Ltd" and "X Logistics Ltd" are a duplicate or two companies; the VAT number says)
        same_site = _OTHER_COMPANY
    return (
        given,
        family,
        birth,
        organisation,
        _equal(a.legal_form, b.legal_form),
        address,
        _lines2(a, b),
        email,
        phone,
        tax_id,
        domain,
        _best_of(a.national_ids, b.national_ids, _national_id_level),
        household,
        same_site,
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
