"""Read side of relationships and of the account hierarchy (recursive walks up and down)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from customer360.application.queries import Document
from customer360.infrastructure.persistence.database import tenant_transaction
from customer360.infrastructure.persistence.pending_writes import SqlExecutor
from customer360.infrastructure.persistence.profile_queries import customer_exists
from customer360.infrastructure.persistence.relationship_repository import MAX_HIERARCHY_DEPTH

_VALID_ON = "(r.valid_from IS NULL OR r.valid_from <= :on) AND (r.valid_to IS NULL OR r.valid_to >= :on)"

_RELATIONSHIPS = text(
    """
    SELECT r.id, r.type, r.from_customer_id, r.to_customer_id, r.valid_from, r.valid_to, r.created_at,
           CASE WHEN r.from_customer_id = :id THEN 'OUTGOING' ELSE 'INCOMING' END AS direction,
           o.id AS other_id, o.name AS other_name, o.kind AS other_kind, o.status AS other_status
      FROM customer_relationship r
      JOIN customer_profile o
        ON o.tenant_id = r.tenant_id
       AND o.id = CASE WHEN r.from_customer_id = :id THEN r.to_customer_id ELSE r.from_customer_id END
     WHERE r.tenant_id = :tenant AND (r.from_customer_id = :id OR r.to_customer_id = :id)
       AND r.removed_at IS NULL
       AND (CAST(:on AS date) IS NULL OR ((r.valid_from IS NULL OR r.valid_from <= :on)
                                          AND (r.valid_to IS NULL OR r.valid_to >= :on)))
     ORDER BY r.id
    """
)

_ANCESTORS = text(
    f"""
    WITH RECURSIVE up(id, depth, path) AS (
        SELECT r.to_customer_id, 1, ARRAY[r.from_customer_id, r.to_customer_id]::text[]
          FROM customer_relationship r
         WHERE r.tenant_id = :tenant AND r.from_customer_id = :id AND r.type = 'SUBSIDIARY_OF'
           AND r.removed_at IS NULL AND {_VALID_ON}
        UNION ALL
        SELECT r.to_customer_id, up.depth + 1, up.path || r.to_customer_id::text
          FROM customer_relationship r JOIN up ON r.from_customer_id = up.id
         WHERE r.tenant_id = :tenant AND r.type = 'SUBSIDIARY_OF' AND r.removed_at IS NULL AND {_VALID_ON}
           AND up.depth < :max_depth AND NOT r.to_customer_id = ANY(up.path)
    )
    SELECT up.id, up.depth, p.name, p.kind, p.status
      FROM up JOIN customer_profile p ON p.tenant_id = :tenant AND p.id = up.id
     ORDER BY up.depth
    """
)

_DESCENDANTS = text(
    f"""
    WITH RECURSIVE down(id, parent_id, depth, path) AS (
        SELECT r.from_customer_id, r.to_customer_id, 1, ARRAY[r.to_customer_id, r.from_customer_id]::text[]
          FROM customer_relationship r
         WHERE r.tenant_id = :tenant AND r.to_customer_id = :id AND r.type = 'SUBSIDIARY_OF'
           AND r.removed_at IS NULL AND {_VALID_ON}
        UNION ALL
        SELECT r.from_customer_id, r.to_customer_id, down.depth + 1, down.path || r.from_customer_id::text
          FROM customer_relationship r JOIN down ON r.to_customer_id = down.id
         WHERE r.tenant_id = :tenant AND r.type = 'SUBSIDIARY_OF' AND r.removed_at IS NULL AND {_VALID_ON}
           AND down.depth < :max_depth AND NOT r.from_customer_id = ANY(down.path)
    )
    SELECT down.id, down.parent_id, down.depth, p.name, p.kind, p.status
      FROM down JOIN customer_profile p ON p.tenant_id = :tenant AND p.id = down.id
     ORDER BY down.depth, down.id
    """
)


def _node(row: Any) -> Document:
    return {
        "id": row["id"],
        "name": row["name"],
        "kind": row["kind"],
        "status": row["status"],
        "depth": row["depth"],
    }


async def relationship_documents(
    connection: SqlExecutor, tenant_id: str, customer_id: str, on: date | None
) -> list[Document]:
    rows = (await connection.execute(_RELATIONSHIPS, {"tenant": tenant_id, "id": customer_id, "on": on})).mappings()
    return [
        {
            "id": r["id"],
            "type": r["type"],
            "direction": r["direction"],
            "fromCustomerId": r["from_customer_id"],
            "toCustomerId": r["to_customer_id"],
            "validFrom": r["valid_from"],
            "validTo": r["valid_to"],
            "createdAt": r["created_at"],
            "otherCustomer": {
                "id": r["other_id"],
                "name": r["other_name"],
                "kind": r["other_kind"],
                "status": r["other_status"],
            },
        }
        for r in rows
    ]


class SqlRelationshipQueries:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def relationships(self, tenant_id: str, customer_id: str, on: date | None) -> list[Document] | None:
        async with tenant_transaction(self._engine, tenant_id) as connection:
            if not await customer_exists(connection, tenant_id, customer_id):
                return None
            return await relationship_documents(connection, tenant_id, customer_id, on)

    async def hierarchy(self, tenant_id: str, customer_id: str, on: date, depth: int) -> Document | None:
        params = {
            "tenant": tenant_id,
            "id": customer_id,
            "on": on,
            "max_depth": min(depth, MAX_HIERARCHY_DEPTH),
        }
        async with tenant_transaction(self._engine, tenant_id) as connection:
            if not await customer_exists(connection, tenant_id, customer_id):
                return None
            ancestors = (await connection.execute(_ANCESTORS, params)).mappings().all()
            descendants = (await connection.execute(_DESCENDANTS, params)).mappings().all()
        return {
            "customerId": customer_id,
            "on": on,
            "ancestors": [_node(r) for r in ancestors],
            "descendants": [{**_node(r), "parentId": r["parent_id"]} for r in descendants],
        }
