"""Who is acting, for which tenant, under which correlation id — passed to every use case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RequestContext:
    tenant_id: str
    actor: str
    correlation_id: str
    # Which system the change comes from: API for people and services, MDG/SALES/... for consumed events.
    source: str = "API"


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
