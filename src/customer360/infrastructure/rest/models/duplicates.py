"""Request and response models of duplicate detection: checks, the review queue, clusters, scans, the
tenant's thresholds and model. Explanations carry field names, levels and weights, never values."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictBool, StringConstraints

from customer360.infrastructure.rest.models.common import CLEANED, ApiInput, ApiOutput
from customer360.infrastructure.rest.models.customers import CustomerOut

Probability = Annotated[float, Field(gt=0, lt=1)]


class FieldContributionOut(ApiOutput):
    field: str = Field(description="The compared field, or `prior` (the tenant's baseline)")
    level: str = Field(description="Comparison level reached, e.g. exact, typo, fuzzy, different")
    weight: float = Field(description="Contribution to the match weight, in bits (log2 Bayes factor)")


class DuplicateCandidateOut(ApiOutput):
    customer_id: str
    probability: float
    match_weight: float
    explanation: list[FieldContributionOut]


class DuplicateCheckOut(ApiOutput):
    likely_duplicate: bool = Field(description="A candidate is at or above the likely-duplicate threshold")
    likely_threshold: float
    review_threshold: float
    candidates: list[DuplicateCandidateOut] = Field(description="At or above the review threshold, best first")


class LinkOut(ApiOutput):
    method: str
    href: str
    body: dict[str, Any] | None = None


class PairDecisionOut(ApiOutput):
    status: Literal["NOT_DUPLICATE", "MERGED"]
    reason: str
    decided_by: str
    decided_at: datetime
    merge_id: str | None = None


class ReviewRequestOut(ApiOutput):
    reason: str = Field(description="CREATE_OVERRIDE: created despite the likely duplicate (the audit keeps the words)")
    requested_by: str
    requested_at: datetime


class DuplicatePairOut(ApiOutput):
    """A candidate pair with both profiles side by side; the lower id is ``left``."""

    pair_id: str = Field(description="`{lowId}~{highId}`")
    status: Literal["OPEN", "PENDING_REVIEW", "DISMISSED", "MERGED", "RETIRED"] = Field(
        description="PENDING_REVIEW: undecided, queued by a create that overrode the duplicate check (see "
        "`review`); RETIRED: undecided, but one side was merged elsewhere or erased"
    )
    probability: float
    match_weight: float
    explanation: list[FieldContributionOut]
    cluster_id: str | None
    cluster_size: int | None
    scan_id: str | None = Field(description="The scan that scored the pair last (null: queued by a create)")
    found_at: datetime
    left: CustomerOut
    right: CustomerOut
    decision: PairDecisionOut | None = Field(description="A steward's verdict (null while undecided)")
    review: ReviewRequestOut | None = Field(description="Who queued the pair for review and why (PENDING_REVIEW)")
    links: dict[str, LinkOut] = Field(description="dismiss, mergePreview, merge (the merge workflow's endpoints)")


class DuplicatePage(ApiOutput):
    items: list[DuplicatePairOut]
    next_cursor: str | None


class DismissIn(ApiInput):
    note: Annotated[str, StringConstraints(max_length=500), CLEANED] | None = Field(
        None, description="Why they are different customers (kept in the audit trail)"
    )


class DismissOut(ApiOutput):
    pair_id: str
    decision: PairDecisionOut


class ClusterOut(ApiOutput):
    cluster_id: str
    customer_ids: list[str]
    size: int
    max_probability: float
    scan_id: str | None = Field(description="The scan that scored the pair last (null: queued by a create)")
    found_at: datetime


class ClusterPage(ApiOutput):
    items: list[ClusterOut]
    next_cursor: str | None


class ScanProgressOut(ApiOutput):
    processed: int
    total: int


class ScanOut(ApiOutput):
    model_config = ConfigDict(protected_namespaces=())

    job_id: str
    status: Literal["QUEUED", "RUNNING", "INTERRUPTED", "COMPLETED", "FAILED"]
    phase: str = Field(description="INDEX, STOP_KEYS, TRAIN, PAIRS, CLUSTERS, AUTO_MERGE or DONE")
    progress: ScanProgressOut
    result: dict[str, Any] = Field(
        description="Counts: indexed, stopKeys, modelVersion, candidatePairs, storedPairs, clusters, autoMerged"
    )
    error: str | None
    requested_by: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ScanStartedOut(ApiOutput):
    job_id: str
    status: str
    resumed: bool = Field(description="An interrupted or queued scan of the tenant was taken up")


class DuplicatePolicyIn(ApiInput):
    review_threshold: Probability = Field(description="Pairs at or above go to the review queue")
    likely_threshold: Probability = Field(description="POST /customers answers 409 at or above")
    auto_merge: StrictBool = Field(False, description="Scans merge pairs at or above autoMergeThreshold")
    auto_merge_threshold: Probability = Field(0.999, description="…with an identifier (e-mail, phone, tax id) agreeing")


class DuplicatePolicyOut(ApiOutput):
    review_threshold: float
    likely_threshold: float
    auto_merge: bool
    auto_merge_threshold: float
    version: int = Field(description="0: the service's defaults (no tenant settings stored yet)")


class MatchModelOut(ApiOutput):
    model_config = ConfigDict(protected_namespaces=())

    version: int = Field(description="0: the untrained default model")
    source: str = Field(description="DEFAULT, TRAINED (by a scan) or REFINED (by a steward's decision)")
    trained_at: datetime | None
    training: dict[str, Any]
    model: dict[str, Any] = Field(description="MatchModel.to_dict(): prior and per field and level m and u")
