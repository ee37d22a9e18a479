"""Scores and their explanations, as shown to data stewards.

An explanation lists, per compared field, the comparison level reached and its contribution to the
match weight (the log2 Bayes factor, in bits). It never contains the compared values: a steward sees
"family_name: typo, +9.8" next to the two profiles the service already shows, so no personal data
leaves through the explanation beyond what the caller passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PRIOR = "prior"
"""The `FieldContribution.field` of the entry holding the prior's weight (level ``"baseline"``)."""


@dataclass(frozen=True, slots=True)
class FieldContribution:
    """How one field moved the score: its comparison level and its weight in bits (log2 Bayes factor)."""

    field: str
    level: str
    weight: float

    def to_dict(self) -> dict[str, str | float]:
        """A JSON-able form: ``{"field", "level", "weight"}``."""
        return {"field": self.field, "level": self.level, "weight": round(self.weight, 4)}


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The score of one pair: match probability, match weight, and its explanation.

    ``match_weight`` is the sum of the explanation's weights (the first entry is the prior), and
    ``probability == 2**w / (1 + 2**w)`` for ``w = match_weight``.
    """

    probability: float
    match_weight: float
    explanation: tuple[FieldContribution, ...]

    def to_dict(self) -> dict[str, object]:
        """A JSON-able form for APIs and audit records."""
        return {
            "probability": self.probability,
            "matchWeight": round(self.match_weight, 4),
            "explanation": [c.to_dict() for c in self.explanation],
        }


@dataclass(frozen=True, slots=True)
class ScoredPair:
    """A scored candidate pair from a batch: positions in the scored sequence, probability and weight."""

    left: int
    right: int
    probability: float
    match_weight: float


def probability_from_weight(match_weight: float) -> float:
    """``2**w / (1 + 2**w)``, computed without overflow for large ``|w|``."""
    if match_weight >= 0:
        return 1.0 / (1.0 + math.pow(2.0, -match_weight))
    odds = math.pow(2.0, match_weight)
    return odds / (1.0 + odds)
