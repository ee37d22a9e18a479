"""Engines and the per-transaction tenant scope.

Every transaction that touches tenant data starts with ``set_config('app.tenant_id', …, true)``; the
setting dies with the transaction, so a pooled connection can never leak one tenant into the next.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from customer360.infrastructure.persistence.roles import APP_ROLE, TENANT_SETTING, WORKER_ROLE
from customer360.infrastructure.persistence.tables import SCHEMA

SET_TENANT = text(f"SELECT set_config('{TENANT_SETTING}', :tenant, true)")


@dataclass(frozen=True, slots=True)
class DatabaseUrls:
    admin: URL
    app: URL
    worker: URL
    read: URL | None = None  # a streaming replica, connected to as the app role


def asyncpg_url(url: str | URL) -> URL:
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(drivername="postgresql+asyncpg")


def derive_urls(
    admin_url: str | URL, app_url: str | None = None, worker_url: str | None = None, read_url: str | None = None
) -> DatabaseUrls:
    """The service's roles connect to the same server and database as the admin URL unless told otherwise;
    on a replica (``read_url``) the app role connects, with the app URL's password, unless the URL names a user."""
    admin = asyncpg_url(admin_url)
    app = asyncpg_url(app_url) if app_url else admin.set(username=APP_ROLE, password=None)
    read = asyncpg_url(read_url) if read_url else None
    if read is not None and read.username is None:
        read = read.set(username=app.username, password=app.password)
    return DatabaseUrls(
        admin=admin,
        app=app,
        worker=asyncpg_url(worker_url) if worker_url else admin.set(username=WORKER_ROLE, password=None),
        read=read,
    )


def asyncpg_connect_args(url: URL) -> dict[str, Any]:
    """asyncpg keywords for a SQLAlchemy URL (a ``host`` query parameter names a socket directory)."""
    args: dict[str, Any] = url.translate_connect_args(username="user")
    args.update({key: value for key, value in url.query.items() if isinstance(value, str)})
    return args


async def _no_reset(connection: asyncpg.Connection) -> None:
    return None


async def asyncpg_pool(url: URL, *, size: int, application_name: str) -> asyncpg.Pool:
    """A small asyncpg pool outside SQLAlchemy, for reads that must cost one round trip. Its connections
    never carry session state (the tenant setting is transaction-local), so the per-release reset query
    is skipped."""
    return await asyncpg.create_pool(
        **asyncpg_connect_args(url),
        min_size=1,
        max_size=size,
        reset=_no_reset,
        server_settings={"search_path": f"{SCHEMA},public", "application_name": application_name},
    )


def create_engine(url: URL, *, pool_size: int = 10, max_overflow: int = 10, pooled: bool = True) -> AsyncEngine:
    connect_args = {
        "server_settings": {"search_path": f"{SCHEMA},public", "application_name": "crm-customer360"},
    }
    # orjson reads the json/jsonb columns: profile documents are most of what a search or list returns
    # (the standard library's decoder was 8 % of the service's CPU per search).
    common: dict[str, Any] = {"connect_args": connect_args, "json_deserializer": orjson.loads}
    if not pooled:
        return create_async_engine(url, poolclass=NullPool, **common)
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=False,
        pool_recycle=1800,
        **common,
    )


async def set_tenant(connection: AsyncConnection, tenant_id: str) -> None:
    await connection.execute(SET_TENANT, {"tenant": tenant_id})


def text_literal(value: str) -> str:
    """``value`` as an escape-string literal (read the same whatever standard_conforming_strings says), for
    the statements sent as one simple query; ValueError for a NUL, which no PostgreSQL text can hold."""
    if "\x00" in value:
        raise ValueError("a text literal cannot hold NUL")
    return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


class _TenantTransaction:
    """The driver's side of SQLAlchemy's transaction (the asyncpg adapter's ``_transaction``: start, commit,
    rollback), begun together with the tenant setting: ``BEGIN; SELECT set_config(…)`` is one simple
    query, one round trip instead of two. A round trip costs the service ~150 µs of CPU on this machine
    (the socket write that wakes PostgreSQL), more than most statements of a create (docs/benchmarks.md)."""

    __slots__ = ("_begin", "_connection", "before_commit")

    def __init__(self, connection: asyncpg.Connection, tenant_id: str, isolation: str = "") -> None:
        self._connection = connection
        self._begin = f"BEGIN{isolation}; SELECT set_config('{TENANT_SETTING}', {text_literal(tenant_id)}, true)"
        # A statement sent with the COMMIT, in its simple query (``commit_with``).
        self.before_commit: str | None = None

    async def start(self) -> None:
        try:
            await self._connection.execute(self._begin)
        except BaseException:
            if not self._connection.is_closed() and self._connection.is_in_transaction():
                await self._connection.execute("ROLLBACK")
            raise

    async def commit(self) -> None:
        statement, self.before_commit = self.before_commit, None
        if statement is None:
            await self._connection.execute("COMMIT")
            return
        try:
            await self._connection.execute(f"{statement}; COMMIT")
        except BaseException:
            # the statement failed: PostgreSQL skipped the COMMIT and the transaction is aborted, which the
            # adapter (it forgets this transaction whatever happens) would otherwise hand back to the pool
            if not self._connection.is_closed() and self._connection.is_in_transaction():
                await self._connection.execute("ROLLBACK")
            raise

    async def rollback(self) -> None:
        await self._connection.execute("ROLLBACK")


# The adapter's isolation levels this BEGIN writes as asyncpg would: none, and READ COMMITTED, which a pooled
# connection keeps once it served another level (SQLAlchemy resets it to the dialect's default, not to none).
_ISOLATION = {None: "", "read_committed": " ISOLATION LEVEL READ COMMITTED"}


async def begin_for_tenant(connection: AsyncConnection, tenant_id: str) -> None:
    """Begin the transaction of ``connection`` (``begin()`` called, nothing executed yet) with the tenant
    set, in one round trip on SQLAlchemy's asyncpg adapter; elsewhere (another driver, an isolation level
    or a statement already run) as ``set_tenant`` does, in two."""
    raw = await connection.get_raw_connection()
    adapter: Any = raw.dbapi_connection
    plain = (
        type(adapter).__name__ == "AsyncAdapt_asyncpg_connection"
        and getattr(adapter, "_transaction", True) is None
        and adapter.isolation_level in _ISOLATION
        and not adapter.readonly
        and not adapter.deferrable
    )
    if not plain:
        await set_tenant(connection, tenant_id)
        return
    transaction = _TenantTransaction(adapter._connection, tenant_id, _ISOLATION[adapter.isolation_level])
    async with adapter._execute_mutex:
        await transaction.start()
        adapter._transaction = transaction


@asynccontextmanager
async def tenant_transaction(engine: AsyncEngine, tenant_id: str) -> AsyncIterator[AsyncConnection]:
    """A transaction that sees only this tenant's rows (row-level security does the filtering)."""
    async with engine.begin() as connection:
        await begin_for_tenant(connection, tenant_id)
        yield connection


async def commit_with(connection: AsyncConnection, statement: str) -> bool:
    """Commit the transaction ``begin_for_tenant`` began in one round trip, ``statement`` (values written in
    as literals) run first in the same simple query; False, with nothing done, when the transaction was
    begun otherwise: the caller then executes the statement and commits as usual."""
    raw = await connection.get_raw_connection()
    transaction = getattr(raw.dbapi_connection, "_transaction", None)
    if not isinstance(transaction, _TenantTransaction):
        return False
    transaction.before_commit = statement
    try:
        await connection.commit()
    finally:
        transaction.before_commit = None
    return True
