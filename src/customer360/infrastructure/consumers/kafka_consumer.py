"""The consumer loop: poll, apply each message in its own transaction, then commit the offsets.

* Offsets are committed only after the transactions of the messages they cover committed (a batch at a
  time). A crash in between redelivers those messages; their inbox rows make the redelivery a no-op.
* A message is retried in place (so a partition's order holds) up to ``max_attempts`` times; then it is
  sent to the dead-letter topic with its original key, value and headers plus ``dlq-*`` headers naming
  the error, and the consumer goes on. Undecodable messages and messages without a tenant go there at
  once. An unknown event type is logged and skipped.
* While the database is unreachable nothing is counted as a failure: the consumer waits and retries,
  so an outage never fills the dead-letter topic.

Logs and dead-letter headers carry event types, ids, topics, offsets and error codes, never payloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from confluent_kafka import KafkaError, KafkaException, TopicPartition
from prometheus_client import CollectorRegistry, Counter, Histogram

from customer360.infrastructure.availability import database_unavailable
from customer360.infrastructure.consumers.applier import (
    CONSUMED_EVENT_TYPES,
    Applied,
    ConsumedMessage,
    EventApplier,
    Outcome,
    PoisonMessage,
)
from customer360.infrastructure.consumers.failures import describe
from customer360.infrastructure.tracing import process_span

_log = logging.getLogger("customer360.consumer")


class KafkaConsumerPort(Protocol):
    def subscribe(self, topics: list[str]) -> None: ...

    def consume(self, num_messages: int, timeout: float) -> list[Any]: ...

    def commit(self, *, offsets: list[TopicPartition], asynchronous: Literal[False]) -> list[TopicPartition]: ...

    def close(self) -> None: ...


class DeadLetterPort(Protocol):
    def produce(self, topic: str, *, value: Any, key: Any, headers: Any, on_delivery: Any) -> None: ...

    def flush(self, timeout: float) -> int: ...


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    topics: tuple[str, ...]
    dlq_topic: str
    group: str
    max_attempts: int = 3
    retry_backoff: float = 0.2
    batch_size: int = 100
    unavailable_backoff_max: float = 10.0


class ConsumerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.messages = Counter(
            "crm_customer360_consumer_messages",
            "Consumed messages by event type and outcome (applied, duplicate, skipped, dead_lettered)",
            ["event_type", "outcome"],
            registry=registry,
        )
        self.failures = Counter(
            "crm_customer360_consumer_failures",
            "Failed attempts to apply a message (each retry counts)",
            ["reason"],
            registry=registry,
        )
        self.apply_seconds = Histogram(
            "crm_customer360_consumer_apply_seconds",
            "Time to apply one message, its transaction included",
            registry=registry,
        )


class StopRequested(Exception):
    """Stop was asked for while a message waited for the database: leave it uncommitted."""


class EventConsumer:
    def __init__(
        self,
        *,
        consumer: KafkaConsumerPort,
        dead_letters: DeadLetterPort,
        applier: EventApplier,
        config: ConsumerConfig,
        metrics: ConsumerMetrics,
    ) -> None:
        self._consumer = consumer
        self._dead_letters = dead_letters
        self._applier = applier
        self._config = config
        self._metrics = metrics

    async def run(self, stop: asyncio.Event) -> None:
        self._consumer.subscribe(list(self._config.topics))
        _log.info("consumer subscribed", extra={"topics": list(self._config.topics), "group": self._config.group})
        try:
            while not stop.is_set():
                messages = await asyncio.to_thread(self._consumer.consume, self._config.batch_size, 0.5)
                done: dict[tuple[str, int], int] = {}
                try:
                    for message in messages:
                        if message.error() is not None:
                            self._log_kafka_error(message.error())
                            continue
                        consumed = _consumed(message)
                        with process_span(consumed.topic, dict(consumed.headers)):
                            await self._handle(consumed, stop)
                        done[(message.topic(), message.partition())] = message.offset() + 1
                except StopRequested:
                    pass
                finally:
                    await self._commit(done)
        finally:
            await asyncio.to_thread(self._consumer.close)
            _log.info("consumer stopped")

    async def _handle(self, message: ConsumedMessage, stop: asyncio.Event) -> None:
        attempts = 0
        unavailable_wait = self._config.retry_backoff
        while True:
            started = time.perf_counter()
            try:
                applied = await self._applier.apply(message)
            except PoisonMessage as poison:
                await self._dead_letter(message, poison.reason, str(poison), 1, stop)
                return
            except Exception as exc:
                if database_unavailable(exc):
                    _log.warning("database unavailable; waiting", extra={"error": type(exc).__name__})
                    await self._pause(stop, unavailable_wait)
                    unavailable_wait = min(unavailable_wait * 2, self._config.unavailable_backoff_max)
                    continue
                attempts += 1
                reason, text = describe(exc)
                self._metrics.failures.labels(reason).inc()
                # Where it failed, not the exception's text: a database error can quote row values.
                _log.warning(
                    "message failed",
                    extra={**_where(message), "attempt": attempts, "reason": reason, "raisedAt": raised_at(exc)},
                )
                if attempts >= self._config.max_attempts:
                    await self._dead_letter(message, reason, text, attempts, stop)
                    return
                await self._pause(stop, self._config.retry_backoff * attempts)
                continue
            self._metrics.apply_seconds.observe(time.perf_counter() - started)
            self._account(applied, message)
            return

    def _account(self, applied: Applied, message: ConsumedMessage) -> None:
        event_type = applied.event_type or "unknown"
        self._metrics.messages.labels(
            event_type if applied.outcome is not Outcome.SKIPPED else "unknown", applied.outcome.value
        ).inc()
        if applied.outcome is Outcome.SKIPPED:
            _log.info("unknown event type skipped", extra={**_where(message), "eventType": event_type})
        elif applied.outcome is Outcome.DUPLICATE:
            _log.info("redelivered event ignored", extra={**_where(message), "eventId": applied.event_id})

    async def _pause(self, stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
        if stop.is_set():
            raise StopRequested

    async def _dead_letter(
        self, message: ConsumedMessage, reason: str, text: str, attempts: int, stop: asyncio.Event
    ) -> None:
        headers: list[tuple[str, bytes]] = [
            *message.headers,
            ("dlq-reason", reason.encode()),
            ("dlq-error", text[:1000].encode()),
            ("dlq-attempts", str(attempts).encode()),
            ("dlq-original-topic", message.topic.encode()),
            ("dlq-original-partition", str(message.partition).encode()),
            ("dlq-original-offset", str(message.offset).encode()),
            ("dlq-consumer-group", self._config.group.encode()),
            ("dlq-failed-at", datetime.now(UTC).isoformat(timespec="milliseconds").encode()),
        ]
        wait = self._config.retry_backoff
        while True:
            errors: list[Any] = []
            try:
                await asyncio.to_thread(self._send_dead_letter, message, headers, errors)
            except (KafkaException, BufferError) as exc:
                errors.append(exc)
            if not errors:
                break
            # The offset stays uncommitted until the dead letter is safely stored.
            _log.warning("dead-letter topic not reachable; retrying", extra={"error": type(errors[0]).__name__})
            await self._pause(stop, wait)
            wait = min(wait * 2, self._config.unavailable_backoff_max)
        header = message.header("event-type")
        self._metrics.messages.labels(
            _label(header.decode(errors="replace") if header else None), "dead_lettered"
        ).inc()
        _log.warning("message dead-lettered", extra={**_where(message), "reason": reason, "attempts": attempts})

    def _send_dead_letter(self, message: ConsumedMessage, headers: list[tuple[str, bytes]], errors: list[Any]) -> None:
        def on_delivery(error: Any, _: Any) -> None:
            if error is not None:
                errors.append(error)

        self._dead_letters.produce(
            self._config.dlq_topic, value=message.value, key=message.key, headers=headers, on_delivery=on_delivery
        )
        if self._dead_letters.flush(30) > 0:
            errors.append(TimeoutError("dead letter not acknowledged"))

    async def _commit(self, done: dict[tuple[str, int], int]) -> None:
        if not done:
            return
        offsets = [TopicPartition(topic, partition, offset) for (topic, partition), offset in done.items()]
        try:
            await asyncio.to_thread(self._consumer.commit, offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            # E.g. the partitions were reassigned meanwhile: their new owner gets the messages again,
            # and the inbox turns them into no-ops.
            _log.warning("offset commit failed", extra={"error": _kafka_error_name(exc)})

    @staticmethod
    def _log_kafka_error(error: KafkaError) -> None:
        if error.code() != KafkaError._PARTITION_EOF:
            _log.warning("consumer error", extra={"error": error.name()})


def _consumed(message: Any) -> ConsumedMessage:
    raw = message.headers() or []
    pairs: Sequence[tuple[str, Any]] = list(raw.items()) if isinstance(raw, dict) else raw
    return ConsumedMessage(
        topic=message.topic(),
        partition=message.partition(),
        offset=message.offset(),
        key=message.key(),
        value=message.value(),
        headers=[(name, value.encode() if isinstance(value, str) else value or b"") for name, value in pairs],
    )


def _where(message: ConsumedMessage) -> dict[str, Any]:
    return {"topic": message.topic, "partition": message.partition, "offset": message.offset}


def _label(event_type: str | None) -> str:
    """Metric label: one of the consumed event types, else "unknown" (headers are not ours to trust)."""
    return event_type if event_type in CONSUMED_EVENT_TYPES else "unknown"


def raised_at(error: BaseException) -> str:
    """file:line of the innermost frame (for a bug report without the message)."""
    frames = traceback.extract_tb(error.__traceback__)
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"


def _kafka_error_name(exc: KafkaException) -> str:
    error = exc.args[0] if exc.args else None
    return error.name() if isinstance(error, KafkaError) else type(exc).__name__
