"""Stewards' decisions as labelled pairs for the model's refinement (``MatchModel.refine``).

Dismissed and unmerged pairs (``NOT_DUPLICATE``) compare the two profiles as they are now; merged pairs
compare the merge's before-images (the golden record agrees with its source by construction). Pairs
involving an erased profile are left out, and so are pairs only queued for review (``PENDING_REVIEW``:
a profile created despite the check is the creator's wish, not a verdict).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from customer360.domain.duplicates import match_record_of
from customer360.domain.matching import LabelledPair
from customer360.domain.merge import PairStatus
from customer360.infrastructure.persistence.customer_repository import SqlCustomerRepository
from customer360.infrastructure.persistence.merge_documents import record_from

_DECISIONS = text(
    """
    SELECT d.low_id, d.high_id, d.status, m.id, m.target_id, m.source_id, m.reason, m.status AS merge_status,
           m.record, m.merged_at, m.merged_by, m.unmerged_at, m.unmerged_by, m.unmerge_report
      FROM duplicate_pair d
      JOIN customer_profile l ON l.tenant_id = d.tenant_id AND l.id = d.low_id
      JOIN customer_profile h ON h.tenant_id = d.tenant_id AND h.id = d.high_id
      LEFT JOIN customer_merge m ON m.tenant_id = d.tenant_id AND m.id = d.merge_id
     WHERE d.tenant_id = :tenant AND l.status <> 'ERASED' AND h.status <> 'ERASED'
       AND d.status IN ('MERGED', 'NOT_DUPLICATE')
     ORDER BY d.low_id, d.high_id
    """
)


async def decision_labels(connection: AsyncConnection, tenant_id: str) -> list[LabelledPair]:
    labelled: list[LabelledPair] = []
    rows = (await connection.execute(_DECISIONS, {"tenant": tenant_id})).mappings().all()
    repository = SqlCustomerRepository(connection, tenant_id)
    for row in rows:
        if row["status"] == PairStatus.MERGED.value and row["id"] is not None:
            record = record_from({**row, "status": row["merge_status"]})
            left, right = record.target_before, record.source_before
            labelled.append(
                LabelledPair(
                    match_record_of(left.customer_id, left.attributes, left.contacts),
                    match_record_of(right.customer_id, right.attributes, right.contacts),
                    is_match=True,
                )
            )
        elif row["status"] == PairStatus.NOT_DUPLICATE.value:
            low, high = await repository.get(row["low_id"]), await repository.get(row["high_id"])
            labelled.append(
                LabelledPair(
                    match_record_of(low.id, low.attributes, low.contacts),
                    match_record_of(high.id, high.attributes, high.contacts),
                    is_match=False,
                )
            )
    return labelled
