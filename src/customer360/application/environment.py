"""What every handler may use besides the unit of work: the request context, the clock, id generation."""

from __future__ import annotations

from dataclasses import dataclass

from customer360.application.context import Clock, RequestContext
from customer360.application.ports import Hasher
from customer360.domain.ids import new_id


@dataclass(frozen=True, slots=True)
class HandlerEnv:
    context: RequestContext
    clock: Clock
    # Region used to read phone numbers written without a country code (e.g. "030 1234567").
    phone_region: str | None
    # Keyed hash for evidence we must be able to match but must not keep in clear (IP, user agent).
    hasher: Hasher

    def new_id(self, prefix: str) -> str:
        return new_id(prefix)
