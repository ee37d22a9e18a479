"""The bulk export: every profile matching the list endpoint's filters, streamed from one consistent
snapshot, each batch on record in the access log before it is handed out.

One REPEATABLE READ, READ ONLY transaction and a server-side cursor: the export is the tenant as it
was when it started, whatever commits meanwhile, and memory holds one batch. The documents are the
profile document of every read (``customer_json``), as JSON text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from customer360.application.queries import CustomerFilter
from customer360.infrastructure.persistence.access_log import AccessLog
from customer360.infrastructure.persistence.database import set_tenant
from customer360.infrastructure.persistence.profile_queries import filter_conditions

EXPORT_ACTION = "BULK_EXPORT"


class SqlExports:
    def __init__(self, engine: AsyncEngine, access_log: AccessLog) -> None:
        self._engine = engine
        self._access_log = access_log

    async def documents(
        self, tenant_id: str, query: CustomerFilter, *, actor: str, correlation_id: str, batch: int = 1000
    ) -> AsyncIterator[list[tuple[str, str]]]:
        """Batches of (customer id, document JSON) in id order."""
        conditions, params = filter_conditions(tenant_id, query)
        statement = text(
            "SELECT p.id, CAST(crm_customer360.customer_json(p) AS text) FROM customer_profile p "
            f"WHERE {' AND '.join(conditions)} ORDER BY p.id"
        )
        async with self._engine.connect() as connection:
            snapshot = await connection.execution_options(isolation_level="REPEATABLE READ")
            async with snapshot.begin():
                await snapshot.execute(text("SET TRANSACTION READ ONLY"))
                await set_tenant(snapshot, tenant_id)
                result = await snapshot.stream(statement, params)
                async for rows in result.partitions(batch):
                    documents = [(row[0], row[1]) for row in rows]
                    await self._access_log.write(
                        tenant_id, actor, EXPORT_ACTION, [c for c, _ in documents], correlation_id
                    )
                    yield documents
