"""The registry of everything that points at a customer, and how a merge moves it.

A merge re-points the source's rows to the target in its transaction (nothing is deleted) and records
their primary keys; an unmerge moves exactly those rows back where they still point at the target.
The rows are chosen (and locked) when the use case asks; the updates are queued on the unit of work's
pending writes and run at its flush, by those primary keys.
**A new table with a customer id is added here, in one place**: ``LINKS`` if a merge must move its
rows, ``NOT_MOVED`` (with the reason) otherwise. ``tests/integration/test_customer_links.py`` fails
for any foreign key to ``customer_profile`` that is in neither.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Table, exists, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from customer360.application.ports import MovedLinks
from customer360.domain.merge import RepointedRows
from customer360.domain.relationships import Relationship
from customer360.domain.values import ExternalReference
from customer360.infrastructure.persistence.pending_writes import PendingWrites
from customer360.infrastructure.persistence.relationship_repository import relationship_from_row
from customer360.infrastructure.persistence.tables import (
    consent_record,
    customer_credit,
    customer_relationship,
    entitlement,
    external_reference,
    lead_link,
    metadata,
    service_history,
)

# Keys per UPDATE … WHERE (key) IN (…): bounded statements for customers with long histories.
_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class CustomerLink:
    """A column holding a customer id whose rows a merge moves from the source to the target."""

    table: Table
    column: str
    # The customer id is the row's key (one row per customer): it moves only if the target has none.
    one_per_customer: bool = False
    # For links between two profiles: rows linking the merged pair stay (they would link A to A).
    other_end: str | None = None

    @property
    def name(self) -> str:
        return self.table.name

    def key_columns(self) -> list[Any]:
        return [c for c in self.table.primary_key.columns if c.name != "tenant_id"]


LINKS: tuple[CustomerLink, ...] = (
    CustomerLink(external_reference, "customer_id"),
    CustomerLink(consent_record, "customer_id"),
    CustomerLink(customer_relationship, "from_customer_id", other_end="to_customer_id"),
    CustomerLink(customer_relationship, "to_customer_id", other_end="from_customer_id"),
    CustomerLink(lead_link, "customer_id"),
    CustomerLink(service_history, "customer_id"),
    CustomerLink(entitlement, "customer_id"),
    # Finance/AR's credit data: one row per customer; the target's own stays, the source's is kept on it.
    CustomerLink(customer_credit, "customer_id", one_per_customer=True),
)

NOT_MOVED: dict[tuple[str, str], str] = {
    ("contact", "customer_id"): "moves with the CustomerProfile aggregate (domain.merge.move_contacts)",
    ("customer_key", "customer_id"): "derived look-up index, rebuilt from the golden record when profiles are saved",
    ("customer_merge", "target_id"): "the merge's own audit record",
    ("customer_merge", "source_id"): "the merge's own audit record",
    ("duplicate_pair", "low_id"): "a decision stays with the pair of ids it was made about",
    ("duplicate_pair", "high_id"): "a decision stays with the pair of ids it was made about",
    ("customer_provenance", "customer_id"): "each profile keeps its own provenance",
    ("legal_hold", "customer_id"): "a hold stays on the profile it was placed on; erasure checks the whole lineage",
    ("erasure_request", "customer_id"): "the request names the id it was made for",
    ("duplicate_candidate", "low_id"): "a scan's finding about a pair of ids; the next scan recomputes it",
    ("duplicate_candidate", "high_id"): "a scan's finding about a pair of ids; the next scan recomputes it",
}


def customer_columns() -> set[tuple[str, str]]:
    """(table, column) of every foreign key to customer_profile in the table definitions."""
    found = set()
    for table in metadata.tables.values():
        for constraint in table.foreign_key_constraints:
            if constraint.referred_table.name != "customer_profile":
                continue
            found |= {(table.name, c.name) for c in constraint.columns if c.name != "tenant_id"}
    return found


def _chunks(keys: Sequence[tuple[Any, ...]]) -> list[Sequence[tuple[Any, ...]]]:
    return [keys[i : i + _CHUNK] for i in range(0, len(keys), _CHUNK)]


class SqlCustomerLinks:
    def __init__(self, writes: PendingWrites, tenant_id: str) -> None:
        self._db = writes
        self._tenant = tenant_id

    async def relationships_touching(self, customer_ids: Sequence[str]) -> list[Relationship]:
        r = customer_relationship.c
        rows = (
            await self._db.execute(
                select(customer_relationship)
                .where(
                    r.tenant_id == self._tenant,
                    (r.from_customer_id.in_(customer_ids)) | (r.to_customer_id.in_(customer_ids)),
                )
                .order_by(r.id)
            )
        ).mappings()
        return [relationship_from_row(row) for row in rows]

    async def retire_relationships(self, relationship_ids: Sequence[str], at: datetime) -> None:
        if not relationship_ids:
            return
        r = customer_relationship.c
        statement = (
            update(customer_relationship)
            .where(r.tenant_id == self._tenant, r.id.in_(relationship_ids), r.removed_at.is_(None))
            .values(removed_at=at)
        )
        self._db.later(lambda connection: connection.execute(statement))

    async def restore_relationships(self, relationship_ids: Sequence[str], retired_at: datetime) -> list[str]:
        if not relationship_ids:
            return []
        r = customer_relationship.c
        restored = list(
            (
                await self._db.execute(
                    select(r.id)
                    .where(r.tenant_id == self._tenant, r.id.in_(relationship_ids), r.removed_at == retired_at)
                    .order_by(r.id)
                    .with_for_update()
                )
            ).scalars()
        )
        if restored:
            statement = (
                update(customer_relationship)
                .where(r.tenant_id == self._tenant, r.id.in_(restored))
                .values(removed_at=None)
            )
            self._db.later(lambda connection: connection.execute(statement))
        return restored

    async def repoint(self, source_id: str, target_id: str) -> MovedLinks:
        # Every row is chosen (and locked) before any update is queued: the updates wait for the flush.
        chosen: list[tuple[CustomerLink, tuple[tuple[Any, ...], ...]]] = []
        left_behind: dict[str, int] = {}
        for link in LINKS:
            t = link.table
            query = select(*link.key_columns()).where(t.c.tenant_id == self._tenant, t.c[link.column] == source_id)
            if link.other_end is not None:
                query = query.where(t.c[link.other_end] != target_id)
            if link.one_per_customer:
                held = t.alias("held")
                query = query.where(~exists().where(held.c.tenant_id == self._tenant, held.c[link.column] == target_id))
            keys = await self._locked_keys(link, query)
            chosen.append((link, keys))
            if link.one_per_customer:
                remaining = await self._count(link, source_id) - len(keys)
                if remaining:
                    left_behind[f"{link.name}.{link.column}"] = remaining
        moved = [
            RepointedRows(link.name, link.column, self._move(link, keys, source_id, target_id)) for link, keys in chosen
        ]
        return MovedLinks(tuple(moved), _external_refs(moved), left_behind)

    async def move_back(self, rows: Sequence[RepointedRows], source_id: str, target_id: str) -> MovedLinks:
        registered = {(link.name, link.column): link for link in LINKS}
        chosen: list[tuple[CustomerLink, RepointedRows, list[tuple[Any, ...]]]] = []
        for entry in rows:
            link = registered[(entry.table, entry.column)]
            t = link.table
            back: list[tuple[Any, ...]] = []
            for chunk in _chunks(entry.keys):
                query = select(*link.key_columns()).where(
                    t.c.tenant_id == self._tenant,
                    tuple_(*link.key_columns()).in_([tuple(k) for k in chunk]),
                    t.c[link.column] == target_id,
                )
                back.extend(await self._locked_keys(link, query))
            chosen.append((link, entry, back))
        moved = [
            RepointedRows(entry.table, entry.column, self._move(link, back, target_id, source_id))
            for link, entry, back in chosen
        ]
        return MovedLinks(tuple(moved), _external_refs(moved), {})

    async def count(self, customer_id: str) -> dict[str, int]:
        return {f"{link.name}.{link.column}": await self._count(link, customer_id) for link in LINKS}

    async def _locked_keys(self, link: CustomerLink, query: Any) -> tuple[tuple[Any, ...], ...]:
        """The primary keys ``query`` selects, locked until the end of the transaction, in key order."""
        result = await self._db.execute(query.order_by(*link.key_columns()).with_for_update())
        return tuple(tuple(row) for row in result.all())

    def _move(
        self, link: CustomerLink, keys: Sequence[tuple[Any, ...]], from_id: str, to_id: str
    ) -> tuple[tuple[Any, ...], ...]:
        """Queue the update of exactly these rows from one customer to the other; their keys after it (the
        customer id is the key of one-per-customer rows)."""
        t = link.table
        moved_column = [c.name == link.column for c in link.key_columns()]
        for chunk in _chunks(keys):
            statement = (
                update(t)
                .where(
                    t.c.tenant_id == self._tenant,
                    tuple_(*link.key_columns()).in_([tuple(k) for k in chunk]),
                    t.c[link.column] == from_id,
                )
                .values({link.column: to_id})
            )
            self._db.later(functools.partial(_run, statement))
        return tuple(tuple(to_id if moved else v for moved, v in zip(moved_column, key, strict=True)) for key in keys)

    async def _count(self, link: CustomerLink, customer_id: str) -> int:
        t = link.table
        result = await self._db.execute(
            select(func.count()).select_from(t).where(t.c.tenant_id == self._tenant, t.c[link.column] == customer_id)
        )
        return int(result.scalar_one())


async def _run(statement: Executable, connection: AsyncConnection) -> None:
    await connection.execute(statement)


def _external_refs(moved: Sequence[RepointedRows]) -> frozenset[ExternalReference]:
    return frozenset(
        ExternalReference(source_system=key[0], external_id=key[1])
        for rows in moved
        if rows.table == external_reference.name
        for key in rows.keys
    )
