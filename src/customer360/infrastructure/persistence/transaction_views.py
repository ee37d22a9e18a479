"""Documents read on the unit of work's own connection, so a command can answer with what it wrote."""

from __future__ import annotations

from sqlalchemy import select

from customer360.application.queries import Document
from customer360.infrastructure.persistence.history_queries import consent_document
from customer360.infrastructure.persistence.pending_writes import PendingWrites, SqlExecutor
from customer360.infrastructure.persistence.profile_queries import PROFILE_BY_ID, profile_document
from customer360.infrastructure.persistence.relationship_queries import relationship_documents
from customer360.infrastructure.persistence.tables import consent_record


class SqlTransactionViews:
    def __init__(self, connection: SqlExecutor, tenant_id: str) -> None:
        self._conn = connection
        self._tenant = tenant_id
        # Profile documents read by the unit of work's last flush, and the statement count they are current
        # at (PendingWrites.statements): each is answered once, while no other statement has run since.
        self._fresh: dict[str, Document] = {}
        self._fresh_at = -1

    def keep(self, documents: dict[str, Document]) -> None:
        """Profile documents just read (the flush's last statement brought them back): the next read of
        one of them, before any other statement, needs no round trip."""
        if isinstance(self._conn, PendingWrites):
            self._fresh, self._fresh_at = dict(documents), self._conn.statements

    async def profile(self, customer_id: str) -> Document | None:
        if self._fresh:
            current = isinstance(self._conn, PendingWrites) and self._conn.statements == self._fresh_at
            document = self._fresh.pop(customer_id, None) if current else None
            if not current:
                self._fresh = {}
            if document is not None:
                return document
        row = (await self._conn.execute(PROFILE_BY_ID, {"tenant": self._tenant, "id": customer_id})).mappings().first()
        return None if row is None else profile_document(row)

    async def consent(self, consent_id: str) -> Document | None:
        row = (
            (
                await self._conn.execute(
                    select(consent_record).where(
                        consent_record.c.tenant_id == self._tenant, consent_record.c.id == consent_id
                    )
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else consent_document(row)

    async def relationship(self, customer_id: str, relationship_id: str) -> Document | None:
        for document in await relationship_documents(self._conn, self._tenant, customer_id, None):
            if document["id"] == relationship_id:
                return document
        return None
