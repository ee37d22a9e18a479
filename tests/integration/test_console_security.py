"""The console's identity and form protection, over HTTP in process (the browser journeys are in tests/e2e)."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import CollectorRegistry

from customer360.bootstrap import Services
from customer360.infrastructure.rest.app import create_app
from customer360.infrastructure.rest.console.security import DEV_COOKIE
from tests.support.api import create_customer

CONSOLE = "/console"


async def _client(services: Services, **settings: object) -> httpx.AsyncClient:
    configured = services.settings.model_copy(update=settings)
    app = create_app(configured, dataclasses.replace(services.api, registry=CollectorRegistry()))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://customer360.test")


@pytest.fixture
async def local(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The console as `make run` serves it: gateway mode on 127.0.0.1."""
    async with await _client(services, http_host="127.0.0.1", auth_mode="gateway") as client:
        yield client


def _token(page: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    assert match is not None, "the page carries no form token"
    return match.group(1)


async def _sign_in(client: httpx.AsyncClient, tenant: str, profile: str = "steward") -> None:
    page = await client.get(f"{CONSOLE}/sign-in")
    form = {"csrf": _token(page.text), "tenant": tenant, "user": "steward-1", "profile": profile}
    assert (await client.post(f"{CONSOLE}/sign-in", data=form)).status_code == 303


class TestDeveloperSignIn:
    async def test_exists_on_loopback_in_gateway_mode(self, local: httpx.AsyncClient, tenant: str) -> None:
        """Signing in sets a cookie with which the console's pages answer."""
        await _sign_in(local, tenant)
        page = await local.get(f"{CONSOLE}/customers")
        assert (page.status_code, "Developer sign-in" in page.text, tenant in page.text) == (200, True, True)

    @pytest.mark.parametrize(
        "settings",
        [{"auth_mode": "jwt"}, {"http_host": "0.0.0.0"}, {"http_host": "10.1.2.3"}],  # noqa: S104
        ids=["jwt-mode", "all-interfaces", "private-address"],
    )
    async def test_does_not_exist_elsewhere(self, services: Services, settings: dict[str, object]) -> None:
        """In jwt mode or on an address other than loopback the sign-in page is not served."""
        async with await _client(services, **settings) as client:
            response = await client.get(f"{CONSOLE}/sign-in")
        assert response.status_code == 404

    async def test_its_cookie_is_ignored_where_it_does_not_exist(
        self, local: httpx.AsyncClient, services: Services, tenant: str
    ) -> None:
        """A developer cookie made on a loopback service opens nothing on an exposed one."""
        await _sign_in(local, tenant)
        cookie = local.cookies.get(DEV_COOKIE)
        async with await _client(services, http_host="0.0.0.0") as exposed:  # noqa: S104
            exposed.cookies.set(DEV_COOKIE, cookie or "", path="/console")
            response = await exposed.get(f"{CONSOLE}/customers")
        assert response.status_code == 401

    async def test_a_forged_cookie_is_refused(self, local: httpx.AsyncClient, tenant: str) -> None:
        """Claims edited by hand (another tenant, admin role) fail the signature: back to the sign-in page."""
        await _sign_in(local, tenant)
        body, _, mac = (local.cookies.get(DEV_COOKIE) or "").partition(".")
        claims = json.loads(base64.urlsafe_b64decode(body))
        claims.update(tenant="someone-else", roles=["TENANT_ADMIN"])
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode()
        local.cookies.set(DEV_COOKIE, f"{forged}.{mac}", path="/console")
        response = await local.get(f"{CONSOLE}/customers")
        assert (response.status_code, response.headers["location"]) == (303, "/console/sign-in")


class TestGatewayIdentity:
    async def test_the_gateway_headers_open_the_console(
        self, local: httpx.AsyncClient, headers: dict[str, str], tenant: str
    ) -> None:
        """Behind the gateway the console reads the same four headers as the API; no sign-in involved."""
        response = await local.get(f"{CONSOLE}/customers", headers=headers)
        assert (response.status_code, tenant in response.text, "Developer sign-in" in response.text) == (
            200,
            True,
            False,
        )

    async def test_a_missing_permission_is_a_403_page(self, local: httpx.AsyncClient, tenant: str) -> None:
        """A user without crm.customer:read gets a page naming the permission."""
        response = await local.get(f"{CONSOLE}/customers", headers={"X-User-Id": "u", "X-Tenant-ID": tenant})
        assert (response.status_code, "crm.customer:read" in response.text) == (403, True)


class TestCsrf:
    async def test_a_form_post_without_the_token_changes_nothing(
        self, local: httpx.AsyncClient, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """A legal hold posted without this browser's form token is refused (403) and not placed."""
        customer = await create_customer(client, headers, name="Kranich Logistik GmbH")
        url = f"{CONSOLE}/customers/{customer['id']}/legal-holds"
        response = await local.post(url, data={"reason": "LIT-1"}, headers=headers)
        holds = await client.get(f"/api/v1/crm/customers/{customer['id']}/legal-holds", headers=headers)
        assert (response.status_code, holds.json()["items"]) == (403, [])

    async def test_a_token_of_another_browser_is_refused(
        self, local: httpx.AsyncClient, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """The token is bound to the browser's nonce cookie: copied into another browser it does not work."""
        customer = await create_customer(client, headers, name="Kranich Logistik GmbH")
        page = await local.get(f"{CONSOLE}/customers/{customer['id']}/privacy", headers=headers)
        token = _token(page.text)
        local.cookies.clear()
        url = f"{CONSOLE}/customers/{customer['id']}/legal-holds"
        response = await local.post(url, data={"reason": "LIT-1", "csrf": token}, headers=headers)
        assert response.status_code == 403

    async def test_a_cross_site_post_is_refused_even_with_the_token(
        self, local: httpx.AsyncClient, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """A request the browser marks Sec-Fetch-Site: cross-site is refused before anything else."""
        customer = await create_customer(client, headers, name="Kranich Logistik GmbH")
        page = await local.get(f"{CONSOLE}/customers/{customer['id']}/privacy", headers=headers)
        url = f"{CONSOLE}/customers/{customer['id']}/legal-holds"
        form = {"reason": "LIT-1", "csrf": _token(page.text)}
        response = await local.post(url, data=form, headers={**headers, "Sec-Fetch-Site": "cross-site"})
        assert response.status_code == 403

    async def test_the_page_token_places_the_hold(
        self, local: httpx.AsyncClient, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """The same post with the page's token succeeds (so the refusals above are about the token)."""
        customer = await create_customer(client, headers, name="Kranich Logistik GmbH")
        page = await local.get(f"{CONSOLE}/customers/{customer['id']}/privacy", headers=headers)
        url = f"{CONSOLE}/customers/{customer['id']}/legal-holds"
        response = await local.post(url, data={"reason": "LIT-1", "csrf": _token(page.text)}, headers=headers)
        holds = await client.get(f"/api/v1/crm/customers/{customer['id']}/legal-holds", headers=headers)
        assert (response.status_code, [h["reason"] for h in holds.json()["items"]]) == (303, ["LIT-1"])


class TestPages:
    async def test_pages_are_never_cached_nor_framed(self, local: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Pages hold personal data: no-store, a strict content security policy, no framing."""
        response = await local.get(f"{CONSOLE}/customers", headers=headers)
        csp = response.headers["content-security-policy"]
        assert (response.headers["cache-control"], "script-src 'self'" in csp, response.headers["x-frame-options"]) == (
            "no-store",
            True,
            "DENY",
        )

    async def test_the_console_is_not_in_the_openapi_document(self, local: httpx.AsyncClient) -> None:
        """The API's contract stays the API's: no console path in /openapi.json."""
        paths = (await local.get("/openapi.json")).json()["paths"]
        assert [p for p in paths if p.startswith("/console")] == []

    async def test_an_unknown_page_is_a_404_page(self, local: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A mistyped console address answers a page, not the API's JSON."""
        response = await local.get(f"{CONSOLE}/no-such-page", headers=headers)
        assert (response.status_code, response.headers["content-type"].startswith("text/html")) == (404, True)
