"""The in-memory fakes of the ports keep the contracts of tests/contracts (the SQL adapters keep them too:
tests/integration/test_port_contracts.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from customer360.application.ports import UnitOfWork
from tests.contracts.consents import ConsentRepositoryContract
from tests.contracts.customers import CustomerRepositoryContract
from tests.contracts.duplicates import DuplicateIndexContract
from tests.contracts.links import CustomerLinksContract
from tests.contracts.merges import MergeRepositoryContract
from tests.contracts.privacy import ConsentRulesContract, PrivacyStoreContract
from tests.contracts.unit_of_work import UnitOfWorkContract
from tests.contracts.units import Units
from tests.unit.fakes import FakeUnitOfWork, Store


@pytest.fixture
def units() -> Units:
    store = Store()

    @asynccontextmanager
    async def unit() -> AsyncIterator[UnitOfWork]:
        async with FakeUnitOfWork(store) as uow:
            yield uow
            await uow.commit()

    return unit


class TestFakeCustomers(CustomerRepositoryContract):
    """FakeCustomers keeps the CustomerRepository contract."""


class TestFakeConsents(ConsentRepositoryContract):
    """FakeConsents keeps the ConsentRepository contract."""


class TestFakeMerges(MergeRepositoryContract):
    """FakeMerges keeps the MergeRepository contract."""


class TestFakeLinks(CustomerLinksContract):
    """FakeLinks keeps the CustomerLinks contract."""


class TestFakePrivacy(PrivacyStoreContract):
    """FakePrivacy keeps the PrivacyStore contract."""


class TestFakeConsentRules(ConsentRulesContract):
    """FakeConsentRules keeps the ConsentRules contract."""


class TestFakeDuplicates(DuplicateIndexContract):
    """FakeDuplicates keeps the DuplicateIndex contract."""


class TestFakeUnitOfWork(UnitOfWorkContract):
    """FakeUnitOfWork keeps what it wrote only when it commits."""
