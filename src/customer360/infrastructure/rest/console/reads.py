"""The console's reads that the API's routers do not make in one call."""

from __future__ import annotations

from typing import Any

from customer360.application.queries import Document
from customer360.infrastructure.persistence.merge_queries import SqlMergeQueries


async def merges_of(services: Any, tenant_id: str, customer_id: str) -> list[Document]:
    """Every merge the customer took part in, newest first."""
    queries = SqlMergeQueries(services.engine)
    items: list[Document] = []
    cursor = None
    while True:
        page = await queries.merges_of(tenant_id, customer_id, cursor, 200)
        if page is None:
            return items
        items.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return list(reversed(items))
