"""The outbox relay: the only code that talks to the Kafka producer.

Ordering, decided on purpose (docs/architecture.md, "Outbox relay"):

* A committing transaction takes ``LOCK TABLE event_outbox IN EXCLUSIVE MODE`` before it inserts its
  rows (journal.py), so positions are allocated in commit order.
* Exactly one relay publishes at a time: it holds a session-level advisory lock (outbox_relay_store.py);
  others wait as standbys and take over when its session dies.
* The relay reads unpublished rows in position order and produces them in that order with an
  idempotent, ``acks=all`` producer, key = the aggregate id (customerId): one customer's events land on
  one partition of their topic, in commit order. A row is marked published only after the broker
  acknowledged it. Delivery is at-least-once: a relay that dies between the ack and the mark makes the
  next one send the row again, with the same eventId.
* A row that cannot be encoded or routed holds back the later rows of the same aggregate (they are not
  sent in this batch), so a poison row never lets a customer's later events overtake it.

Broker down: librdkafka keeps retrying (``message.timeout.ms=0``) while the relay waits for the acks;
the API is unaffected and the outbox grows; when the broker returns the batch completes and the relay
drains the backlog. Errors the relay does see (database, producer, rejected records) are retried with
exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from customer360.infrastructure.messaging.avro_codec import AvroEventCodec, EncodedEvent, EventCodecError
from customer360.infrastructure.messaging.kafka_clients import TopicRouting
from customer360.infrastructure.messaging.relay_bookkeeping import Bookkeeper
from customer360.infrastructure.messaging.relay_metrics import RelayMetrics
from customer360.infrastructure.persistence.outbox_relay_store import OutboxRelayStore, OutboxRow
from customer360.infrastructure.tracing import publish_span

_log = logging.getLogger("customer360.relay")


class MessageProducer(Protocol):
    """The part of confluent_kafka.Producer the relay uses."""

    def produce(self, topic: str, *, value: bytes, key: bytes, headers: Any, on_delivery: Any) -> None: ...

    def poll(self, timeout: float) -> int: ...

    def flush(self, timeout: float) -> int: ...


@dataclass(frozen=True, slots=True)
class RelayConfig:
    batch_size: int = 1000
    poll_interval: float = 1.0
    lock_retry: float = 1.0
    backoff_initial: float = 0.2
    backoff_max: float = 30.0
    purge_interval: float = 3600.0
    stats_interval: float = 5.0
    retention: timedelta = timedelta(days=7)
    #: On shutdown, how long to wait for the acks of the batch in flight before leaving it unmarked.
    shutdown_grace: float = 10.0
    create_topics: bool = True


@dataclass(frozen=True, slots=True)
class Outgoing:
    row: OutboxRow
    topic: str
    encoded: EncodedEvent


@dataclass(frozen=True, slots=True)
class Published:
    """One event the broker acknowledged (given to the optional observer, e.g. the benchmark)."""

    event_id: str
    event_type: str
    position: int
    topic: str
    partition: int
    offset: int
    acked_at: float


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    acked: list[Published]
    failed: list[int]
    #: The first position to read again (a row not acknowledged), or None when all went out.
    retry_from: int | None


@dataclass(slots=True)
class _Delivery:
    error: Any = None
    partition: int = -1
    offset: int = -1
    at: float = 0.0
    done: bool = False


def plan_batch(
    rows: Sequence[OutboxRow],
    encode: Callable[[OutboxRow], tuple[str, EncodedEvent]],
    blocked: set[str] | None = None,
) -> tuple[list[Outgoing], list[tuple[OutboxRow, str]]]:
    """The rows to send (in position order) and the rows held back with the reason.

    ``encode`` returns (topic, encoded record) or raises. A row that fails holds back every later row of
    the same aggregate; ``blocked`` (updated here) carries those aggregates from batch to batch until the
    failed row is tried again.
    """
    blocked = set() if blocked is None else blocked
    outgoing: list[Outgoing] = []
    held: list[tuple[OutboxRow, str]] = []
    for row in rows:
        if row.aggregate_id in blocked:
            held.append((row, "blocked-by-earlier-event"))
            continue
        try:
            topic, encoded = encode(row)
        except (EventCodecError, LookupError) as exc:
            blocked.add(row.aggregate_id)
            held.append((row, "unencodable" if isinstance(exc, EventCodecError) else "no-topic"))
            continue
        outgoing.append(Outgoing(row, topic, encoded))
    return outgoing, held


class Backoff:
    def __init__(self, initial: float, maximum: float) -> None:
        self._initial = initial
        self._maximum = maximum
        self._next = initial

    def next(self) -> float:
        delay, self._next = self._next, min(self._next * 2, self._maximum)
        return delay

    def reset(self) -> None:
        self._next = self._initial


class OutboxRelay:
    def __init__(
        self,
        *,
        store_factory: Callable[[], OutboxRelayStore],
        producer_factory: Callable[[Callable[[Any], None]], MessageProducer],
        ensure_topics: Callable[[], bool],
        codec: AvroEventCodec,
        routing: TopicRouting,
        metrics: RelayMetrics,
        config: RelayConfig,
        observer: Callable[[list[Published]], None] | None = None,
    ) -> None:
        self._store_factory = store_factory
        self._producer_factory = producer_factory
        self._ensure_topics = ensure_topics
        self._codec = codec
        self._routing = routing
        self._metrics = metrics
        self._config = config
        self._observer = observer
        self._wake = asyncio.Event()
        self._stopping = threading.Event()
        self._fatal = threading.Event()
        self._topics_ready = not config.create_topics
        self._last_broker_warning = 0.0

    # ------------------------------------------------------------------------------ lifecycle

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set: as the publisher when the lock is ours, as a standby otherwise."""
        watcher = asyncio.create_task(self._watch(stop))
        backoff = Backoff(self._config.backoff_initial, self._config.backoff_max)
        try:
            while not stop.is_set():
                store = self._store_factory()
                try:
                    await store.open()
                    if not await self._acquire(store, stop):
                        return
                    self._metrics.leader.set(1)
                    _log.info("relay holds the publisher lock")
                    await self._lead(store, stop, backoff)
                except Exception as exc:  # the database or the producer failed: start over after a pause
                    _log.warning("relay interrupted", extra={"error": type(exc).__name__})
                    await self._sleep(stop, backoff.next())
                finally:
                    self._metrics.leader.set(0)
                    await store.close()
        finally:
            watcher.cancel()

    async def _watch(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._stopping.set()
        self._wake.set()

    async def _acquire(self, store: OutboxRelayStore, stop: asyncio.Event) -> bool:
        announced = False
        while not stop.is_set():
            if await store.try_lock():
                return True
            if not announced:
                _log.info("another relay publishes; waiting as a standby")
                announced = True
            await self._sleep(stop, self._config.lock_retry)
        return False

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    # ------------------------------------------------------------------------------ publishing

    async def _lead(self, store: OutboxRelayStore, stop: asyncio.Event, backoff: Backoff) -> None:
        self._fatal.clear()
        producer = self._producer_factory(self._on_client_error)
        await store.listen(self._wake.set)
        books = Bookkeeper(self._store_factory(), self._metrics, stats_interval=self._config.stats_interval)
        await books.start()
        # Positions follow commit order, so "after the last position sent" never skips a later commit,
        # and rows whose marks are still being written are not read again.
        cursor = 0
        # A row not acknowledged (or not encodable) is tried again after a backoff; until then the later
        # rows of its customer are held back, everyone else's go on.
        blocked: set[str] = set()
        retry_from: int | None = None
        retry_at = next_purge = 0.0
        try:
            while not stop.is_set():
                self._wake.clear()
                if retry_from is not None and time.monotonic() >= retry_at:
                    await books.drain()  # what was acked meanwhile is marked, so it is not read again
                    cursor, retry_from = min(cursor, retry_from - 1), None
                    blocked.clear()
                rows = await store.unpublished(self._config.batch_size, after=cursor)
                if rows:
                    outcome = await self._publish(producer, rows, blocked)
                    await books.submit([p.position for p in outcome.acked], outcome.failed)
                    cursor = rows[-1].position
                    if outcome.retry_from is not None:
                        retry_from = min(retry_from or outcome.retry_from, outcome.retry_from)
                        retry_at = time.monotonic() + backoff.next()
                    elif retry_from is None:
                        backoff.reset()
                if self._fatal.is_set():
                    raise ConnectionError("the producer hit a fatal error; a new one will be created")
                books.check()
                if time.monotonic() >= next_purge:
                    await books.purge(self._config.retention)
                    next_purge = time.monotonic() + self._config.purge_interval
                if len(rows) < self._config.batch_size:
                    wait = self._config.poll_interval
                    if retry_from is not None:
                        wait = max(0.0, min(wait, retry_at - time.monotonic()))
                    # A NOTIFY that arrived since the clear() above has set the event: no lost wake-up.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), wait)
            await books.drain(within=self._config.shutdown_grace)
        finally:
            await books.close()

    async def _publish(self, producer: MessageProducer, rows: list[OutboxRow], blocked: set[str]) -> BatchOutcome:
        """Send one batch in position order and wait for the broker's acks."""
        if not self._topics_ready:
            self._topics_ready = await asyncio.to_thread(self._ensure_topics)
        outgoing, held = plan_batch(rows, self._encode, blocked)
        for row, reason in held:
            if reason != "blocked-by-earlier-event":
                _log.error(
                    "outbox event cannot be published",
                    extra={"eventId": row.event_id, "eventType": row.event_type, "reason": reason},
                )
                self._metrics.failed.labels(reason).inc()
        if outgoing:
            _log.debug(
                "batch produced, waiting for the acks",
                extra={"count": len(outgoing), "fromPosition": rows[0].position, "toPosition": rows[-1].position},
            )
        deliveries = await asyncio.to_thread(self._send, producer, outgoing) if outgoing else []
        acked: list[Published] = []
        failed = [row.position for row, reason in held if reason != "blocked-by-earlier-event"]
        unacked = [row.position for row, _ in held]
        for item, delivery in zip(outgoing, deliveries, strict=True):
            row = item.row
            if delivery.done and delivery.error is None:
                acked.append(
                    Published(
                        row.event_id,
                        row.event_type,
                        row.position,
                        item.topic,
                        delivery.partition,
                        delivery.offset,
                        delivery.at,
                    )
                )
                continue
            unacked.append(row.position)
            blocked.add(row.aggregate_id)
            if delivery.done:
                failed.append(row.position)
                reason = delivery.error.name() if hasattr(delivery.error, "name") else "delivery-failed"
                self._metrics.failed.labels(reason).inc()
                _log.warning(
                    "broker did not accept an event",
                    extra={"eventId": row.event_id, "eventType": row.event_type, "error": reason},
                )
        self._account(acked, rows)
        return BatchOutcome(acked, failed, min(unacked) if unacked else None)

    def _encode(self, row: OutboxRow) -> tuple[str, EncodedEvent]:
        topic = self._routing.topic_for(row.event_type)
        if topic is None:
            raise LookupError(row.event_type)
        return topic, self._codec.encode_envelope(row.envelope)

    def _send(self, producer: MessageProducer, outgoing: list[Outgoing]) -> list[_Delivery]:
        """Produce in order and wait for every ack (runs in a worker thread; librdkafka blocks)."""
        deliveries = [_Delivery() for _ in outgoing]

        def on_delivery(slot: _Delivery) -> Callable[[Any, Any], None]:
            def record(error: Any, message: Any) -> None:
                slot.error, slot.at, slot.done = error, time.time(), True
                if error is None:
                    slot.partition, slot.offset = message.partition(), message.offset()
                elif error.fatal():
                    self._fatal.set()

            return record

        for item, slot in zip(outgoing, deliveries, strict=True):
            encoded = item.encoded
            correlation = item.row.envelope.get("correlationId")
            with publish_span(item.topic, item.row.event_id, correlation, encoded.headers) as headers:
                while True:
                    try:
                        producer.produce(
                            item.topic,
                            value=encoded.value,
                            key=encoded.key,
                            headers=headers,
                            on_delivery=on_delivery(slot),
                        )
                        break
                    except BufferError:  # the local queue is full: let librdkafka send some first
                        producer.poll(0.05)
        give_up_at: float | None = None
        while producer.flush(0.5) > 0:
            if self._fatal.is_set():
                break
            if self._stopping.is_set():
                give_up_at = give_up_at or time.monotonic() + self._config.shutdown_grace
                if time.monotonic() > give_up_at:
                    break
            self._warn_waiting(sum(not d.done for d in deliveries))
        return deliveries

    def _warn_waiting(self, in_flight: int) -> None:
        now = time.monotonic()
        if now - self._last_broker_warning >= 30:
            self._last_broker_warning = now
            _log.warning("waiting for the broker to acknowledge events", extra={"inFlight": in_flight})

    def _on_client_error(self, error: Any) -> None:
        """librdkafka's error callback: connection trouble (retried by librdkafka itself) or a fatal error."""
        if error.fatal():
            self._fatal.set()
            _log.error("fatal producer error", extra={"error": error.name()})
            return
        now = time.monotonic()
        if now - self._last_broker_warning >= 30:
            self._last_broker_warning = now
            _log.warning("broker unreachable; librdkafka retries", extra={"error": error.name()})

    def _account(self, acked: list[Published], rows: list[OutboxRow]) -> None:
        if not acked:
            return
        created = {row.position: row.created_at.timestamp() for row in rows}
        for item in acked:
            self._metrics.published.labels(item.event_type).inc()
            self._metrics.latency.observe(max(0.0, item.acked_at - created[item.position]))
        if self._observer is not None:
            self._observer(acked)
