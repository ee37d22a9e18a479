"""The relay's second database session: marking rows published, counting what is pending, purging.

Marking runs beside the publishing loop instead of inside it: the loop sends batch k+1 while batch k's
rows are being marked, so an UPDATE (which also waits for committing writers' EXCLUSIVE lock on the
outbox) never sits between a commit and its event's way to the broker. The loop reads "after the last
position it sent", so it never re-reads a row whose mark is still on its way. A lost mark is a
duplicate later (a new publisher sends the row again, same eventId), never a loss.

Pending count and oldest age are read here too, every few seconds, including while the publishing
loop waits for an unreachable broker — which is when those numbers matter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from customer360.infrastructure.messaging.relay_metrics import RelayMetrics
from customer360.infrastructure.persistence.outbox_relay_store import OutboxRelayStore

_log = logging.getLogger("customer360.relay")

#: Rows whose marks may be outstanding before the publishing loop waits (bounds re-sends after a crash).
MAX_PENDING_MARKS = 20_000


class Bookkeeper:
    def __init__(self, store: OutboxRelayStore, metrics: RelayMetrics, *, stats_interval: float) -> None:
        self._store = store
        self._metrics = metrics
        self._stats_interval = stats_interval
        self._session = asyncio.Lock()  # one asyncpg connection: one statement at a time
        # Marks waiting to be written, coalesced: one UPDATE covers every batch acked meanwhile.
        self._published: list[int] = []
        self._failed: list[int] = []
        self._queued = asyncio.Condition()
        self._writing = 0
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self._store.open()
        self._tasks = [asyncio.create_task(self._mark_loop()), asyncio.create_task(self._report_loop())]

    def check(self) -> None:
        """Re-raise what stopped a background task (e.g. the session died): the publisher starts over."""
        for task in self._tasks:
            if task.done() and not task.cancelled():
                task.result()

    async def submit(self, published: list[int], failed: list[int]) -> None:
        async with self._queued:
            await self._queued.wait_for(lambda: self._backlog() < MAX_PENDING_MARKS or self._dead())
            self.check()
            self._published.extend(published)
            self._failed.extend(failed)
            self._queued.notify_all()

    async def drain(self, within: float | None = None) -> None:
        """Wait until every submitted mark is written (before re-reading rows that were sent)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within), self._queued:
                await self._queued.wait_for(lambda: self._backlog() == 0 or self._dead())
        self.check()

    def _backlog(self) -> int:
        return len(self._published) + len(self._failed) + self._writing

    def _dead(self) -> bool:
        return any(task.done() for task in self._tasks)

    async def purge(self, retention: timedelta) -> None:
        async with self._session:
            purged = await self._store.purge_published(datetime.now(UTC) - retention)
        if purged:
            self._metrics.purged.inc(purged)
            _log.info("published outbox rows purged", extra={"count": purged})

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._store.close()

    async def _mark_loop(self) -> None:
        try:
            while True:
                async with self._queued:
                    await self._queued.wait_for(lambda: bool(self._published or self._failed))
                    published, self._published = self._published, []
                    failed, self._failed = self._failed, []
                    self._writing = len(published) + len(failed)
                async with self._session:
                    await self._store.mark_published(published, datetime.now(UTC))
                    await self._store.mark_failed(failed)
                async with self._queued:
                    self._writing = 0
                    self._queued.notify_all()
        finally:
            # Wake whoever waits on the marks: a dead marking task is reported by check().
            async with self._queued:
                self._queued.notify_all()

    async def _report_loop(self) -> None:
        while True:
            async with self._session:
                count, oldest = await self._store.pending()
            self._metrics.pending.set(count)
            age = 0.0 if oldest is None else max(0.0, (datetime.now(UTC) - oldest).total_seconds())
            self._metrics.oldest_pending_age.set(age)
            await asyncio.sleep(self._stats_interval)
