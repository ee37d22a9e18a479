"""The outbox row commits with the change, and a failed change leaves neither."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from customer360.application.context import RequestContext
from customer360.application.customers import CreateCustomerProfile, create_customer_profile
from customer360.application.environment import HandlerEnv
from customer360.application.ports import UnitOfWork
from customer360.bootstrap import Services
from customer360.infrastructure.persistence.database import tenant_transaction
from tests.support.api import CUSTOMERS, create_customer
from tests.support.inputs import profile_input


async def _count(services: Services, tenant: str, table: str) -> int:
    async with tenant_transaction(services.engine, tenant) as connection:
        return int((await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


class TestOutbox:
    async def test_a_change_commits_with_its_event_and_audit_row(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """Creating a customer writes exactly one CustomerProfileCreatedEvent and one audit row."""
        created = await create_customer(client, headers, segment="SMB")
        async with tenant_transaction(services.engine, tenant) as connection:
            rows = (await connection.execute(text("SELECT event_type, envelope FROM event_outbox"))).all()
        assert [r[0] for r in rows] == ["CustomerProfileCreatedEvent"]
        envelope = rows[0][1]
        assert (created["id"], tenant, "SMB") == (
            envelope["aggregateId"],
            envelope["tenantId"],
            envelope["payload"]["segment"],
        )
        assert await _count(services, tenant, "audit_log") == 1

    async def test_a_failure_after_the_write_leaves_neither_change_nor_event(
        self, services: Services, tenant: str
    ) -> None:
        """A handler that fails after writing rolls back the profile, its audit and its outbox rows."""

        async def create_then_fail(cmd: CreateCustomerProfile, uow: UnitOfWork, env: HandlerEnv) -> Any:
            await create_customer_profile(cmd, uow, env)
            await uow.flush()
            raise RuntimeError("failure after the write")

        context = RequestContext(tenant_id=tenant, actor="test", correlation_id="c-1")
        with pytest.raises(RuntimeError):
            await services.executor.execute(
                context, create_then_fail, CreateCustomerProfile(profile_input({"name": "Doomed"}))
            )
        counts = [await _count(services, tenant, t) for t in ("customer_profile", "audit_log", "event_outbox")]
        assert counts == [0, 0, 0]

    async def test_a_database_failure_during_commit_leaves_nothing(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """When the external reference insert fails at commit, the profile row written before it is gone too."""
        ref = [{"sourceSystem": "CRM", "externalId": "42"}]
        await create_customer(client, headers, externalRefs=ref)
        before = [await _count(services, tenant, t) for t in ("customer_profile", "event_outbox")]

        async def steal_the_reference(cmd: CreateCustomerProfile, uow: UnitOfWork, env: HandlerEnv) -> Any:
            # Skip the handler's pre-check, as a concurrent request would, so the database must refuse it.
            uow.customers.owner_of_external_ref = _nobody  # type: ignore[method-assign]
            return await create_customer_profile(cmd, uow, env)

        context = RequestContext(tenant_id=tenant, actor="test", correlation_id="c-2")
        command = CreateCustomerProfile(
            profile_input({"name": "Thief", "external_refs": [{"source_system": "CRM", "external_id": "42"}]})
        )
        with pytest.raises(Exception, match="external reference"):
            await services.executor.execute(context, steal_the_reference, command)
        after = [await _count(services, tenant, t) for t in ("customer_profile", "event_outbox")]
        assert before == after

    async def test_the_change_feed_serves_events_in_commit_order(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """The feed returns created then updated events, and an empty page after the last cursor."""
        created = await create_customer(client, headers)
        await client.patch(f"{CUSTOMERS}/{created['id']}", json={"segment": "X"}, headers=headers)
        page = (await client.get("/api/v1/crm/events", headers=headers)).json()
        assert [e["eventType"] for e in page["items"]] == ["CustomerProfileCreatedEvent", "CustomerProfileUpdatedEvent"]
        assert page["items"][1]["payload"]["changedFields"] == ["segment"]
        rest = (await client.get("/api/v1/crm/events", params={"after": page["nextCursor"]}, headers=headers)).json()
        assert ([], page["nextCursor"]) == (rest["items"], rest["nextCursor"])


async def _nobody(ref: object) -> None:
    return None
