"""The relay's database session: one publisher at a time, woken by commits, purging only old published rows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text

from customer360.bootstrap import Services
from customer360.infrastructure.persistence.database import DatabaseUrls, create_engine
from customer360.infrastructure.persistence.outbox_relay_store import OutboxRelayStore
from tests.support.api import create_customer
from tests.support.relay import outbox_rows


async def _open(database: DatabaseUrls) -> OutboxRelayStore:
    store = OutboxRelayStore(database.worker)
    await store.open()
    return store


class TestPublisherLock:
    async def test_a_second_relay_gets_the_lock_only_after_the_first_session_ends(
        self, database: DatabaseUrls, services: Services
    ) -> None:
        """try_lock: first True, second False while the first lives, True once it closed."""
        first, second = await _open(database), await _open(database)
        try:
            held = [await first.try_lock(), await second.try_lock()]
            await first.close()
            held.append(await second.try_lock())
        finally:
            await first.close()
            await second.close()
        assert held == [True, False, True]


async def test_a_commit_with_events_wakes_the_listening_relay(
    database: DatabaseUrls, services: Services, client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    """NOTIFY at commit: the listener is called without polling."""
    store = await _open(database)
    woken = asyncio.Event()
    try:
        await store.listen(woken.set)
        await create_customer(client, headers)
        await asyncio.wait_for(woken.wait(), 10)
    finally:
        await store.close()
    assert woken.is_set()


async def test_purge_removes_only_rows_published_before_the_cutoff(
    database: DatabaseUrls, services: Services, client: httpx.AsyncClient, headers: dict[str, str], tenant: str
) -> None:
    """Of three events: published 10 days ago → purged; published now and unpublished → kept."""
    for n in range(3):
        await create_customer(client, headers, name=f"Purge Candidate {n}")
    old, recent, unpublished = [row[0] for row in await outbox_rows(services.engine, tenant)]
    now = datetime.now(UTC)
    admin = create_engine(database.admin, pooled=False)
    try:
        async with admin.begin() as connection:
            for event_id, published_at in ((old, now - timedelta(days=10)), (recent, now)):
                await connection.execute(
                    text("UPDATE crm_customer360.event_outbox SET published_at = :at WHERE event_id = :id"),
                    {"at": published_at, "id": event_id},
                )
    finally:
        await admin.dispose()
    store = await _open(database)
    try:
        await store.purge_published(now - timedelta(days=7))
        pending, oldest = await store.pending()
    finally:
        await store.close()
    remaining = [(row[0], row[3]) for row in await outbox_rows(services.engine, tenant)]
    assert [(recent, True), (unpublished, False)] == remaining
    assert (pending >= 1, oldest is not None) == (True, True)
