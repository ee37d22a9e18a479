"""Use cases of duplicate detection in the request path: the real-time check (on create, ad hoc, for an
existing profile), dismissing a pair, and the tenant's thresholds. The batch scan is ``duplicate_scan``.

**The real-time check.** The subject's blocking keys select the profiles sharing one (``uow.duplicates``
reads a few rows per key and skips stop keys); the tenant's model scores them; candidates at or above
the threshold are returned best first with their explanations (field, level, weight — never values).
On create, a candidate at or above the tenant's *likely duplicate* threshold refuses the profile with
``DuplicateCustomer`` (409) unless the caller overrides with a reason: then the profile is created, the
override is audited on it, and each listed candidate is put in the review queue with it as
``PENDING_REVIEW`` (reason ``CREATE_OVERRIDE``). "Create anyway" is the creator's wish, not a steward's
verdict: the pair is not settled, scans keep scoring it, and it never trains the model — else a tenant
whose clerks override often would teach its model that duplicates are different customers.

**Dismissing** records the pair as ``NOT_DUPLICATE`` in the merge workflow's pair decisions (which
unmerge also writes), audits it on both profiles and refines the tenant's model with the decision.
Verdicts — a dismissal, a merge, an unmerge — are the only labels the model learns from.
Handlers never commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from customer360.application.duplicate_ports import CandidateRow, Matching
from customer360.application.environment import HandlerEnv
from customer360.application.inputs import ContactInput, ProfileInput
from customer360.application.ports import UnitOfWork
from customer360.application.profile_input import parse_contacts, parse_profile
from customer360.domain.customer import CustomerProfile
from customer360.domain.duplicates import (
    MATCHABLE_STATUSES,
    NEW_PROFILE_ID,
    DuplicateActivity,
    DuplicateCandidate,
    DuplicatePolicy,
    duplicate_found,
    match_record_of,
    rank_candidates,
)
from customer360.domain.errors import BusinessRuleViolation, Conflict, VersionMismatch
from customer360.domain.events import FieldChange
from customer360.domain.matching import LabelledPair, MatchRecord, PreparedRecord
from customer360.domain.merge import PairDecision, PairStatus
from customer360.domain.profile_attributes import Contact
from customer360.domain.values import clean_optional_text

OVERRIDE_REASON = "CREATE_OVERRIDE"
DISMISSED_REASON = "DISMISSED"


@dataclass(frozen=True, slots=True)
class DuplicateCheck:
    """Attached to a create: ``override_reason`` None refuses likely duplicates, a reason overrides."""

    override_reason: str | None = None


@dataclass(frozen=True, slots=True)
class CheckResult:
    likely_duplicate: bool
    likely_threshold: float
    review_threshold: float
    candidates: list[DuplicateCandidate]


async def find_candidates(
    uow: UnitOfWork, record: MatchRecord, *, exclude_decided: bool, likely: bool
) -> tuple[Matching, list[DuplicateCandidate]]:
    """The tenant's matching and the candidates of ``record`` at or above its likely threshold (``likely``)
    or its review threshold, best first."""
    matching, subject, others = await uow.duplicates.check_subject(record, exclude_decided=exclude_decided)
    policy = matching.policy
    threshold = policy.likely_threshold if likely else policy.review_threshold
    return matching, await _ranked(uow, matching, subject, others, threshold)


async def _ranked(
    uow: UnitOfWork, matching: Matching, subject: PreparedRecord, others: list[PreparedRecord], threshold: float
) -> list[DuplicateCandidate]:
    if not others:
        return []
    frequencies = await uow.duplicates.frequencies(subject)
    return rank_candidates(
        matching.model, subject, others, threshold=threshold, limit=matching.limits.results, frequencies=frequencies
    )


def _result(matching: Matching, candidates: list[DuplicateCandidate]) -> CheckResult:
    policy = matching.policy
    return CheckResult(
        likely_duplicate=any(c.probability >= policy.likely_threshold for c in candidates),
        likely_threshold=policy.likely_threshold,
        review_threshold=policy.review_threshold,
        candidates=candidates,
    )


# -- on create -----------------------------------------------------------------------------------------
async def check_on_create(profile: CustomerProfile, check: DuplicateCheck, uow: UnitOfWork, env: HandlerEnv) -> None:
    """Refuse a likely duplicate, or record the override (the profile must be added to the unit of work)."""
    record = match_record_of(profile.id, profile.attributes, profile.contacts)
    matching, candidates = await find_candidates(uow, record, exclude_decided=False, likely=True)
    threshold = matching.policy.likely_threshold
    if not candidates:
        return
    if check.override_reason is None:
        raise duplicate_found(candidates, threshold)
    now = env.clock.now()
    uow.duplicates.events.append(
        DuplicateActivity(
            customer_id=profile.id,
            occurred_at=now,
            actor=env.context.actor,
            what="DUPLICATE_OVERRIDE",
            changes=(
                FieldChange("overrideReason", None, check.override_reason),
                FieldChange(
                    "candidates",
                    None,
                    [{"customerId": c.customer_id, "probability": round(c.probability, 6)} for c in candidates],
                ),
                FieldChange("likelyThreshold", None, threshold),
            ),
        )
    )
    for candidate in candidates:
        await uow.merges.decide_pair(
            PairDecision.of(
                profile.id,
                candidate.customer_id,
                PairStatus.PENDING_REVIEW,
                reason=OVERRIDE_REASON,
                decided_by=env.context.actor,
                decided_at=now,
            )
        )
    await uow.duplicates.queue_for_review([_queued(profile.id, c) for c in candidates], found_at=now)


def _queued(customer_id: str, candidate: DuplicateCandidate) -> CandidateRow:
    low, high = sorted((customer_id, candidate.customer_id))
    explanation = [c.to_dict() for c in candidate.explanation]
    return CandidateRow(low, high, candidate.probability, candidate.match_weight, explanation)


# -- ad-hoc checks -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CheckDuplicates:
    """Would this profile (the create body) duplicate an existing one? Nothing is written."""

    attributes: ProfileInput
    contacts: tuple[ContactInput, ...] = ()


async def check_duplicates(cmd: CheckDuplicates, uow: UnitOfWork, env: HandlerEnv) -> CheckResult:
    now = env.clock.now()
    attributes = parse_profile(cmd.attributes, region=env.phone_region, today=now.date())
    contacts = [
        Contact(id=f"{NEW_PROFILE_ID}-{i}", attributes=parsed, created_at=now, updated_at=now)
        for i, parsed in enumerate(parse_contacts(cmd.contacts, region=env.phone_region))
    ]
    record = match_record_of(NEW_PROFILE_ID, attributes, contacts)
    return _result(*await find_candidates(uow, record, exclude_decided=False, likely=False))


@dataclass(frozen=True, slots=True)
class DuplicatesOf:
    """Candidates for an existing profile now (pairs already decided are left out)."""

    customer_id: str


async def duplicates_of(cmd: DuplicatesOf, uow: UnitOfWork, env: HandlerEnv) -> CheckResult:
    profile = await uow.customers.get(cmd.customer_id)
    profile.check_is_not_merged()
    if profile.status not in MATCHABLE_STATUSES:
        return _result(await uow.duplicates.matching(), [])
    record = match_record_of(profile.id, profile.attributes, profile.contacts)
    return _result(*await find_candidates(uow, record, exclude_decided=True, likely=False))


# -- dismissing ----------------------------------------------------------------------------------------
class PairAlreadyMerged(Conflict):
    code = "PAIR_ALREADY_MERGED"

    def __init__(self, low_id: str, high_id: str) -> None:
        super().__init__("The two profiles were merged; unmerge them instead", {"customerIds": [low_id, high_id]})


@dataclass(frozen=True, slots=True)
class DismissPair:
    low_id: str
    high_id: str
    note: str | None = None


async def dismiss_pair(cmd: DismissPair, uow: UnitOfWork, env: HandlerEnv) -> PairDecision:
    """Record "not a duplicate" (idempotent), audit it on both profiles, refine the model with it."""
    note = clean_optional_text(cmd.note, "note", max_length=500)
    low = await uow.customers.get(cmd.low_id)
    high = await uow.customers.get(cmd.high_id)
    existing = await uow.duplicates.decision(low.id, high.id)
    if existing is not None and existing.status is PairStatus.MERGED:
        raise PairAlreadyMerged(low.id, high.id)
    if existing is not None and existing.status.is_verdict:
        return existing
    for profile in (low, high):
        profile.check_is_not_merged()
        if profile.status not in MATCHABLE_STATUSES:
            raise BusinessRuleViolation(
                "CUSTOMER_NOT_MATCHABLE", "An erased profile takes no part in matching", {"customerId": profile.id}
            )
    now = env.clock.now()
    decision = PairDecision.of(
        low.id, high.id, PairStatus.NOT_DUPLICATE, reason=DISMISSED_REASON, decided_by=env.context.actor, decided_at=now
    )
    await uow.merges.decide_pair(decision)
    for profile, other in ((low, high), (high, low)):
        changes = [FieldChange("decision", None, PairStatus.NOT_DUPLICATE.value)]
        if note:
            changes.append(FieldChange("note", None, note))
        uow.duplicates.events.append(
            DuplicateActivity(
                customer_id=profile.id,
                occurred_at=now,
                actor=env.context.actor,
                what="DUPLICATE_DISMISSED",
                other_customer_id=other.id,
                changes=tuple(changes),
            )
        )
    stored = await uow.duplicates.model_for_update()
    left, right = (match_record_of(p.id, p.attributes, p.contacts) for p in (low, high))
    refined = stored.model.refine([LabelledPair(left, right, is_match=False)])
    await uow.duplicates.save_model(refined, source="REFINED", actor=env.context.actor, now=now)
    return decision


# -- thresholds ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UpdateDuplicatePolicy:
    review_threshold: float
    likely_threshold: float
    auto_merge: bool
    auto_merge_threshold: float
    expected_version: int | None = None


async def update_duplicate_policy(cmd: UpdateDuplicatePolicy, uow: UnitOfWork, env: HandlerEnv) -> DuplicatePolicy:
    current = (await uow.duplicates.matching()).policy
    if cmd.expected_version is not None and cmd.expected_version != current.version:
        raise VersionMismatch("duplicate-settings", cmd.expected_version, current.version)
    version = current.version
    policy = DuplicatePolicy(
        review_threshold=cmd.review_threshold,
        likely_threshold=cmd.likely_threshold,
        auto_merge=cmd.auto_merge,
        auto_merge_threshold=cmd.auto_merge_threshold,
        version=version,
    )
    return await uow.duplicates.save_policy(policy, actor=env.context.actor, now=env.clock.now())
