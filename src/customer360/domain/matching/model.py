"""The Fellegi–Sunter match model: per-level m and u probabilities, a prior, scores and training.

For a pair, every field's comparison level contributes ``log2(m / u)`` bits (its Bayes factor); the
prior contributes ``log2(λ / (1 - λ))``; their sum is the *match weight* ``w`` and the match
probability is ``2**w / (1 + 2**w)``. Missing values contribute nothing.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

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
    expectation_maximisation,
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
from customer360.domain.matching.levels import COMPARISONS, FIELD_INDEX, MISSING
from customer360.domain.matching.records import MatchRecord

Pairs = Iterable[tuple[int, int]] | ComparedPairs
"""Pairs of positions, or the same already compared by `compare_pairs` (saves comparing twice)."""

MODEL_FORMAT_VERSION = 1
DEFAULT_PRIOR = 1e-5
"""Probability that two random profiles are the same customer, before the tenant's data is seen."""
KIND_MISMATCH_WEIGHT = -30.0
"""A person and an organisation are never the same customer; this weight makes sure of it."""
_INITIAL_MATCH_SHARE = 0.3
_MIN_PRIOR = 1e-12


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
class MatchModel:
    """Parameters of the Fellegi–Sunter model for one tenant; immutable, JSON-serialisable.

    ``m[f][l]``/``u[f][l]`` are the probabilities of level ``l + 1`` of comparison ``COMPARISONS[f]``
    among matches/non-matches, given both values present; ``prior`` is the probability that two random
    records match. ``MatchModel()`` is the untrained default.
    """

    prior: float = DEFAULT_PRIOR
    m: Probabilities = field(default_factory=_default_m)
    u: Probabilities = field(default_factory=_default_u)
    default_region: str | None = None
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

    def weight_of(self, vector: ComparisonVector) -> float:
        """The match weight of a comparison vector (prior included)."""
        weights = self._weights
        return self._prior_weight + sum(weights[f][level] for f, level in enumerate(vector))

    def score(self, a: MatchRecord, b: MatchRecord) -> MatchResult:
        """Score one pair, with its explanation."""
        return self.score_prepared(self.prepare(a), self.prepare(b))

    def score_prepared(self, a: PreparedRecord, b: PreparedRecord) -> MatchResult:
        """`score` for records already prepared with `prepare`."""
        contributions = [FieldContribution(PRIOR, "baseline", self._prior_weight)]
        if a.kind != b.kind:
            contributions.append(FieldContribution("kind", "different", KIND_MISMATCH_WEIGHT))
        else:
            for index, level in enumerate(comparison_vector(a, b)):
                if level != MISSING:
                    comparison = COMPARISONS[index]
                    weight = self._weights[index][level]
                    contributions.append(FieldContribution(comparison.name, comparison.levels[level], weight))
        total = sum(c.weight for c in contributions)
        return MatchResult(
            probability=probability_from_weight(total), match_weight=total, explanation=tuple(contributions)
        )

    def score_pairs(self, records: Sequence[MatchRecord] | Sequence[PreparedRecord], pairs: Pairs) -> list[ScoredPair]:
        """Score many pairs of positions in ``records`` (no explanations; fast path for batch scans)."""
        compared = self._compared(records, pairs)
        mismatch = self._prior_weight + KIND_MISMATCH_WEIGHT
        cache: dict[ComparisonVector | None, tuple[float, float]] = {
            None: (probability_from_weight(mismatch), mismatch)
        }
        scored: list[ScoredPair] = []
        for (i, j), vector in zip(compared.pairs, compared.vectors, strict=True):
            known = cache.get(vector)
            if known is None and vector is not None:
                weight = self.weight_of(vector)
                known = cache[vector] = (probability_from_weight(weight), weight)
            probability, weight = known or cache[None]
            scored.append(ScoredPair(i, j, probability, weight))
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
    ) -> MatchModel:
        """A model trained without labels on ``records`` and their blocked candidate ``pairs``.

        u comes from random pairs, m and the prior from EM over the candidates (see `estimation`).
        ``link_only`` says that only cross-source pairs are possible (linking deduplicated sources).
        """
        prepared = self._prepared(records)
        compared = self._compared(prepared, pairs)
        u = estimate_u(prepared, self.u, link_only=link_only, sample_pairs=u_sample_pairs, seed=seed)
        patterns = Counter(v for v in compared.vectors if v is not None)
        if not patterns:
            return MatchModel(prior=self.prior, m=self.m, u=u, default_region=self.default_region)
        fit = expectation_maximisation(patterns, self.m, u, _INITIAL_MATCH_SHARE, max_iterations=max_iterations)
        candidates = sum(patterns.values())
        expected_matches = fit.match_share * candidates
        possible = max(total_pairs(prepared, link_only=link_only), 1)
        prior = min(max(expected_matches / possible, _MIN_PRIOR), 0.5)
        return MatchModel(prior=prior, m=fit.m, u=u, default_region=self.default_region)

    def refine(self, decisions: Iterable[LabelledPair], *, strength: float = 50.0) -> MatchModel:
        """A model updated with stewards' decisions.

        Confirmed matches update m; rejected pairs update u. The current values count as ``strength``
        pairs for m and ``20 * strength`` for u: rejected pairs are hard cases, not a random sample, so
        they may only nudge u, most where chance agreement is rare and random sampling saw little.
        """
        matches: list[ComparisonVector] = []
        non_matches: list[ComparisonVector] = []
        for decision in decisions:
            a, b = self.prepare(decision.left), self.prepare(decision.right)
            if a.kind != b.kind:
                continue
            (matches if decision.is_match else non_matches).append(comparison_vector(a, b))
        return MatchModel(
            prior=self.prior,
            m=blend_counts(self.m, matches, strength),
            u=blend_counts(self.u, non_matches, 20 * strength),
            default_region=self.default_region,
        )

    # (de)serialisation -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, object]:
        """A plain, JSON-able dict (stored per tenant); `from_dict` reads it back."""
        return {
            "version": MODEL_FORMAT_VERSION,
            "prior": self.prior,
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

        Raises ``ValueError`` on a malformed dict (wrong version, probabilities outside (0, 1]).
        """
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
                m[index][position] = float(values["m"])
                u[index][position] = float(values["u"])
        prior = data.get("prior", DEFAULT_PRIOR)
        region = data.get("defaultRegion")
        if not isinstance(prior, int | float) or (region is not None and not isinstance(region, str)):
            raise ValueError("prior must be a number and defaultRegion a string")
        return cls(
            prior=float(prior),
            m=tuple(tuple(p) for p in m),
            u=tuple(tuple(p) for p in u),
            default_region=region,
        )
