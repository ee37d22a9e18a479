"""The plain lookup route (rest/profile_read.py): the FastAPI route's answers; every other case goes to FastAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from customer360.bootstrap import Services
from customer360.infrastructure.rest.profile_read import ProfileReadRoute
from customer360.infrastructure.rest.routers.customers import get_customer_route
from tests.support.api import CUSTOMERS, create_customer
from tests.support.merges import merged
from tests.support.plain_routes import Downstream, plain_client
from tests.support.privacy import API, without


@pytest.fixture
def downstream() -> Downstream:
    return Downstream()


@pytest.fixture
async def plain(app: FastAPI, downstream: Downstream) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the plain route alone, with the real services behind it."""
    async with plain_client(ProfileReadRoute(downstream, stands_for=get_customer_route()), app) as http:
        yield http


class TestPlainLookupRoute:
    async def test_it_answers_what_the_fastapi_route_answers(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Body, ETag and content type are byte for byte those of the FastAPI route (reached with ?resolve=false)."""
        cid = (
            await create_customer(
                client,
                headers,
                name="Byte Compare GmbH",
                emails=[{"address": "bc@compare.example"}],
                phones=[{"number": "+49 30 1234567"}],
                tags=["key-account"],
                contacts=[{"name": "Jo Compare", "email": "jo@compare.example", "role": "BILLING"}],
            )
        )["id"]
        fast = await client.get(f"{CUSTOMERS}/{cid}", headers=headers)
        full = await client.get(f"{CUSTOMERS}/{cid}", params={"resolve": "false"}, headers=headers)
        assert (fast.status_code, fast.content, fast.headers["etag"], fast.headers["content-type"]) == (
            full.status_code,
            full.content,
            full.headers["etag"],
            full.headers["content-type"],
        )

    async def test_a_plain_read_does_not_reach_fastapi(
        self, client: httpx.AsyncClient, plain: httpx.AsyncClient, headers: dict[str, str], downstream: Downstream
    ) -> None:
        """An existing profile read with crm.customer:read is answered by the plain route itself."""
        cid = (await create_customer(client, headers))["id"]
        response = await plain.get(f"{CUSTOMERS}/{cid}", headers=headers)
        assert (response.status_code, response.json()["id"], downstream.paths) == (200, cid, [])

    async def test_a_matching_if_none_match_gets_304(
        self, client: httpx.AsyncClient, plain: httpx.AsyncClient, headers: dict[str, str], downstream: Downstream
    ) -> None:
        """If-None-Match with the current ETag: 304 with the ETag and no body."""
        created = await create_customer(client, headers)
        tag = f'"{created["version"]}"'
        response = await plain.get(f"{CUSTOMERS}/{created['id']}", headers={**headers, "If-None-Match": tag})
        assert (response.status_code, response.headers["etag"], response.content, downstream.paths) == (
            304,
            tag,
            b"",
            [],
        )

    async def test_a_weak_or_listed_etag_gets_304_from_both_routes(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """If-None-Match compares weakly and may list several tags or be *; a stale tag gets the profile."""
        created = await create_customer(client, headers)
        url, tag = f"{CUSTOMERS}/{created['id']}", f'"{created["version"]}"'
        statuses = [
            (await client.get(url, params=params, headers={**headers, "If-None-Match": value})).status_code
            for params in ({}, {"resolve": "false"})
            for value in (f"W/{tag}", f'"99", {tag}', "*", '"99"')
        ]
        assert statuses == [304, 304, 304, 200] * 2

    async def test_every_other_case_is_handed_to_fastapi(
        self, client: httpx.AsyncClient, plain: httpx.AsyncClient, headers: dict[str, str], downstream: Downstream
    ) -> None:
        """Unknown or foreign id, no permission or identity, a query, a merged profile, /search: FastAPI answers."""
        survivor = (await create_customer(client, headers, name="Survivor Ltd"))["id"]
        source = (await create_customer(client, headers, name="Survivor Limited"))["id"]
        await merged(client, headers, survivor, source)
        unknown = "CUST-01JDX3Y7ZK8V2N4Q6R8T0W2Y4A"
        requests = [
            (f"{CUSTOMERS}/{unknown}", headers),
            (f"{CUSTOMERS}/{survivor}", {**headers, "X-Tenant-ID": "t-someone-else"}),
            (f"{CUSTOMERS}/{survivor}", without(headers, "crm.customer:read")),
            (f"{CUSTOMERS}/{survivor}", {"X-Tenant-ID": headers["X-Tenant-ID"]}),
            (f"{CUSTOMERS}/{survivor}?resolve=true", headers),
            (f"{CUSTOMERS}/{source}", headers),
            (f"{CUSTOMERS}/search", headers),
        ]
        statuses = [(await plain.get(url, headers=h)).status_code for url, h in requests]
        assert (statuses, len(downstream.paths)) == ([418] * len(requests), len(requests))

    async def test_its_reads_are_in_the_access_log(
        self, client: httpx.AsyncClient, plain: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """A read answered by the plain route is recorded as PROFILE_READ for its reader."""
        cid = (await create_customer(client, headers))["id"]
        await plain.get(f"{CUSTOMERS}/{cid}", headers={**headers, "X-User-Id": "finance-svc"})
        await services.access_log.flush()
        entries = (await client.get(f"{API}/access-log", params={"customerId": cid}, headers=headers)).json()["items"]
        assert [(e["actor"], e["action"]) for e in entries] == [("finance-svc", "PROFILE_READ")]
