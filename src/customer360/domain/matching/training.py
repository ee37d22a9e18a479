"""How a model learns from a tenant's own records, without labels (see `estimation` for the machinery).

m is learned in *sessions*: each runs EM on the candidate pairs that agree on some fields and learns the
m of the others only. Pairs sharing a personal identifier (an e-mail, a mobile, a tax id, a national
id) teach what names, birth dates and addresses of duplicates look like; pairs sharing full name and
birth date teach the identifiers and the address; companies sharing name and premise, the identifiers
of companies. Neither selection is made of households or sister companies, so EM cannot learn "lives
elsewhere = another person". A tenant without any identifier (FEBRL) learns names and birth dates from
all candidates, as before.

The interaction levels (household, same site) are learned as patterns: m is the share of the duplicates
found by the sessions that show the pattern, u the share of all other pairs that do (the candidates
showing it, less the duplicates expected among them, over all possible pairs).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from customer360.domain.matching.comparison import ComparisonVector
from customer360.domain.matching.estimation import EmResult, Probabilities, expectation_maximisation
from customer360.domain.matching.levels import COMPARISONS, FIELD_INDEX, MISSING

_INITIAL_MATCH_SHARE = 0.3
_SESSION_MATCH_SHARE = 0.9
"""Most pairs that share an identifier, or full name and birth date, are the same customer."""
_MIN_SESSION_PAIRS = 30
_INTERACTION_STRENGTH = 50.0
"""The design value of an interaction level counts as this many pairs."""
_FLOOR = 1e-12

_GIVEN, _FAMILY, _BIRTH, _ORGANISATION, _ADDRESS = (
    FIELD_INDEX[name] for name in ("given_name", "family_name", "birth_date", "organization_name", "address")
)
_IDENTIFIERS = tuple(FIELD_INDEX[name] for name in ("email", "phone", "tax_id", "national_id"))
_PERSONAL_EXACT = 1
"""The exact level of e-mail (not a role mailbox), phone (not a shared line), tax id and national id."""
_NAME_AND_BIRTH = (_GIVEN, _FAMILY, _BIRTH)
_SAME_UNIT, _SAME_PREMISE = 1, 2
_ALL_FIELDS = frozenset(range(len(COMPARISONS)))


def shares_identifier(vector: ComparisonVector) -> bool:
    return any(vector[f] == _PERSONAL_EXACT for f in _IDENTIFIERS)


def _shares_name_and_birth(vector: ComparisonVector) -> bool:
    return all(vector[f] == 1 for f in _NAME_AND_BIRTH)


def _shares_company_name_and_place(vector: ComparisonVector) -> bool:
    return vector[_ORGANISATION] == 1 and vector[_ADDRESS] in (_SAME_UNIT, _SAME_PREMISE)


_SESSIONS: tuple[tuple[Callable[[ComparisonVector], bool], frozenset[int]], ...] = (
    (shares_identifier, _ALL_FIELDS - set(_IDENTIFIERS)),
    (_shares_name_and_birth, _ALL_FIELDS - set(_NAME_AND_BIRTH)),
    (_shares_company_name_and_place, _ALL_FIELDS - {_ORGANISATION, _ADDRESS}),
)


def train_m(
    patterns: Counter[ComparisonVector], m: Probabilities, u: Probabilities, *, max_iterations: int = 100
) -> tuple[Probabilities, EmResult | None]:
    """m from the sessions, and the fit whose duplicates tell how often duplicates show an interaction.

    A field learned in several sessions takes their average weighted by pairs; one learned in none
    keeps ``m``. The interactions are counted among the duplicates that share an identifier (the one
    selection that does not look at the fields they explain), or among all candidates when there are
    no identifiers.
    """
    learned: list[tuple[Probabilities, float, frozenset[int]]] = []
    witness: EmResult | None = None
    if not any(shares_identifier(vector) for vector in patterns):
        # no identifiers to learn names from (a tenant without e-mails, phones or ids): EM over all
        # candidates, as only names and places are there to learn from
        witness = expectation_maximisation(patterns, m, u, _INITIAL_MATCH_SHARE, max_iterations=max_iterations)
        m = tuple(witness.m[f] if f in _NAME_AND_BIRTH else m[f] for f in range(len(m)))
    for selects, fields in _SESSIONS:
        chosen = Counter({vector: n for vector, n in patterns.items() if selects(vector)})
        if sum(chosen.values()) < _MIN_SESSION_PAIRS:
            continue
        fit = expectation_maximisation(
            chosen, m, u, _SESSION_MATCH_SHARE, trainable=fields, max_iterations=max_iterations
        )
        learned.append((fit.m, float(sum(chosen.values())), fields))
        if selects is shares_identifier:
            witness = fit
    result: list[tuple[float, ...]] = []
    for index, current in enumerate(m):
        estimates = [(fit[index], size) for fit, size, fields in learned if index in fields]
        if not estimates or COMPARISONS[index].interaction:
            result.append(current)
            continue
        total = sum(size for _, size in estimates)
        result.append(tuple(sum(p[level] * size for p, size in estimates) / total for level in range(len(current))))
    return tuple(result), witness


def interaction_m(
    current: Probabilities, matches: float, shown: dict[tuple[int, int], float], strength: float
) -> Probabilities:
    """m of the interaction levels: the share of ``matches`` showing them, the current value counting as
    ``strength`` pairs; other comparisons unchanged."""
    result = list(current)
    for f, comparison in enumerate(COMPARISONS):
        if comparison.interaction:
            result[f] = tuple(
                min(max((shown.get((f, level), 0.0) + strength * p) / (matches + strength), _FLOOR), 1.0)
                for level, p in enumerate(current[f], start=1)
            )
    return tuple(result)


def interaction_u(
    current: Probabilities,
    patterns: Counter[ComparisonVector],
    m: Probabilities,
    fit: EmResult,
    possible_pairs: int,
) -> Probabilities:
    """u of the interaction levels: the other pairs showing the level over all possible pairs; the
    current value counts as ``_INTERACTION_STRENGTH`` pairs.

    "Other pairs" is the larger of two estimates: the candidates showing the level less the duplicates
    expected among them (m times the matches), and the candidates that the evidence outside the
    interactions calls non-matches. The first counts twins whose names and places look like one
    person, the second the neighbours of a tenant whose duplicates mostly show the pattern."""
    expected_matches = fit.matches
    observed: Counter[tuple[int, int]] = Counter()
    for vector, n in patterns.items():
        for f, comparison in enumerate(COMPARISONS):
            if comparison.interaction and vector[f] != MISSING:
                observed[(f, vector[f])] += n
    result = list(current)
    for f, comparison in enumerate(COMPARISONS):
        if comparison.interaction:
            levels = []
            for level, prior in enumerate(current[f], start=1):
                others = max(
                    observed[(f, level)] - m[f][level - 1] * expected_matches,
                    fit.interaction_non_matches.get((f, level), 0.0),
                    0.0,
                )
                # never rarer than half a pair: a pattern no other pair shows is not impossible for them
                share = (others + _INTERACTION_STRENGTH * prior) / (possible_pairs + _INTERACTION_STRENGTH)
                levels.append(min(max(share, 0.5 / max(possible_pairs, 1)), 1.0))
            result[f] = tuple(levels)
    return tuple(result)


def train(
    patterns: Counter[ComparisonVector], m: Probabilities, u: Probabilities, possible_pairs: int, *, max_iterations: int
) -> tuple[Probabilities, Probabilities, float]:
    """m and u (interactions included) and the share of matches among the candidate ``patterns``."""
    trained, witness = train_m(patterns, m, u, max_iterations=max_iterations)
    if witness is not None:
        trained = interaction_m(trained, witness.matches, witness.interaction_matches, _INTERACTION_STRENGTH)
    fit = expectation_maximisation(
        patterns, trained, u, _INITIAL_MATCH_SHARE, fix_u=True, trainable=frozenset(), max_iterations=max_iterations
    )
    u = interaction_u(u, patterns, trained, fit, possible_pairs)
    return trained, u, fit.match_share
