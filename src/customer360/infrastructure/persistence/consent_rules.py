"""The tenant's consent purpose policies and the double opt-in tokens, inside the unit of work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update

from customer360.application.privacy_ports import Confirmation, StoredPolicy
from customer360.domain.consent import CaptureSource, ConsentRecord, LegalBasis
from customer360.domain.consent_policy import PurposePolicy, default_policy
from customer360.domain.errors import VersionMismatch
from customer360.infrastructure.persistence.consent_repository import record_from_row
from customer360.infrastructure.persistence.pending_writes import PendingWrites
from customer360.infrastructure.persistence.tables import consent_confirmation, consent_purpose_policy, consent_record

P = consent_purpose_policy.c
C = consent_confirmation.c


def policy_from_row(row: Any) -> PurposePolicy:
    return PurposePolicy.create(
        row["purpose"],
        legal_bases=[LegalBasis(b) for b in row["legal_bases"]],
        grant_validity_days=row["grant_validity_days"],
        double_opt_in_sources=[CaptureSource(s) for s in row["double_opt_in_sources"]],
    )


def stored_policy(row: Any) -> StoredPolicy:
    return StoredPolicy(policy_from_row(row), row["version"], row["updated_at"], row["updated_by"])


def _confirmation(row: Any) -> Confirmation:
    return Confirmation(
        row["token_hash"], row["consent_id"], row["customer_id"], row["created_at"], row["expires_at"], row["used_at"]
    )


class SqlConsentRules:
    def __init__(self, writes: PendingWrites, tenant_id: str) -> None:
        self._db = writes
        self._tenant = tenant_id

    async def policy(self, purpose: str) -> PurposePolicy:
        row = (
            (
                await self._db.execute(
                    select(consent_purpose_policy).where(P.tenant_id == self._tenant, P.purpose == purpose)
                )
            )
            .mappings()
            .first()
        )
        return default_policy(purpose) if row is None else policy_from_row(row)

    async def stored_policies(self) -> list[StoredPolicy]:
        rows = await self._db.execute(
            select(consent_purpose_policy).where(P.tenant_id == self._tenant).order_by(P.purpose)
        )
        return [stored_policy(r) for r in rows.mappings()]

    async def save_policy(
        self, policy: PurposePolicy, *, expected_version: int | None, actor: str, now: datetime
    ) -> int:
        # FOR UPDATE locks no row that does not exist yet: concurrent first saves of a purpose would both
        # insert (a unique violation, a 500). They queue on this transaction lock instead, and the later one
        # then reads the earlier one's version.
        key = f"consent_purpose_policy:{self._tenant}:{policy.purpose}"
        await self._db.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
        row = (
            (
                await self._db.execute(
                    select(P.version).where(P.tenant_id == self._tenant, P.purpose == policy.purpose).with_for_update()
                )
            )
            .scalars()
            .first()
        )
        current = row or 0
        if expected_version is not None and expected_version != current:
            raise VersionMismatch(f"consent-policy/{policy.purpose}", expected_version, current)
        values = {
            "legal_bases": sorted(b.value for b in policy.legal_bases),
            "grant_validity_days": None if policy.grant_validity is None else policy.grant_validity.days,
            "double_opt_in_sources": sorted(s.value for s in policy.double_opt_in_sources),
            "version": current + 1,
            "updated_at": now,
            "updated_by": actor,
        }
        if row is None:
            statement = insert(consent_purpose_policy).values(tenant_id=self._tenant, purpose=policy.purpose, **values)
        else:
            statement = (
                update(consent_purpose_policy)  # type: ignore[assignment]
                .where(P.tenant_id == self._tenant, P.purpose == policy.purpose)
                .values(**values)
            )
        self._db.later(lambda connection: connection.execute(statement))
        return current + 1

    async def add_confirmation(self, confirmation: Confirmation) -> None:
        statement = insert(consent_confirmation).values(
            tenant_id=self._tenant,
            token_hash=confirmation.token_hash,
            consent_id=confirmation.consent_id,
            customer_id=confirmation.customer_id,
            created_at=confirmation.created_at,
            expires_at=confirmation.expires_at,
        )
        self._db.later(lambda connection: connection.execute(statement))

    async def confirmation_for_update(self, token_hash: str) -> Confirmation | None:
        row = (
            (
                await self._db.execute(
                    select(consent_confirmation)
                    .where(C.tenant_id == self._tenant, C.token_hash == token_hash)
                    .with_for_update()
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else _confirmation(row)

    async def mark_used(self, token_hash: str, now: datetime, confirmation_consent_id: str) -> None:
        statement = (
            update(consent_confirmation)
            .where(C.tenant_id == self._tenant, C.token_hash == token_hash)
            .values(used_at=now, confirmation_consent_id=confirmation_consent_id)
        )
        self._db.later(lambda connection: connection.execute(statement))

    async def consent(self, consent_id: str) -> ConsentRecord | None:
        row = (
            (
                await self._db.execute(
                    select(consent_record).where(
                        consent_record.c.tenant_id == self._tenant, consent_record.c.id == consent_id
                    )
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else record_from_row(row)
