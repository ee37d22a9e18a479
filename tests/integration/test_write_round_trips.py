"""Round trips of the write path (issue 13: a create at 400/s on two cores needs few of them): the
statements one create sends to PostgreSQL, counted with SQLAlchemy's cursor events, so a change that
adds one shows here. The transaction's BEGIN (which sets the tenant, one round trip) and COMMIT (which
carries the audit and outbox rows, one round trip) come on top."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from customer360.bootstrap import Services
from tests.support.duplicates import ANNA, BERND, created


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The statements this task executes on ``engine`` inside the block (the API runs in the test's task
    under httpx's ASGI transport; background writers such as the access log's are other tasks). An
    executemany counts once: it is one round trip."""
    seen: list[str] = []
    task = asyncio.current_task()

    def record(*args: Any) -> None:
        if asyncio.current_task() is task:
            seen.append(" ".join(str(args[2]).split())[:100])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


# Anna's neighbour: the same street and city, another person (a candidate the check scores, no duplicate).
NEIGHBOUR = {
    "kind": "PERSON",
    "givenName": "Jonas",
    "familyName": "Brandt",
    "birthDate": "1971-02-09",
    "emails": [{"address": "jonas.brandt@example.net"}],
    "addresses": [
        {"type": "BILLING", "lines": ["Hauptstraße 5"], "city": "Berlin", "postalCode": "10115", "country": "DE"}
    ],
}


class TestCreateRoundTrips:
    async def test_a_create_without_candidates_sends_four_statements(
        self, checking: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """Profile with its keys, suppression, thresholds with the candidates, matching data with the answer."""
        await created(checking, headers, BERND)
        with statements(services.engine) as seen:
            await created(checking, headers, ANNA)
        assert len(seen) == 4, "\n".join(seen)

    async def test_a_create_with_a_candidate_adds_the_term_counts(
        self, checking: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """The candidates' scores need the frequencies of the new profile's terms: one statement more."""
        await created(checking, headers, ANNA)
        await created(checking, headers, {**NEIGHBOUR, "givenName": "Lea", "emails": []})
        with statements(services.engine) as seen:
            await created(checking, headers, NEIGHBOUR)
        assert len(seen) == 5, "\n".join(seen)
