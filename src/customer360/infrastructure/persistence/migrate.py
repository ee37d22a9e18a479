"""Run the Alembic migrations programmatically (``customer360 migrate`` and on start of ``serve``)."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection

from customer360.infrastructure.persistence.database import create_engine
from customer360.infrastructure.persistence.tables import SCHEMA

# Two processes starting at once (serve and relay) must not both migrate.
_MIGRATION_LOCK = 360_360_001


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("customer360.infrastructure.persistence") / "migrations"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def migrate(admin_url: URL, revision: str = "head") -> None:
    """Upgrade to ``revision``: the head, except for a test that checks an upgrade from an older schema."""
    engine = create_engine(admin_url, pooled=False)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            await connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
            await connection.run_sync(_upgrade, revision)
    finally:
        await engine.dispose()


async def current_revision(connection: AsyncConnection) -> str | None:
    result = await connection.execute(text(f"SELECT version_num FROM {SCHEMA}.alembic_version"))
    return result.scalar_one_or_none()
