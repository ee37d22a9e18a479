"""Term frequencies: how common the value two records agree on is in the tenant.

Agreeing on "Müller" says less than agreeing on "Zbigniewski", and sharing a premise with 40 companies
in it (a business centre) less than sharing a family's house. For the exact-agreement levels of given
name, family name, organisation name and address, the model replaces the level's average u by the
share of profiles holding the agreed value (Splink's term-frequency adjustment):

    weight = log2(m / share(value)),   share(value) = profiles with the value / profiles in the tenant

Names are counted per kind and country (the share of Germans called Müller, not of the tenant); a
premise among the whole tenant. ``record_terms`` lists the values a record contributes (the
persistence layer counts profiles per term); ``TermFrequencies`` is what scoring reads: the tenant's
size and the counts it was given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from customer360.domain.matching.features import PreparedAddress, PreparedRecord

GIVEN, FAMILY, ORGANISATION, PREMISE, TOTAL = "g:", "f:", "o:", "a:", "n:"
_MIN_COUNT = 2
"""Two records agreeing on a value means at least two profiles hold it."""
PSEUDO_PROFILES = 200
"""The level's average share counts as this many profiles (a small tenant's counts say little)."""


def premise_key(address: PreparedAddress) -> str | None:
    """A building: country, postcode (or city), street and house number; ``None`` when incomplete."""
    place = address.postal_code or address.city
    if not (address.street_key and address.house_number and place):
        return None
    return f"{address.country or ''}|{place}|{address.street_key}|{address.house_number}"


def premise_terms(record: PreparedRecord) -> frozenset[str]:
    return frozenset(PREMISE + key for key in map(premise_key, record.addresses) if key)


def country_of(record: PreparedRecord) -> str:
    return next((a.country for a in record.addresses if a.country), None) or ""


def name_term(prefix: str, record: PreparedRecord, value: str, country: str | None = None) -> str:
    """A name's term is counted per country: a pair compared is nearly always of one country, and "Müller"
    is common among Germans however many French customers the tenant has (``country``: the record's
    `country_of`, when the caller has it)."""
    return f"{prefix}{record.kind[:1]}|{country_of(record) if country is None else country}|{value}"


def total_term(record: PreparedRecord, country: str | None = None) -> str:
    """The term every record of its kind and country holds: the denominator of its names' shares."""
    return f"{TOTAL}{record.kind[:1]}|{country_of(record) if country is None else country}"


def record_terms(record: PreparedRecord) -> frozenset[str]:
    """The values of ``record`` whose frequency adjusts the weight of an exact agreement, and its total."""
    terms = set(premise_terms(record))
    terms.add(total_term(record))
    if record.given:
        terms.add(name_term(GIVEN, record, record.given))
    if record.family_key:
        terms.add(name_term(FAMILY, record, record.family_key))
    if record.org_key:
        terms.add(name_term(ORGANISATION, record, record.org_key))
    return frozenset(terms)


@dataclass(frozen=True, slots=True)
class TermFrequencies:
    """The tenant's size and, per term, the number of profiles holding it (absent terms: rare).

    ``counts`` need only hold the terms of the records being scored; a term missing from it counts as
    held by the two records that agree on it.
    """

    population: int
    counts: Mapping[str, int] = field(default_factory=dict)

    def share(self, term: str, among: str | None = None, *, prior: float = 0.0) -> float:
        """Profiles holding ``term`` ÷ profiles holding ``among`` (default: the whole tenant), shrunk
        towards ``prior`` by `PSEUDO_PROFILES`: in a tenant of a few profiles every name is "common"."""
        population = max(self.population if among is None else self.counts.get(among, self.population), _MIN_COUNT)
        held = min(max(self.counts.get(term, 0), _MIN_COUNT), population)
        return (held + PSEUDO_PROFILES * prior) / (population + PSEUDO_PROFILES)
