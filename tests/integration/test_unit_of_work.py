"""The unit of work on PostgreSQL: a command that raises leaves nothing, in any table."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

from customer360.application import consents, customers, merges, privacy, relationships
from customer360.application.context import RequestContext
from customer360.application.environment import HandlerEnv
from customer360.application.inputs import ContactInput, EmailInput, ExternalRefInput, ProfileInput
from customer360.application.ports import UnitOfWork
from customer360.bootstrap import Services
from customer360.infrastructure.persistence.database import tenant_transaction
from customer360.infrastructure.persistence.tables import customer_profile, metadata


class Boom(Exception):
    """The failure after every write of the command."""


async def _rows_per_table(services: Services, tenant: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with tenant_transaction(services.engine, tenant) as connection:
        for table in metadata.sorted_tables:
            if "tenant_id" in table.c:
                query = select(func.count()).select_from(table).where(table.c.tenant_id == tenant)
                counts[table.name] = int((await connection.execute(query)).scalar_one())
    return counts


async def _everything_then_fail(cmd: None, uow: UnitOfWork, env: HandlerEnv) -> Any:
    """Two profiles (contacts, references), consent, a link, a legal hold, a merge; then a failure."""
    made = []
    for name, ref in (("Doomed GmbH", "D-1"), ("Doomed AG", "D-2")):
        attributes = ProfileInput(
            name=name,
            emails=(EmailInput(address=f"info@{ref.lower()}.example"),),
            external_refs=(ExternalRefInput(source_system="ERP", external_id=ref),),
        )
        command = customers.CreateCustomerProfile(attributes, contacts=(ContactInput(name="Ann"),))
        made.append((await customers.create_customer_profile(command, uow, env)).customer_id)
    target, source = made
    await consents.record_consent(consents.RecordConsent(source, "SMS", "REVOKED"), uow, env)
    await relationships.add_relationship(relationships.AddRelationship(source, target, "PARTNER_OF"), uow, env)
    await privacy.place_legal_hold(privacy.PlaceLegalHold(target, "litigation"), uow, env)
    await uow.flush()
    merge = merges.MergeCustomers(target, source, target_version=1, source_version=2)
    await merges.merge_customers(merge, uow, env)
    await uow.flush()
    raise Boom


class TestRollback:
    async def test_a_command_that_raises_leaves_no_row_no_outbox_no_audit(
        self, services: Services, tenant: str
    ) -> None:
        """After the failure no table holds a row of the tenant: profiles, children, audit, outbox, all."""
        context = RequestContext(tenant_id=tenant, actor="test", correlation_id="rollback")
        with pytest.raises(Boom):
            await services.executor.execute(context, _everything_then_fail, None)
        counts = await _rows_per_table(services, tenant)
        assert {name: n for name, n in counts.items() if n} == {}
        assert {"customer_profile", "audit_log", "event_outbox", "customer_merge", "legal_hold"} <= counts.keys()

    async def test_the_same_command_without_the_failure_writes_those_rows(
        self, services: Services, tenant: str
    ) -> None:
        """The control: committed, the same writes are in the tables the rollback test finds empty."""

        async def everything(cmd: None, uow: UnitOfWork, env: HandlerEnv) -> Any:
            try:
                await _everything_then_fail(cmd, uow, env)
            except Boom:
                return None

        context = RequestContext(tenant_id=tenant, actor="test", correlation_id="commit")
        await services.executor.execute(context, everything, None)
        counts = await _rows_per_table(services, tenant)
        written = {"customer_profile", "contact", "audit_log", "event_outbox", "customer_merge", "legal_hold"}
        assert {name for name in written if counts[name]} == written


class TestTenantScope:
    async def test_a_tenant_id_with_quotes_and_backslashes_is_set_as_written(self, services: Services) -> None:
        """BEGIN and the tenant setting go in one simple query: the id is quoted, not interpreted."""
        odd = "t'-\\x\\'; SELECT 1 --"
        async with tenant_transaction(services.engine, odd) as connection:
            setting = (await connection.execute(select(func.current_setting("app.tenant_id")))).scalar_one()
        assert odd == setting

    async def test_the_setting_ends_with_the_transaction(self, services: Services, tenant: str) -> None:
        """The next transaction on the pooled connection sees no tenant (the setting is transaction-local)."""
        async with tenant_transaction(services.engine, tenant):
            pass
        async with services.engine.connect() as connection:
            setting = (await connection.execute(select(func.current_setting("app.tenant_id", True)))).scalar_one()
        assert setting in (None, "")


class TestAnswerDocuments:
    """A flush before an answer brings the written profiles' documents back with the matching data."""

    async def test_a_create_answers_with_the_document_a_later_read_returns(
        self, services: Services, tenant: str
    ) -> None:
        """The document the flush brought back is the stored one, contacts and references included."""
        context = RequestContext(tenant_id=tenant, actor="test", correlation_id="answer")
        attributes = ProfileInput(
            name="Answer GmbH",
            emails=(EmailInput(address="info@answer.example"),),
            external_refs=(ExternalRefInput(source_system="ERP", external_id="A-1"),),
        )
        command = customers.CreateCustomerProfile(attributes, contacts=(ContactInput(name="Ann"),))
        answer = await services.executor.execute(
            context, customers.create_customer_profile, command, present=customers.profile_answer
        )
        customer_id = answer.result.customer_id

        async def read(cmd: None, uow: UnitOfWork, env: HandlerEnv) -> Any:
            return await uow.views.profile(customer_id)

        stored = await services.executor.execute(context, read, None)
        assert answer.documents[customer_id] == stored
        assert stored["contacts"]
        assert stored["externalRefs"]

    async def test_a_statement_after_the_flush_makes_the_next_read_query_again(
        self, services: Services, tenant: str
    ) -> None:
        """A document kept by the flush is not answered once another statement changed the profile."""
        context = RequestContext(tenant_id=tenant, actor="test", correlation_id="stale")

        async def create_then_rename(cmd: None, uow: UnitOfWork, env: HandlerEnv) -> Any:
            command = customers.CreateCustomerProfile(ProfileInput(name="Before GmbH"))
            customer_id = (await customers.create_customer_profile(command, uow, env)).customer_id
            await uow.flush(answer=True)
            p = customer_profile.c
            await uow.writes.execute(  # type: ignore[attr-defined]
                update(customer_profile).where(p.tenant_id == tenant, p.id == customer_id).values(name="After GmbH")
            )
            return await uow.views.profile(customer_id)

        document = await services.executor.execute(context, create_then_rename, None)
        assert document is not None
        assert document["name"] == "After GmbH"
