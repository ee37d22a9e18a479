"""Reads of what belongs to one customer: None when the tenant has no such customer (the API's 404), so
that an unknown customer and one with nothing recorded are told apart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Select
from sqlalchemy.ext.asyncio import AsyncEngine

from customer360.application.queries import Document, Page
from customer360.infrastructure.persistence.database import tenant_transaction
from customer360.infrastructure.persistence.profile_queries import customer_exists, encode_cursor


async def customer_rows(
    engine: AsyncEngine, tenant_id: str, customer_id: str, query: Select[Any]
) -> Sequence[RowMapping] | None:
    """The rows ``query`` reads about the customer, in the transaction that found the customer."""
    async with tenant_transaction(engine, tenant_id) as connection:
        if not await customer_exists(connection, tenant_id, customer_id):
            return None
        rows: Sequence[RowMapping] = (await connection.execute(query)).mappings().all()
        return rows


async def customer_page(
    engine: AsyncEngine,
    tenant_id: str,
    customer_id: str,
    query: Select[Any],
    *,
    key: ColumnElement[Any],
    after: object | None,
    limit: int,
    document: Callable[[Any], Document],
) -> Page | None:
    """One page of ``query`` in the order of its unique ``key``, after the key the cursor named."""
    if after is not None:
        query = query.where(key > after)
    rows = await customer_rows(engine, tenant_id, customer_id, query.order_by(key).limit(limit + 1))
    if rows is None:
        return None
    items = [document(r) for r in rows[:limit]]
    return Page(items, encode_cursor(str(rows[limit - 1][key])) if len(rows) > limit else None)
