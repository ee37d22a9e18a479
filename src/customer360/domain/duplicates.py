"""Duplicate detection around the matching engine: what a profile looks like to the engine, the
tenant's thresholds, ranked candidates, pair ids and the audit facts of stewards' decisions.

The engine (``domain.matching``) knows nothing about profiles; this module is the one translation from
the CustomerProfile aggregate (or a merge's before-image) to a ``MatchRecord``. Everything here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from customer360.domain.errors import DuplicateCustomer, InvalidValue
from customer360.domain.events import DomainEvent
from customer360.domain.ids import CUSTOMER_PREFIX, id_pattern
from customer360.domain.matching import (
    ORGANIZATION,
    PERSON,
    FieldContribution,
    MatchAddress,
    MatchModel,
    MatchRecord,
    PreparedRecord,
    TermFrequencies,
)
from customer360.domain.profile_attributes import Contact, ProfileAttributes
from customer360.domain.values import CustomerKind, CustomerStatus, clean_text

SCAN_PREFIX = "DSCAN"
CLUSTER_PREFIX = "DCLU"
PAIR_SEPARATOR = "~"
NEW_PROFILE_ID = "new"
"""The record id of a profile being checked before it exists (never a stored id)."""
_CUSTOMER_ID = id_pattern(CUSTOMER_PREFIX)[1:-1]
PAIR_ID_PATTERN = f"^{_CUSTOMER_ID}{PAIR_SEPARATOR}{_CUSTOMER_ID}$"
_PAIR_ID = re.compile(PAIR_ID_PATTERN)

# Explanation fields whose exact agreement identifies a customer (automatic merges require one).
IDENTIFIER_FIELDS = frozenset({"email", "phone", "tax_id", "national_id"})
# Statuses whose profiles take part in matching (merged and erased ones are never candidates).
MATCHABLE_STATUSES = frozenset({CustomerStatus.ACTIVE, CustomerStatus.INACTIVE, CustomerStatus.ON_HOLD})


# -- profile -> engine input ---------------------------------------------------------------------------
def match_record_of(customer_id: str, attributes: ProfileAttributes, contacts: Iterable[Contact] = ()) -> MatchRecord:
    """The engine's view of a profile: its names, birth date, addresses and identifiers.

    An organisation's contact points include those of its active contacts (a shared contact e-mail is
    evidence about the company); a person's contacts are other people and are left out. Phones are
    given in E.164, so no default region is needed to read them.
    """
    a = attributes
    emails = [e.address for e in a.emails]
    phones = [p.e164 for p in a.phones]
    if a.kind is CustomerKind.ORGANIZATION:
        for contact in contacts:
            if contact.active:
                emails += [e.address for e in contact.attributes.emails]
                phones += [p.e164 for p in contact.attributes.phones]
    addresses = tuple(
        MatchAddress(
            street=address.lines[0] if address.lines else None,
            line2=address.lines[1] if len(address.lines) > 1 else None,
            more_lines=address.lines[2:],
            postal_code=address.postal_code,
            city=address.city,
            region=address.region,
            country=address.country,
        )
        for address in a.addresses
    )
    organisation = a.kind is CustomerKind.ORGANIZATION
    return MatchRecord(
        record_id=customer_id,
        kind=ORGANIZATION if organisation else PERSON,
        name=a.name,
        given_name=None if organisation else a.given_name,
        family_name=None if organisation else a.family_name,
        legal_name=a.legal_name if organisation else None,
        birth_date=a.birth_date.isoformat() if a.birth_date and not organisation else None,
        emails=tuple(dict.fromkeys(emails)),
        phones=tuple(dict.fromkeys(phones)),
        addresses=addresses,
        tax_ids=tuple(t.value if t.value.startswith(t.country) else f"{t.country}{t.value}" for t in a.tax_ids),
        domains=tuple(d for d in dict.fromkeys((a.domain, a.website)) if d),
    )


# -- the tenant's thresholds ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DuplicatePolicy:
    """When a pair is worth a steward's look, when a new profile is refused as a likely duplicate, and
    whether pairs above a very high threshold (with an agreeing identifier) are merged automatically."""

    review_threshold: float = 0.5
    likely_threshold: float = 0.9
    auto_merge: bool = False
    auto_merge_threshold: float = 0.999
    version: int = 0

    def __post_init__(self) -> None:
        for name in ("review_threshold", "likely_threshold", "auto_merge_threshold"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise InvalidValue(_camel(name), "must be strictly between 0 and 1")
        if self.review_threshold > self.likely_threshold:
            raise InvalidValue("likelyThreshold", "must not be below reviewThreshold")
        if self.likely_threshold > self.auto_merge_threshold:
            raise InvalidValue("autoMergeThreshold", "must not be below likelyThreshold")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


# -- ranked candidates ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DuplicateCandidate:
    """An existing profile that may be the same customer, with the score and its explanation."""

    customer_id: str
    probability: float
    match_weight: float
    explanation: tuple[FieldContribution, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "customerId": self.customer_id,
            "probability": self.probability,
            "matchWeight": round(self.match_weight, 4),
            "explanation": [c.to_dict() for c in self.explanation],
        }


def rank_candidates(
    model: MatchModel,
    subject: PreparedRecord,
    others: Sequence[PreparedRecord],
    *,
    threshold: float,
    limit: int,
    frequencies: TermFrequencies | None = None,
) -> list[DuplicateCandidate]:
    """The ``limit`` best of ``others`` scoring at least ``threshold`` against ``subject``, best first
    (ties by id), each with its explanation (names and premises weighed by ``frequencies``)."""
    if not others:
        return []
    records = [subject, *others]
    scored = model.score_pairs(records, [(0, i) for i in range(1, len(records))], frequencies)
    kept = sorted(
        (s for s in scored if s.probability >= threshold),
        key=lambda s: (-s.match_weight, records[s.right].record_id),
    )[:limit]
    ranked = []
    for s in kept:
        other = records[s.right]
        result = model.score_prepared(subject, other, frequencies)
        ranked.append(DuplicateCandidate(other.record_id, result.probability, result.match_weight, result.explanation))
    return ranked


def identifier_agrees(explanation: Iterable[FieldContribution]) -> bool:
    """Whether an identifier (e-mail, phone, tax id, national id) agrees exactly."""
    return any(c.field in IDENTIFIER_FIELDS and c.level == "exact" for c in explanation)


def duplicate_found(candidates: Sequence[DuplicateCandidate], threshold: float) -> DuplicateCustomer:
    """The seed's DuplicateCustomer, listing the candidates (ids, scores, field levels; never values)."""
    return DuplicateCustomer(
        f"The profile is a likely duplicate of {len(candidates)} existing profile(s); "
        "create it anyway with ?override=true and an X-Override-Reason header",
        {
            "threshold": threshold,
            "candidates": [c.to_dict() for c in candidates],
            "override": {"query": "override=true", "header": "X-Override-Reason"},
        },
    )


def override_reason(raw: str | None) -> str:
    """The reason given for creating a profile despite likely duplicates (required, 3-500 characters)."""
    if raw is None:
        raise InvalidValue("X-Override-Reason", "is required with override=true")
    reason = clean_text(raw, "X-Override-Reason", max_length=500)
    if len(reason) < 3:
        raise InvalidValue("X-Override-Reason", "must be at least 3 characters")
    return reason


# -- pairs ---------------------------------------------------------------------------------------------
def pair_id(a: str, b: str) -> str:
    """The id of an unordered pair of profiles: lower id, ``~``, higher id."""
    low, high = sorted((a, b))
    return f"{low}{PAIR_SEPARATOR}{high}"


def parse_pair_id(value: str) -> tuple[str, str]:
    """``(low, high)`` of a pair id (either order accepted); raises InvalidValue."""
    if not _PAIR_ID.match(value):
        raise InvalidValue("pairId", "must be two customer ids joined by '~'")
    a, b = value.split(PAIR_SEPARATOR)
    if a == b:
        raise InvalidValue("pairId", "must name two different customers")
    low, high = sorted((a, b))
    return low, high


# -- audit ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class DuplicateActivity(DomainEvent):
    """Audit-only: a profile created despite likely duplicates, or a pair dismissed by a steward.
    ``changes`` names ids, scores and the steward's reason; never compared values."""

    what: str
    other_customer_id: str | None = None

    @property
    def action(self) -> str:
        return self.what

    @property
    def entity(self) -> tuple[str, str]:
        if self.other_customer_id is None:
            return ("CUSTOMER", self.customer_id)
        return ("DUPLICATE_PAIR", self.other_customer_id)

    @property
    def published(self) -> bool:
        return False
