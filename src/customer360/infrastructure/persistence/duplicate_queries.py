"""Read side of duplicate detection: the review queue (both profiles side by side), clusters, scan jobs,
the tenant's model and thresholds. Documents come straight from SQL (``customer_json``)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from customer360.application.queries import Document, Page, QueueFilter
from customer360.domain.duplicates import DuplicatePolicy, pair_id
from customer360.domain.errors import InvalidValue
from customer360.infrastructure.persistence.database import tenant_transaction
from customer360.infrastructure.persistence.match_index import policy_from_row, stored_model_from_row
from customer360.infrastructure.persistence.profile_queries import decode_cursor, encode_cursor
from customer360.infrastructure.persistence.scan_lock import scan_running

_LIVE = "l.status NOT IN ('MERGED', 'ERASED') AND h.status NOT IN ('MERGED', 'ERASED')"
_STATUS_FILTERS = {
    # Undecided, and both profiles still take part in matching (a merge elsewhere retires the pair).
    "OPEN": f"(d.status IS NULL OR d.status = 'PENDING_REVIEW') AND {_LIVE}",
    "PENDING_REVIEW": f"d.status = 'PENDING_REVIEW' AND {_LIVE}",
    "DISMISSED": "d.status = 'NOT_DUPLICATE'",
    "MERGED": "d.status = 'MERGED'",
    "ALL": "TRUE",
}


def _queue_sql(status: str, with_cursor: bool) -> Any:
    after = "AND (c.probability, c.low_id, c.high_id) < (:after_p, :after_low, :after_high)" if with_cursor else ""
    return text(
        f"""
        SELECT c.low_id, c.high_id, c.probability, c.match_weight, c.explanation, c.cluster_id, c.scan_id,
               c.found_at, cl.size AS cluster_size, d.status AS decision, d.reason, d.decided_by, d.decided_at,
               d.merge_id, crm_customer360.customer_json(l) AS left_doc, crm_customer360.customer_json(h) AS right_doc,
               l.status AS left_status, h.status AS right_status
          FROM duplicate_candidate c
          JOIN customer_profile l ON l.tenant_id = c.tenant_id AND l.id = c.low_id
          JOIN customer_profile h ON h.tenant_id = c.tenant_id AND h.id = c.high_id
          LEFT JOIN duplicate_pair d ON d.tenant_id = c.tenant_id AND d.low_id = c.low_id AND d.high_id = c.high_id
          LEFT JOIN duplicate_cluster cl ON cl.tenant_id = c.tenant_id AND cl.id = c.cluster_id
         WHERE c.tenant_id = :tenant AND c.probability >= :min_p AND c.probability <= :max_p
           AND {_STATUS_FILTERS[status]}
           AND (CAST(:cluster AS text) IS NULL OR c.cluster_id = :cluster)
           AND (CAST(:customer AS text) IS NULL OR c.low_id = :customer OR c.high_id = :customer)
           {after}
         ORDER BY c.probability DESC, c.low_id DESC, c.high_id DESC
         LIMIT :limit
        """
    )


def queue_status(row: Any) -> str:
    if row.decision == "MERGED":
        return "MERGED"
    if row.decision == "NOT_DUPLICATE":
        return "DISMISSED"
    if "MERGED" in (row.left_status, row.right_status) or "ERASED" in (row.left_status, row.right_status):
        return "RETIRED"
    return "PENDING_REVIEW" if row.decision == "PENDING_REVIEW" else "OPEN"


def queue_item(row: Any) -> Document:
    low, high = row.low_id, row.high_id
    item: Document = {
        "pairId": pair_id(low, high),
        "status": queue_status(row),
        "probability": row.probability,
        "matchWeight": row.match_weight,
        "explanation": row.explanation,
        "clusterId": row.cluster_id,
        "clusterSize": row.cluster_size,
        "scanId": row.scan_id,
        "foundAt": row.found_at,
        "left": row.left_doc,
        "right": row.right_doc,
        "decision": None,
        "review": None,
        "links": {
            "dismiss": {"method": "POST", "href": f"/api/v1/crm/duplicates/{pair_id(low, high)}/dismiss"},
            "mergePreview": {
                "method": "POST",
                "href": f"/api/v1/crm/customers/{low}/merge/preview",
                "body": {"sourceCustomerId": high},
            },
            "merge": {
                "method": "POST",
                "href": f"/api/v1/crm/customers/{low}/merge",
                "body": {
                    "sourceCustomerId": high,
                    "mergeReason": "DUPLICATE",
                    "targetVersion": row.left_doc["version"],
                    "sourceVersion": row.right_doc["version"],
                },
            },
        },
    }
    if row.decision == "PENDING_REVIEW":
        item["review"] = {"reason": row.reason, "requestedBy": row.decided_by, "requestedAt": row.decided_at}
    elif row.decision is not None:
        item["decision"] = {
            "status": row.decision,
            "reason": row.reason,
            "decidedBy": row.decided_by,
            "decidedAt": row.decided_at,
            "mergeId": row.merge_id,
        }
    return item


def _cursor(row: Any) -> str:
    return encode_cursor(f"{row.probability!r}|{row.low_id}|{row.high_id}")


def _after(cursor: str | None) -> tuple[float, str, str] | None:
    value = decode_cursor(cursor)
    if value is None:
        return None
    try:
        probability, low, high = value.split("|")
        return float(probability), low, high
    except ValueError:
        raise InvalidValue("cursor", "is not a cursor returned by this API") from None


class SqlDuplicateQueries:
    def __init__(self, engine: AsyncEngine, default_policy: DuplicatePolicy) -> None:
        self._engine = engine
        self._default = default_policy

    async def queue(self, tenant_id: str, f: QueueFilter) -> Page:
        after = _after(f.cursor)
        params: dict[str, Any] = {
            "tenant": tenant_id,
            "min_p": f.min_probability,
            "max_p": f.max_probability,
            "cluster": f.cluster_id,
            "customer": f.customer_id,
            "limit": f.limit + 1,
        }
        if after is not None:
            params |= {"after_p": after[0], "after_low": after[1], "after_high": after[2]}
        async with tenant_transaction(self._engine, tenant_id) as connection:
            rows = (await connection.execute(_queue_sql(f.status, after is not None), params)).all()
        more = len(rows) > f.limit
        rows = rows[: f.limit]
        return Page([queue_item(r) for r in rows], _cursor(rows[-1]) if more and rows else None)

    async def clusters(self, tenant_id: str, cursor: str | None, limit: int) -> Page:
        after = _after(cursor)
        condition = "AND (max_probability, id) < (:after_p, :after_id)" if after else ""
        params: dict[str, Any] = {"tenant": tenant_id, "limit": limit + 1}
        if after is not None:
            params |= {"after_p": after[0], "after_id": after[1]}
        async with tenant_transaction(self._engine, tenant_id) as connection:
            rows = (
                await connection.execute(
                    text(
                        f"""SELECT id, members, size, max_probability, scan_id, found_at FROM duplicate_cluster
                             WHERE tenant_id = :tenant {condition}
                             ORDER BY max_probability DESC, id DESC LIMIT :limit"""
                    ),
                    params,
                )
            ).all()
        more = len(rows) > limit
        rows = rows[:limit]
        items = [
            {
                "clusterId": r.id,
                "customerIds": list(r.members),
                "size": r.size,
                "maxProbability": r.max_probability,
                "scanId": r.scan_id,
                "foundAt": r.found_at,
            }
            for r in rows
        ]
        next_cursor = encode_cursor(f"{rows[-1].max_probability!r}|{rows[-1].id}|{rows[-1].id}") if more else None
        return Page(items, next_cursor)

    async def scan(self, tenant_id: str, scan_id: str) -> Document | None:
        async with tenant_transaction(self._engine, tenant_id) as connection:
            row = (
                await connection.execute(
                    text("SELECT * FROM duplicate_scan WHERE tenant_id = :tenant AND id = :id"),
                    {"tenant": tenant_id, "id": scan_id},
                )
            ).first()
            if row is None:
                return None
            running = row.status == "RUNNING" and await scan_running(connection, tenant_id)
        status = row.status
        if status == "RUNNING" and not running:
            status = "INTERRUPTED"
        return {
            "jobId": row.id,
            "status": status,
            "phase": row.phase,
            "progress": {"processed": row.processed, "total": row.total},
            "result": row.result,
            "error": row.error,
            "requestedBy": row.requested_by,
            "requestedAt": row.requested_at,
            "startedAt": row.started_at,
            "finishedAt": row.finished_at,
        }

    async def model(self, tenant_id: str) -> Document:
        async with tenant_transaction(self._engine, tenant_id) as connection:
            row = (
                await connection.execute(
                    text(
                        "SELECT document, version, source, trained_at, training FROM match_model "
                        "WHERE tenant_id = :tenant"
                    ),
                    {"tenant": tenant_id},
                )
            ).first()
        stored = stored_model_from_row(row)
        return {
            "version": stored.version,
            "source": stored.source,
            "trainedAt": stored.trained_at,
            "training": dict(stored.training),
            "model": orjson.loads(orjson.dumps(stored.model.to_dict())),
        }

    async def policy(self, tenant_id: str) -> DuplicatePolicy:
        async with tenant_transaction(self._engine, tenant_id) as connection:
            row = (
                await connection.execute(
                    text("SELECT * FROM duplicate_policy WHERE tenant_id = :tenant"), {"tenant": tenant_id}
                )
            ).first()
        return policy_from_row(row, self._default)
