"""/docs and /redoc work without internet access, and "Try it out" works with the gateway's headers."""

from __future__ import annotations

import secrets

import httpx
import pytest
from playwright.async_api import Browser, Route, expect

from tests.support.service import ServiceProcess

CUSTOMERS = "/api/v1/crm/customers"


async def _offline(route: Route) -> None:
    """Every request leaving the service's origin fails, as without internet access."""
    await route.abort()


@pytest.fixture
def customer(service: ServiceProcess) -> tuple[dict[str, str], str]:
    tenant = f"docs-{secrets.token_hex(5)}"
    headers = {"X-User-Id": "docs-reader", "X-Tenant-ID": tenant, "X-User-Roles": "TENANT_ADMIN"}
    created = httpx.post(f"{service.url}{CUSTOMERS}", json={"name": "Swagger Probe GmbH"}, headers=headers)
    assert created.status_code == 201, created.text
    return headers, created.json()["id"]


async def test_try_it_out_on_get_customer_answers_200_offline(
    browser: Browser, service: ServiceProcess, customer: tuple[dict[str, str], str]
) -> None:
    """Authorize with the gateway headers, "Try it out" on GET /customers/{customerId}: 200 — with every
    request to another origin refused, so the page's assets come from the service."""
    headers, customer_id = customer
    page = await browser.new_page()
    await page.route(lambda url: not url.startswith(service.url), _offline)
    await page.goto(f"{service.url}/docs")
    await page.get_by_role("button", name="Authorize").first.click()
    for header in ("X-User-Id", "X-Tenant-ID", "X-User-Roles"):
        form = page.locator(".auth-container").filter(has_text=header)
        await form.locator("input").fill(headers[header])
        await form.get_by_role("button", name="Apply credentials").click()
    await page.locator(".close-modal").click()
    operation = page.locator("#operations-customers-get_customer")
    await operation.locator(".opblock-summary").click()
    await operation.get_by_role("button", name="Try it out").click()
    await operation.locator("input[placeholder='customerId']").fill(customer_id)
    await operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table td.response-col_status:not(.col_header)")
    await expect(status).to_have_text("200", timeout=30_000)
    await page.close()


async def test_redoc_renders_the_document_offline(browser: Browser, service: ServiceProcess) -> None:
    """ReDoc draws the operations from its local script, nothing fetched elsewhere."""
    page = await browser.new_page()
    await page.route(lambda url: not url.startswith(service.url), _offline)
    await page.goto(f"{service.url}/redoc")
    heading = page.get_by_role("heading", name="Get a customer profile (GetCustomerProfileById)")
    await expect(heading).to_be_visible(timeout=30_000)
    await page.close()


def test_the_document_declares_the_gateway_and_bearer_schemes_and_each_permission(service: ServiceProcess) -> None:
    """Security schemes for the gateway headers and a JWT; every operation but health and metrics names its
    permission in x-permissions and in its description."""
    document = httpx.get(f"{service.url}/openapi.json").json()
    operations = [(path, op) for path, ops in document["paths"].items() for op in ops.values()]
    unprotected = sorted(path for path, op in operations if not op.get("x-permissions"))
    undescribed = [
        path for path, op in operations if op.get("x-permissions") and "**Permission:**" not in op["description"]
    ]
    assert set(document["components"]["securitySchemes"]) == {
        "gatewayUser",
        "gatewayTenant",
        "gatewayRoles",
        "gatewayPermissions",
        "bearerJwt",
    }
    assert (unprotected, undescribed) == (["/health/live", "/health/ready", "/metrics"], [])
