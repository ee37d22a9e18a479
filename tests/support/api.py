"""Small helpers that make API tests read as specifications."""

from __future__ import annotations

from typing import Any

import httpx

CUSTOMERS = "/api/v1/crm/customers"


async def create_customer(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    body.setdefault("name", "Acme Corporation")
    response = await client.post(CUSTOMERS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def record_consent(
    client: httpx.AsyncClient, headers: dict[str, str], customer_id: str, **body: Any
) -> dict[str, Any]:
    response = await client.post(f"{CUSTOMERS}/{customer_id}/consent", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def link(
    client: httpx.AsyncClient, headers: dict[str, str], child: str, parent: str, type: str = "SUBSIDIARY_OF"
) -> httpx.Response:
    return await client.post(
        f"{CUSTOMERS}/{child}/relationships", json={"type": type, "toCustomerId": parent}, headers=headers
    )
