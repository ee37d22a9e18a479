"""The migrations run as a database owner that is neither superuser nor BYPASSRLS, as production's may be.

The tenant policy applies to such an owner too (FORCE ROW LEVEL SECURITY): a backfill that reads the
profiles without a tenant set sees none of them and backfills nothing, silently. These tests migrate a
database of their own as such an owner, from an older revision holding profiles of two tenants.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import URL

from customer360.bootstrap import build_services
from customer360.infrastructure.persistence.database import asyncpg_connect_args, derive_urls
from customer360.infrastructure.persistence.migrate import migrate
from customer360.infrastructure.persistence.roles import TENANT_SETTING
from customer360.infrastructure.persistence.tables import SCHEMA
from customer360.infrastructure.rest.app import create_app
from tests import conftest
from tests.support.api import create_customer

# The last revision before the word index's prefix (0016) and pair (0017) postings, which backfill.
BEFORE_BACKFILLS = "0015_outbox_write"
NAMES = {"t-owner-a": "Lindgren Handel", "t-owner-b": "Okafor Logistik"}


async def _as_superuser(server: URL, statement: str) -> None:
    connection = await asyncpg.connect(**asyncpg_connect_args(server.set(database=server.database or "postgres")))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
async def owner_url(database_server: URL, services: Any) -> AsyncIterator[URL]:
    """A database owned by a login role without SUPERUSER or BYPASSRLS (the service's roles exist already)."""
    role, name = f"c360_owner_{secrets.token_hex(4)}", f"c360_owner_{secrets.token_hex(4)}"
    server = database_server.set(drivername="postgresql+asyncpg")
    await _as_superuser(server, f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
    await _as_superuser(server, f'CREATE DATABASE "{name}" OWNER {role}')
    try:
        yield server.set(database=name, username=role, password=None)
    finally:
        await _as_superuser(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await _as_superuser(server, f"DROP ROLE IF EXISTS {role}")


async def _create_profiles(owner: URL) -> dict[str, str]:
    """One profile per tenant, created through the API on the older schema; returns tenant -> customer id."""
    built = await build_services(conftest.test_settings(derive_urls(owner), migrate_on_start=False))
    try:
        transport = httpx.ASGITransport(app=create_app(built.settings, built.api))
        async with httpx.AsyncClient(transport=transport, base_url="http://customer360.test") as client:
            return {
                tenant: (
                    await create_customer(
                        client,
                        {
                            "X-User-Id": "steward-1",
                            "X-Tenant-ID": tenant,
                            "X-User-Permissions": conftest.ALL_PERMISSIONS,
                        },
                        name=name,
                    )
                )["id"]
                for tenant, name in NAMES.items()
            }
    finally:
        await built.aclose()


async def _postings(owner: URL, tenant: str, customer_id: str) -> tuple[set[str], set[str]]:
    """As the owner, with the tenant set: the profile's postings, and those its tokens call for at head."""
    connection = await asyncpg.connect(**asyncpg_connect_args(owner))
    try:
        async with connection.transaction():
            await connection.execute("SELECT set_config($1, $2, true)", TENANT_SETTING, tenant)
            posted = await connection.fetch(
                f"SELECT token FROM {SCHEMA}.search_token WHERE tenant_id = $1 AND customer_id = $2",
                tenant,
                customer_id,
            )
            wanted = await connection.fetchval(
                f"SELECT {SCHEMA}.search_postings(search_tokens) FROM {SCHEMA}.customer_profile "
                "WHERE tenant_id = $1 AND id = $2",
                tenant,
                customer_id,
            )
        return {row["token"] for row in posted}, set(wanted)
    finally:
        await connection.close()


async def test_the_owner_that_migrates_bypasses_no_row_level_security(owner_url: URL) -> None:
    """The role these tests migrate as is neither superuser nor BYPASSRLS."""
    connection = await asyncpg.connect(**asyncpg_connect_args(owner_url))
    try:
        row = await connection.fetchrow("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    finally:
        await connection.close()
    assert (row["rolsuper"], row["rolbypassrls"]) == (False, False)


async def test_the_upgrade_backfills_the_postings_of_every_tenant(owner_url: URL) -> None:
    """Profiles of two tenants made before 0016 have every prefix and pair posting after the upgrade."""
    await migrate(owner_url, BEFORE_BACKFILLS)
    created = await _create_profiles(owner_url)
    await migrate(owner_url)
    for tenant, customer_id in created.items():
        posted, wanted = await _postings(owner_url, tenant, customer_id)
        assert any(token.startswith("m:") for token in wanted)
        assert posted == wanted, tenant
