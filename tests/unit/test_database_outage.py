"""An outage is one warning when it starts and one line when a probe finds the database back, not a log per request."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry

from customer360.infrastructure.availability import DatabaseOutage


class _Database:
    def __init__(self) -> None:
        self.up = False

    async def probe(self) -> bool:
        """As the app's probe: the readiness check says whether the database answers."""
        return self.up


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


class TestDatabaseOutage:
    async def test_many_failed_requests_make_one_warning(self, caplog: pytest.LogCaptureFixture) -> None:
        """Fifty requests refused during one outage log one warning, and are all counted."""
        registry = CollectorRegistry()
        outage = DatabaseOutage(registry, _Database().probe, probe_interval_seconds=0.01)
        caplog.set_level(logging.INFO, logger="customer360.database")
        for _ in range(50):
            outage.request_failed(ConnectionRefusedError())
        await outage.close()
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        refused = registry.get_sample_value("crm_customer360_database_unavailable_responses_total")
        assert (len(warnings), refused, registry.get_sample_value("crm_customer360_database_up")) == (1, 50.0, 0.0)

    async def test_the_outage_ends_when_a_probe_reaches_the_database(self, caplog: pytest.LogCaptureFixture) -> None:
        """The probe keeps trying; when the database answers, the gauge is 1 again and the end is logged."""
        registry = CollectorRegistry()
        database = _Database()
        outage = DatabaseOutage(registry, database.probe, probe_interval_seconds=0.01)
        caplog.set_level(logging.INFO, logger="customer360.database")
        outage.request_failed(ConnectionRefusedError())
        await asyncio.sleep(0.05)
        still_down = outage.down
        database.up = True
        await _until(lambda: not outage.down)
        await outage.close()
        messages = [r.getMessage() for r in caplog.records]
        assert (still_down, registry.get_sample_value("crm_customer360_database_up")) == (True, 1.0)
        assert messages == ["database unreachable: answering 503 until it is back", "database reachable again"]

    async def test_a_second_outage_is_warned_about_again(self, caplog: pytest.LogCaptureFixture) -> None:
        """After a recovery, the next failure starts a new outage with its own warning."""
        database = _Database()
        outage = DatabaseOutage(CollectorRegistry(), database.probe, probe_interval_seconds=0.01)
        caplog.set_level(logging.WARNING, logger="customer360.database")
        outage.request_failed(ConnectionRefusedError())
        database.up = True
        await _until(lambda: not outage.down)
        database.up = False
        outage.request_failed(ConnectionRefusedError())
        await outage.close()
        assert len(caplog.records) == 2
