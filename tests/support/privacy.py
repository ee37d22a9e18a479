"""Helpers for consent-policy and privacy tests: checks, erasure, holds, merges, timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.support.api import CUSTOMERS

API = "/api/v1/crm"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def ago(**delta: float) -> str:
    return iso(datetime.now(UTC) - timedelta(**delta))


def ahead(**delta: float) -> str:
    return iso(datetime.now(UTC) + timedelta(**delta))


async def create_duplicate(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """POST /customers with the duplicate check's override (the steward knows it is the same person)."""
    body.setdefault("name", "Acme Corporation")
    response = await client.post(
        CUSTOMERS,
        json=body,
        params={"override": "true"},
        headers={**headers, "X-Override-Reason": "test: a deliberate duplicate"},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def check(
    client: httpx.AsyncClient, headers: dict[str, str], customer_id: str, channel: str = "EMAIL", **params: str
) -> dict[str, Any]:
    response = await client.get(
        f"{CUSTOMERS}/{customer_id}/consent/check", params={"channel": channel, **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def bulk_check(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    ids: list[str],
    channel: str = "EMAIL",
    purpose: str = "MARKETING",
) -> list[str]:
    response = await client.post(
        f"{API}/consent/check", json={"channel": channel, "purpose": purpose, "customerIds": ids}, headers=headers
    )
    assert response.status_code == 200, response.text
    return list(response.json()["allowed"])


async def merge_into(client: httpx.AsyncClient, headers: dict[str, str], target: str, source: str) -> None:
    """The merge colleague's endpoint, with the current versions of both profiles."""
    versions = []
    for customer_id in (target, source):
        response = await client.get(f"{CUSTOMERS}/{customer_id}", headers=headers)
        assert response.status_code == 200, response.text
        versions.append(response.json()["version"])
    response = await client.post(
        f"{CUSTOMERS}/{target}/merge",
        json={"sourceCustomerId": source, "sourceVersion": versions[1], "mergeReason": "DUPLICATE"},
        headers={**headers, "If-Match": f'"{versions[0]}"'},
    )
    assert response.status_code == 200, response.text


async def erase(client: httpx.AsyncClient, headers: dict[str, str], customer_id: str) -> httpx.Response:
    return await client.post(
        f"{CUSTOMERS}/{customer_id}/privacy/erasure",
        json={"reason": "Art. 17 request", "requester": "ticket DSR-1"},
        headers=headers,
    )


async def place_hold(
    client: httpx.AsyncClient, headers: dict[str, str], customer_id: str, **body: Any
) -> dict[str, Any]:
    body.setdefault("reason", "litigation L-7")
    response = await client.post(f"{CUSTOMERS}/{customer_id}/legal-holds", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def without(headers: dict[str, str], permission: str) -> dict[str, str]:
    granted = [p for p in headers["X-User-Permissions"].split(",") if p != permission]
    return {**headers, "X-User-Permissions": ",".join(granted)}
