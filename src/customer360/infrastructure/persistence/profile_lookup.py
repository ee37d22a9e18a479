"""The hottest read, GetCustomerProfileById, in one database round trip.

A small asyncpg pool outside SQLAlchemy runs ``customer_document(tenant, id)`` (migration 0004) as a
single autocommitted statement: the function sets the tenant for its own implicit transaction, so row-
level security applies exactly as elsewhere, without BEGIN/set_config/COMMIT round trips. The pool's
connections never carry session state (the tenant setting is transaction-local), so the per-release
reset query is skipped as well.
"""

from __future__ import annotations

import asyncpg
from sqlalchemy.engine import URL

from customer360.infrastructure.persistence.tables import SCHEMA

_LOOKUP = f"SELECT {SCHEMA}.customer_document($1, $2)"


async def _no_reset(connection: asyncpg.Connection) -> None:
    return None


class ProfileLookup:
    def __init__(self, url: URL, *, size: int) -> None:
        self._url = url
        self._size = size
        self._pool: asyncpg.Pool | None = None

    async def start(self) -> None:
        url = self._url
        self._pool = await asyncpg.create_pool(
            host=url.host or url.query.get("host"),
            port=url.port,
            user=url.username,
            password=url.password,
            database=url.database,
            min_size=1,
            max_size=self._size,
            reset=_no_reset,
            server_settings={"search_path": f"{SCHEMA},public", "application_name": "crm-customer360-lookup"},
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def document(self, tenant_id: str, customer_id: str) -> str | None:
        """The document as PostgreSQL wrote it (JSON text): callers parse or validate it in one step."""
        if self._pool is None:
            await self.start()
        assert self._pool is not None
        text: str | None = await self._pool.fetchval(_LOOKUP, tenant_id, customer_id)
        return text
