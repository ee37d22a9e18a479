"""Helpers for merge tests: merging through the API, and row-level snapshots of everything a customer owns."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from customer360.infrastructure.persistence.customer_links import customer_columns
from customer360.infrastructure.persistence.database import tenant_transaction
from customer360.infrastructure.persistence.tables import metadata
from tests.support.api import CUSTOMERS

# The merge's own bookkeeping points at customers too, but is not "what the customer owns".
BOOKKEEPING = {"customer_merge", "duplicate_pair", "customer_provenance"}
# A profile row's bookkeeping columns change with every write, restore included.
VOLATILE_PROFILE_COLUMNS = {"version", "updated_at", "updated_by"}


async def version_of(client: httpx.AsyncClient, headers: dict[str, str], customer_id: str) -> int:
    response = await client.get(f"{CUSTOMERS}/{customer_id}", headers=headers)
    assert response.status_code == 200, response.text
    return int(response.json()["version"])


async def merge(
    client: httpx.AsyncClient, headers: dict[str, str], target: str, source: str, **body: Any
) -> httpx.Response:
    """POST …/merge with the current versions of both profiles."""
    target_version = await version_of(client, headers, target)
    body.setdefault("sourceVersion", await version_of(client, headers, source))
    return await client.post(
        f"{CUSTOMERS}/{target}/merge",
        json={"sourceCustomerId": source, **body},
        headers={**headers, "If-Match": f'"{target_version}"'},
    )


async def merged(client: httpx.AsyncClient, headers: dict[str, str], target: str, source: str, **body: Any) -> Any:
    response = await merge(client, headers, target, source, **body)
    assert response.status_code == 200, response.text
    return response.json()


async def unmerge(client: httpx.AsyncClient, headers: dict[str, str], target: str, source: str) -> httpx.Response:
    return await client.post(f"{CUSTOMERS}/{target}/unmerge", json={"sourceCustomerId": source}, headers=headers)


async def unmerged(client: httpx.AsyncClient, headers: dict[str, str], target: str, source: str) -> Any:
    response = await unmerge(client, headers, target, source)
    assert response.status_code == 200, response.text
    return response.json()


def _plain(row: Any) -> dict[str, Any]:
    return {k: (sorted(v) if isinstance(v, list) and k in ("roles", "primary_roles") else v) for k, v in row.items()}


async def snapshot(engine: AsyncEngine, tenant: str, customer_id: str) -> dict[str, Any]:
    """Every row that belongs to a customer: its profile row and the rows of every table pointing at it."""
    owned: dict[str, Any] = {}
    async with tenant_transaction(engine, tenant) as connection:
        profile = metadata.tables["crm_customer360.customer_profile"]
        row = (await connection.execute(select(profile).where(profile.c.id == customer_id))).mappings().one()
        owned["customer_profile"] = {k: v for k, v in row.items() if k not in VOLATILE_PROFILE_COLUMNS}
        for table_name, column in sorted(customer_columns()):
            if table_name in BOOKKEEPING:
                continue
            table = metadata.tables[f"crm_customer360.{table_name}"]
            key = [c.name for c in table.primary_key.columns]
            rows = (
                await connection.execute(select(table).where(table.c[column] == customer_id).order_by(*key))
            ).mappings()
            owned[f"{table_name}.{column}"] = [_plain(r) for r in rows]
    return owned


async def count_rows(engine: AsyncEngine, tenant: str, sql: str, **params: Any) -> int:
    async with tenant_transaction(engine, tenant) as connection:
        return int((await connection.execute(text(sql), params)).scalar_one())


async def rows(engine: AsyncEngine, tenant: str, sql: str, **params: Any) -> list[dict[str, Any]]:
    async with tenant_transaction(engine, tenant) as connection:
        return [dict(r) for r in (await connection.execute(text(sql), params)).mappings()]
