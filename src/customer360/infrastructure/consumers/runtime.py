"""Wiring of ``customer360 consume``: the consumer group, the dead-letter producer, metrics, inbox purge."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import UTC, datetime, timedelta

from confluent_kafka import Consumer, Producer
from prometheus_client import CollectorRegistry, start_http_server

from customer360.application.executor import CommandExecutor
from customer360.application.leads import LeadIntake
from customer360.infrastructure.consumers.applier import EventApplier
from customer360.infrastructure.consumers.kafka_consumer import ConsumerConfig, ConsumerMetrics, EventConsumer
from customer360.infrastructure.messaging.avro_codec import AvroEventCodec
from customer360.infrastructure.messaging.kafka_clients import consumer_config, ensure_topics, producer_config
from customer360.infrastructure.persistence.database import DatabaseUrls, create_engine
from customer360.infrastructure.persistence.integration_store import purge_inbox
from customer360.settings import Settings

_log = logging.getLogger("customer360.consumer")

INBOX_PURGE_INTERVAL = 3600.0


def consumed_topics(settings: Settings) -> tuple[str, ...]:
    return (
        settings.topic_lead_created,
        settings.topic_service_order_created,
        settings.topic_contract_activated,
        settings.topic_customer_master_updated,
    )


def build_consumer(
    settings: Settings,
    executor: CommandExecutor,
    registry: CollectorRegistry,
    *,
    lead_intake: LeadIntake | None = None,
) -> EventConsumer:
    applier = EventApplier(
        executor=executor,
        codec=AvroEventCodec(),
        consumer=settings.consumer_group,
        lead_intake=lead_intake or LeadIntake(),
    )
    return EventConsumer(
        consumer=Consumer(consumer_config(settings)),
        # A bounded delivery timeout: a dead letter that cannot be stored is retried by the loop, and the
        # message's offset stays uncommitted meanwhile.
        dead_letters=Producer(producer_config(settings, linger_ms=0, delivery_timeout_ms=30_000)),
        applier=applier,
        config=ConsumerConfig(
            topics=consumed_topics(settings),
            dlq_topic=settings.topic_dlq,
            group=settings.consumer_group,
            max_attempts=settings.consumer_max_attempts,
            retry_backoff=settings.consumer_retry_backoff_ms / 1000,
            batch_size=settings.consumer_batch_size,
        ),
        metrics=ConsumerMetrics(registry),
    )


async def purge_inbox_periodically(urls: DatabaseUrls, retention: timedelta, stop: asyncio.Event) -> None:
    engine = create_engine(urls.worker, pooled=False)
    try:
        while not stop.is_set():
            try:
                async with engine.connect() as connection:
                    purged = await purge_inbox(connection, datetime.now(UTC) - retention)
                if purged:
                    _log.info("old inbox rows purged", extra={"count": purged})
            except Exception as exc:  # purging is housekeeping: try again next time
                _log.warning("inbox purge failed", extra={"error": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), INBOX_PURGE_INTERVAL)
    finally:
        await engine.dispose()


async def run_consumer_process(
    settings: Settings, executor: CommandExecutor, urls: DatabaseUrls, registry: CollectorRegistry
) -> None:
    """``customer360 consume``: until SIGTERM/SIGINT; metrics on CONSUMER_METRICS_PORT."""
    if settings.consumer_metrics_port:
        start_http_server(settings.consumer_metrics_port, addr=settings.http_host, registry=registry)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    purger = asyncio.create_task(purge_inbox_periodically(urls, timedelta(days=settings.inbox_retention_days), stop))
    try:
        if settings.kafka_create_topics:
            await asyncio.to_thread(ensure_topics, settings, {settings.topic_dlq: settings.dlq_partitions})
        consumer = build_consumer(settings, executor, registry)
        await consumer.run(stop)
    finally:
        stop.set()
        await purger
