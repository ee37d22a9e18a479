"""The hottest reads, GetCustomerProfileById and SearchCustomers, in one database round trip each.

A small asyncpg pool outside SQLAlchemy runs ``customer_document(tenant, id)`` (migration 0004) or
``customer_search(tenant, …)`` (migration 0009) as a single autocommitted statement: the function sets
the tenant for its own implicit transaction, so row-level security applies exactly as elsewhere,
without BEGIN/set_config/COMMIT round trips.
"""

from __future__ import annotations

import asyncpg
from sqlalchemy.engine import URL

from customer360.infrastructure.persistence.database import asyncpg_pool
from customer360.infrastructure.persistence.tables import SCHEMA

_LOOKUP = f"SELECT {SCHEMA}.customer_document($1, $2)"


class ProfileLookup:
    def __init__(self, url: URL, *, size: int) -> None:
        self._url = url
        self._size = size
        self._pool: asyncpg.Pool | None = None

    async def start(self) -> None:
        url = self._url
        self._pool = await asyncpg_pool(url, size=self._size, application_name="crm-customer360-lookup")

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def document(self, tenant_id: str, customer_id: str) -> str | None:
        """The document as PostgreSQL wrote it (JSON text): callers parse or validate it in one step."""
        return await self.value(_LOOKUP, tenant_id, customer_id)

    async def value(self, statement: str, *arguments: object) -> str | None:
        """One autocommitted statement of a function that sets the tenant itself (customer_document,
        customer_search) and answers JSON text."""
        if self._pool is None:
            await self.start()
        assert self._pool is not None
        text: str | None = await self._pool.fetchval(statement, *arguments)
        return text
