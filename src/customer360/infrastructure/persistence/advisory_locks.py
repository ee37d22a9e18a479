"""Whether a session holds an advisory lock, read from ``pg_locks`` without touching the lock.

Jobs (scans, imports) are held by a session-level advisory lock on their worker's connection. Probing
with ``pg_try_advisory_xact_lock`` would hold that very lock for the rest of the reader's transaction:
a worker claiming its job at that moment would find it taken and give up (a job polled every second by
the console could then never start). ``pg_locks`` shows the holder without taking anything.

A two-key lock ``pg_advisory_lock(key1 int4, key2 int4)`` appears with ``classid`` = key1, ``objid`` =
key2 read as an unsigned 32-bit number, ``objsubid`` = 2.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

LOCK_HELD = """EXISTS (
         SELECT 1 FROM pg_locks
          WHERE locktype = 'advisory' AND granted AND objsubid = 2
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND classid::bigint = :cls
            AND objid::bigint = (hashtext(:key)::bigint & 4294967295))"""
"""A condition for SQL statements (parameters ``cls`` and ``key``): the lock is held by some session."""

_HELD = text(f"SELECT {LOCK_HELD}")


async def advisory_lock_held(connection: AsyncConnection, lock_class: int, key: str) -> bool:
    """Whether some session holds ``pg_advisory_lock(lock_class, hashtext(key))``."""
    return bool((await connection.execute(_HELD, {"cls": lock_class, "key": key})).scalar_one())
