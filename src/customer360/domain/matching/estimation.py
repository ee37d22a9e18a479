"""Unsupervised estimation of Fellegi–Sunter parameters from a tenant's own records.

The recipe is Splink's:

* **u** (how often unrelated records agree by chance) from random pairs: for the ``exact`` level it is
  computed exactly from value frequencies (Σ nᵥ(nᵥ-1) / N(N-1)), the other levels are sampled;
* **m** (how often true duplicates agree) and the prior by expectation maximisation over the blocked
  candidate pairs. Candidates are not a random sample (they agree on some key by construction), so
  during EM the non-match distribution is estimated as a nuisance parameter of its own; the model
  then keeps the random-pair u;
* the prior (probability that two random records match) is the number of matches EM finds among the
  candidates divided by the number of all possible pairs.

Everything works on comparison vectors grouped into patterns (distinct vectors with their counts),
so an EM iteration costs the number of distinct patterns, not the number of pairs.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from customer360.domain.matching.comparison import ComparisonVector, comparison_vector
from customer360.domain.matching.features import PreparedRecord
from customer360.domain.matching.levels import COMPARISONS, MISSING

Probabilities = tuple[tuple[float, ...], ...]
"""Per comparison, per level (levels[1:]), a probability; each inner tuple sums to 1."""

DEFAULT_U_SAMPLE_PAIRS = 10_000
_U_SMOOTHING = 10.0
_PRIOR_PAIRS = 10.0
_FLOOR = 1e-9
_EXP_UNDERFLOW = -700.0  # math.exp(700) is near the largest float


def _first_address_part(name: str) -> Callable[[PreparedRecord], str | None]:
    def value(record: PreparedRecord) -> str | None:
        return getattr(record.addresses[0], name) if record.addresses else None

    return value


# Per comparison, how to read the single value whose equality is the "exact" level; multi-valued
# fields (e-mails, phones, ids) have none and are sampled like every other level.
_EXACT_VALUE: dict[str, Callable[[PreparedRecord], str | None]] = {
    "given_name": lambda r: r.given,
    "family_name": lambda r: r.family_key,
    "birth_date": lambda r: r.birth_date,
    "organization_name": lambda r: r.org_key,
    "legal_form": lambda r: r.legal_form,
    "street": _first_address_part("street_key"),
    "house_number": _first_address_part("house_number"),
    "address_line2": _first_address_part("line2_key"),
    "postal_code": _first_address_part("postal_code"),
    "city": _first_address_part("city"),
    "region": _first_address_part("region"),
    "country": _first_address_part("country"),
}


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


def _exact_agreement_rate(values_by_source: Sequence[list[str | None]], *, link_only: bool) -> float | None:
    # Share of pairs (both values present) with equal values, from value counts alone; with
    # link_only only pairs across sources count. One list of values per source.
    per_source = [Counter(v for v in values if v is not None) for values in values_by_source]
    by_value: Counter[str] = Counter()
    for counts in per_source:
        by_value.update(counts)
    n = sum(by_value.values())
    if link_only:
        sizes = [sum(counts.values()) for counts in per_source]
        pairs = n * n - sum(size * size for size in sizes)
        agreeing = sum(c * c for c in by_value.values()) - sum(c * c for counts in per_source for c in counts.values())
    else:
        pairs = n * (n - 1)
        agreeing = sum(c * (c - 1) for c in by_value.values())
    return agreeing / pairs if pairs > 0 else None


def estimate_u(
    records: Sequence[PreparedRecord],
    defaults: Probabilities,
    *,
    link_only: bool = False,
    sample_pairs: int = DEFAULT_U_SAMPLE_PAIRS,
    seed: int = 0,
) -> Probabilities:
    """u probabilities from random pairs (exact level from value frequencies where possible)."""
    vectors = comparison_vectors(records, random_pairs(records, sample_pairs, link_only=link_only, seed=seed))
    by_source: dict[str | None, list[PreparedRecord]] = {}
    for record in records:
        by_source.setdefault(record.source_system if link_only else None, []).append(record)
    groups = list(by_source.values())
    result: list[tuple[float, ...]] = []
    for index, comparison in enumerate(COMPARISONS):
        levels = len(comparison.levels) - 1
        counts = [0.0] * levels
        for vector in vectors:
            level = vector[index]
            if level != MISSING:
                counts[level - 1] += 1
        value_of = _EXACT_VALUE.get(comparison.name)
        exact = (
            _exact_agreement_rate([list(map(value_of, group)) for group in groups], link_only=link_only)
            if value_of
            else None
        )
        prior = defaults[index]
        total = sum(counts)
        # a level never seen among ``total`` random pairs is rare, but not rarer than we can tell:
        # half an observation keeps its weight from growing with the luck of the sample
        floor = 0.5 / total if total else _FLOOR
        if exact is None:
            u = [(c + _U_SMOOTHING * p) / (total + _U_SMOOTHING) for c, p in zip(counts, prior, strict=True)]
        else:
            # the sample only decides how the non-exact remainder splits between the other levels
            rest, rest_prior = counts[1:], prior[1:]
            rest_total, prior_total = sum(rest), sum(rest_prior)
            shares = [
                (c + _U_SMOOTHING * p / prior_total) / (rest_total + _U_SMOOTHING)
                for c, p in zip(rest, rest_prior, strict=True)
            ]
            exact = max(exact, _FLOOR)
            u = [exact, *((1.0 - exact) * s for s in shares)]
        # an exact level computed from all value frequencies needs no floor beyond avoiding zero
        exact_floor = _FLOOR if exact is not None else floor
        result.append((max(u[0], exact_floor), *(max(p, floor) for p in u[1:])))
    return tuple(result)


@dataclass(frozen=True, slots=True)
class EmResult:
    """m and u (among the candidates) and the share of matches among the candidates."""

    m: Probabilities
    u: Probabilities
    match_share: float
    iterations: int
    converged: bool


def expectation_maximisation(
    patterns: Counter[ComparisonVector],
    m: Probabilities,
    u: Probabilities,
    match_share: float,
    *,
    fix_u: bool = False,
    max_iterations: int = 100,
    tolerance: float = 1e-6,
) -> EmResult:
    """Fit the two-class (match / non-match) mixture to the pattern counts by EM.

    Missing levels carry no information and are skipped; m and u of a field are conditional on both
    values being present.
    """
    # Levels are numbered flat across fields, and each pattern keeps only the positions of its
    # non-missing levels: an iteration is then one short sum and one short loop per pattern.
    offsets = [0]
    for field in m:
        offsets.append(offsets[-1] + len(field))
    size = offsets[-1]
    terms = [
        ([offsets[f] + level - 1 for f, level in enumerate(vector) if level != MISSING], count)
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
        new_m = _normalise(m_counts, m_prior, _PRIOR_PAIRS)
        new_u = u if fix_u else _normalise(u_counts, u_prior, _PRIOR_PAIRS)
        new_share = min(max(matches / total, _FLOOR), 1.0 - _FLOOR) if total else match_share
        change = max(
            abs(new_share - match_share),
            max((abs(a - b) for fa, fb in zip(new_m, m, strict=True) for a, b in zip(fa, fb, strict=True)), default=0),
        )
        m, u, match_share = new_m, new_u, new_share
        if change < tolerance:
            converged = True
            break
    return EmResult(m=m, u=u, match_share=match_share, iterations=iterations, converged=converged)


def _normalise(counts: list[list[float]], previous: Probabilities, smoothing: float) -> Probabilities:
    # ``smoothing`` pairs distributed like ``previous`` keep unseen levels from collapsing to zero
    result: list[tuple[float, ...]] = []
    for field_counts, field_previous in zip(counts, previous, strict=True):
        total = sum(field_counts)
        if total <= 0:
            result.append(field_previous)
            continue
        result.append(
            tuple(
                max((c + smoothing * p) / (total + smoothing), _FLOOR)
                for c, p in zip(field_counts, field_previous, strict=True)
            )
        )
    return tuple(result)


def blend_counts(current: Probabilities, vectors: Iterable[ComparisonVector], strength: float) -> Probabilities:
    """Update probabilities with observed vectors, the current values counting as ``strength`` pairs."""
    counts = [[0.0] * len(field) for field in current]
    for vector in vectors:
        for field, level in enumerate(vector):
            if level != MISSING:
                counts[field][level - 1] += 1
    result: list[tuple[float, ...]] = []
    for field_counts, field_current in zip(counts, current, strict=True):
        total = sum(field_counts)
        result.append(
            tuple(
                max((c + strength * p) / (total + strength), _FLOOR)
                for c, p in zip(field_counts, field_current, strict=True)
            )
        )
    return tuple(result)
