"""In-memory fake of the duplicate-detection port (``uow.duplicates``), for unit tests of the handlers.

Candidates are the committed, matchable profiles sharing a blocking key with the subject, as in the SQL
adapter (which also drops over-shared keys and caps the number; test populations stay far below both).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from customer360.application.duplicate_ports import CandidateRow, Matching, MatchingLimits, StoredModel
from customer360.domain.duplicates import MATCHABLE_STATUSES, DuplicatePolicy, match_record_of
from customer360.domain.errors import ConcurrentModification
from customer360.domain.events import DomainEvent
from customer360.domain.matching import (
    MatchModel,
    MatchRecord,
    PreparedRecord,
    TermFrequencies,
    prepare,
    prepared_blocking_keys,
    record_terms,
)
from customer360.domain.merge import PairDecision

if TYPE_CHECKING:
    from tests.unit.fakes import Store


@dataclass
class DuplicateState:
    policy: DuplicatePolicy = field(default_factory=DuplicatePolicy)
    model: MatchModel = field(default_factory=MatchModel)
    model_version: int = 0
    model_sources: list[str] = field(default_factory=list)
    audited: list[DomainEvent] = field(default_factory=list)
    queued: dict[tuple[str, str], CandidateRow] = field(default_factory=dict)


class FakeDuplicates:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._state: DuplicateState = store.duplicates
        self.events: list[DomainEvent] = []

    async def matching(self) -> Matching:
        state = self._state
        return Matching(state.policy, state.model, state.model_version, MatchingLimits())

    async def candidates(self, subject: PreparedRecord, *, exclude_decided: bool) -> list[PreparedRecord]:
        keys = prepared_blocking_keys(subject)
        found = []
        for profile in self._store.profiles.values():
            if profile.id == subject.record_id or profile.status not in MATCHABLE_STATUSES:
                continue
            decided = self._store.pairs.get((min(profile.id, subject.record_id), max(profile.id, subject.record_id)))
            if exclude_decided and decided is not None and decided.status.is_verdict:
                continue
            record = prepare(match_record_of(profile.id, profile.attributes, profile.contacts))
            if keys & prepared_blocking_keys(record):
                found.append(record)
        return found

    async def check_subject(
        self, record: MatchRecord, *, exclude_decided: bool
    ) -> tuple[Matching, PreparedRecord, list[PreparedRecord]]:
        matching = await self.matching()
        subject = matching.model.prepare(record)
        return matching, subject, await self.candidates(subject, exclude_decided=exclude_decided)

    async def frequencies(self, subject: PreparedRecord) -> TermFrequencies:
        counts: Counter[str] = Counter(record_terms(subject))
        for profile in self._store.profiles.values():
            if profile.id != subject.record_id and profile.status in MATCHABLE_STATUSES:
                counts.update(record_terms(prepare(match_record_of(profile.id, profile.attributes, profile.contacts))))
        return TermFrequencies(population=len(self._store.profiles) + 1, counts=counts)

    async def decision(self, low_id: str, high_id: str) -> PairDecision | None:
        return self._store.pairs.get((low_id, high_id))

    async def queue_for_review(self, rows: Sequence[CandidateRow], *, found_at: datetime) -> None:
        for row in rows:
            self._state.queued.setdefault((row.low_id, row.high_id), row)

    async def save_policy(self, policy: DuplicatePolicy, *, actor: str, now: datetime) -> DuplicatePolicy:
        if policy.version != self._state.policy.version:
            raise ConcurrentModification("The duplicate-detection settings were changed concurrently")
        saved = dataclasses.replace(policy, version=policy.version + 1)
        self._state.policy = saved
        return saved

    async def model_for_update(self) -> StoredModel:
        state = self._state
        return StoredModel(state.model, state.model_version, (state.model_sources or ["DEFAULT"])[-1], None)

    async def save_model(
        self, model: MatchModel, *, source: str, actor: str, now: datetime, training: Mapping[str, Any] | None = None
    ) -> int:
        self._state.model = model
        self._state.model_version += 1
        self._state.model_sources.append(source)
        return self._state.model_version
