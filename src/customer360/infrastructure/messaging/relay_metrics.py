"""Prometheus metrics of the outbox relay (labels are event types and error names, never data)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)


class RelayMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.pending = Gauge(
            "crm_customer360_outbox_pending_events",
            "Outbox rows not yet acknowledged by the broker (read by the publishing relay)",
            registry=registry,
        )
        self.oldest_pending_age = Gauge(
            "crm_customer360_outbox_oldest_pending_age_seconds",
            "Age of the oldest outbox row not yet acknowledged by the broker (0 when none)",
            registry=registry,
        )
        self.published = Counter(
            "crm_customer360_relay_published_events",
            "Events acknowledged by the broker and marked published",
            ["event_type"],
            registry=registry,
        )
        self.failed = Counter(
            "crm_customer360_relay_failed_events",
            "Events the relay could not publish this time (they stay in the outbox and are retried)",
            ["reason"],
            registry=registry,
        )
        self.latency = Histogram(
            "crm_customer360_relay_publish_latency_seconds",
            "From the event's creation in the committing transaction to the broker's acknowledgement",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.leader = Gauge(
            "crm_customer360_relay_leader",
            "1 while this process holds the publisher lock, 0 while it waits as a standby",
            registry=registry,
        )
        self.purged = Counter(
            "crm_customer360_outbox_purged_events",
            "Published outbox rows deleted after the retention period",
            registry=registry,
        )
