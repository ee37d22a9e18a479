"""The CRM benchmark in pure-engine mode: the service's own translation of a create body into the
engine's record (REST model -> profile -> ``match_record_of``), then the real-time check and the batch
scan replayed in memory as the service runs them (same blocking caps, same training, same scoring),
without PostgreSQL. Fast enough for 200,000 customers; ``benchmarks/matching_crm.py`` prints which
figures come from this mode and which from the service itself.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from benchmarks.crm_dataset import Dataset, Record, Update

from customer360.application.duplicate_scan import ScanOptions, estimate
from customer360.application.profile_input import parse_contacts, parse_profile
from customer360.domain.duplicates import match_record_of
from customer360.domain.errors import InvalidValue
from customer360.domain.matching import (
    MatchModel,
    PreparedRecord,
    TermFrequencies,
    compare_pairs,
    key_is_strong,
    prepared_blocking_keys,
    record_terms,
)
from customer360.domain.matching.features import with_history
from customer360.domain.profile_attributes import Contact
from customer360.infrastructure.rest.models.customers import CustomerCreate, CustomerPatch

Pair = frozenset[str]
TODAY = datetime(2026, 11, 30, tzinfo=UTC)


@dataclass
class Accepted:
    body: dict[str, Any]
    dropped: tuple[str, ...]
    """Lists removed because the service refused a value in them (e.g. ``phones``)."""


def accepted_body(body: Mapping[str, Any], refuse: Any) -> Accepted:
    """``body`` minus the lists holding a value ``refuse(body)`` rejects, as a loader would retry it."""
    current = dict(body)
    dropped: list[str] = []
    while True:
        field = refuse(current)
        if field is None:
            return Accepted(current, tuple(dropped))
        name = field.split("[")[0].split(".")[0]
        if name not in current or name in dropped:
            raise ValueError(f"refused for {field}, which cannot be dropped")
        dropped.append(name)
        current.pop(name)


def refusal(body: Mapping[str, Any]) -> str | None:
    try:
        _profile(body)
    except InvalidValue as error:
        camel = {"tax_ids": "taxIds", "phones": "phones", "emails": "emails", "contacts": "contacts"}
        head = error.field.split("[")[0].split(".")[0]
        return camel.get(head, error.field)
    return None


def _profile(body: Mapping[str, Any], customer_id: str = "new") -> Any:
    # what POST /customers and POST /duplicates/check do with the body, up to the engine's record
    model = CustomerCreate.model_validate(body)
    attributes = parse_profile(model.to_input(), region=None, today=TODAY.date())
    contacts = [
        Contact(id=f"{customer_id}-{i}", attributes=parsed, created_at=TODAY, updated_at=TODAY)
        for i, parsed in enumerate(parse_contacts(model.contact_inputs(), region=None))
    ]
    return match_record_of(customer_id, attributes, contacts)


def merge_patch(body: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(body)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    CustomerPatch.model_validate(patch)
    return merged


@dataclass
class EngineRun:
    check: dict[Pair, float]
    """Pairs the real-time check answered at or above the review threshold (highest probability)."""
    scan: dict[Pair, float]
    refused: int
    check_seconds: float
    scan_seconds: float
    scan_model: MatchModel


class _Index:
    """The match index as the service keeps it: postings per key, the caps of the real-time check."""

    def __init__(self, max_block_size: int, max_candidates: int) -> None:
        self.postings: dict[str, set[str]] = {}
        self.keys: dict[str, frozenset[str]] = {}
        self.records: dict[str, PreparedRecord] = {}
        self.terms: Counter[str] = Counter()
        self.cap, self.max_candidates = max_block_size, max_candidates

    def put(self, record: PreparedRecord) -> None:
        self.remove(record.record_id)
        keys = prepared_blocking_keys(record)
        self.keys[record.record_id] = keys
        self.records[record.record_id] = record
        self.terms.update(record_terms(record))
        for key in keys:
            self.postings.setdefault(key, set()).add(record.record_id)

    def remove(self, record_id: str) -> None:
        for key in self.keys.pop(record_id, ()):
            self.postings[key].discard(record_id)
        old = self.records.pop(record_id, None)
        if old is not None:
            self.terms.subtract(record_terms(old))

    def frequencies(self, subject: PreparedRecord | None = None) -> TermFrequencies:
        if subject is None:
            return TermFrequencies(len(self.records), self.terms)
        terms = record_terms(subject)
        return TermFrequencies(len(self.records) + 1, {t: self.terms[t] + 1 for t in terms})

    def candidates(self, subject: PreparedRecord) -> list[PreparedRecord]:
        shared: Counter[str] = Counter()
        for key in prepared_blocking_keys(subject):
            members = self.postings.get(key)
            if members and len(members) <= self.cap:
                shared.update(m for m in members if m != subject.record_id)
        ranked = sorted(shared.items(), key=lambda item: (-item[1], item[0]))[: self.max_candidates]
        return [self.records[i] for i, _ in ranked]


def run(dataset: Dataset, *, review: float = 0.5, options: ScanOptions | None = None) -> EngineRun:
    import time

    options = options or ScanOptions()
    model = MatchModel()
    index = _Index(options.max_block_size, 200)
    bodies: dict[str, dict[str, Any]] = {}
    check: dict[Pair, float] = {}
    refused = 0
    started = time.perf_counter()
    for step in dataset.steps:
        if isinstance(step, Record):
            accepted = accepted_body(step.body, refusal)
            refused += bool(accepted.dropped)
            bodies[step.record_id] = accepted.body
            subject = model.prepare(_profile(accepted.body, step.record_id))
            others = index.candidates(subject)
            if others:
                records = [subject, *others]
                pairs = [(0, i) for i in range(1, len(records))]
                for s in model.score_pairs(records, pairs, index.frequencies(subject)):
                    if s.probability >= review:
                        pair = frozenset((step.record_id, records[s.right].record_id))
                        check[pair] = max(check.get(pair, 0.0), s.probability)
            index.put(subject)
        elif isinstance(step, Update):
            body = merge_patch(bodies[step.record_id], step.patch)
            body = accepted_body(body, refusal).body
            bodies[step.record_id] = body
            # as the match index keeps it: the new record with the old one's addresses and phones as history
            current = model.prepare(_profile(body, step.record_id))
            index.put(with_history(current, index.records.get(step.record_id)))
    check_seconds = time.perf_counter() - started
    started = time.perf_counter()
    scan, trained = scan_pairs(list(index.records.values()), index, options, review)
    return EngineRun(check, scan, refused, check_seconds, time.perf_counter() - started, trained)


def _scan_candidates(index: _Index, options: ScanOptions) -> list[tuple[str, str]]:
    # as ScanStore.pairs_from: one strong key of a small block, or two shared keys of blocks under the cap
    pairs: Counter[tuple[str, str]] = Counter()
    small: set[tuple[str, str]] = set()
    for key, members in index.postings.items():
        size = len(members)
        if size < 2 or size > options.max_block_size:
            continue
        ordered = sorted(members)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                pairs[(a, b)] += 1
                if size <= options.big_block_size and key_is_strong(key):
                    small.add((a, b))
    return sorted(p for p, shared in pairs.items() if shared >= 2 or p in small)


def scan_pairs(
    records: list[PreparedRecord], index: _Index, options: ScanOptions, review: float
) -> tuple[dict[Pair, float], MatchModel]:
    pairs = _scan_candidates(index, options)
    ids = sorted(r.record_id for r in records)
    position = {i: n for n, i in enumerate(ids)}
    ordered = [index.records[i] for i in ids]
    compared = compare_pairs(ordered, [(position[a], position[b]) for a, b in pairs])
    model = MatchModel()
    if len(ordered) >= options.min_training_records:
        # the scan trains on pairs sharing two keys of a sample (here: everyone), then scores all candidates
        training = [(position[a], position[b]) for a, b in _two_keys(index, options)]
        model = estimate(model, ordered, compare_pairs(ordered, training), population=len(ordered), seed=options.seed)
    scored = model.score_pairs(ordered, compared, index.frequencies())
    found = {
        frozenset((ordered[s.left].record_id, ordered[s.right].record_id)): s.probability
        for s in scored
        if s.probability >= review
    }
    return found, model


def _two_keys(index: _Index, options: ScanOptions) -> Iterable[tuple[str, str]]:
    pairs: Counter[tuple[str, str]] = Counter()
    for members in index.postings.values():
        if 2 <= len(members) <= options.max_block_size:
            ordered = sorted(members)
            for i, a in enumerate(ordered):
                for b in ordered[i + 1 :]:
                    pairs[(a, b)] += 1
    return sorted(p for p, shared in pairs.items() if shared >= 2)


def replace_options(options: ScanOptions, **changes: Any) -> ScanOptions:
    return dataclasses.replace(options, **changes)
