"""The Prometheus registry of a process: every series starts with ``crm_customer360_``.

Besides the service's own metrics it holds the client library's standard collectors — process (CPU, memory,
open files), platform (Python version) and garbage collection — under the same prefix, so that one
``{__name__=~"crm_customer360_.*"}`` finds everything this service exports.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

PREFIX = "crm_customer360_"


class _Prefixed(Collector):
    """A standard collector whose families are renamed (the GC and platform ones take no namespace)."""

    def __init__(self, collector: Collector) -> None:
        self._collector = collector

    def collect(self) -> Iterable[Metric]:
        for family in self._collector.collect():
            family.name = PREFIX + family.name
            family.samples = [sample._replace(name=PREFIX + sample.name) for sample in family.samples]
            yield family


def new_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    ProcessCollector(namespace=PREFIX.rstrip("_"), registry=registry)
    # Created against a scratch registry (they register themselves), then exported renamed.
    scratch = CollectorRegistry(auto_describe=False)
    registry.register(_Prefixed(GCCollector(registry=scratch)))
    registry.register(_Prefixed(PlatformCollector(registry=scratch)))
    return registry
