"""The audit and outbox rows sent with the COMMIT (one simple query, their values written in as literals):
what the rows hold is what the events said, and a statement that fails there leaves nothing behind."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from customer360.application import customers
from customer360.application.context import RequestContext
from customer360.application.environment import HandlerEnv
from customer360.application.inputs import ProfileInput
from customer360.application.ports import UnitOfWork
from customer360.bootstrap import Services
from customer360.infrastructure.persistence.database import (
    begin_for_tenant,
    commit_with,
    create_engine,
    tenant_transaction,
)
from customer360.infrastructure.persistence.tables import audit_log, event_outbox

# Quotes, backslashes, an escape sequence's look-alike and a character outside the BMP.
AWKWARD = "O'Brien \\ \"Ü\" \\x41 '' 𝄞"


async def _create(cmd: str, uow: UnitOfWork, env: HandlerEnv) -> Any:
    command = customers.CreateCustomerProfile(ProfileInput(name=cmd))
    return (await customers.create_customer_profile(command, uow, env)).customer_id


class TestJournalWithCommit:
    async def test_the_rows_hold_the_values_as_written(self, services: Services, tenant: str) -> None:
        """Name, actor, correlation id and the event time read back exactly as the create made them."""
        context = RequestContext(tenant_id=tenant, actor=f"actor {AWKWARD}", correlation_id=f"corr {AWKWARD}")
        customer_id = await services.executor.execute(context, _create, AWKWARD)
        async with tenant_transaction(services.engine, tenant) as connection:
            audit = (await connection.execute(select(audit_log).where(audit_log.c.customer_id == customer_id))).one()
            outbox = (
                await connection.execute(select(event_outbox).where(event_outbox.c.aggregate_id == customer_id))
            ).one()
            created = (
                await connection.execute(
                    text("SELECT created_at FROM customer_profile WHERE id = :id"), {"id": customer_id}
                )
            ).scalar_one()
        assert (audit.actor, audit.correlation_id) == (context.actor, context.correlation_id)
        assert [c["new"] for c in audit.changes if c["field"] == "name"] == [AWKWARD]
        assert outbox.correlation_id == context.correlation_id
        assert (outbox.envelope["payload"]["name"], outbox.envelope["correlationId"]) == (
            AWKWARD,
            context.correlation_id,
        )
        assert audit.occurred_at == outbox.created_at == created

    async def test_a_failing_statement_rolls_back_and_frees_the_connection(
        self, services: Services, tenant: str
    ) -> None:
        """The error is raised, the transaction is gone, and the connection serves the next one."""
        engine = create_engine(services.engine.url, pool_size=1, max_overflow=0)
        try:
            async with engine.connect() as connection:
                await connection.begin()
                await begin_for_tenant(connection, tenant)
                await connection.execute(text("CREATE TEMPORARY TABLE journal_probe (n int)"))
                with pytest.raises(DBAPIError, match="division by zero"):
                    await commit_with(connection, "INSERT INTO journal_probe VALUES (1); SELECT 1 / 0")
                raw = await connection.get_raw_connection()
                assert not raw.driver_connection.is_in_transaction()  # type: ignore[union-attr]
            async with engine.connect() as connection:
                missing = await connection.scalar(text("SELECT to_regclass('pg_temp.journal_probe') IS NULL"))
        finally:
            await engine.dispose()
        assert missing is True

    async def test_a_connection_that_served_another_isolation_level_keeps_the_one_round_trip_path(
        self, services: Services, tenant: str
    ) -> None:
        """After a REPEATABLE READ snapshot (an export) the pooled connection still commits with the statement."""
        engine = create_engine(services.engine.url, pool_size=1, max_overflow=0)
        try:
            async with engine.connect() as connection:
                snapshot = await connection.execution_options(isolation_level="REPEATABLE READ")
                await snapshot.scalar(text("SELECT 1"))
                await snapshot.rollback()
            async with engine.connect() as connection:
                await connection.begin()
                await begin_for_tenant(connection, tenant)
                committed = await commit_with(connection, "SELECT set_config('application_name', 'probe', false)")
                setting = await connection.scalar(text("SELECT current_setting('application_name')"))
                isolation = await connection.scalar(text("SHOW transaction_isolation"))
        finally:
            await engine.dispose()
        assert (committed, setting, isolation) == (True, "probe", "read committed")
