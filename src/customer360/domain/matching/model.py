"""The Fellegi–Sunter match model: per-level m and u probabilities, a prior, scores and training.

For a pair, every field's comparison level contributes ``log2(m / u)`` bits (its Bayes factor); the
prior contributes ``log2(λ / (1 - λ))``; their sum is the *match weight* ``w`` and the match
probability is ``2**w / (1 + 2**w)``. Missing values contribute nothing.

With `TermFrequencies` the exact agreement on a name, a company name or a premise weighs by the value's
own frequency. When an interaction level fires (a household, a group of companies at one site), its
contribution replaces the evidence of the fields it explains: it is the pattern's own weight minus
what those fields contributed, so the explanation still adds up and shows why.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from customer360.domain.matching.comparison import (
    ComparedPairs,
    ComparisonVector,
    compare_pairs,
    comparison_vector,
)
from customer360.domain.matching.estimation import (
    DEFAULT_U_SAMPLE_PAIRS,
    Probabilities,
    blend_counts,
    estimate_u,
    total_pairs,
)
from customer360.domain.matching.explain import (
    PRIOR,
    FieldContribution,
    MatchResult,
    ScoredPair,
    probability_from_weight,
)
from customer360.domain.matching.features import PreparedRecord, prepare
from customer360.domain.matching.frequencies import (
    FAMILY,
    GIVEN,
    ORGANISATION,
    TermFrequencies,
    country_of,
    name_term,
    premise_terms,
    total_term,
)
from customer360.domain.matching.levels import COMPARISONS, FIELD_INDEX, MISSING
from customer360.domain.matching.records import MatchRecord
from customer360.domain.matching.training import interaction_m, train

Pairs = Iterable[tuple[int, int]] | ComparedPairs
"""Pairs of positions, or the same already compared by `compare_pairs` (saves comparing twice)."""

MODEL_FORMAT_VERSION = 2
DEFAULT_PRIOR = 2.5e-5
"""Probability that two random profiles are the same customer, before the tenant's data is seen: about
0.5 duplicates per profile in a tenant of 20,000 (a CRM fed by several systems and never cleaned)."""
DEFAULT_POPULATION = 20_000
"""The tenant size the default prior is meant for."""
KIND_MISMATCH_WEIGHT = -30.0
"""A person and an organisation are never the same customer; this weight makes sure of it."""
_MIN_PRIOR = 1e-12
_MAX_PRIOR_GROWTH = 10.0
_TF_LIMIT = 10.0
"""At most this many bits of term-frequency adjustment, either way."""

_GIVEN, _FAMILY, _ORGANISATION, _ADDRESS = (
    FIELD_INDEX[name] for name in ("given_name", "family_name", "organization_name", "address")
)
_EXACT, _SAME_UNIT, _SAME_PREMISE = 1, 1, 2
# the level whose u is the average share of an agreed value (the reference of the adjustment)
_TF_REFERENCE = {_GIVEN: _EXACT, _FAMILY: _EXACT, _ORGANISATION: _EXACT, _ADDRESS: _SAME_PREMISE}
_INTERACTIONS = tuple(
    (index, tuple(frozenset(FIELD_INDEX[name] for name in names) for names in c.explains))
    for index, c in enumerate(COMPARISONS)
    if c.interaction
)


@dataclass(frozen=True, slots=True)
class LabelledPair:
    """A steward's decision on a pair: the same customer (``is_match``) or not."""

    left: MatchRecord
    right: MatchRecord
    is_match: bool


def _default_m() -> Probabilities:
    return tuple(c.default_m for c in COMPARISONS)


def _default_u() -> Probabilities:
    return tuple(c.default_u for c in COMPARISONS)


def _log2_ratio(m: float, u: float) -> float:
    return math.log2(m) - math.log2(u)


@dataclass(frozen=True, slots=True)
class _Terms:
    """One record's terms, computed once per batch."""

    given: str | None
    family: str | None
    organisation: str | None
    premises: frozenset[str]
    among: str
    country_known: bool

    @classmethod
    def of(cls, r: PreparedRecord) -> _Terms:
        country = country_of(r)  # once, not once per term
        return cls(
            given=name_term(GIVEN, r, r.given, country) if r.given else None,
            family=name_term(FAMILY, r, r.family_key, country) if r.family_key else None,
            organisation=name_term(ORGANISATION, r, r.org_key, country) if r.org_key else None,
            premises=premise_terms(r),
            among=total_term(r, country),
            country_known=bool(country),
        )


@dataclass(slots=True)
class BatchCache:
    """What scoring computes per record (its terms) and per term (its adjustment) for one batch: one
    model, one sequence of records, one `TermFrequencies`. `MatchModel.score_pairs` and
    `MatchModel.explain_pairs` given the same cache compute each once."""

    terms: dict[int, _Terms] = field(default_factory=dict)
    adjustments: dict[tuple[int, str, str | None], float] = field(default_factory=dict)

    def terms_of(self, records: Sequence[PreparedRecord], position: int) -> _Terms:
        found = self.terms.get(position)
        if found is None:
            found = self.terms[position] = _Terms.of(records[position])
        return found


def _agreed(
    a: _Terms, b: _Terms, vector: ComparisonVector, frequencies: TermFrequencies | None = None
) -> list[tuple[int, str, str | None]]:
    if not a.country_known and b.country_known and frequencies is not None and frequencies.counts.get(b.among):
        # a record without an address has no country, and its names would count among the few such
        # records, where every name is rare: the pair's names count among the other record's country
        # (when its counts are at hand: the real-time check reads the new record's only)
        a, b = b, a
    terms: list[tuple[int, str, str | None]] = []
    if vector[_GIVEN] == _EXACT and a.given:
        terms.append((_GIVEN, a.given, a.among))
    if vector[_FAMILY] == _EXACT and a.family:
        terms.append((_FAMILY, a.family, a.among))
    if vector[_ORGANISATION] == _EXACT and a.organisation:
        terms.append((_ORGANISATION, a.organisation, a.among))
    if vector[_ADDRESS] in (_SAME_UNIT, _SAME_PREMISE):
        common = a.premises & b.premises
        if common:
            terms.append((_ADDRESS, min(common), None))
    return terms


def agreed_terms(
    a: PreparedRecord, b: PreparedRecord, vector: ComparisonVector, frequencies: TermFrequencies | None = None
) -> list[tuple[int, str, str | None]]:
    """(field, term, denominator term) of each exact agreement whose weight depends on how common the
    value is; names count among their kind and country, a premise among the whole tenant."""
    return _agreed(_Terms.of(a), _Terms.of(b), vector, frequencies)


def _may_adjust(vector: ComparisonVector) -> bool:
    # an exact agreement whose weight depends on the value (the levels `_agreed` reads)
    return (
        vector[_GIVEN] == _EXACT
        or vector[_FAMILY] == _EXACT
        or vector[_ORGANISATION] == _EXACT
        or vector[_ADDRESS] in (_SAME_UNIT, _SAME_PREMISE)
    )


def _explained(vector: ComparisonVector) -> tuple[int, frozenset[int]] | None:
    # the interaction that fires for this pair (at most one: they are of different kinds or exclusive)
    for index, explains in _INTERACTIONS:
        level = vector[index]
        if level != MISSING:
            return index, explains[level - 1]
    return None


@lru_cache(maxsize=4096)
def _labels(vector: ComparisonVector) -> tuple[tuple[int, str, str], ...]:
    # (field index, field name, level name) of the fields compared, for explanations; a batch explains
    # thousands of pairs of a few hundred vectors
    return tuple(
        (index, COMPARISONS[index].name, COMPARISONS[index].levels[level])
        for index, level in enumerate(vector)
        if level != MISSING
    )


def _replacing(pattern: float, explained: float) -> float:
    # An interaction is another person or company at the same place: it corrects for fields that are
    # not independent, so it may take evidence away, never add any. A tenant whose duplicates often
    # show the pattern (FEBRL's corrupted copies) learns a weak pattern, not one that merges neighbours.
    return min(pattern - explained, 0.0)


@dataclass(frozen=True, slots=True)
class MatchModel:
    """Parameters of the Fellegi–Sunter model for one tenant; immutable, JSON-serialisable.

    ``m[f][l]``/``u[f][l]`` are the probabilities of level ``l + 1`` of comparison ``COMPARISONS[f]``
    among matches/non-matches, given both values present (for interactions: of all pairs); ``prior`` is
    the probability that two random records match. ``MatchModel()`` is the untrained default.
    """

    prior: float = DEFAULT_PRIOR
    m: Probabilities = field(default_factory=_default_m)
    u: Probabilities = field(default_factory=_default_u)
    default_region: str | None = None
    population: int | None = DEFAULT_POPULATION
    """The tenant size ``prior`` is for. The prior is duplicates per profile ÷ profiles: scored with
    `TermFrequencies`, it follows the tenant's size now (``None``: as it is)."""
    _weights: tuple[tuple[float, ...], ...] = field(init=False, repr=False, compare=False)
    _prior_weight: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0.0 < self.prior < 1.0:
            raise ValueError("prior must be strictly between 0 and 1")
        for comparison, m, u in zip(COMPARISONS, self.m, self.u, strict=True):
            expected = len(comparison.levels) - 1
            if len(m) != expected or len(u) != expected:
                raise ValueError(f"{comparison.name}: expected {expected} levels")
            if any(not 0.0 < p <= 1.0 for p in (*m, *u)):
                raise ValueError(f"{comparison.name}: probabilities must be in (0, 1]")
        weights = tuple(
            (0.0, *(_log2_ratio(mp, up) for mp, up in zip(m, u, strict=True)))
            for m, u in zip(self.m, self.u, strict=True)
        )
        # frozen dataclass: derived caches are set once, here
        object.__setattr__(self, "_weights", weights)
        object.__setattr__(self, "_prior_weight", _log2_ratio(self.prior, 1.0 - self.prior))

    # scoring -----------------------------------------------------------------------------------

    def prepare(self, record: MatchRecord) -> PreparedRecord:
        """Normalise ``record`` once, for repeated scoring (phones get the model's default region)."""
        return prepare(record, self.default_region)

    def prior_weight(self, frequencies: TermFrequencies | None = None) -> float:
        """The prior in bits, scaled to the tenant's size when ``frequencies`` tell it."""
        if frequencies is None or not self.population:
            return self._prior_weight
        # a much smaller tenant says little about its duplicate rate yet: the prior grows ten times at most
        factor = min(self.population / max(frequencies.population, 1), _MAX_PRIOR_GROWTH)
        prior = min(max(self.prior * factor, _MIN_PRIOR), 0.5)
        return _log2_ratio(prior, 1.0 - prior)

    def _field_weights(
        self,
        terms: list[tuple[int, str, str | None]],
        vector: ComparisonVector,
        frequencies: TermFrequencies | None,
        adjustments: dict[tuple[int, str, str | None], float] | None = None,
    ) -> list[float]:
        weights = [self._weights[f][level] for f, level in enumerate(vector)]
        if frequencies is not None:
            for f, term, among in terms:
                if adjustments is None:
                    weights[f] += self._frequency_adjustment(f, term, among, frequencies)
                    continue
                # a batch meets the same names again and again: each term's adjustment is computed once
                adjustment = adjustments.get((f, term, among))
                if adjustment is None:
                    adjustment = adjustments[(f, term, among)] = self._frequency_adjustment(f, term, among, frequencies)
                weights[f] += adjustment
        fired = _explained(vector)
        if fired is not None:
            index, explains = fired
            weights[index] = _replacing(weights[index], sum(weights[f] for f in explains))
        return weights

    def _frequency_adjustment(
        self, field_index: int, term: str, among: str | None, frequencies: TermFrequencies
    ) -> float:
        reference = self.u[field_index][_TF_REFERENCE[field_index] - 1]
        adjustment = math.log2(reference) - math.log2(frequencies.share(term, among, prior=reference))
        return min(max(adjustment, -_TF_LIMIT), _TF_LIMIT)

    def weight_of(self, vector: ComparisonVector) -> float:
        """The match weight of a comparison vector (prior included, no term frequencies)."""
        weights = [self._weights[f][level] for f, level in enumerate(vector)]
        fired = _explained(vector)
        if fired is not None:
            weights[fired[0]] = _replacing(weights[fired[0]], sum(weights[f] for f in fired[1]))
        return self._prior_weight + sum(weights)

    def score(self, a: MatchRecord, b: MatchRecord, frequencies: TermFrequencies | None = None) -> MatchResult:
        """Score one pair, with its explanation."""
        return self.score_prepared(self.prepare(a), self.prepare(b), frequencies)

    def score_prepared(
        self,
        a: PreparedRecord,
        b: PreparedRecord,
        frequencies: TermFrequencies | None = None,
        vector: ComparisonVector | None = None,
    ) -> MatchResult:
        """`score` for records already prepared with `prepare` (and their ``vector``, if compared already)."""
        if a.kind != b.kind:
            return self._explained_result(self.prior_weight(frequencies), None, [])
        vector = vector or comparison_vector(a, b)
        weights = self._field_weights(agreed_terms(a, b, vector, frequencies), vector, frequencies)
        return self._explained_result(self.prior_weight(frequencies), vector, weights)

    def explain_pairs(
        self,
        records: Sequence[PreparedRecord],
        pairs: Iterable[tuple[int, int, ComparisonVector | None]],
        frequencies: TermFrequencies | None = None,
        cache: BatchCache | None = None,
    ) -> list[MatchResult]:
        """`score_prepared` of many pairs of positions in ``records`` with their vectors (``None``: a
        person and an organisation), as one batch: each record's terms and each term's adjustment are
        computed once (``cache``: shared with `score_pairs`). The results are those `score_prepared`
        gives, to the last bit."""
        prior = self.prior_weight(frequencies)
        cache = cache or BatchCache()
        results = []
        for i, j, vector in pairs:
            if vector is None or records[i].kind != records[j].kind:
                results.append(self._explained_result(prior, None, []))
                continue
            agreed = _agreed(cache.terms_of(records, i), cache.terms_of(records, j), vector, frequencies)
            weights = self._field_weights(agreed, vector, frequencies, cache.adjustments)
            results.append(self._explained_result(prior, vector, weights))
        return results

    def explain_above(
        self,
        records: Sequence[PreparedRecord],
        compared: ComparedPairs,
        threshold: float,
        frequencies: TermFrequencies | None = None,
    ) -> list[tuple[int, int, MatchResult]]:
        """The pairs that `score_pairs` scores at or above ``threshold``, each with the result
        `explain_pairs` gives it, in one pass: a kept pair's field weights are computed once, not once
        for its score and again for its explanation. The same pairs and results, to the last bit."""
        prior = self.prior_weight(frequencies)
        shift = prior - self._prior_weight
        mismatch = prior + KIND_MISMATCH_WEIGHT
        by_vector: dict[ComparisonVector, float] = {}
        batch = BatchCache()
        adjustments = batch.adjustments

        def terms_of(position: int) -> _Terms:
            return batch.terms_of(records, position)

        kept: list[tuple[int, int, MatchResult]] = []
        for (i, j), vector in zip(compared.pairs, compared.vectors, strict=True):
            if vector is None:
                # as score_pairs weighs it; explained as explain_pairs does
                if probability_from_weight(mismatch) >= threshold:
                    kept.append((i, j, self._explained_result(prior, None, [])))
                continue
            weights: list[float] | None = None
            agreed = (
                _agreed(terms_of(i), terms_of(j), vector, frequencies)
                if frequencies is not None and _may_adjust(vector)
                else []
            )
            if agreed:
                weights = self._field_weights(agreed, vector, frequencies, adjustments)
                weight = prior + sum(weights)
            else:
                weight = by_vector.get(vector)  # type: ignore[assignment]
                if weight is None:
                    weight = by_vector[vector] = self.weight_of(vector) + shift
            if probability_from_weight(weight) < threshold:
                continue
            if records[i].kind != records[j].kind:
                kept.append((i, j, self._explained_result(prior, None, [])))
                continue
            if weights is None:
                agreed = _agreed(terms_of(i), terms_of(j), vector, frequencies)
                weights = self._field_weights(agreed, vector, frequencies, adjustments)
            kept.append((i, j, self._explained_result(prior, vector, weights)))
        return kept

    @staticmethod
    def _explained_result(prior: float, vector: ComparisonVector | None, weights: list[float]) -> MatchResult:
        # vector None: a person and an organisation
        contributions = [FieldContribution(PRIOR, "baseline", prior)]
        if vector is None:
            contributions.append(FieldContribution("kind", "different", KIND_MISMATCH_WEIGHT))
        else:
            contributions += [FieldContribution(name, level, weights[index]) for index, name, level in _labels(vector)]
        total = sum(c.weight for c in contributions)
        return MatchResult(
            probability=probability_from_weight(total), match_weight=total, explanation=tuple(contributions)
        )

    def score_pairs(
        self,
        records: Sequence[MatchRecord] | Sequence[PreparedRecord],
        pairs: Pairs,
        frequencies: TermFrequencies | None = None,
        batch: BatchCache | None = None,
    ) -> list[ScoredPair]:
        """Score many pairs of positions in ``records`` (no explanations; fast path for batch scans;
        ``batch``: what `explain_pairs` of the same records may reuse)."""
        prepared = self._prepared(records)
        compared = self._compared(prepared, pairs)
        prior = self.prior_weight(frequencies)
        shift = prior - self._prior_weight
        mismatch = prior + KIND_MISMATCH_WEIGHT
        cache: dict[ComparisonVector, float] = {}
        batch = batch or BatchCache()
        adjustments = batch.adjustments

        def terms_of(position: int) -> _Terms:
            return batch.terms_of(prepared, position)

        scored: list[ScoredPair] = []
        for (i, j), vector in zip(compared.pairs, compared.vectors, strict=True):
            if vector is None:
                scored.append(ScoredPair(i, j, probability_from_weight(mismatch), mismatch))
                continue
            agreed = (
                _agreed(terms_of(i), terms_of(j), vector, frequencies)
                if frequencies is not None and _may_adjust(vector)
                else []
            )
            if agreed:
                weight = prior + sum(self._field_weights(agreed, vector, frequencies, adjustments))
            else:
                weight = cache.get(vector)  # type: ignore[assignment]
                if weight is None:
                    weight = cache[vector] = self.weight_of(vector) + shift
            scored.append(ScoredPair(i, j, probability_from_weight(weight), weight))
        return scored

    def _prepared(self, records: Sequence[MatchRecord] | Sequence[PreparedRecord]) -> list[PreparedRecord]:
        return [r if isinstance(r, PreparedRecord) else self.prepare(r) for r in records]

    def _compared(self, records: Sequence[MatchRecord] | Sequence[PreparedRecord], pairs: Pairs) -> ComparedPairs:
        if isinstance(pairs, ComparedPairs):
            return pairs
        return compare_pairs(self._prepared(records), pairs)

    # training ----------------------------------------------------------------------------------

    def estimate(
        self,
        records: Sequence[MatchRecord] | Sequence[PreparedRecord],
        pairs: Pairs,
        *,
        link_only: bool = False,
        u_sample_pairs: int = DEFAULT_U_SAMPLE_PAIRS,
        seed: int = 0,
        max_iterations: int = 100,
        u: Probabilities | None = None,
    ) -> MatchModel:
        """A model trained without labels on ``records`` and their blocked candidate ``pairs``.

        u comes from random pairs and value frequencies (``u``: `chance_agreement` of the same records,
        computed beforehand); m from EM sessions on the candidates that agree on identifiers or on name
        and birth date, each learning the other fields (see `training`); the prior from EM with m and u
        held. ``link_only`` says that only cross-source pairs are possible.
        """
        prepared = self._prepared(records)
        compared = self._compared(prepared, pairs)
        if u is None:
            u = self.chance_agreement(prepared, link_only=link_only, u_sample_pairs=u_sample_pairs, seed=seed)
        patterns = Counter(v for v in compared.vectors if v is not None)
        if not patterns:
            return MatchModel(self.prior, self.m, u, self.default_region, self.population)
        possible = max(total_pairs(prepared, link_only=link_only), 1)
        m, u, share = train(patterns, self.m, u, possible, max_iterations=max_iterations)
        prior = min(max(share * sum(patterns.values()) / possible, _MIN_PRIOR), 0.5)
        return MatchModel(prior=prior, m=m, u=u, default_region=self.default_region, population=len(prepared))

    def chance_agreement(
        self,
        records: Sequence[PreparedRecord],
        *,
        link_only: bool = False,
        u_sample_pairs: int = DEFAULT_U_SAMPLE_PAIRS,
        seed: int = 0,
    ) -> Probabilities:
        """The u probabilities `estimate` learns from ``records`` (it reads nothing else: a caller may
        compute them beside the candidate pairs and hand them to `estimate`)."""
        return estimate_u(records, self.u, link_only=link_only, sample_pairs=u_sample_pairs, seed=seed)

    def refine(self, decisions: Iterable[LabelledPair], *, strength: float = 50.0) -> MatchModel:
        """A model updated with stewards' decisions.

        Confirmed matches update m; rejected pairs update u. The current values count as ``strength``
        pairs for m and ``20 * strength`` for u: rejected pairs are hard cases, not a random sample, so
        they may only nudge u, most where chance agreement is rare and random sampling saw little.
        Interaction levels learn their m from the confirmed matches; their u is the tenant's rate.
        """
        matches: list[ComparisonVector] = []
        non_matches: list[ComparisonVector] = []
        for decision in decisions:
            a, b = self.prepare(decision.left), self.prepare(decision.right)
            if a.kind != b.kind:
                continue
            (matches if decision.is_match else non_matches).append(comparison_vector(a, b))
        shown: dict[tuple[int, int], float] = {}
        for vector in matches:
            for f, level in enumerate(vector):
                if level != MISSING and COMPARISONS[f].interaction:
                    shown[(f, level)] = shown.get((f, level), 0.0) + 1.0
        m = interaction_m(blend_counts(self.m, matches, strength), float(len(matches)), shown, strength)
        return MatchModel(
            prior=self.prior,
            m=m,
            u=blend_counts(self.u, non_matches, 20 * strength),
            default_region=self.default_region,
        )

    # (de)serialisation -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, object]:
        """A plain, JSON-able dict (stored per tenant); `from_dict` reads it back."""
        return {
            "version": MODEL_FORMAT_VERSION,
            "prior": self.prior,
            "population": self.population,
            "defaultRegion": self.default_region,
            "fields": {
                comparison.name: {
                    level: {"m": m, "u": u} for level, m, u in zip(comparison.levels[1:], m_field, u_field, strict=True)
                }
                for comparison, m_field, u_field in zip(COMPARISONS, self.m, self.u, strict=True)
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> MatchModel:
        """Read `to_dict` output; fields or levels it lacks keep their defaults, unknown ones are ignored.

        A version 1 model (one comparison per address part, trained by EM over all candidates) gives
        the default model: its parameters do not carry over, and the next scan trains a new one.
        Raises ``ValueError`` on a malformed dict (unknown version, probabilities outside (0, 1]).
        """
        region = data.get("defaultRegion")
        if region is not None and not isinstance(region, str):
            raise ValueError("defaultRegion must be a string")
        if data.get("version") == 1:
            return cls(default_region=region)  # every other field at its default
        if data.get("version") != MODEL_FORMAT_VERSION:
            raise ValueError(f"unsupported match model version {data.get('version')!r}")
        m = [list(p) for p in _default_m()]
        u = [list(p) for p in _default_u()]
        fields = data.get("fields", {})
        if not isinstance(fields, Mapping):
            raise ValueError("fields must be a mapping")
        for name, levels in fields.items():
            index = FIELD_INDEX.get(name)
            if index is None or not isinstance(levels, Mapping):
                continue
            level_names = COMPARISONS[index].levels
            for level, values in levels.items():
                if level not in level_names[1:] or not isinstance(values, Mapping):
                    continue
                position = level_names.index(level) - 1
                if position + 1 in COMPARISONS[index].fixed:
                    continue  # set by design: a stored value never overrides it
                m[index][position] = float(values["m"])
                u[index][position] = float(values["u"])
        prior = data.get("prior", DEFAULT_PRIOR)
        population = data.get("population", DEFAULT_POPULATION)
        if not isinstance(prior, int | float):
            raise ValueError("prior must be a number")
        if population is not None and (not isinstance(population, int) or population < 1):
            raise ValueError("population must be a positive integer")
        return cls(
            prior=float(prior),
            m=tuple(tuple(p) for p in m),
            u=tuple(tuple(p) for p in u),
            default_region=region,
            population=population,
        )
