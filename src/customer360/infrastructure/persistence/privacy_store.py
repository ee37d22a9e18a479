"""PrivacyStore on PostgreSQL: merge lineage, legal holds, erasure requests, suppression list, privacy
flags, and the erasure and export of every location in the personal-data registry (personal_data.py)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Executable, Table, bindparam, insert, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.types import Text

from customer360.domain.errors import CustomerNotFound
from customer360.domain.events import DomainEvent
from customer360.domain.ids import CUSTOMER_PREFIX, is_valid_id
from customer360.domain.primitives import camel
from customer360.domain.privacy import ContactPointValue, ErasureRequest, LegalHold, LegalHoldNotFound
from customer360.infrastructure.persistence.pending_writes import PendingWrites
from customer360.infrastructure.persistence.personal_data import (
    AUDIT_FIELDS_KEPT,
    LOCATIONS,
    PERSONAL_EVENT_FIELDS,
    PersonalDataLocation,
    data_classes,
)
from customer360.infrastructure.persistence.tables import (
    SCHEMA,
    customer_profile,
    erasure_request,
    legal_hold,
    suppressed_contact_point,
)

# Survivor first, then the profiles merged into it (recursively); 50 hops bound a corrupt chain.
_LINEAGE = text(f"""
WITH RECURSIVE up(id, merged_into, depth) AS (
    SELECT id, merged_into, 0 FROM {SCHEMA}.customer_profile WHERE tenant_id = :tenant AND id = :id
  UNION ALL
    SELECT p.id, p.merged_into, up.depth + 1 FROM {SCHEMA}.customer_profile p
      JOIN up ON p.tenant_id = :tenant AND p.id = up.merged_into WHERE up.depth < 50
), root AS (SELECT id FROM up ORDER BY depth DESC LIMIT 1),
down(id, depth) AS (
    SELECT id, 0 FROM root
  UNION
    SELECT p.id, down.depth + 1 FROM {SCHEMA}.customer_profile p
      JOIN down ON p.tenant_id = :tenant AND p.merged_into = down.id WHERE down.depth < 50
)
SELECT id FROM down GROUP BY id ORDER BY min(depth), id
""")
_PROFILES = text(
    f"SELECT p.id, {SCHEMA}.customer_json(p) AS document FROM {SCHEMA}.customer_profile p "
    "WHERE p.tenant_id = :tenant AND p.id = ANY(CAST(:ids AS text[]))"
)
H = legal_hold.c


def hold_from_row(row: Any) -> LegalHold:
    return LegalHold(
        id=row["id"],
        customer_id=row["customer_id"],
        reason=row["reason"],
        placed_by=row["placed_by"],
        placed_at=row["placed_at"],
        expires_at=row["expires_at"],
        released_at=row["released_at"],
        released_by=row["released_by"],
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def export_row(row: Any, exclude: Collection[str] = ()) -> dict[str, Any]:
    return {camel(k): _plain(v) for k, v in row.items() if k != "tenant_id" and k not in exclude}


# One fixed statement whatever the number of points (an IN list would be a statement per length).
_ANY_SUPPRESSED = text(
    """
    SELECT 1 FROM unnest(:kinds, :hashes) AS p(kind, hash)
     WHERE EXISTS (SELECT 1 FROM suppressed_contact_point s
                    WHERE s.tenant_id = :tenant AND s.kind = p.kind AND s.hash = p.hash)
     LIMIT 1
    """
).bindparams(bindparam("kinds", type_=ARRAY(Text)), bindparam("hashes", type_=ARRAY(Text)))


class SqlPrivacyStore:
    def __init__(self, writes: PendingWrites, tenant_id: str, suppression_key: bytes) -> None:
        self._db = writes
        self._tenant = tenant_id
        self._key = suppression_key
        self.events: list[DomainEvent] = []

    # -- lineage and holds -------------------------------------------------------------------------
    async def lineage(self, customer_id: str) -> list[str]:
        if not is_valid_id(CUSTOMER_PREFIX, customer_id):
            raise CustomerNotFound(customer_id)
        ids = list((await self._db.execute(_LINEAGE, {"tenant": self._tenant, "id": customer_id})).scalars())
        if not ids:
            raise CustomerNotFound(customer_id)
        return ids

    async def holds(self, customer_ids: Collection[str]) -> list[LegalHold]:
        rows = await self._db.execute(
            select(legal_hold)
            .where(H.tenant_id == self._tenant, H.customer_id.in_(list(customer_ids)))
            .order_by(H.placed_at, H.id)
        )
        return [hold_from_row(r) for r in rows.mappings()]

    async def hold_for_update(self, customer_id: str, hold_id: str) -> LegalHold:
        row = (
            (
                await self._db.execute(
                    select(legal_hold)
                    .where(H.tenant_id == self._tenant, H.customer_id == customer_id, H.id == hold_id)
                    .with_for_update()
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise LegalHoldNotFound(customer_id, hold_id)
        return hold_from_row(row)

    async def add_hold(self, hold: LegalHold) -> None:
        self._later(
            insert(legal_hold).values(
                tenant_id=self._tenant,
                id=hold.id,
                customer_id=hold.customer_id,
                reason=hold.reason,
                placed_by=hold.placed_by,
                placed_at=hold.placed_at,
                expires_at=hold.expires_at,
            )
        )

    async def save_hold(self, hold: LegalHold) -> None:
        self._later(
            update(legal_hold)
            .where(H.tenant_id == self._tenant, H.id == hold.id)
            .values(released_at=hold.released_at, released_by=hold.released_by)
        )

    async def add_erasure_request(self, request: ErasureRequest) -> None:
        self._later(
            insert(erasure_request).values(
                tenant_id=self._tenant,
                id=request.id,
                customer_id=request.customer_id,
                reason=request.reason,
                requester=request.requester,
                status=request.status.value,
                requested_at=request.requested_at,
                requested_by=request.requested_by,
                completed_at=request.completed_at,
                erased_customer_ids=list(request.erased_customer_ids),
                data_classes=list(request.data_classes),
                blocked_by=request.blocked_by,
            )
        )

    # -- erasure -----------------------------------------------------------------------------------------
    async def erase_personal_data(self, customer_ids: Sequence[str]) -> tuple[str, ...]:
        params = {
            "tenant": self._tenant,
            "ids": list(customer_ids),
            "keep": list(AUDIT_FIELDS_KEPT),
            "personal": list(PERSONAL_EVENT_FIELDS),
        }
        for location in LOCATIONS:
            if location.erase_columns:
                self._later(
                    update(location.table)
                    .where(location.table.c.tenant_id == self._tenant, _owned_by(location, customer_ids))
                    .values(dict(location.erase_columns))
                )
            if location.erase_sql:
                sql = location.erase_sql
                self._later(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
        return data_classes()

    async def mark_erased(self, customer_ids: Sequence[str], request_id: str, now: datetime) -> None:
        self._later(
            update(customer_profile)
            .where(customer_profile.c.tenant_id == self._tenant, customer_profile.c.id.in_(list(customer_ids)))
            .values(tombstone={"erasedAt": now.isoformat(), "erasureRequestId": request_id}, privacy_flags=[])
        )

    # -- suppression and flags ------------------------------------------------------------------------
    def _hash(self, point: ContactPointValue) -> tuple[str, str]:
        digest = hmac.new(self._key, f"{point.kind}:{point.value}".encode(), hashlib.sha256).hexdigest()
        return point.kind, digest

    async def suppress(self, points: Collection[ContactPointValue], request_id: str, now: datetime) -> None:
        if not points:
            return
        rows = [
            {
                "tenant_id": self._tenant,
                "kind": kind,
                "hash": digest,
                "erasure_request_id": request_id,
                "suppressed_at": now,
            }
            for kind, digest in sorted({self._hash(p) for p in points})
        ]
        self._later(pg_insert(suppressed_contact_point).on_conflict_do_nothing(), rows)

    async def suppressed(self, points: Collection[ContactPointValue]) -> bool:
        if not points:
            return False
        hashed = [self._hash(p) for p in points]
        found = await self._db.execute(
            _ANY_SUPPRESSED,
            {"tenant": self._tenant, "kinds": [k for k, _ in hashed], "hashes": [h for _, h in hashed]},
        )
        return found.first() is not None

    async def suppressed_among(self, points: Collection[ContactPointValue]) -> set[ContactPointValue]:
        """Those of ``points`` on the suppression list: one query for many (the bulk import)."""
        exists = await self._db.execute(
            select(suppressed_contact_point.c.hash).where(suppressed_contact_point.c.tenant_id == self._tenant).limit(1)
        )
        if not points or exists.first() is None:
            return set()
        by_hash = {self._hash(p): p for p in points}
        s = suppressed_contact_point.c
        found = await self._db.execute(
            select(s.kind, s.hash).where(s.tenant_id == self._tenant, tuple_(s.kind, s.hash).in_(list(by_hash)))
        )
        return {by_hash[(kind, digest)] for kind, digest in found}

    async def flags(self, customer_id: str) -> list[str]:
        p = customer_profile.c
        found = await self._db.execute(select(p.privacy_flags).where(p.tenant_id == self._tenant, p.id == customer_id))
        return list(found.scalar_one_or_none() or [])

    async def set_flags(self, customer_id: str, flags: Sequence[str]) -> None:
        p = customer_profile.c
        self._later(
            update(customer_profile)
            .where(p.tenant_id == self._tenant, p.id == customer_id)
            .values(privacy_flags=sorted(set(flags)))
        )

    def _later(self, statement: Executable, parameters: Any = None) -> None:
        self._db.later(lambda connection: connection.execute(statement, parameters))

    # -- export --------------------------------------------------------------------------------------------
    async def export(self, customer_ids: Sequence[str]) -> dict[str, Any]:
        ids = list(customer_ids)
        documents = {
            row.id: row.document for row in await self._db.execute(_PROFILES, {"tenant": self._tenant, "ids": ids})
        }
        sections: dict[str, Any] = {
            "profiles": [
                {"role": "GOLDEN" if i == 0 else "MERGED", **documents[cid]}
                for i, cid in enumerate(ids)
                if cid in documents
            ]
        }
        for location in LOCATIONS:
            if location.export is None:
                continue
            table = location.table
            key = list(table.primary_key.columns)
            rows = await self._db.execute(
                select(table).where(table.c.tenant_id == self._tenant, _owned_by(location, ids)).order_by(*key)
            )
            sections[location.export] = [export_row(r, location.export_exclude) for r in rows.mappings()]
        return sections


def _owned_by(location: PersonalDataLocation, customer_ids: Sequence[str]) -> Any:
    table: Table = location.table
    return or_(*[table.c[column].in_(list(customer_ids)) for column in location.customer_columns])
