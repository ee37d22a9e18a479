"""The plain search route (rest/search_read.py): the FastAPI route's answers; every other case goes to FastAPI."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from customer360.bootstrap import Services
from customer360.infrastructure.rest.app import create_app
from customer360.infrastructure.rest.routers.customers import search_route
from customer360.infrastructure.rest.search_read import SearchReadRoute
from tests.support.api import CUSTOMERS, create_customer
from tests.support.plain_routes import Downstream, plain_client
from tests.support.privacy import API, without

SEARCH = f"{CUSTOMERS}/search"


@pytest.fixture
def downstream() -> Downstream:
    return Downstream()


@pytest.fixture
async def plain(app: FastAPI, downstream: Downstream) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the plain route alone, with the real services behind it."""
    async with plain_client(SearchReadRoute(downstream, stands_for=search_route()), app) as http:
        yield http


@pytest.fixture(scope="session")
def without_plain_route(services: Services) -> FastAPI:
    """The service without the plain search route: its searches are answered by the FastAPI route."""
    app = create_app(services.settings, dataclasses.replace(services.api, registry=CollectorRegistry()))
    app.user_middleware = [m for m in app.user_middleware if m.cls is not SearchReadRoute]
    return app


@pytest.fixture
async def fastapi_only(without_plain_route: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=without_plain_route)
    async with httpx.AsyncClient(transport=transport, base_url="http://customer360.test") as http:
        yield http


class TestPlainSearchRoute:
    async def test_it_answers_what_the_fastapi_route_answers(
        self, client: httpx.AsyncClient, fastapi_only: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Status, body and content type of a name, e-mail and free-text search are those of the FastAPI route."""
        await create_customer(
            client,
            headers,
            name="Plainsearch Maschinenbau GmbH",
            emails=[{"address": "info@plainsearch.example"}],
            phones=[{"number": "+49 30 7654321"}],
            contacts=[{"name": "Jo Plainsearch", "email": "jo@plainsearch.example", "role": "BILLING"}],
        )
        await create_customer(client, headers, name="Plainsearch Handel KG")
        queries = [{"name": "plainsearch"}, {"email": "INFO@plainsearch.example"}, {"q": "plainsearch handel"}]
        answers = [
            [(r.status_code, r.content, r.headers["content-type"]) for r in (fast, full)]
            for params in queries
            for fast, full in [
                (
                    await client.get(SEARCH, params=params, headers=headers),
                    await fastapi_only.get(SEARCH, params=params, headers=headers),
                )
            ]
        ]
        assert [a[0] for a in answers] == [a[1] for a in answers]

    async def test_a_valid_search_does_not_reach_fastapi(
        self, client: httpx.AsyncClient, plain: httpx.AsyncClient, headers: dict[str, str], downstream: Downstream
    ) -> None:
        """A valid search by a caller with crm.customer:read is answered by the plain route itself."""
        cid = (await create_customer(client, headers, name="Directroute Logistik GmbH"))["id"]
        response = await plain.get(SEARCH, params={"name": "directroute", "limit": "5"}, headers=headers)
        assert (response.status_code, [h["customer"]["id"] for h in response.json()["items"]], downstream.paths) == (
            200,
            [cid],
            [],
        )

    async def test_every_other_case_is_handed_to_fastapi(
        self, plain: httpx.AsyncClient, headers: dict[str, str], downstream: Downstream
    ) -> None:
        """An invalid parameter, no criterion, no permission or identity, another path or method: FastAPI answers."""
        requests = [
            ("GET", SEARCH, {"name": "x", "limit": "0"}, headers),
            ("GET", SEARCH, {"name": "x", "activeOnly": "perhaps"}, headers),
            ("GET", SEARCH, {"email": "not-an-address"}, headers),
            ("GET", SEARCH, {"name": "x" * 201}, headers),
            ("GET", SEARCH, {}, headers),
            ("GET", SEARCH, {"name": "   "}, headers),
            ("GET", SEARCH, {"country": "ZZ"}, headers),
            ("GET", SEARCH, {"name": "x"}, without(headers, "crm.customer:read")),
            ("GET", SEARCH, {"name": "x"}, {"X-Tenant-ID": headers["X-Tenant-ID"]}),
            ("GET", f"{SEARCH}/", {"name": "x"}, headers),
            ("POST", SEARCH, {"name": "x"}, headers),
        ]
        statuses = [
            (await plain.request(method, url, params=params, headers=h)).status_code
            for method, url, params, h in requests
        ]
        assert (statuses, len(downstream.paths)) == ([418] * len(requests), len(requests))

    async def test_refusals_are_the_fastapi_routes(
        self, client: httpx.AsyncClient, fastapi_only: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Through the whole service, an invalid search gets the FastAPI route's status and error body."""

        def refusal(response: httpx.Response) -> tuple[int, object]:
            body = response.json()
            return response.status_code, {k: v for k, v in body.items() if k not in ("timestamp", "traceId")}

        queries = [{"name": "x", "limit": "0"}, {}, {"country": "ZZ"}, {"email": "not-an-address"}]
        answers = [
            (
                refusal(await client.get(SEARCH, params=params, headers=headers)),
                refusal(await fastapi_only.get(SEARCH, params=params, headers=headers)),
            )
            for params in queries
        ]
        assert ([fast for fast, _ in answers], [a[0][0] for a in answers]) == (
            [full for _, full in answers],
            [400, 400, 400, 400],
        )

    async def test_its_reads_are_in_the_access_log(
        self, client: httpx.AsyncClient, plain: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """A search answered by the plain route is recorded as SEARCH of each profile found, for its reader."""
        cid = (await create_customer(client, headers, name="Accesslogged Werkzeug GmbH"))["id"]
        await plain.get(SEARCH, params={"name": "accesslogged"}, headers={**headers, "X-User-Id": "desk-7"})
        await services.access_log.flush()
        entries = (await client.get(f"{API}/access-log", params={"customerId": cid}, headers=headers)).json()["items"]
        assert [(e["actor"], e["action"]) for e in entries] == [("desk-7", "SEARCH")]
