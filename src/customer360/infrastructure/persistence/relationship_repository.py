"""RelationshipRepository on PostgreSQL, with the recursive hierarchy walk."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, text, update

from customer360.domain.errors import RelationshipNotFound
from customer360.domain.ids import RELATIONSHIP_PREFIX, is_valid_id
from customer360.domain.relationships import Relationship, RelationshipType
from customer360.infrastructure.persistence.pending_writes import PendingWrites
from customer360.infrastructure.persistence.tables import customer_relationship

# Cycles are refused on write, but a walk must terminate even over bad data.
MAX_HIERARCHY_DEPTH = 50

_ANCESTORS = text(
    """
    WITH RECURSIVE up(id, depth) AS (
        SELECT to_customer_id, 1 FROM customer_relationship
         WHERE tenant_id = :tenant AND from_customer_id = :id AND type = 'SUBSIDIARY_OF' AND removed_at IS NULL
        UNION
        SELECT r.to_customer_id, up.depth + 1 FROM customer_relationship r JOIN up ON r.from_customer_id = up.id
         WHERE r.tenant_id = :tenant AND r.type = 'SUBSIDIARY_OF' AND r.removed_at IS NULL AND up.depth < :max_depth
    )
    SELECT id FROM up GROUP BY id ORDER BY min(depth)
    """
)


def relationship_from_row(row: Any) -> Relationship:
    return Relationship(
        id=row["id"],
        from_customer_id=row["from_customer_id"],
        to_customer_id=row["to_customer_id"],
        type=RelationshipType(row["type"]),
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        removed_at=row["removed_at"],
    )


class SqlRelationshipRepository:
    def __init__(self, writes: PendingWrites, tenant_id: str) -> None:
        self._db = writes
        self._tenant = tenant_id

    async def add(self, relationship: Relationship) -> None:
        statement = insert(customer_relationship).values(tenant_id=self._tenant, **_values(relationship))
        self._db.later(lambda connection: connection.execute(statement))

    async def save(self, relationship: Relationship) -> None:
        statement = (
            update(customer_relationship)
            .where(
                customer_relationship.c.tenant_id == self._tenant,
                customer_relationship.c.id == relationship.id,
            )
            .values(**_values(relationship))
        )
        self._db.later(lambda connection: connection.execute(statement))

    async def get_for_update(self, relationship_id: str) -> Relationship:
        if not is_valid_id(RELATIONSHIP_PREFIX, relationship_id):
            raise RelationshipNotFound(relationship_id)
        row = (
            (
                await self._db.execute(
                    select(customer_relationship)
                    .where(
                        customer_relationship.c.tenant_id == self._tenant,
                        customer_relationship.c.id == relationship_id,
                    )
                    .with_for_update()
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise RelationshipNotFound(relationship_id)
        return relationship_from_row(row)

    async def outgoing(self, customer_id: str) -> list[Relationship]:
        rows = (
            await self._db.execute(
                select(customer_relationship).where(
                    customer_relationship.c.tenant_id == self._tenant,
                    customer_relationship.c.from_customer_id == customer_id,
                    customer_relationship.c.removed_at.is_(None),
                )
            )
        ).mappings()
        return [relationship_from_row(r) for r in rows]

    async def ancestors(self, customer_id: str) -> list[str]:
        result = await self._db.execute(
            _ANCESTORS, {"tenant": self._tenant, "id": customer_id, "max_depth": MAX_HIERARCHY_DEPTH}
        )
        return list(result.scalars())

    async def lock_hierarchy(self) -> None:
        key = f"hierarchy:{self._tenant}"
        await self._db.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


def _values(r: Relationship) -> dict[str, Any]:
    return {
        "id": r.id,
        "from_customer_id": r.from_customer_id,
        "to_customer_id": r.to_customer_id,
        "type": r.type.value,
        "valid_from": r.valid_from,
        "valid_to": r.valid_to,
        "created_at": r.created_at,
        "created_by": r.created_by,
        "removed_at": r.removed_at,
    }
