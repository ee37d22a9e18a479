"""Survivorship: which value of two profiles the golden record keeps, field by field, and why.

The rules a tenant's policy assigns per field:

- ``KEEP_TARGET``: the target's value (the profile the steward chose to survive).
- ``KEEP_SOURCE``: the source's value.
- ``MOST_RECENT``: the value changed last (per-field change times from the audit trail, else the
  profile's ``updated_at``).
- ``MOST_COMPLETE``: the fuller value (longer text, more list items, more sub-fields set).
- ``SOURCE_PRIORITY``: the value of the record mastered by the higher-ranked system. A record's systems
  are those of its external references, ranked by the policy's list (e.g. MDG > FINANCE > SALES > WEB);
  a record without a listed system ranks last.
- ``UNION`` (lists only): every item of both sides, de-duplicated, the target's first.

A missing value never beats a present one under a policy rule: a rule chooses among what exists (the
pick is then marked ``fallback``). A steward's explicit choice for one merge (``TARGET``, ``SOURCE`` or
``UNION``) is followed as given, even when it empties a field. Ties go to the target.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from customer360.domain.errors import InvalidValue
from customer360.domain.profile_attributes import ProfileAttributes
from customer360.domain.values import EmailAddress


class Rule(StrEnum):
    KEEP_TARGET = "KEEP_TARGET"
    KEEP_SOURCE = "KEEP_SOURCE"
    MOST_RECENT = "MOST_RECENT"
    MOST_COMPLETE = "MOST_COMPLETE"
    SOURCE_PRIORITY = "SOURCE_PRIORITY"
    UNION = "UNION"


# The provenance of a value a steward picked for one merge, instead of the policy's rule.
STEWARD_CHOICE = "STEWARD_CHOICE"
CHOICES = {"TARGET": Rule.KEEP_TARGET, "SOURCE": Rule.KEEP_SOURCE, "UNION": Rule.UNION}
DEFAULT_SOURCE_PRIORITY = ("MDG", "FINANCE", "SALES", "WEB")

TARGET = "TARGET"
SOURCE = "SOURCE"
BOTH = "BOTH"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A golden-record field: its API name, the attribute holding it, and for lists the item identity."""

    name: str
    attribute: str
    item_key: Callable[[Any], Any] | None = None

    @property
    def multi(self) -> bool:
        return self.item_key is not None


def _same(value: Any) -> Any:
    return value


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("name", "name"),
    FieldSpec("legalName", "legal_name"),
    FieldSpec("givenName", "given_name"),
    FieldSpec("familyName", "family_name"),
    FieldSpec("birthDate", "birth_date"),
    FieldSpec("segment", "segment"),
    FieldSpec("industry", "industry"),
    # The web domain is derived from the website and always travels with it.
    FieldSpec("website", "website"),
    FieldSpec("locale", "locale"),
    FieldSpec("communication", "communication"),
    FieldSpec("taxIds", "tax_ids", lambda t: t.key),
    FieldSpec("emails", "emails", lambda e: e.key),
    FieldSpec("phones", "phones", lambda p: p.e164),
    FieldSpec("addresses", "addresses", _same),
    FieldSpec("tags", "tags", str.casefold),
    FieldSpec("externalRefs", "external_refs", _same),
)
FIELDS_BY_NAME = {spec.name: spec for spec in FIELDS}
# External references are rows that the merge re-points: they can only be united, never dropped.
UNION_ONLY = frozenset({"externalRefs"})


def completeness(value: Any) -> int:
    """How much a value holds: characters of text, items of a list, sub-fields set of a value object."""
    if value is None or isinstance(value, bool):
        return 0 if not value else 1
    if isinstance(value, str):
        return len(value.strip())
    if isinstance(value, tuple | list | frozenset | set):
        return len(value)
    if isinstance(value, date | datetime | int | float):
        return 1
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(1 for f in dataclasses.fields(value) if completeness(getattr(value, f.name)) > 0)
    return 1


@dataclass(frozen=True, slots=True)
class SurvivorshipPolicy:
    """A tenant's rule per field and its ranking of source systems."""

    rules: Mapping[str, Rule]
    source_priority: tuple[str, ...] = DEFAULT_SOURCE_PRIORITY
    version: int = 0

    @classmethod
    def default(
        cls, *, default_rule: Rule = Rule.KEEP_TARGET, source_priority: Sequence[str] = DEFAULT_SOURCE_PRIORITY
    ) -> SurvivorshipPolicy:
        """Single values follow ``default_rule``; lists are united (nothing a customer gave us is lost)."""
        if default_rule is Rule.UNION:
            raise InvalidValue("defaultRule", "UNION applies to lists only")
        rules = {spec.name: Rule.UNION if spec.multi else default_rule for spec in FIELDS}
        return cls(rules=rules, source_priority=_systems(source_priority))

    def revised(self, rules: Mapping[str, str], source_priority: Sequence[str] | None) -> SurvivorshipPolicy:
        """This policy with some fields' rules (and optionally the system ranking) replaced, validated."""
        merged = dict(self.rules)
        for name, raw in rules.items():
            spec = _spec(name, f"rules.{name}")
            try:
                rule = Rule(raw)
            except ValueError:
                raise InvalidValue(f"rules.{name}", f"must be one of {', '.join(Rule)}") from None
            _check_rule(spec, rule, f"rules.{name}")
            merged[name] = rule
        priority = self.source_priority if source_priority is None else _systems(source_priority)
        return SurvivorshipPolicy(rules=merged, source_priority=priority, version=self.version)

    def rule_for(self, field: str) -> Rule:
        return self.rules[field]

    def to_document(self) -> dict[str, Any]:
        return {"rules": {k: v.value for k, v in self.rules.items()}, "sourcePriority": list(self.source_priority)}

    @classmethod
    def from_document(cls, document: Mapping[str, Any], base: SurvivorshipPolicy, version: int) -> SurvivorshipPolicy:
        # Fields added to the service after the policy was stored take the base policy's rule.
        known = {k: v for k, v in document.get("rules", {}).items() if k in FIELDS_BY_NAME}
        revised = base.revised(known, document.get("sourcePriority"))
        return dataclasses.replace(revised, version=version)


def _spec(name: str, path: str) -> FieldSpec:
    spec = FIELDS_BY_NAME.get(name)
    if spec is None:
        raise InvalidValue(path, f"is not a golden-record field ({', '.join(FIELDS_BY_NAME)})")
    return spec


def _check_rule(spec: FieldSpec, rule: Rule, path: str) -> None:
    if rule is Rule.UNION and not spec.multi:
        raise InvalidValue(path, "UNION applies to lists only")
    if spec.name in UNION_ONLY and rule is not Rule.UNION:
        raise InvalidValue(path, "external references are always united (their rows move to the target)")


_SYSTEM = re.compile(r"^[A-Z0-9][A-Z0-9_.\-]{0,39}$")


def _systems(values: Sequence[str]) -> tuple[str, ...]:
    """Source systems are spelled as in external references (``values.ExternalReference``)."""
    systems = tuple(v.strip().upper() for v in values)
    if not all(_SYSTEM.match(s) for s in systems) or len(set(systems)) != len(systems):
        raise InvalidValue("sourcePriority", "must list distinct source systems (letters, digits, '_', '.', '-')")
    return systems


def field_choices(raw: Mapping[str, str]) -> dict[str, Rule]:
    """A steward's per-field choices for one merge: TARGET, SOURCE or (lists) UNION."""
    chosen: dict[str, Rule] = {}
    for name, value in raw.items():
        spec = _spec(name, f"fieldChoices.{name}")
        rule = CHOICES.get(value)
        if rule is None:
            raise InvalidValue(f"fieldChoices.{name}", "must be TARGET, SOURCE or UNION")
        _check_rule(spec, rule, f"fieldChoices.{name}")
        chosen[name] = rule
    return chosen


@dataclass(frozen=True, slots=True)
class Candidate:
    """One side of a merge as survivorship sees it."""

    customer_id: str
    attributes: ProfileAttributes
    updated_at: datetime
    # Last change per field (API names), from the audit trail; missing fields use updated_at.
    field_changed_at: Mapping[str, datetime] = dataclasses.field(default_factory=dict)

    def value(self, spec: FieldSpec) -> Any:
        return getattr(self.attributes, spec.attribute)

    def changed_at(self, field: str) -> datetime:
        return self.field_changed_at.get(field, self.updated_at)

    def rank(self, priority: Sequence[str]) -> int:
        ranks = [priority.index(r.source_system) for r in self.attributes.external_refs if r.source_system in priority]
        return min(ranks, default=len(priority))


@dataclass(frozen=True, slots=True)
class FieldDecision:
    """Why a field of the golden record has its value."""

    field: str
    rule: str
    winner: str
    fallback: bool = False
    # For lists: for each item of the golden list, TARGET, SOURCE or BOTH (held by both sides).
    item_sides: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GoldenRecord:
    attributes: ProfileAttributes
    decisions: tuple[FieldDecision, ...]

    def decision(self, field: str) -> FieldDecision:
        return next(d for d in self.decisions if d.field == field)


def _pick(rule: Rule, spec: FieldSpec, target: Candidate, source: Candidate, priority: Sequence[str]) -> str:
    """The side a (non-union) rule prefers, before the missing-value fallback."""
    if rule is Rule.KEEP_SOURCE:
        return SOURCE
    if rule is Rule.MOST_RECENT:
        return SOURCE if source.changed_at(spec.name) > target.changed_at(spec.name) else TARGET
    if rule is Rule.MOST_COMPLETE:
        return SOURCE if completeness(source.value(spec)) > completeness(target.value(spec)) else TARGET
    if rule is Rule.SOURCE_PRIORITY:
        return SOURCE if source.rank(priority) < target.rank(priority) else TARGET
    return TARGET


def _union(
    spec: FieldSpec, target: tuple[Any, ...], source: tuple[Any, ...]
) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    assert spec.item_key is not None
    items: list[Any] = list(target)
    sides = [TARGET] * len(target)
    position = {spec.item_key(item): i for i, item in enumerate(target)}
    for item in source:
        key = spec.item_key(item)
        if key in position:
            sides[position[key]] = BOTH
            continue
        position[key] = len(items)
        items.append(item)
        sides.append(SOURCE)
    if spec.name == "emails" and sum(e.primary for e in items) > 1:
        # The target's primary address stays primary; the source's becomes an ordinary one.
        items = [
            dataclasses.replace(e, primary=False) if side == SOURCE and isinstance(e, EmailAddress) else e
            for e, side in zip(items, sides, strict=True)
        ]
    return tuple(items), tuple(sides)


def decide(
    spec: FieldSpec, rule: Rule, target: Candidate, source: Candidate, priority: Sequence[str], *, chosen: bool
) -> tuple[Any, FieldDecision]:
    """The golden value of one field and the decision that explains it."""
    label = STEWARD_CHOICE if chosen else rule.value
    t_value, s_value = target.value(spec), source.value(spec)
    if rule is Rule.UNION:
        items, sides = _union(spec, t_value, s_value)
        return items, FieldDecision(spec.name, label, BOTH, item_sides=sides)
    side = _pick(rule, spec, target, source, priority)
    fallback = False
    if not chosen:
        present = {TARGET: completeness(t_value) > 0, SOURCE: completeness(s_value) > 0}
        other = SOURCE if side == TARGET else TARGET
        if not present[side] and present[other]:
            side, fallback = other, True
    value = t_value if side == TARGET else s_value
    sides = tuple([side] * len(value)) if spec.multi else ()
    return value, FieldDecision(spec.name, label, side, fallback, sides)


def survive(
    target: Candidate,
    source: Candidate,
    policy: SurvivorshipPolicy,
    choices: Mapping[str, Rule] | None = None,
    *,
    today: date,
) -> GoldenRecord:
    """The golden record of ``target`` and ``source`` under ``policy``, with a decision per field."""
    choices = choices or {}
    values: dict[str, Any] = {"kind": target.attributes.kind}
    decisions = []
    for spec in FIELDS:
        rule = choices.get(spec.name, policy.rule_for(spec.name))
        value, decision = decide(spec, rule, target, source, policy.source_priority, chosen=spec.name in choices)
        values[spec.attribute] = value
        if spec.name == "website":
            values["domain"] = (target if decision.winner == TARGET else source).attributes.domain
        decisions.append(decision)
    return GoldenRecord(ProfileAttributes.build(today=today, **values), tuple(decisions))
