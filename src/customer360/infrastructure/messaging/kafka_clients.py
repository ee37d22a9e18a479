"""librdkafka configurations built from the settings, the topic routing of our events, topic creation.

Every client gets ``KAFKA_CONFIG`` (security settings and other extras) on top of ours. librdkafka's
own log lines go to the standard logging module (logger ``customer360.kafka``), so they come out as
our JSON logs; they hold broker addresses and error names, never record contents.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from customer360.settings import Settings

_log = logging.getLogger("customer360.kafka")

#: The seed's partition counts, by the setting that names the topic.
SEED_PARTITIONS = {
    "topic_profile_created": 6,
    "topic_profile_updated": 6,
    "topic_profile_merged": 6,
    "topic_consent_updated": 3,
}

#: Which topic carries which of our event types (docs/events.md, "Topics"). An erasure travels with the
#: customer's updates and an unmerge with the merges: same key, same partition, so they stay in order.
EVENT_TOPIC_SETTING = {
    "CustomerProfileCreatedEvent": "topic_profile_created",
    "CustomerProfileUpdatedEvent": "topic_profile_updated",
    "CustomerErasedEvent": "topic_profile_updated",
    "CustomerMergedEvent": "topic_profile_merged",
    "CustomerUnmergedEvent": "topic_profile_merged",
    "ConsentUpdatedEvent": "topic_consent_updated",
}


@dataclass(frozen=True, slots=True)
class TopicRouting:
    """Event type → topic, and the partition count each topic is created with."""

    topics: Mapping[str, str]
    partitions: Mapping[str, int]

    @classmethod
    def from_settings(cls, settings: Settings) -> TopicRouting:
        return cls(
            topics={event: getattr(settings, name) for event, name in EVENT_TOPIC_SETTING.items()},
            partitions={getattr(settings, name): count for name, count in SEED_PARTITIONS.items()},
        )

    def topic_for(self, event_type: str) -> str | None:
        return self.topics.get(event_type)


def client_config(settings: Settings) -> dict[str, Any]:
    if not settings.kafka_bootstrap_servers:
        raise ValueError("KAFKA_BOOTSTRAP_SERVERS is not set")
    return {
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "client.id": settings.kafka_client_id,
        "logger": _log,
        **settings.kafka_config,
    }


def producer_config(settings: Settings, *, linger_ms: int, delivery_timeout_ms: int) -> dict[str, Any]:
    """Idempotent, acks=all: the broker keeps each record once and in produce order per partition."""
    return {
        **client_config(settings),
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": linger_ms,
        # 0 = no timeout: librdkafka retries until the broker is back. A timed-out record would let
        # later records of the same partition overtake it (librdkafka's own documentation says so),
        # which would break the per-customer order; the outbox is the buffer instead.
        "message.timeout.ms": delivery_timeout_ms,
        # Topics are created on purpose with their partition counts, never as a side effect of a send.
        "allow.auto.create.topics": False,
    }


def consumer_config(settings: Settings) -> dict[str, Any]:
    return {
        **client_config(settings),
        "group.id": settings.consumer_group,
        "auto.offset.reset": "earliest",
        # Offsets are committed by us, after the database transaction that applied the message.
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "session.timeout.ms": settings.consumer_session_timeout_ms,
        "heartbeat.interval.ms": max(100, settings.consumer_session_timeout_ms // 6),
        "allow.auto.create.topics": False,
    }


def ensure_topics(settings: Settings, partitions: Mapping[str, int], timeout: float = 15.0) -> bool:
    """Create the missing topics with their partition counts; True when every topic exists afterwards.

    Existing topics are left alone (their partition count is not ours to change). A broker that does
    not let us create topics is logged and tolerated: an operator may create them instead.
    """
    admin = AdminClient(client_config(settings))
    futures = admin.create_topics(
        [
            NewTopic(name, num_partitions=count, replication_factor=settings.kafka_replication_factor)
            for name, count in partitions.items()
        ],
        operation_timeout=timeout,
        request_timeout=timeout,
    )
    ready = True
    for name, future in futures.items():
        try:
            future.result(timeout=timeout)
            _log.info("topic created", extra={"topic": name, "partitions": partitions[name]})
        except KafkaException as exc:
            error = exc.args[0]
            if isinstance(error, KafkaError) and error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue
            ready = False
            _log.warning("topic not created", extra={"topic": name, "error": _error_name(exc)})
        except Exception as exc:  # a timeout while the broker is unreachable: try again later
            ready = False
            _log.warning("topic not created", extra={"topic": name, "error": type(exc).__name__})
    return ready


def _error_name(exc: KafkaException) -> str:
    error = exc.args[0] if exc.args else None
    return error.name() if isinstance(error, KafkaError) else type(exc).__name__
