"""Field comparisons: how alike two prepared records are, field by field, as discrete levels.

Every comparison has level 0 = ``missing`` (either side lacks the value; it contributes nothing) and
then levels from the strongest agreement to ``different``. A pair of records becomes a *comparison
vector*, one level per field, which is all the Fellegi–Sunter model looks at.

Multi-valued fields (e-mails, phones, ids) take the best level over all value pairs. Address fields
are read from the single best-agreeing pair of addresses, so that a street from one address is never
credited with the postcode of another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.fuzz import token_set_ratio

from customer360.domain.matching.features import PreparedAddress, PreparedRecord

MISSING = 0
ComparisonVector = tuple[int, ...]
_LevelOf = Callable[[str, str], int]


@dataclass(frozen=True, slots=True)
class Comparison:
    """One field's comparison levels and the default m/u probabilities used before any training.

    ``levels[0]`` is always ``"missing"``; ``default_m``/``default_u`` are aligned with ``levels[1:]``.
    ``exact_level`` names the level whose u is replaced by the value's own frequency when the model
    has term frequencies for this field (a shared rare surname says more than a shared "Smith").
    """

    name: str
    levels: tuple[str, ...]
    default_m: tuple[float, ...]
    default_u: tuple[float, ...]
    exact_level: int | None = None


def _comparison(name: str, spec: tuple[tuple[str, float, float], ...], tf: bool = False) -> Comparison:
    levels = ("missing", *(level for level, _, _ in spec))
    m_total = sum(m for _, m, _ in spec)
    u_total = sum(u for _, _, u in spec)
    return Comparison(
        name=name,
        levels=levels,
        default_m=tuple(m / m_total for _, m, _ in spec),
        default_u=tuple(u / u_total for _, _, u in spec),
        exact_level=1 if tf else None,
    )


# Defaults are deliberately moderate (a typical CRM with a few per cent duplicates); the tenant's own
# data replaces them through `MatchModel.estimate`.
COMPARISONS: tuple[Comparison, ...] = (
    _comparison(
        "given_name",
        (
            ("exact", 0.80, 0.01),
            ("nickname", 0.03, 0.0005),
            ("typo", 0.06, 0.001),
            ("close", 0.03, 0.003),
            ("fuzzy", 0.02, 0.02),
            ("initial", 0.01, 0.003),
            ("swapped", 0.01, 0.0005),
            ("different", 0.04, 0.962),
        ),
        tf=True,
    ),
    _comparison(
        "family_name",
        (
            ("exact", 0.82, 0.003),
            ("typo", 0.06, 0.0005),
            ("close", 0.03, 0.002),
            ("fuzzy", 0.02, 0.02),
            ("partial", 0.02, 0.0005),
            ("swapped", 0.01, 0.0002),
            ("different", 0.04, 0.974),
        ),
        tf=True,
    ),
    _comparison(
        "birth_date",
        (
            ("exact", 0.88, 0.0001),
            ("one_edit", 0.05, 0.002),
            ("day_month_swapped", 0.01, 0.00005),
            ("same_year", 0.02, 0.015),
            ("different", 0.04, 0.983),
        ),
    ),
    _comparison(
        "organization_name",
        (
            ("exact", 0.75, 0.0005),
            ("typo", 0.08, 0.0005),
            ("close", 0.08, 0.002),
            ("fuzzy", 0.05, 0.02),
            ("different", 0.04, 0.977),
        ),
        tf=True,
    ),
    _comparison("legal_form", (("same", 0.9, 0.3), ("different", 0.1, 0.7))),
    _comparison(
        "street",
        (
            ("exact", 0.80, 0.002),
            ("typo", 0.06, 0.0005),
            ("close", 0.04, 0.003),
            ("fuzzy", 0.03, 0.03),
            ("swapped", 0.01, 0.0005),
            ("different", 0.06, 0.964),
        ),
        tf=True,
    ),
    _comparison("house_number", (("exact", 0.85, 0.02), ("one_edit", 0.05, 0.1), ("different", 0.10, 0.88))),
    _comparison(
        "address_line2",
        (
            ("exact", 0.80, 0.002),
            ("typo", 0.06, 0.0005),
            ("close", 0.04, 0.003),
            ("fuzzy", 0.03, 0.03),
            ("swapped", 0.01, 0.0005),
            ("different", 0.06, 0.964),
        ),
    ),
    _comparison(
        "postal_code",
        (("exact", 0.85, 0.005), ("one_edit", 0.07, 0.05), ("different", 0.08, 0.945)),
        tf=True,
    ),
    _comparison(
        "city",
        (
            ("exact", 0.85, 0.01),
            ("typo", 0.05, 0.001),
            ("close", 0.03, 0.005),
            ("fuzzy", 0.02, 0.03),
            ("different", 0.05, 0.954),
        ),
        tf=True,
    ),
    _comparison("region", (("exact", 0.92, 0.2), ("different", 0.08, 0.8))),
    _comparison("country", (("exact", 0.97, 0.6), ("different", 0.03, 0.4))),
    _comparison(
        "email",
        (
            ("exact", 0.7, 0.00001),
            ("same_local_part", 0.05, 0.0005),
            ("typo", 0.05, 0.00001),
            ("different", 0.2, 0.99948),
        ),
    ),
    _comparison(
        "phone",
        (
            ("exact", 0.7, 0.00001),
            ("same_subscriber", 0.05, 0.00005),
            ("one_edit", 0.05, 0.0005),
            ("different", 0.2, 0.99944),
        ),
    ),
    _comparison("tax_id", (("exact", 0.9, 0.00001), ("one_edit", 0.03, 0.0001), ("different", 0.07, 0.99989))),
    _comparison("domain", (("exact", 0.8, 0.0001), ("same_name", 0.05, 0.0005), ("different", 0.15, 0.9994))),
    _comparison(
        "national_id",
        (
            ("exact", 0.9, 0.000001),
            ("one_edit", 0.05, 0.00005),
            ("two_edits", 0.02, 0.001),
            ("different", 0.03, 0.998949),
        ),
    ),
)
FIELD_INDEX: dict[str, int] = {c.name: i for i, c in enumerate(COMPARISONS)}

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
    if a.family_key and b.family_key and (_swapped(ga, b.family_key) or _swapped(gb, a.family_key)):
        return 7
    return 8


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
    if a.given and b.given and (_swapped(fa, b.given) or _swapped(fb, a.given)):
        return 6
    return 7


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


def _line(a: str | None, b: str | None, a_other: str | None, b_other: str | None) -> int:
    # street or extra line: similarity levels 1-4, then 5 = found in the other record's other line
    if a is None or b is None:
        return MISSING
    level = text_similarity(a, b)
    if level < _DIFFERENT:
        return level
    if (a_other is not None and a_other == b) or (b_other is not None and b_other == a):
        return _DIFFERENT
    if (b_other is not None and text_similarity(a, b_other) <= _CLOSE) or (
        a_other is not None and text_similarity(b, a_other) <= _CLOSE
    ):
        return _DIFFERENT
    return _DIFFERENT + 1


def _address_vector(a: PreparedAddress, b: PreparedAddress) -> tuple[int, ...]:
    return (
        _line(a.street_key, b.street_key, a.line2_key, b.line2_key),
        _one_edit(a.house_number, b.house_number),
        _line(a.line2_key, b.line2_key, a.street_key, b.street_key),
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


def _best_of(values_a: tuple[str, ...], values_b: tuple[str, ...], level_of: Callable[[str, str], int]) -> int:
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
    """The level of every field in `COMPARISONS` order for the pair ``(a, b)``."""
    return (
        _given_name(a, b),
        _family_name(a, b),
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
