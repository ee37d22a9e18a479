"""The outbox relay in the test process (an asyncio task), and settings that point at a test broker."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from customer360.infrastructure.messaging.kafka_clients import EVENT_TOPIC_SETTING
from customer360.infrastructure.messaging.relay import Published
from customer360.infrastructure.messaging.relay_runtime import build_relay
from customer360.infrastructure.persistence.database import DatabaseUrls, tenant_transaction
from customer360.settings import Settings

# Short intervals: tests should not wait for production-sized timers.
FAST_RELAY = {
    "relay_poll_interval_seconds": 0.5,
    "relay_lock_retry_seconds": 0.2,
    "relay_backoff_max_seconds": 1.0,
    "relay_stats_interval_seconds": 0.2,
    "relay_metrics_port": 0,
}


def kafka_settings(database: DatabaseUrls, bootstrap_servers: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database.admin.render_as_string(hide_password=False),
        "migrate_on_start": False,
        "kafka_bootstrap_servers": bootstrap_servers,
        **FAST_RELAY,
    }
    values.update(overrides)
    return Settings.model_validate(values)


def published_topics(settings: Settings) -> list[str]:
    return sorted({getattr(settings, name) for name in EVENT_TOPIC_SETTING.values()})


@dataclass
class RunningRelay:
    registry: CollectorRegistry
    task: asyncio.Task[None]

    def metric(self, name: str, labels: dict[str, str] | None = None) -> float:
        value = self.registry.get_sample_value(name, labels or {})
        return 0.0 if value is None else value


@asynccontextmanager
async def running_relay(
    settings: Settings, database: DatabaseUrls, observer: Callable[[list[Published]], None] | None = None
) -> AsyncIterator[RunningRelay]:
    registry = CollectorRegistry()
    relay = build_relay(settings, database.worker, registry, observer=observer)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        yield RunningRelay(registry, task)
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def outbox_rows(engine: AsyncEngine, tenant: str) -> list[tuple[str, str, str, bool]]:
    """(event id, event type, aggregate id, published) of a tenant's outbox rows, in position order."""
    async with tenant_transaction(engine, tenant) as connection:
        rows = await connection.execute(
            text(
                "SELECT event_id, event_type, aggregate_id, published_at IS NOT NULL FROM event_outbox "
                "ORDER BY position"
            )
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]


class CliProcess:
    """``python -m customer360 <command>`` as a child process, its JSON log lines in a file."""

    def __init__(self, command: str, settings_env: dict[str, str], log_path: Path) -> None:
        self.command = command
        self.log_path = log_path
        self.env = {**os.environ, "LOG_JSON": "true", "MIGRATE_ON_START": "false", **settings_env}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "customer360", self.command], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def log_events(self) -> list[str]:
        events = []
        for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                events.append(str(json.loads(line).get("event", "")))
        return events

    def wait_for_log(self, event: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if event in self.log_events():
                return
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"{self.command} exited with {self.process.returncode}; see {self.log_path}")
            time.sleep(0.05)
        raise AssertionError(f"no log event {event!r} within {timeout} s; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as when a machine dies."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def settings_env(database: DatabaseUrls, bootstrap_servers: str, **overrides: object) -> dict[str, str]:
    """Environment variables for a child process (the names are the settings' names, upper-cased)."""
    values: dict[str, object] = {
        "database_url": database.admin.render_as_string(hide_password=False),
        "kafka_bootstrap_servers": bootstrap_servers,
        **FAST_RELAY,
        **overrides,
    }
    return {name.upper(): str(value) for name, value in values.items()}
