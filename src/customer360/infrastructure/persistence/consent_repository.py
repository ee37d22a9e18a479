"""ConsentRepository on PostgreSQL: an append-only history (the service role cannot UPDATE or DELETE it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from customer360.domain.consent import (
    CaptureSource,
    ConsentEvidence,
    ConsentRecord,
    ConsentStatus,
    ContactPoint,
    ContactPointKind,
    LegalBasis,
)
from customer360.domain.values import Channel
from customer360.infrastructure.persistence.pending_writes import PendingWrites
from customer360.infrastructure.persistence.tables import consent_record


def evidence_document(evidence: ConsentEvidence) -> dict[str, Any]:
    return {
        "capturedBy": evidence.captured_by,
        "capturedAt": evidence.captured_at.isoformat() if evidence.captured_at else None,
        "text": evidence.text,
        "ipHash": evidence.ip_hash,
        "userAgentHash": evidence.user_agent_hash,
    }


def record_from_row(row: Any) -> ConsentRecord:
    evidence = row["evidence"]
    captured_at = evidence.get("capturedAt")
    return ConsentRecord(
        id=row["id"],
        customer_id=row["customer_id"],
        channel=Channel(row["channel"]),
        purpose=row["purpose"],
        status=ConsentStatus(row["status"]),
        contact_point=ContactPoint(ContactPointKind(row["contact_point_kind"]), row["contact_point_value"])
        if row["contact_point_kind"]
        else None,
        legal_basis=LegalBasis(row["legal_basis"]),
        source=CaptureSource(row["source"]),
        policy_version=row["policy_version"],
        evidence=ConsentEvidence(
            captured_by=evidence.get("capturedBy"),
            captured_at=datetime.fromisoformat(captured_at) if captured_at else None,
            text=evidence.get("text"),
            ip_hash=evidence.get("ipHash"),
            user_agent_hash=evidence.get("userAgentHash"),
        ),
        effective_at=row["effective_at"],
        recorded_at=row["recorded_at"],
        recorded_by=row["recorded_by"],
        expires_at=row["expires_at"],
    )


_INSERT_RECORD = insert(consent_record)


class SqlConsentRepository:
    """A new record's insert is queued when it is added (in the use case's order, batched with the
    records added right after it); a read runs the queue first, so it sees them."""

    def __init__(self, writes: PendingWrites, tenant_id: str) -> None:
        self._writes = writes
        self._tenant = tenant_id
        self._seen: list[ConsentRecord] = []

    def seen(self) -> list[ConsentRecord]:
        return list(self._seen)

    async def add(self, record: ConsentRecord) -> None:
        self._seen.append(record)
        self._writes.insert_later(_INSERT_RECORD, self._row(record))

    async def for_customer(self, customer_id: str) -> list[ConsentRecord]:
        rows = (
            await self._writes.execute(
                select(consent_record)
                .where(consent_record.c.tenant_id == self._tenant, consent_record.c.customer_id == customer_id)
                .order_by(consent_record.c.recorded_at, consent_record.c.id)
            )
        ).mappings()
        return [record_from_row(r) for r in rows]

    def _row(self, r: ConsentRecord) -> dict[str, Any]:
        return {
            "tenant_id": self._tenant,
            "id": r.id,
            "customer_id": r.customer_id,
            "channel": r.channel.value,
            "purpose": r.purpose,
            "status": r.status.value,
            "contact_point_kind": r.contact_point.kind.value if r.contact_point else None,
            "contact_point_value": r.contact_point.value if r.contact_point else None,
            "legal_basis": r.legal_basis.value,
            "source": r.source.value,
            "policy_version": r.policy_version,
            "evidence": evidence_document(r.evidence),
            "effective_at": r.effective_at,
            "recorded_at": r.recorded_at,
            "recorded_by": r.recorded_by,
            "expires_at": r.expires_at,
        }
