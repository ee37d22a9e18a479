"""Recording reads of personal data in the access log (persistence/access_log.py): ids, never values."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Request

from customer360.infrastructure.rest.auth import Principal
from customer360.infrastructure.rest.errors import correlation_id


def record_reads(request: Request, principal: Principal, action: str, customer_ids: Iterable[str]) -> None:
    """A list append in the request; the access log writes it in the background."""
    request.app.state.services.access_log.record(
        principal.tenant_id, principal.user_id, action, customer_ids, correlation_id(request)
    )
