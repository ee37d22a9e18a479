"""Unsupervised estimation of Fellegi–Sunter parameters from a tenant's own records.

* **u** (how often unrelated records agree by chance) from random pairs: for the level of an exact
  value agreement it is computed exactly from value frequencies (Σ nᵥ(nᵥ-1) / N(N-1)), the other
  levels are sampled;
* **m** (how often true duplicates agree) by expectation maximisation in *sessions* (Splink's
  recipe): each session runs EM on the candidate pairs that agree on some fields, and learns the m of
  the *other* fields only. Pairs sharing a personal identifier (an e-mail, a mobile, a tax id) teach
  what names, birth dates and addresses of duplicates look like; pairs sharing full name and birth
  date teach the identifiers and the address. Neither selection is made of households or sister
  companies, so EM cannot learn "lives elsewhere = another person" (EM over all candidates found
  "lives in the same postcode" instead of "is the same customer");
* the prior (probability that two random records match) by EM with m and u held: the expected
  number of matches among the candidates divided by the number of all possible pairs.

Levels a comparison marks ``fixed`` keep their m and u. Everything works on comparison vectors
grouped into patterns (distinct vectors with their counts), so an EM iteration costs the number of
distinct patterns, not the number of pairs.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from customer360.domain.matching.comparison import ComparisonVector, comparison_vector
from customer360.domain.matching.contact_points import is_role_address
from customer360.domain.matching.features import PreparedAddress, PreparedRecord
from customer360.domain.matching.frequencies import premise_key
from customer360.domain.matching.levels import COMPARISONS, MISSING

Probabilities = tuple[tuple[float, ...], ...]
"""Per comparison, per level (levels[1:]), a probability; each inner tuple sums to 1."""

DEFAULT_U_SAMPLE_PAIRS = 20_000
U_RECORDS = 10_000
_U_SMOOTHING = 10.0
_PRIOR_PAIRS = 10.0
_FLOOR = 1e-9
_EXP_UNDERFLOW = -700.0  # math.exp(700) is near the largest float


Values = Callable[[PreparedRecord], Iterable[str]]


def _one(read: Callable[[PreparedRecord], str | None]) -> Values:
    def values(record: PreparedRecord) -> Iterable[str]:
        value = read(record)
        return (value,) if value else ()

    return values


def _addresses(key: Callable[[PreparedAddress], str | None]) -> Values:
    def values(record: PreparedRecord) -> Iterable[str]:
        return {k for k in map(key, record.addresses) if k}

    return values


def _street(a: PreparedAddress) -> str | None:
    place = a.postal_code or a.city
    return f"{a.country}|{place}|{a.street_key}" if a.street_key and place else None


def _postcode(a: PreparedAddress) -> str | None:
    return f"{a.country}|{a.postal_code}" if a.postal_code else None


def _city(a: PreparedAddress) -> str | None:
    return f"{a.country}|{a.city}" if a.city else None


def _personal(read: Callable[[PreparedRecord], tuple[str, ...]], role: bool) -> Values:
    def values(record: PreparedRecord) -> Iterable[str]:
        return [v for v in read(record) if is_role_address(v) == role]

    return values


# Per comparison, groups of levels whose u together is the chance that two random records share a
# value, read from value frequencies (exact, where random sampling would see a handful of pairs); a
# comparison's groups go from the narrowest agreement to the broadest, each one including the ones
# before it (a shared premise is also a shared street): a group gets its rate minus the rate before.
_EXACT_VALUES: dict[str, tuple[tuple[tuple[int, ...], Values, bool], ...]] = {
    "given_name": (((1,), _one(lambda r: r.given), True),),
    "family_name": (((1,), _one(lambda r: r.family_key), True),),
    "birth_date": (((1,), _one(lambda r: r.birth_date), True),),
    "organization_name": (((1,), _one(lambda r: r.org_key), True),),
    "legal_form": (((1,), _one(lambda r: r.legal_form), True),),
    "address": (
        ((1, 2, 3, 6), _addresses(premise_key), True),
        ((4, 7, 8), _addresses(_street), True),
        ((5, 9), _addresses(_postcode), True),
        ((11,), _addresses(_city), True),
    ),
    "email": (((1,), _personal(lambda r: r.emails, False), False), ((2,), _personal(lambda r: r.emails, True), False)),
    "phone": (((1,), lambda r: r.phones, False), ((2, 3), lambda r: r.landlines, False)),
    "tax_id": (((1,), lambda r: r.tax_ids, False),),
    "domain": (((1,), lambda r: r.domains, False),),
    "national_id": (((1,), lambda r: r.national_ids, False),),
}
"""level numbers, values, and whether the groups are nested (False: separate kinds of value)."""


def comparison_vectors(records: Sequence[PreparedRecord], pairs: Iterable[tuple[int, int]]) -> list[ComparisonVector]:
    """The comparison vector of every pair of positions."""
    return [comparison_vector(records[i], records[j]) for i, j in pairs]


def total_pairs(records: Sequence[PreparedRecord], *, link_only: bool) -> int:
    """How many pairs exist at all: n(n-1)/2, or only the cross-source ones with ``link_only``."""
    n = len(records)
    if not link_only:
        return n * (n - 1) // 2
    by_source = Counter(r.source_system for r in records)
    return (n * n - sum(c * c for c in by_source.values())) // 2


def random_pairs(
    records: Sequence[PreparedRecord], count: int, *, link_only: bool = False, seed: int = 0
) -> list[tuple[int, int]]:
    """Up to ``count`` distinct random pairs ``(i, j)``, ``i < j`` (cross-source only with ``link_only``)."""
    n = len(records)
    count = min(count, total_pairs(records, link_only=link_only))
    if count <= 0:
        return []
    rng = random.Random(seed)
    draw = rng.random
    pairs: set[tuple[int, int]] = set()
    attempts = 0
    while len(pairs) < count and attempts < count * 10:
        attempts += 1
        i, j = int(draw() * n), int(draw() * n)
        if i == j or (link_only and records[i].source_system == records[j].source_system):
            continue
        pairs.add((i, j) if i < j else (j, i))
    return sorted(pairs)


def _agreement_rate(
    rows: Sequence[tuple[tuple[str, str | None], set[str]]],
    groups: Sequence[tuple[str, str | None]],
    *,
    link_only: bool,
) -> float | None:
    # Share of pairs (both records with the field present, of one kind) that share a value, from value
    # counts alone; with link_only only pairs across sources count. ``rows``: (kind and source, values).
    pairs = agreeing = 0
    for kind in {kind for kind, _ in groups}:
        if not link_only:
            # one group per kind (no sources told apart): its values counted in one pass
            of_kind = [values for group, values in rows if group[0] == kind]
            n = len(of_kind)
            pairs += n * (n - 1)
            agreeing += sum(c * (c - 1) for c in Counter(itertools.chain.from_iterable(of_kind)).values())
            continue
        per_source = {group: Counter[str]() for group in groups if group[0] == kind}
        sizes = dict.fromkeys(per_source, 0)
        for group, values in rows:
            if group[0] == kind:
                per_source[group].update(values)
                sizes[group] += 1
        by_value: Counter[str] = Counter()
        for counts in per_source.values():
            by_value.update(counts)
        n = sum(sizes.values())
        pairs += n * n - sum(size * size for size in sizes.values())
        agreeing += sum(c * c for c in by_value.values()) - sum(
            c * c for counts in per_source.values() for c in counts.values()
        )
    return agreeing / pairs if pairs > 0 else None


def estimate_u(
    records: Sequence[PreparedRecord],
    defaults: Probabilities,
    *,
    link_only: bool = False,
    sample_pairs: int = DEFAULT_U_SAMPLE_PAIRS,
    seed: int = 0,
) -> Probabilities:
    """u probabilities of every level: value agreements from value frequencies, the other levels from
    random pairs of one kind; fixed levels keep their defaults. Beyond `U_RECORDS` records, a random
    subset of that size is read: the share of agreeing pairs among random records estimates the
    tenant's without bias, and reading every record of a big tenant costs more than it tells."""
    positions = u_records(len(records), seed)
    if positions is not None:
        records = [records[position] for position in positions]
    vectors = comparison_vectors(records, random_pairs(records, sample_pairs, link_only=link_only, seed=seed))
    result: list[tuple[float, ...]] = []
    for index, comparison in enumerate(COMPARISONS):
        prior = defaults[index]
        free = [level for level in range(1, len(comparison.levels)) if level not in comparison.fixed]
        if not free or comparison.interaction:
            result.append(prior)
            continue
        counts = dict.fromkeys(free, 0.0)
        for vector in vectors:
            level = vector[index]
            if level in counts:
                counts[level] += 1
        total = sum(counts.values())
        # a level never seen among ``total`` random pairs is rare, but not rarer than we can tell:
        # half an observation keeps its weight from growing with the luck of the sample
        floor = 0.5 / total if total else _FLOOR
        mass = 1.0 - sum(prior[level - 1] for level in comparison.fixed)
        known = {
            level: group
            for level, group in _known_rates(records, comparison.name, link_only=link_only).items()
            if level not in comparison.fixed
        }
        u = list(prior)
        rest = [level for level in free if level not in known]
        known_total = 0.0
        for levels, rate in _split_known(known, counts, prior, comparison.fixed):
            # nested rates may not nest in the data (postcodes that cross city names): never below what
            # the random pairs show, nor what they could have missed
            sampled = sum(counts[level] for level, _ in levels) / total if total else 0.0
            rate = max(rate, sampled)
            for level, share in levels:
                u[level - 1] = max(rate * share * mass, floor)
                known_total += u[level - 1]
        rest_counts = sum(counts[level] for level in rest)
        rest_prior = sum(prior[level - 1] for level in rest) or 1.0
        rest_mass = max(mass - known_total, _FLOOR)
        for level in rest:
            share = (counts[level] + _U_SMOOTHING * prior[level - 1] / rest_prior) / (rest_counts + _U_SMOOTHING)
            u[level - 1] = max(share * rest_mass, floor)
        result.append(tuple(u))
    return tuple(result)


def u_records(count: int, seed: int = 0) -> list[int] | None:
    """The positions of the records `estimate_u` reads of ``count`` records (``None``: every one), in the
    order it reads them: a caller holding the records still encoded may decode only these and hand
    them to `estimate_u` (with the same seed), for the same result."""
    if count <= U_RECORDS:
        return None
    return random.Random(seed).sample(range(count), U_RECORDS)


def _known_rates(
    records: Sequence[PreparedRecord], name: str, *, link_only: bool
) -> dict[int, tuple[tuple[int, ...], float]]:
    # level -> (its group of levels, the group's rate)
    specs = _EXACT_VALUES.get(name, ())
    if not specs:
        return {}
    # each record's values of every kind, read once; a record counts where it has any of them
    present: list[tuple[tuple[str, str | None], list[set[str]]]] = []
    for record in records:
        values = [set(read(record)) for _, read, _ in specs]
        if any(values):
            present.append(((record.kind, record.source_system if link_only else None), values))
    groups = sorted({group for group, _ in present}, key=lambda g: (g[0], g[1] or ""))
    known: dict[int, tuple[tuple[int, ...], float]] = {}
    nested = specs[0][2]
    before = 0.0
    for position, (levels, _, _) in enumerate(specs):
        rate = _agreement_rate([(group, values[position]) for group, values in present], groups, link_only=link_only)
        if rate is None:
            return {}
        own = max(rate - before, 0.0) if nested else rate
        before = max(before, rate) if nested else before
        for level in levels:
            known[level] = (levels, own)
    return known


def _split_known(
    known: dict[int, tuple[tuple[int, ...], float]],
    counts: dict[int, float],
    prior: tuple[float, ...],
    fixed: frozenset[int],
) -> list[tuple[list[tuple[int, float]], float]]:
    # a group of levels shares its rate in proportion to the sample, smoothed by the defaults
    groups: dict[tuple[int, ...], float] = dict(known.values())
    split = []
    for group, rate in groups.items():
        levels = tuple(level for level in group if level not in fixed)
        seen = sum(counts.get(level, 0.0) for level in levels)
        prior_total = sum(prior[level - 1] for level in levels) or 1.0
        shares = [
            (level, (counts.get(level, 0.0) + _U_SMOOTHING * prior[level - 1] / prior_total) / (seen + _U_SMOOTHING))
            for level in levels
        ]
        split.append((shares, rate))
    return split


@dataclass(frozen=True, slots=True)
class EmResult:
    """m and u (among the candidates), the share of matches among the candidates, and the expected
    number of matches in total and per interaction level (field, level), interactions left out of the
    evidence."""

    m: Probabilities
    u: Probabilities
    match_share: float
    iterations: int
    converged: bool
    matches: float = 0.0
    interaction_matches: dict[tuple[int, int], float] = field(default_factory=dict)
    interaction_non_matches: dict[tuple[int, int], float] = field(default_factory=dict)


def expectation_maximisation(
    patterns: Counter[ComparisonVector],
    m: Probabilities,
    u: Probabilities,
    match_share: float,
    *,
    fix_u: bool = False,
    trainable: frozenset[int] | None = None,
    max_iterations: int = 100,
    tolerance: float = 1e-6,
) -> EmResult:
    """Fit the two-class (match / non-match) mixture to the pattern counts by EM.

    Missing levels carry no information and are skipped; m and u of a field are conditional on both
    values being present. Only the fields in ``trainable`` (indices; all when ``None``) get a new m;
    fixed levels keep theirs, and u is held with ``fix_u``. Interaction comparisons are not evidence
    here (they would decide their own training); the result counts how many matches show them.
    """
    # Levels are numbered flat across fields, and each pattern keeps only the positions of its
    # non-missing levels: an iteration is then one short sum and one short loop per pattern.
    offsets = [0]
    for comparison_m in m:
        offsets.append(offsets[-1] + len(comparison_m))
    size = offsets[-1]
    evidence = [not c.interaction for c in COMPARISONS]
    terms = [
        ([offsets[f] + level - 1 for f, level in enumerate(vector) if level != MISSING and evidence[f]], count)
        for vector, count in patterns.items()
    ]
    observed = [0.0] * size
    for positions, count in terms:
        for position in positions:
            observed[position] += count
    total = float(sum(patterns.values()))
    # the starting values act as a prior worth a few pairs (a MAP estimate): negligible for a real
    # tenant, but a tenant with a dozen candidates keeps sensible defaults instead of noise
    m_prior, u_prior = m, u
    iterations = 0
    converged = False
    while iterations < max_iterations:
        iterations += 1
        flat_m = [p for field in m for p in field]
        flat_u = [p for field in u for p in field]
        weights = [math.log(max(a, _FLOOR)) - math.log(max(b, _FLOOR)) for a, b in zip(flat_m, flat_u, strict=True)]
        log_prior = math.log(max(match_share, _FLOOR)) - math.log(max(1.0 - match_share, _FLOOR))
        as_match = [0.0] * size
        matches = 0.0
        for positions, count in terms:
            score = log_prior + sum(map(weights.__getitem__, positions))
            posterior = 1.0 / (1.0 + math.exp(-score)) if score > _EXP_UNDERFLOW else 0.0
            share = posterior * count
            matches += share
            for position in positions:
                as_match[position] += share
        as_non_match = [o - a for o, a in zip(observed, as_match, strict=True)]
        m_counts = [as_match[start:end] for start, end in itertools.pairwise(offsets)]
        u_counts = [as_non_match[start:end] for start, end in itertools.pairwise(offsets)]
        new_m = _normalise(m_counts, m_prior, _PRIOR_PAIRS, trainable)
        new_u = u if fix_u else _normalise(u_counts, u_prior, _PRIOR_PAIRS, None)
        new_share = min(max(matches / total, _FLOOR), 1.0 - _FLOOR) if total else match_share
        change = max(
            abs(new_share - match_share),
            max((abs(a - b) for fa, fb in zip(new_m, m, strict=True) for a, b in zip(fa, fb, strict=True)), default=0),
        )
        m, u, match_share = new_m, new_u, new_share
        if change < tolerance:
            converged = True
            break
    matches, shown, others = _interaction_matches(patterns, m, u, match_share)
    return EmResult(m, u, match_share, iterations, converged, matches, shown, others)


def _interaction_matches(
    patterns: Counter[ComparisonVector], m: Probabilities, u: Probabilities, match_share: float
) -> tuple[float, dict[tuple[int, int], float], dict[tuple[int, int], float]]:
    # the expected matches among the patterns, and how many matches and non-matches show each
    # interaction level
    interactions = [f for f, c in enumerate(COMPARISONS) if c.interaction]
    log_prior = math.log(max(match_share, _FLOOR)) - math.log(max(1.0 - match_share, _FLOOR))
    matches = 0.0
    shown: dict[tuple[int, int], float] = {}
    others: dict[tuple[int, int], float] = {}
    for vector, count in patterns.items():
        score = log_prior + sum(
            math.log(max(m[f][level - 1], _FLOOR)) - math.log(max(u[f][level - 1], _FLOOR))
            for f, level in enumerate(vector)
            if level != MISSING and not COMPARISONS[f].interaction
        )
        posterior = 1.0 / (1.0 + math.exp(-score)) if score > _EXP_UNDERFLOW else 0.0
        matches += posterior * count
        for f in interactions:
            if vector[f] != MISSING:
                shown[(f, vector[f])] = shown.get((f, vector[f]), 0.0) + posterior * count
                others[(f, vector[f])] = others.get((f, vector[f]), 0.0) + (1.0 - posterior) * count
    return matches, shown, others


def _normalise(
    counts: list[list[float]], previous: Probabilities, smoothing: float, trainable: frozenset[int] | None
) -> Probabilities:
    # ``smoothing`` pairs distributed like ``previous`` keep unseen levels from collapsing to zero
    return tuple(
        _blend(field_counts, field_previous, COMPARISONS[index].fixed, smoothing)
        if (trainable is None or index in trainable) and not COMPARISONS[index].interaction
        else field_previous
        for index, (field_counts, field_previous) in enumerate(zip(counts, previous, strict=True))
    )


def _blend(
    counts: Sequence[float], previous: tuple[float, ...], fixed: frozenset[int], weight: float
) -> tuple[float, ...]:
    # fixed levels keep their value; the others share the rest in proportion to counts + ``weight`` pseudo-counts
    free = [i for i in range(len(previous)) if i + 1 not in fixed]
    total = sum(counts[i] for i in free)
    if total <= 0:
        return previous
    mass = 1.0 - sum(previous[i] for i in range(len(previous)) if i + 1 in fixed)
    previous_free = sum(previous[i] for i in free) or 1.0
    result = list(previous)
    for i in free:
        result[i] = max((counts[i] + weight * previous[i] / previous_free) / (total + weight) * mass, _FLOOR)
    return tuple(result)


def blend_counts(current: Probabilities, vectors: Iterable[ComparisonVector], strength: float) -> Probabilities:
    """Update probabilities with observed vectors, the current values counting as ``strength`` pairs;
    fixed levels keep their values."""
    counts = [[0.0] * len(comparison) for comparison in current]
    for vector in vectors:
        for index, level in enumerate(vector):
            if level != MISSING:
                counts[index][level - 1] += 1
    return tuple(
        field_current
        if COMPARISONS[index].interaction
        else _blend(field_counts, field_current, COMPARISONS[index].fixed, strength)
        for index, (field_counts, field_current) in enumerate(zip(counts, current, strict=True))
    )
