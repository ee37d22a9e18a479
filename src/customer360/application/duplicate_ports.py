"""Driven ports of duplicate detection.

``DuplicateIndex`` is part of the unit of work (``uow.duplicates``): the real-time check, dismissals,
the tenant's thresholds and model all read and write in the command's transaction. ``ScanStore`` is
what a batch scan needs; it works in short transactions of its own, one per chunk, so a scan can stop
anywhere and resume from its last checkpoint.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from customer360.domain.duplicates import DuplicatePolicy
from customer360.domain.events import DomainEvent
from customer360.domain.matching import LabelledPair, MatchModel, MatchRecord, PreparedRecord, TermFrequencies
from customer360.domain.merge import PairDecision

T = TypeVar("T")


class Offload(Protocol):
    """Runs a pure, CPU-bound function on another core (the scan's Python work holds one) and awaits its
    result: the scan blocks a tenant read whole there while it decodes the records, estimates the chance
    agreements there while it compares, and compares and scores half of the candidate pairs there."""

    def __call__(self, function: Callable[[], T], /) -> Awaitable[T]: ...


@dataclass(frozen=True, slots=True)
class MatchingLimits:
    """The service's matching limits (settings)."""

    max_block_size: int = 100
    max_candidates: int = 200
    results: int = 10


@dataclass(frozen=True, slots=True)
class Matching:
    """What a check needs: the tenant's thresholds, its model (or the default) and the limits."""

    policy: DuplicatePolicy
    model: MatchModel
    model_version: int
    limits: MatchingLimits


@dataclass(frozen=True, slots=True)
class StoredModel:
    model: MatchModel
    version: int
    source: str
    trained_at: datetime | None
    training: Mapping[str, Any] = field(default_factory=dict)


class DuplicateIndex(Protocol):
    """Matching data of the tenant, inside the unit of work."""

    events: list[DomainEvent]

    async def matching(self) -> Matching: ...

    async def candidates(self, subject: PreparedRecord, *, exclude_decided: bool) -> list[PreparedRecord]:
        """Profiles sharing a blocking key with ``subject`` (stop keys and over-shared keys skipped, best
        ``max_candidates`` by shared keys), never ``subject`` itself; with ``exclude_decided`` not those
        with a steward's verdict about the pair (a pair only queued for review is still a candidate)."""
        ...

    async def check_subject(
        self, record: MatchRecord, *, exclude_decided: bool
    ) -> tuple[Matching, PreparedRecord, list[PreparedRecord]]:
        """`matching`, ``record`` prepared by its model, and that subject's `candidates`, together (a check
        needs all three; one round trip)."""
        ...

    async def frequencies(self, subject: PreparedRecord) -> TermFrequencies:
        """How many profiles hold the subject's names and premise (the subject counted in), for the
        term-frequency weights of exact agreements."""
        ...

    async def decision(self, low_id: str, high_id: str) -> PairDecision | None: ...

    async def queue_for_review(self, rows: Sequence[CandidateRow], *, found_at: datetime) -> None:
        """Put scored pairs in the review queue now (not from a scan): they stay there until a steward
        decides, and a scan that scores them again updates their score."""
        ...

    async def save_policy(self, policy: DuplicatePolicy, *, actor: str, now: datetime) -> DuplicatePolicy:
        """Store with an optimistic check on ``policy.version``; return it with its new version."""
        ...

    async def model_for_update(self) -> StoredModel:
        """The tenant's model, locked until the end of the transaction (the default when none is stored)."""
        ...

    async def save_model(
        self, model: MatchModel, *, source: str, actor: str, now: datetime, training: Mapping[str, Any] | None = None
    ) -> int:
        """Store the model (after `model_for_update`); return its new version."""
        ...


@dataclass(frozen=True, slots=True)
class ScanJob:
    """A batch scan as stored: where it is and what it found so far."""

    id: str
    status: str
    phase: str
    checkpoint: Mapping[str, Any]
    processed: int
    total: int
    result: Mapping[str, Any]
    requested_by: str
    requested_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CandidateRow:
    """A scored pair kept for review (lower id first)."""

    low_id: str
    high_id: str
    probability: float
    match_weight: float
    explanation: Sequence[Mapping[str, Any]]
    cluster_id: str | None = None
    """Set when the scan grouped its pairs before storing them (a tenant read whole)."""


StoredPair = tuple[str, str, float, float, str, str | None]
"""A pair as a scan of a tenant read whole stores it: low id, high id, probability, match weight, the
explanation's text (`ScanStore.explanation_text`), cluster id."""


@dataclass(frozen=True, slots=True)
class Everything:
    """A whole tenant read at once: its records in id order, the candidate pairs among them
    (positions, lower first, with the number of keys they share), decided pairs left out, and the keys
    shared by more than the big-block size (key hash, profiles)."""

    records: Sequence[PreparedRecord]
    pairs: Sequence[tuple[int, int, int]]
    big_keys: Sequence[tuple[int, int]] = ()


Decoder = Callable[[Sequence[int] | None], list[PreparedRecord]]
"""The records at these positions of a tenant read whole (``None``: all), decoded from its rows."""


class WholeWriter(Protocol):
    async def save(
        self,
        saves: Sequence[tuple[ScanJob, Sequence[StoredPair]]],
        clustered: tuple[ScanJob, Sequence[tuple[str, Sequence[str], float]]],
        now: datetime,
        *,
        stored: int,
        saved: Callable[[ScanJob], Awaitable[None]],
    ) -> None:
        """Each (job, pairs) of ``saves`` as `ScanStore.save_chunk` does, and the clusters of ``clustered``
        with its job (past CLUSTERS) as `ScanStore.save_clusters` does for pairs stored with their cluster
        (``stored`` pairs in all). Written at once, committed in order (no checkpoint before the pairs it
        has passed, no clusters before all pairs), ``saved`` called with each job once committed."""
        ...

    async def aclose(self) -> None: ...


class ScanStore(Protocol):
    """Persistence of one tenant's batch scan; each method is its own short transaction."""

    async def policy_and_model(self) -> tuple[DuplicatePolicy, StoredModel]: ...

    async def index_missing(self, limit: int) -> int:
        """Index up to ``limit`` matchable profiles that have no matching data yet; return how many."""
        ...

    async def count_unindexed(self) -> int: ...

    async def refresh_stop_keys(self, big_block_size: int, now: datetime) -> int:
        """List every key shared by more than ``big_block_size`` profiles, with its count; return how many."""
        ...

    async def store_stop_keys(self, big_keys: Sequence[tuple[int, int]], now: datetime) -> int:
        """List these keys (key hash, profiles) as the tenant's big keys, in place of the listed ones; return
        how many (the keys `refresh_stop_keys` would list, counted from a tenant read whole)."""
        ...

    async def count_stop_keys(self, max_block_size: int) -> int:
        """How many listed keys are stop keys (shared by more than ``max_block_size`` profiles)."""
        ...

    async def count_records(self) -> int: ...

    async def sample(self, size: int, seed: int) -> list[PreparedRecord]:
        """About ``size`` random matchable records (all of them when there are fewer)."""
        ...

    async def next_chunk(self, after: str | None, size: int) -> list[str]:
        """The next ``size`` matchable profile ids after ``after``, in id order."""
        ...

    async def pairs_from(
        self, low_ids: Sequence[str], max_block_size: int, *, min_shared_keys: int = 1
    ) -> list[tuple[str, str]]:
        """Candidate pairs (low, high) whose lower id is one of ``low_ids``, never a pair already decided:
        sharing two keys that are not stop keys, or (with ``min_shared_keys`` 1) one that is not big."""
        ...

    async def records(self, ids: Sequence[str]) -> dict[str, PreparedRecord]: ...

    async def everything(
        self,
        max_block_size: int,
        big_block_size: int,
        offload: Offload | None = None,
        *,
        fetched: Callable[[int, Decoder], None] | None = None,
    ) -> Everything:
        """Every matchable record and the pairs ``pairs_from`` would give, for a tenant read in one go
        (with ``offload``: the pairs found there while the records are decoded here). ``fetched`` is
        called as soon as the rows are read, before they are decoded, with their number and a function
        that decodes those at the positions given (all of them for ``None``)."""
        ...

    async def term_frequencies(self) -> TermFrequencies:
        """The tenant's term counts (every term held by two or more profiles) and its size."""
        ...

    async def labelled_pairs(self) -> list[LabelledPair]:
        """Stewards' decisions as labelled pairs (merges from the merge's before-images)."""
        ...

    async def save_model(self, model: MatchModel, *, actor: str, now: datetime, training: Mapping[str, Any]) -> int: ...

    async def load_model(self) -> StoredModel: ...

    async def job(self, scan_id: str) -> ScanJob | None: ...

    async def unfinished(self) -> ScanJob | None:
        """The latest job that is queued or was interrupted while running."""
        ...

    async def save_job(self, job: ScanJob) -> None: ...

    async def save_chunk(self, job: ScanJob, rows: Sequence[CandidateRow], now: datetime) -> None:
        """Store the chunk's pairs and the job's new checkpoint together (resume never loses or repeats)."""
        ...

    def explanation_text(self, explanation: Sequence[Mapping[str, Any]]) -> str:
        """An explanation as this store writes it (JSON): made where a pair is scored (in a forked child
        too: it reads nothing but its argument), sent back as one string instead of a list of dicts."""
        ...

    def whole_writer(self, parts: int) -> WholeWriter:
        """What stores a tenant scored whole: its pairs in ``parts`` parts and its clusters, each a
        transaction of its own. Its connections are made ready from now on, in the background (checked
        out, their statements prepared), for `WholeWriter.save`; ``aclose`` gives them back."""
        ...

    async def scan_pairs(self, scan_id: str) -> list[tuple[str, str, float]]: ...

    async def save_clusters(
        self, scan_id: str, clusters: Sequence[tuple[str, Sequence[str], float]], now: datetime
    ) -> int:
        """Replace the tenant's clusters, label this scan's pairs with them, drop older scans' pairs."""
        ...

    async def auto_merge_pairs(self, scan_id: str, threshold: float) -> list[CandidateRow]: ...


class ScanStarter(Protocol):
    async def start(self, tenant_id: str, actor: str) -> tuple[ScanJob, bool]:
        """Queue a new scan job (or take up the tenant's queued or interrupted one) and start it; the bool
        says whether an existing job is resumed. Raises ScanInProgress while one runs."""
        ...
