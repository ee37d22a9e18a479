"""Which failures mean "the database is away" (503) and which are faults (500), on real drivers and a real server."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from customer360.infrastructure.availability import database_unavailable
from customer360.infrastructure.persistence.database import DatabaseUrls, create_engine
from tests.support.service import free_port


def _nowhere() -> URL:
    """A TCP port nobody listens on."""
    return URL.create("postgresql+asyncpg", username="x", host="127.0.0.1", port=free_port(), database="x")


class TestDatabaseUnavailable:
    async def test_a_refused_connection_through_sqlalchemy_is_unavailability(self) -> None:
        """The engine's connect error (what every request path meets) counts."""
        engine = create_engine(_nowhere(), pooled=False)
        with pytest.raises(ConnectionRefusedError) as raised:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        await engine.dispose()
        assert database_unavailable(raised.value)

    async def test_a_refused_connection_of_a_raw_asyncpg_pool_is_unavailability(self) -> None:
        """The lookup's and the bulk check's own pools raise the socket error itself."""
        url = _nowhere()
        with pytest.raises(ConnectionRefusedError) as raised:
            await asyncpg.connect(host=url.host, port=url.port, user="x", database="x")
        assert database_unavailable(raised.value)

    async def test_a_query_error_of_a_reachable_database_is_not(self, database: DatabaseUrls) -> None:
        """A NUL refused by PostgreSQL is a fault of ours (500), not an outage."""
        engine = create_engine(database.admin, pooled=False)
        with pytest.raises(DBAPIError, match="0x00") as raised:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT CAST(:v AS text)"), {"v": "a\x00b"})
        await engine.dispose()
        assert not database_unavailable(raised.value)

    async def test_a_terminated_session_is_unavailability(self, database: DatabaseUrls) -> None:
        """A connection the server ends (restart, failover: 57P01) counts."""
        victim = await asyncpg.connect(str(database.admin.set(drivername="postgresql")))
        killer = await asyncpg.connect(str(database.admin.set(drivername="postgresql")))
        await killer.execute("SELECT pg_terminate_backend($1)", victim.get_server_pid())
        await killer.close()
        for _ in range(500):  # until the client has read the server's farewell (else asyncpg races itself)
            if victim.is_closed():
                break
            await asyncio.sleep(0.01)
        with pytest.raises(asyncpg.InterfaceError, match="connection is closed") as raised:
            await victim.fetchval("SELECT 1")
        await victim.close()
        assert database_unavailable(raised.value)

    def test_a_file_error_of_our_own_is_not(self) -> None:
        """An OSError not raised by the driver (a missing schema file, say) stays a 500."""
        with pytest.raises(FileNotFoundError) as raised:
            open("/nonexistent/schema.avsc")  # noqa: SIM115
        assert not database_unavailable(raised.value)
