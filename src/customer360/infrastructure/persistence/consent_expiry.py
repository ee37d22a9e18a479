"""The consent expiry sweep: ``customer360 consent expire``, and periodically inside ``serve``.

The worker role (which may read ``consent_record`` across tenants, nothing more) finds the customers
with a deciding grant past its ``expires_at``; each is then handled by ``expire_consents`` as an ordinary
command of its tenant (app role, row-level security, one transaction per customer, under the customer's
row lock), which appends the EXPIRED records and their events. Running it twice, or in two processes at
once, appends nothing the second time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import URL

from customer360.application.consent_workflows import ExpireConsents, expire_consents
from customer360.application.context import Clock, RequestContext
from customer360.application.executor import CommandExecutor
from customer360.domain.ids import new_ulid
from customer360.infrastructure.persistence.consent_check import SUPERSEDED
from customer360.infrastructure.persistence.database import create_engine
from customer360.infrastructure.persistence.tables import SCHEMA

_log = logging.getLogger("customer360.consent_expiry")
SWEEP_ACTOR = "system:consent-expiry"

_DUE = text(f"""
SELECT DISTINCT c.tenant_id, c.customer_id FROM {SCHEMA}.consent_record c
 WHERE c.expires_at <= :now AND c.status = 'GRANTED' AND NOT {SUPERSEDED}
 ORDER BY c.tenant_id, c.customer_id
""")


@dataclass(frozen=True, slots=True)
class SweepResult:
    customers: int
    expired: int
    failed: int = 0


class ConsentExpirySweep:
    def __init__(self, worker_url: URL, executor: CommandExecutor, clock: Clock) -> None:
        self._worker_url = worker_url
        self._executor = executor
        self._clock = clock

    async def due(self) -> list[tuple[str, str]]:
        engine = create_engine(self._worker_url, pooled=False)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(_DUE, {"now": self._clock.now()})
                return [(row[0], row[1]) for row in rows]
        finally:
            await engine.dispose()

    async def run_once(self) -> SweepResult:
        due = await self.due()
        expired = failed = 0
        for tenant_id, customer_id in due:
            context = RequestContext(
                tenant_id=tenant_id, actor=SWEEP_ACTOR, correlation_id=f"expiry-{new_ulid()}", source="SYSTEM"
            )
            try:
                appended = await self._executor.execute(context, expire_consents, ExpireConsents(customer_id))
            except Exception as exc:  # one customer's bad data must not stop the others' expiry
                failed += 1
                _log.error(
                    "consent expiry failed",
                    extra={"tenant_id": tenant_id, "customer_id": customer_id, "error_type": type(exc).__name__},
                )
                continue
            expired += len(appended)
        _log.info("consent expiry sweep", extra={"customers": len(due), "expired": expired, "failed": failed})
        return SweepResult(len(due), expired, failed)
