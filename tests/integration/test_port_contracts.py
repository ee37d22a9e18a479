"""The SQL adapters of the ports keep the contracts of tests/contracts, on the real PostgreSQL with the
real migrations (the in-memory fakes keep them too: tests/unit/test_port_contracts.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from customer360.application.context import RequestContext
from customer360.application.ports import UnitOfWork
from customer360.bootstrap import Services
from customer360.infrastructure.messaging.envelopes import envelope
from customer360.infrastructure.persistence.unit_of_work import SqlUnitOfWork
from tests.contracts.consents import ConsentRepositoryContract
from tests.contracts.customers import CustomerRepositoryContract
from tests.contracts.duplicates import DuplicateIndexContract
from tests.contracts.links import CustomerLinksContract
from tests.contracts.merges import MergeRepositoryContract
from tests.contracts.privacy import ConsentRulesContract, PrivacyStoreContract
from tests.contracts.unit_of_work import UnitOfWorkContract
from tests.contracts.units import Units


@pytest.fixture
def units(services: Services, tenant: str) -> Units:
    context = RequestContext(tenant_id=tenant, actor="contract", correlation_id="contract")

    @asynccontextmanager
    async def unit() -> AsyncIterator[UnitOfWork]:
        async with SqlUnitOfWork(services.engine, context, envelope) as uow:
            yield uow
            await uow.commit()

    return unit


class TestSqlCustomers(CustomerRepositoryContract):
    """SqlCustomerRepository keeps the CustomerRepository contract."""


class TestSqlConsents(ConsentRepositoryContract):
    """SqlConsentRepository keeps the ConsentRepository contract."""


class TestSqlMerges(MergeRepositoryContract):
    """SqlMergeRepository keeps the MergeRepository contract."""


class TestSqlLinks(CustomerLinksContract):
    """SqlCustomerLinks keeps the CustomerLinks contract."""


class TestSqlPrivacy(PrivacyStoreContract):
    """SqlPrivacyStore keeps the PrivacyStore contract."""


class TestSqlConsentRules(ConsentRulesContract):
    """SqlConsentRules keeps the ConsentRules contract."""


class TestSqlDuplicates(DuplicateIndexContract):
    """SqlDuplicateIndex keeps the DuplicateIndex contract."""


class TestSqlUnitOfWork(UnitOfWorkContract):
    """SqlUnitOfWork keeps what it wrote only when it commits."""
