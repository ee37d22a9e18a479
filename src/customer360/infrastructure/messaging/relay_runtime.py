"""Wiring of the outbox relay: from the settings, as ``customer360 relay`` or as a task inside ``serve``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from confluent_kafka import Producer
from prometheus_client import CollectorRegistry, start_http_server
from sqlalchemy.engine import URL

from customer360.infrastructure.messaging.avro_codec import AvroEventCodec
from customer360.infrastructure.messaging.kafka_clients import TopicRouting, ensure_topics, producer_config
from customer360.infrastructure.messaging.relay import MessageProducer, OutboxRelay, Published, RelayConfig
from customer360.infrastructure.messaging.relay_metrics import RelayMetrics
from customer360.infrastructure.metrics import new_registry
from customer360.infrastructure.persistence.outbox_relay_store import OutboxRelayStore
from customer360.settings import Settings

_log = logging.getLogger("customer360.relay")


def relay_config(settings: Settings) -> RelayConfig:
    return RelayConfig(
        batch_size=settings.relay_batch_size,
        poll_interval=settings.relay_poll_interval_seconds,
        lock_retry=settings.relay_lock_retry_seconds,
        backoff_max=settings.relay_backoff_max_seconds,
        purge_interval=settings.relay_purge_interval_seconds,
        stats_interval=settings.relay_stats_interval_seconds,
        retention=timedelta(days=settings.outbox_retention_days),
        create_topics=settings.kafka_create_topics,
    )


def build_relay(
    settings: Settings,
    worker_url: URL,
    registry: CollectorRegistry,
    *,
    observer: Callable[[list[Published]], None] | None = None,
) -> OutboxRelay:
    routing = TopicRouting.from_settings(settings)

    def producer(on_error: Callable[[Any], None]) -> MessageProducer:
        config = producer_config(
            settings, linger_ms=settings.relay_linger_ms, delivery_timeout_ms=settings.relay_delivery_timeout_ms
        )
        return Producer({**config, "error_cb": on_error})

    def topics() -> bool:
        return ensure_topics(settings, routing.partitions)

    return OutboxRelay(
        store_factory=lambda: OutboxRelayStore(worker_url),
        producer_factory=producer,
        ensure_topics=topics,
        codec=AvroEventCodec(),
        routing=routing,
        metrics=RelayMetrics(registry),
        config=relay_config(settings),
        observer=observer,
    )


async def run_relay_process(settings: Settings, worker_url: URL) -> None:
    """``customer360 relay``: publish until SIGTERM/SIGINT; metrics on RELAY_METRICS_PORT."""
    registry = new_registry()
    if settings.relay_metrics_port:
        start_http_server(settings.relay_metrics_port, addr=settings.http_host, registry=registry)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    _log.info("relay starting", extra={"metricsPort": settings.relay_metrics_port})
    await build_relay(settings, worker_url, registry).run(stop)
    _log.info("relay stopped")


class RelayInServe:
    """The relay as a background task of ``serve`` (RELAY_IN_SERVE=true); its metrics join /metrics."""

    def __init__(self, relay: OutboxRelay) -> None:
        self._relay = relay
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def start(cls, settings: Settings, worker_url: URL, registry: CollectorRegistry) -> RelayInServe | None:
        if not (settings.relay_in_serve and settings.kafka_bootstrap_servers):
            return None
        background = cls(build_relay(settings, worker_url, registry))
        background._task = asyncio.create_task(background._relay.run(background._stop), name="outbox-relay")
        return background

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
