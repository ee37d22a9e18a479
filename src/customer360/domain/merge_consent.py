"""Consent across a merge: both histories are kept, and the effective consent is the most restrictive one.

The current state of a consent key (channel, purpose, contact point) is decided by its latest record
(``domain.consent``). Putting two histories together could let a grant of one side outlive a revocation
of the other. So, for each key where that would happen, the merge *appends* a record with the
restrictive side's status, effective at the merge (source ``MERGE``, the evidence names the record it
follows). History stays append-only, and every reader that applies the ordinary rule sees the
restrictive state. Records captured on the golden record after the merge win as usual.

On unmerge the source's own records go back to it, and:

- on the target, a merge-derived record that still decides its key is followed by a record that
  re-instates the target's own deciding record (its subject never withdrew that consent);
- revocations captured on the golden record while the merge stood are copied to the source when they
  concern the whole channel or one of the source's contact points: a person who said "stop" must not be
  contacted again because a merge was undone.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import datetime

from customer360.domain.consent import (
    CaptureSource,
    ConsentEvidence,
    ConsentRecord,
    ConsentStatus,
    current_consents,
)

# Only GRANTED permits contact; among the others a revocation is the strongest statement.
RESTRICTIVENESS = {
    ConsentStatus.GRANTED: 0,
    ConsentStatus.PENDING: 1,
    ConsentStatus.EXPIRED: 2,
    ConsentStatus.REVOKED: 3,
}
MERGE_CAPTURER = "customer360-merge"


def deciding(records: Iterable[ConsentRecord]) -> dict[str, ConsentRecord]:
    return {r.state_key: r for r in current_consents(records)}


def _follow(
    model: ConsentRecord,
    *,
    customer_id: str,
    text: str,
    effective_at: datetime,
    new_id: Callable[[], str],
    actor: str,
    now: datetime,
) -> ConsentRecord:
    """A new record repeating ``model``'s statement for ``customer_id``, captured by the merge workflow."""
    return model.restate(
        id=new_id(),
        customer_id=customer_id,
        status=model.status,
        source=CaptureSource.MERGE,
        evidence=ConsentEvidence(
            captured_by=MERGE_CAPTURER, captured_at=effective_at if effective_at != now else None, text=text
        ),
        actor=actor,
        now=now,
        # A repeated grant keeps its original term: re-instating it must not make it eternal.
        expires_at=model.expires_at,
    )


def most_restrictive(
    target_records: Collection[ConsentRecord],
    source_records: Collection[ConsentRecord],
    *,
    target_id: str,
    merge_id: str,
    new_id: Callable[[], str],
    actor: str,
    now: datetime,
) -> list[ConsentRecord]:
    """The records a merge appends on the target so that each key keeps its most restrictive state."""
    target, source = deciding(target_records), deciding(source_records)
    combined = deciding([*target_records, *source_records])
    derived = []
    for key in sorted(target.keys() & source.keys()):
        # max() keeps the first of equals: on a tie the target's record is the one followed.
        strictest = max((target[key], source[key]), key=lambda r: RESTRICTIVENESS[r.status])
        if RESTRICTIVENESS[combined[key].status] >= RESTRICTIVENESS[strictest.status]:
            continue
        derived.append(
            _follow(
                strictest,
                customer_id=target_id,
                text=f"Most restrictive consent kept by merge {merge_id} (follows {strictest.id})",
                effective_at=max(now, combined[key].effective_at),
                new_id=new_id,
                actor=actor,
                now=now,
            )
        )
    return derived


def after_unmerge(
    *,
    merge_id: str,
    merged_at: datetime,
    derived_ids: Collection[str],
    target_id: str,
    target_records: Collection[ConsentRecord],
    source_id: str,
    source_records: Collection[ConsentRecord],
    source_points: Collection[str],
    new_id: Callable[[], str],
    actor: str,
    now: datetime,
) -> tuple[list[ConsentRecord], list[ConsentRecord]]:
    """(records to append on the target, records to append on the source) when a merge is undone.

    ``target_records``/``source_records`` are the histories after the source's own records moved back.
    """
    for_target: list[ConsentRecord] = []
    deciding_now = deciding(target_records)
    own = deciding([r for r in target_records if r.id not in derived_ids])
    for record in target_records:
        if record.id not in derived_ids or deciding_now.get(record.state_key) is not record:
            continue
        wanted = own.get(record.state_key)
        if wanted is None or wanted.status is record.status:
            continue
        for_target.append(
            _follow(
                wanted,
                customer_id=target_id,
                text=f"Re-instates {wanted.id}: merge {merge_id} was undone",
                effective_at=max(now, record.effective_at),
                new_id=new_id,
                actor=actor,
                now=now,
            )
        )
    for_source: list[ConsentRecord] = []
    source_state = deciding(source_records)
    for record in target_records:
        carried = (
            record.status is ConsentStatus.REVOKED
            and record.source is not CaptureSource.MERGE
            and record.recorded_at > merged_at
            and (record.contact_point is None or record.contact_point.key in source_points)
        )
        held = source_state.get(record.state_key)
        if not carried or (held and held.status is ConsentStatus.REVOKED and held.effective_at >= record.effective_at):
            continue
        for_source.append(
            _follow(
                record,
                customer_id=source_id,
                text=f"Revocation {record.id} was captured while merge {merge_id} stood; kept after the unmerge",
                effective_at=record.effective_at,
                new_id=new_id,
                actor=actor,
                now=now,
            )
        )
    return for_target, for_source
