"""Reads from a real streaming replica (DATABASE_READ_URL): routed there, read-your-writes, replica down."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from customer360.bootstrap import Services, build_services
from customer360.infrastructure.rest.app import create_app
from customer360.settings import Settings
from tests.support.api import CUSTOMERS, create_customer
from tests.support.replica import StreamingPair

DATABASE = "c360_replicated"


@pytest.fixture(scope="module")
def pair() -> Iterator[StreamingPair]:
    with StreamingPair() as streaming:
        yield streaming


@pytest.fixture(scope="module")
async def replicated(pair: StreamingPair) -> AsyncIterator[Services]:
    primary = pair.primary
    connection = await asyncpg.connect(host=primary.query["host"], port=5432, user="postgres", database="postgres")
    try:
        await connection.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await connection.close()
    settings = Settings.model_validate(
        {
            "database_url": primary.set(database=DATABASE).render_as_string(hide_password=False),
            "database_read_url": pair.replica.set(database=DATABASE).render_as_string(hide_password=False),
            "read_replica_retry_seconds": 0.2,
            "duplicate_check_on_create": False,
            "db_pool_size": 3,
        }
    )
    services = await build_services(settings)
    try:
        yield services
    finally:
        await services.aclose()


@pytest.fixture(scope="module")
def replicated_app(replicated: Services) -> FastAPI:
    return create_app(replicated.settings, replicated.api)


@pytest.fixture
async def api(replicated_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=replicated_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://customer360.test") as http:
        yield http


@pytest.fixture
def headers() -> dict[str, str]:
    return {
        "X-User-Id": "steward-1",
        "X-Tenant-ID": f"t-{secrets.token_hex(6)}",
        "X-User-Permissions": "crm.customer:read,crm.customer:write",
    }


async def _caught_up(pair: StreamingPair, api: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """Write something and wait until the replica has replayed it (also after a resume)."""
    response = await api.post(CUSTOMERS, json={"name": "Pegel"}, headers=headers)
    await pair.wait_for_replay(response.headers["X-Read-After"], DATABASE)


class TestReadReplica:
    async def test_a_write_names_its_position(self, api: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A create answers with X-Read-After and the same position as a cookie."""
        response = await api.post(CUSTOMERS, json={"name": "Anker Logistik"}, headers=headers)
        assert (response.status_code, response.cookies.get("c360-read-after")) == (
            201,
            response.headers["X-Read-After"],
        )

    async def test_reads_without_a_position_go_to_the_replica(
        self, pair: StreamingPair, api: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """While the replica lags, a reader who did not write does not see the new profile yet."""
        await pair.pause_replay(DATABASE)
        try:
            created = await create_customer(api, headers, name="Boje Schifffahrt")
            api.cookies.clear()
            response = await api.get(f"{CUSTOMERS}/{created['id']}", headers=headers)
        finally:
            await pair.resume_replay(DATABASE)
        assert response.status_code == 404

    async def test_the_writer_reads_its_write_while_the_replica_lags(
        self, pair: StreamingPair, api: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """With X-Read-After the lookup, the search and the list come from the primary and show the write."""
        await pair.pause_replay(DATABASE)
        try:
            response = await api.post(CUSTOMERS, json={"name": "Deich Wasserbau"}, headers=headers)
            api.cookies.clear()
            after = {**headers, "X-Read-After": response.headers["X-Read-After"]}
            customer_id = response.json()["id"]
            lookup = await api.get(f"{CUSTOMERS}/{customer_id}", headers=after)
            search = await api.get(f"{CUSTOMERS}/search", params={"name": "deich"}, headers=after)
            listed = await api.get(CUSTOMERS, headers=after)
        finally:
            await pair.resume_replay(DATABASE)
        assert (lookup.status_code, [h["customer"]["id"] for h in search.json()["items"]]) == (200, [customer_id])
        assert customer_id in [c["id"] for c in listed.json()["items"]]

    async def test_the_cookie_alone_gives_read_your_writes(
        self, pair: StreamingPair, api: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """A browser that only keeps the cookie sees its write while the replica lags."""
        await pair.pause_replay(DATABASE)
        try:
            created = await create_customer(api, headers, name="Ebbe Fischerei")
            response = await api.get(f"{CUSTOMERS}/{created['id']}", headers=headers)
        finally:
            await pair.resume_replay(DATABASE)
        assert response.status_code == 200

    async def test_a_caught_up_replica_serves_the_writer(
        self, pair: StreamingPair, api: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Once the replica has replayed the write, the writer's reads go there (and find it)."""
        response = await api.post(CUSTOMERS, json={"name": "Flut Technik"}, headers=headers)
        position = response.headers["X-Read-After"]
        await pair.wait_for_replay(position, DATABASE)
        await pair.pause_replay(DATABASE)  # from here on, only the replica would miss a later write
        try:
            later = await api.post(CUSTOMERS, json={"name": "Flut Technik Nord"}, headers=headers)
            api.cookies.clear()
            found = await api.get(
                f"{CUSTOMERS}/search", params={"name": "flut"}, headers={**headers, "X-Read-After": position}
            )
        finally:
            await pair.resume_replay(DATABASE)
        ids = [h["customer"]["id"] for h in found.json()["items"]]
        assert (response.json()["id"] in ids, later.json()["id"] in ids) == (True, False)

    async def test_a_replica_that_is_down_leaves_reads_to_the_primary(
        self, pair: StreamingPair, api: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Replica stopped: lookups, search and lists are answered by the primary, never with a 5xx."""
        created = await create_customer(api, headers, name="Gezeiten Handel")
        await _caught_up(pair, api, headers)
        api.cookies.clear()
        pair.stop_replica()
        try:
            statuses = [
                (await api.get(f"{CUSTOMERS}/{created['id']}", headers=headers)).status_code,
                (await api.get(f"{CUSTOMERS}/search", params={"name": "gezeiten"}, headers=headers)).status_code,
                (await api.get(CUSTOMERS, headers=headers)).status_code,
            ]
        finally:
            pair.start_replica()
        assert statuses == [200, 200, 200]
