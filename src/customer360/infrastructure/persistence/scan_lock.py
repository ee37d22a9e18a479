"""One batch scan per tenant at a time: a PostgreSQL advisory lock held by the scan's own connection.

The lock lives as long as that connection, so a scan killed in any way releases it; a job left
``RUNNING`` without the lock held was interrupted and can be resumed.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from customer360.infrastructure.persistence.advisory_locks import advisory_lock_held

SCAN_LOCK_CLASS = 360_004_005
"""First half of the advisory lock key (the second is ``hashtext(tenant_id)``)."""

_TRY_LOCK = text("SELECT pg_try_advisory_lock(:cls, hashtext(:tenant))")
_UNLOCK = text("SELECT pg_advisory_unlock(:cls, hashtext(:tenant))")


async def try_lock_scan(connection: AsyncConnection, tenant_id: str) -> bool:
    """Take the tenant's scan lock for the life of ``connection`` (autocommit), if it is free."""
    return bool((await connection.execute(_TRY_LOCK, {"cls": SCAN_LOCK_CLASS, "tenant": tenant_id})).scalar_one())


async def unlock_scan(connection: AsyncConnection, tenant_id: str) -> None:
    await connection.execute(_UNLOCK, {"cls": SCAN_LOCK_CLASS, "tenant": tenant_id})


async def scan_running(connection: AsyncConnection, tenant_id: str) -> bool:
    """Whether a scan of the tenant holds its lock (read without taking it: advisory_locks.py)."""
    return await advisory_lock_held(connection, SCAN_LOCK_CLASS, tenant_id)
