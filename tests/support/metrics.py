"""Reading one sample's value out of a Prometheus text exposition (what GET /metrics answers)."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client.parser import text_string_to_metric_families


def sample(exposition: str, name: str, labels: Mapping[str, str] | None = None) -> float:
    """The value of the sample ``name`` with exactly ``labels``; 0 when there is none (a counter not yet
    incremented is not exposed)."""
    wanted = dict(labels or {})
    for family in text_string_to_metric_families(exposition):
        for found in family.samples:
            if found.name == name and found.labels == wanted:
                return float(found.value)
    return 0.0
