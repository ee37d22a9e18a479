"""Duplicate matching: normalisation, blocking, Fellegi–Sunter scoring with explanations, clustering.

Pure domain code: no I/O (the nickname table is package data read on first use), no persistence, no
frameworks. The persistence layer stores blocking keys and the per-tenant model, and calls this API.

Stable public API
-----------------
Input
    ``MatchRecord(record_id, kind, name=None, given_name=None, family_name=None, legal_name=None,
    birth_date=None, emails=(), phones=(), addresses=(), tax_ids=(), domains=(), national_ids=(),
    source_system=None)`` and ``MatchAddress(street=None, house_number=None, postal_code=None,
    city=None, region=None, country=None, line2=None)``; ``kind`` is ``PERSON`` or ``ORGANIZATION``.

Blocking (which pairs to score)
    ``blocking_keys(record, default_region=None) -> frozenset[str]``: the keys to store and index
    per profile; a real-time check looks up the profiles sharing any key, skipping keys shared by more
    than ``DEFAULT_MAX_BLOCK_SIZE`` profiles (stop keys).
    ``candidate_pairs(records, *, link_only=False, max_block_size=DEFAULT_MAX_BLOCK_SIZE)
    -> Iterator[tuple[int, int]]``: in-memory blocking for batches; pairs of positions ``i < j``.

Scoring
    ``MatchModel()`` is the untrained default; ``MatchModel.from_dict(d)`` / ``model.to_dict()``
    (de)serialise it as plain JSON-able data.
    ``model.score(a, b) -> MatchResult`` (``probability``, ``match_weight``, ``explanation``: a tuple of
    ``FieldContribution(field, level, weight)``, the prior first, summing to ``match_weight``; no
    compared values, only level names and weights). ``score(a, b, model=None)`` is the same with the
    default model.
    ``model.score_pairs(records, pairs) -> list[ScoredPair]``: fast batch scoring, no explanations.
    ``compare_pairs(prepared_records, pairs) -> ComparedPairs`` computes the comparison vectors once;
    both ``estimate`` and ``score_pairs`` accept it in place of ``pairs``.

Training
    ``model.estimate(records, pairs, *, link_only=False, seed=0) -> MatchModel``: unsupervised (u from
    random pairs, m and the prior by EM over the candidate pairs).
    ``model.refine(decisions) -> MatchModel`` with ``LabelledPair(left, right, is_match)`` from stewards.

Clustering
    ``cluster(pairs_with_probability, threshold) -> list[tuple[id, ...]]``: transitive groups
    (union-find) of ids linked by pairs at or above ``threshold``; deterministic order.

Normalisers (also usable on their own)
    ``normalise_email``, ``normalise_phone``, ``normalise_domain``, ``normalise_tax_id``,
    ``normalise_street``, ``split_legal_form``, ``parse_person_name``, ``canonical_given_names``.

See ``docs/matching.md`` for how it works and how to tune it.
"""

from customer360.domain.matching.addresses import Street, normalise_postal_code, normalise_street
from customer360.domain.matching.blocking import (
    DEFAULT_MAX_BLOCK_SIZE,
    blocking_keys,
    candidate_pairs,
    key_is_strong,
    prepared_blocking_keys,
)
from customer360.domain.matching.clustering import cluster
from customer360.domain.matching.comparison import ComparedPairs, ComparisonVector, compare_pairs
from customer360.domain.matching.contact_points import (
    normalise_domain,
    normalise_email,
    normalise_national_id,
    normalise_phone,
    normalise_tax_id,
)
from customer360.domain.matching.explain import FieldContribution, MatchResult, ScoredPair
from customer360.domain.matching.features import PreparedRecord, prepare
from customer360.domain.matching.frequencies import TermFrequencies, record_terms
from customer360.domain.matching.legal_forms import OrganisationName, split_legal_form
from customer360.domain.matching.levels import COMPARISONS, Comparison
from customer360.domain.matching.model import BatchCache, LabelledPair, MatchModel
from customer360.domain.matching.names import PersonName, parse_person_name
from customer360.domain.matching.nicknames import canonical_given_names
from customer360.domain.matching.records import ORGANIZATION, PERSON, MatchAddress, MatchRecord


def score(a: MatchRecord, b: MatchRecord, model: MatchModel | None = None) -> MatchResult:
    """Score one pair with ``model`` (the untrained default model when ``None``)."""
    return (model or MatchModel()).score(a, b)


__all__ = [
    "COMPARISONS",
    "DEFAULT_MAX_BLOCK_SIZE",
    "ORGANIZATION",
    "PERSON",
    "BatchCache",
    "ComparedPairs",
    "Comparison",
    "ComparisonVector",
    "FieldContribution",
    "LabelledPair",
    "MatchAddress",
    "MatchModel",
    "MatchRecord",
    "MatchResult",
    "OrganisationName",
    "PersonName",
    "PreparedRecord",
    "ScoredPair",
    "Street",
    "TermFrequencies",
    "blocking_keys",
    "candidate_pairs",
    "canonical_given_names",
    "cluster",
    "compare_pairs",
    "key_is_strong",
    "normalise_domain",
    "normalise_email",
    "normalise_national_id",
    "normalise_phone",
    "normalise_postal_code",
    "normalise_street",
    "normalise_tax_id",
    "parse_person_name",
    "prepare",
    "prepared_blocking_keys",
    "record_terms",
    "score",
    "split_legal_form",
]
