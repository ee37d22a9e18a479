"""Session-wide real infrastructure: one fresh PostgreSQL database with the real migrations.

TEST_DATABASE_URL points the suite at a server (CI runs it once more against PostgreSQL 15); without it
an embedded PostgreSQL is started. Tests isolate themselves by using a new tenant each, which is also
what row-level security guarantees in production.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import URL, make_url

from customer360.bootstrap import Services, build_services
from customer360.infrastructure.persistence.database import DatabaseUrls, derive_urls
from customer360.infrastructure.rest.app import create_app
from customer360.settings import Settings
from tests.support.database import FreshDatabase, embedded_server

# The contract suites' plain asserts report their values, as a test module's do.
pytest.register_assert_rewrite("tests.contracts")

ALL_PERMISSIONS = ",".join(
    [
        "crm.customer:read",
        "crm.customer:write",
        "crm.customer:merge",
        "crm.consent:read",
        "crm.consent:write",
        "crm.audit:read",
        "crm.events:read",
        "crm.privacy:export",
        "crm.privacy:erase",
        "crm.privacy:hold",
        "crm.consent:admin",
        "crm.duplicates:read",
        "crm.duplicates:write",
        "crm.customer:import",
        "crm.customer:export",
    ]
)


@pytest.fixture(scope="session")
def database_server() -> Iterator[URL]:
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        yield make_url(configured)
        return
    with ExitStack() as stack:
        yield stack.enter_context(embedded_server())


@pytest.fixture(scope="session")
async def database(database_server: URL) -> AsyncIterator[DatabaseUrls]:
    fresh = FreshDatabase(database_server)
    admin = await fresh.create()
    try:
        yield derive_urls(admin)
    finally:
        await fresh.drop()


def test_settings(database: DatabaseUrls, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database.admin.render_as_string(hide_password=False),
        "migrate_on_start": True,
        "db_pool_size": 5,
        "log_json": True,
        # The check on create has its own tests (tests/integration/test_duplicate_check_api.py); elsewhere
        # tests create look-alike profiles on purpose (to merge them, to search them).
        "duplicate_check_on_create": False,
        # Imports are applied inside the test process, so a test can wait for them (services.imports.wait()).
        "import_runner": "inline",
        "import_workers": 0,
    }
    values.update(overrides)
    # model_validate reads no environment: tests see only these values and the defaults.
    return Settings.model_validate(values)


@pytest.fixture(scope="session")
async def services(database: DatabaseUrls) -> AsyncIterator[Services]:
    built = await build_services(test_settings(database))
    try:
        yield built
    finally:
        await built.aclose()


@pytest.fixture(scope="session")
def app(services: Services) -> FastAPI:
    return create_app(services.settings, services.api)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://customer360.test") as http:
        yield http


@pytest.fixture
def tenant() -> str:
    return f"t-{secrets.token_hex(6)}"


@pytest.fixture
def headers(tenant: str) -> dict[str, str]:
    return {"X-User-Id": "steward-1", "X-Tenant-ID": tenant, "X-User-Permissions": ALL_PERMISSIONS}
