"""The outbox relay's one database session: the publisher lock, the NOTIFY wake-up, reading and marking rows.

Runs as the worker role (its policy on ``event_outbox`` spans every tenant). The session is a plain
asyncpg connection in autocommit mode, for three reasons:

* the advisory lock is *session*-level: it is held exactly as long as this connection lives, so a relay
  that dies (process killed, host gone) frees it and a standby takes over;
* ``LISTEN`` notifications are delivered only between transactions, so the session must never sit idle
  inside one (a pooled SQLAlchemy connection would);
* every statement here is a single one, so autocommit is all the transaction we need.

Server-side TCP keepalives make PostgreSQL notice a vanished relay host within ~30 s and free its lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
import orjson
from sqlalchemy.engine import URL

from customer360.infrastructure.persistence.database import asyncpg_connect_args
from customer360.infrastructure.persistence.journal import OUTBOX_CHANNEL
from customer360.infrastructure.persistence.tables import SCHEMA

#: One key per database: whoever holds it is the one relay that publishes.
RELAY_LOCK_KEY = 360_360_002

_FETCH = f"""
    SELECT position, tenant_id, event_id, event_type, aggregate_id, envelope, created_at
      FROM {SCHEMA}.event_outbox
     WHERE published_at IS NULL AND position > $2
     ORDER BY position
     LIMIT $1
"""
_MARK_PUBLISHED = f"""
    UPDATE {SCHEMA}.event_outbox SET published_at = $2
     WHERE position = ANY($1::bigint[]) AND published_at IS NULL
"""
_MARK_FAILED = f"""
    UPDATE {SCHEMA}.event_outbox SET attempts = LEAST(attempts + 1, 32767)
     WHERE position = ANY($1::bigint[]) AND published_at IS NULL
"""
_PENDING = f"""
    SELECT count(*) AS pending,
           (SELECT created_at FROM {SCHEMA}.event_outbox WHERE published_at IS NULL ORDER BY position LIMIT 1)
             AS oldest
      FROM {SCHEMA}.event_outbox WHERE published_at IS NULL
"""
# In chunks, so a large purge never holds many row locks or one long transaction.
_PURGE = f"""
    DELETE FROM {SCHEMA}.event_outbox WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM {SCHEMA}.event_outbox WHERE published_at < $1 LIMIT $2))
"""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    position: int
    tenant_id: str
    event_id: str
    event_type: str
    aggregate_id: str
    created_at: datetime
    #: The JSON envelope; left out of ``repr`` because its payload may hold personal data.
    envelope: dict[str, Any] = field(repr=False)


class OutboxRelayStore:
    def __init__(self, url: URL, *, application_name: str = "crm-customer360-relay") -> None:
        self._url = url
        self._application_name = application_name
        self._connection: asyncpg.Connection | None = None

    async def open(self) -> None:
        connection = await asyncpg.connect(
            **asyncpg_connect_args(self._url),
            server_settings={
                "application_name": self._application_name,
                "tcp_keepalives_idle": "10",
                "tcp_keepalives_interval": "5",
                "tcp_keepalives_count": "3",
                # The relay's own writes are marks: one lost in a server crash means the row is sent
                # again (same eventId), which at-least-once delivery allows; not waiting for the WAL
                # flush keeps marking off the path from a commit to the broker.
                "synchronous_commit": "off",
            },
        )
        await connection.set_type_codec("jsonb", schema="pg_catalog", encoder=_json_text, decoder=orjson.loads)
        self._connection = connection

    @property
    def connection(self) -> asyncpg.Connection:
        if self._connection is None:
            raise ConnectionError("the relay store is not open")
        return self._connection

    async def try_lock(self) -> bool:
        """Take the publisher lock if nobody holds it (never waits; a standby asks again later)."""
        return bool(await self.connection.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK_KEY))

    async def ping(self) -> None:
        await self.connection.fetchval("SELECT 1")

    async def listen(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` whenever a transaction that wrote outbox rows commits."""

        def on_notify(*_: object) -> None:
            wake()

        await self.connection.add_listener(OUTBOX_CHANNEL, on_notify)

    async def unpublished(self, limit: int, *, after: int = 0) -> list[OutboxRow]:
        """Unpublished rows in position (commit) order, after a position already handled."""
        rows = await self.connection.fetch(_FETCH, limit, after)
        return [
            OutboxRow(
                position=r["position"],
                tenant_id=r["tenant_id"],
                event_id=r["event_id"],
                event_type=r["event_type"],
                aggregate_id=r["aggregate_id"],
                created_at=r["created_at"],
                envelope=r["envelope"],
            )
            for r in rows
        ]

    async def mark_published(self, positions: list[int], at: datetime) -> None:
        if positions:
            await self.connection.execute(_MARK_PUBLISHED, positions, at)

    async def mark_failed(self, positions: list[int]) -> None:
        if positions:
            await self.connection.execute(_MARK_FAILED, positions)

    async def pending(self) -> tuple[int, datetime | None]:
        """How many rows wait to be published, and when the oldest of them was written."""
        row = await self.connection.fetchrow(_PENDING)
        assert row is not None
        return int(row["pending"]), row["oldest"]

    async def purge_published(self, before: datetime, chunk: int = 5000) -> int:
        """Delete rows published before ``before`` (the change feed serves only the retention window)."""
        total = 0
        while True:
            status = await self.connection.execute(_PURGE, before, chunk)
            deleted = int(status.rsplit(" ", 1)[-1])
            total += deleted
            if deleted < chunk:
                return total

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            # Closing the session releases the advisory lock; terminate() if the server is unreachable.
            try:
                await connection.close(timeout=5)
            except Exception:  # closing is best effort: the server frees the lock when the session dies
                connection.terminate()


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()
