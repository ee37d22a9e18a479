"""Recording reads of personal data in the access log (persistence/access_log.py): ids, never values."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, get_args

from fastapi import Request

from customer360.infrastructure.rest.auth import Principal
from customer360.infrastructure.rest.dependencies import services
from customer360.infrastructure.rest.errors import correlation_id

AccessAction = Literal[
    "PROFILE_READ",
    "PROFILE_LIST",
    "SEARCH",
    "CONTACTS_READ",
    "EXPORT",
    "LOOKUP",
    "ENTITLEMENTS_READ",
    "BILLING_READ",
    "SERVICE_HISTORY_READ",
    "DUPLICATE_QUEUE",
    "BULK_EXPORT",  # written by the export itself, batch by batch (persistence/export_queries.py)
]
ACCESS_ACTIONS: tuple[str, ...] = get_args(AccessAction)


def record_reads(request: Request, principal: Principal, action: AccessAction, customer_ids: Iterable[str]) -> None:
    """A list append in the request; the access log writes it in the background."""
    services(request).access_log.record(
        principal.tenant_id, principal.user_id, action, customer_ids, correlation_id(request)
    )
