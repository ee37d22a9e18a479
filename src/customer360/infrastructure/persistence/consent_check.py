"""Read side of the consent policy: the single check's inputs, the bulk check, expiring grants.

**The bulk check decides in SQL, from a maintained state.** ``consent_state`` holds, per customer,
channel and purpose, the deciding channel-wide record (a trigger on ``consent_record`` keeps it in the
order of ``domain.consent.precedence``; privacy_sql.py). For up to 100,000 ids one statement keeps the
customers whose deciding record is an unexpired grant on a legal basis the purpose accepts, minus the
profiles that are erased, suppressed or opted out of the channel (``consent_policy.channel_opted_out``).
Those are found through a partial index over the few profiles that can be restricted at all, so the
statement reads one narrow row per id and never sorts the history. It runs on its own small asyncpg
pool, like the profile lookup: campaign checks are large and must not queue behind, or starve, the
request pool. ``tests/integration/test_consent_bulk_check.py`` holds this SQL (and the trigger) and the
domain to the same answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import orjson
from sqlalchemy import select, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from customer360.application.consent_checks import DecisionInputs, ExpiringGrant
from customer360.application.privacy_ports import StoredPolicy
from customer360.domain.consent import ContactPoint, ContactPointKind
from customer360.domain.consent_policy import ALL_TOPICS, CustomerContext, PurposePolicy, default_policy
from customer360.domain.errors import InvalidValue
from customer360.domain.ids import CUSTOMER_PREFIX, is_valid_id
from customer360.domain.privacy import SUPPRESSED_FLAG
from customer360.domain.values import Channel, CommunicationPreferences, CustomerStatus
from customer360.infrastructure.persistence.consent_repository import record_from_row
from customer360.infrastructure.persistence.consent_rules import policy_from_row, stored_policy
from customer360.infrastructure.persistence.database import asyncpg_pool, tenant_transaction
from customer360.infrastructure.persistence.documents import communication_from
from customer360.infrastructure.persistence.profile_queries import decode_cursor, encode_cursor
from customer360.infrastructure.persistence.tables import (
    CONTACT_RESTRICTED,
    SCHEMA,
    consent_purpose_policy,
    consent_record,
    contact,
    customer_profile,
)

_RANK = "CASE {t}.status WHEN 'REVOKED' THEN 3 WHEN 'EXPIRED' THEN 2 WHEN 'PENDING' THEN 1 ELSE 0 END"

# l is a later statement than the grant c about the same key (c is GRANTED: the lowest tie rank).
SUPERSEDED = f"""EXISTS (
    SELECT 1 FROM {SCHEMA}.consent_record l
     WHERE l.tenant_id = c.tenant_id AND l.customer_id = c.customer_id AND l.channel = c.channel
       AND l.purpose = c.purpose AND l.id <> c.id
       AND l.contact_point_kind IS NOT DISTINCT FROM c.contact_point_kind
       AND l.contact_point_value IS NOT DISTINCT FROM c.contact_point_value
       AND (l.effective_at > c.effective_at
            OR (l.effective_at = c.effective_at AND ({_RANK.format(t="l")} > 0
                OR (l.status = 'GRANTED'
                    AND (l.recorded_at, l.id COLLATE "C") > (c.recorded_at, c.id COLLATE "C"))))))"""

# Opted out (consent_policy.channel_opted_out): the entry for (channel, purpose) says no, or there is
# none and the entry for (channel, ALL) says no. Entries are unique per (channel, topic).
_OPTED_OUT = """((p.communication -> 'channels') @> $7::jsonb
     OR ((p.communication -> 'channels') @> $8::jsonb AND NOT (p.communication -> 'channels') @> $9::jsonb))"""

BULK_ALLOWED = f"""
WITH candidates AS (
    SELECT s.customer_id
      FROM {SCHEMA}.consent_state s
      JOIN unnest($2::text[]) AS i(id) ON i.id = s.customer_id
     WHERE s.tenant_id = $1 AND s.channel = $3 AND s.purpose = $4
       AND s.status = 'GRANTED' AND (s.expires_at IS NULL OR s.expires_at > $5) AND s.legal_basis = ANY($6::text[])
), excluded AS (
    SELECT p.id
      FROM {SCHEMA}.customer_profile p
     WHERE p.tenant_id = $1 AND ({CONTACT_RESTRICTED})
       AND (p.status = '{CustomerStatus.ERASED.value}' OR '{SUPPRESSED_FLAG}' = ANY(p.privacy_flags) OR {_OPTED_OUT})
)
SELECT c.customer_id FROM candidates c WHERE NOT EXISTS (SELECT 1 FROM excluded e WHERE e.id = c.customer_id)
"""


def opt_out_patterns(channel: Channel, purpose: str) -> tuple[str, str, str]:
    """The containment patterns of _OPTED_OUT ($7, $8, $9) as JSON text."""
    return (
        orjson.dumps([{"channel": channel.value, "topic": purpose, "optIn": False}]).decode(),
        orjson.dumps([{"channel": channel.value, "topic": ALL_TOPICS, "optIn": False}]).decode(),
        orjson.dumps([{"channel": channel.value, "topic": purpose}]).decode(),
    )


_EXPIRING = text(f"""
SELECT c.* FROM {SCHEMA}.consent_record c
 WHERE c.tenant_id = :tenant AND c.status = 'GRANTED' AND c.expires_at >= :now AND c.expires_at < :until
   AND (c.expires_at, c.id) > (:after_at, :after_id)
   AND NOT {SUPERSEDED}
 ORDER BY c.expires_at, c.id
 LIMIT :limit
""")

# The tenant, and custom plans for this transaction: asyncpg prepares statements, and after five runs
# PostgreSQL may switch to a generic plan that cannot see the size of the id array (measured: the bulk
# check goes from ~0.4 s to ~1.5 s). Planning the statement each time costs a few milliseconds.
_SET_TENANT = "SELECT set_config('app.tenant_id', $1, true), set_config('plan_cache_mode', 'force_custom_plan', true)"


def _cursor_of(grant: ExpiringGrant) -> str:
    return encode_cursor(f"{grant.expires_at.isoformat()}|{grant.consent_id}")


def _after(cursor: str | None, now: datetime) -> tuple[datetime, str]:
    """The (expiry, consent id) a page starts after; without a cursor, everything from now on."""
    value = decode_cursor(cursor)
    if value is None:
        return now, ""
    at, _, consent_id = value.partition("|")
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise InvalidValue("cursor", "is not a cursor returned by this API") from None
    if moment.tzinfo is None:
        raise InvalidValue("cursor", "is not a cursor returned by this API")
    return moment, consent_id


def customer_context(profile: Any, contact_preferences: Sequence[CommunicationPreferences] = ()) -> CustomerContext:
    """The decision's view of a profile row (status, communication, locale, privacy_flags)."""
    return CustomerContext(
        preferences=(communication_from(profile["communication"]), *contact_preferences),
        time_zone=(profile["locale"] or {}).get("timeZone"),
        erased=profile["status"] == CustomerStatus.ERASED.value,
        suppressed=SUPPRESSED_FLAG in (profile["privacy_flags"] or []),
    )


class SqlConsentChecks:
    def __init__(self, engine: AsyncEngine, url: URL, *, pool_size: int) -> None:
        self._engine = engine
        self._url = url
        self._size = pool_size
        self._pool: asyncpg.Pool | None = None

    async def start(self) -> None:
        url = self._url
        self._pool = await asyncpg_pool(url, size=self._size, application_name="crm-customer360-consent")

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def policy(self, tenant_id: str, purpose: str) -> PurposePolicy:
        async with tenant_transaction(self._engine, tenant_id) as connection:
            return await _policy(connection, tenant_id, purpose)

    async def stored_policies(self, tenant_id: str) -> list[StoredPolicy]:
        q = consent_purpose_policy.c
        async with tenant_transaction(self._engine, tenant_id) as connection:
            rows = await connection.execute(
                select(consent_purpose_policy).where(q.tenant_id == tenant_id).order_by(q.purpose)
            )
            return [stored_policy(r) for r in rows.mappings()]

    async def decision_inputs(
        self, tenant_id: str, customer_id: str, channel: Channel, purpose: str, contact_point: ContactPoint | None
    ) -> DecisionInputs | None:
        if not is_valid_id(CUSTOMER_PREFIX, customer_id):
            return None
        p, r = customer_profile.c, consent_record.c
        async with tenant_transaction(self._engine, tenant_id) as connection:
            profile = (
                (
                    await connection.execute(
                        select(p.status, p.communication, p.locale, p.privacy_flags).where(
                            p.tenant_id == tenant_id, p.id == customer_id
                        )
                    )
                )
                .mappings()
                .first()
            )
            if profile is None:
                return None
            contact_preferences: list[CommunicationPreferences] = []
            if contact_point is not None and contact_point.kind is ContactPointKind.CONTACT:
                own = await connection.execute(
                    select(contact.c.communication).where(
                        contact.c.tenant_id == tenant_id,
                        contact.c.customer_id == customer_id,
                        contact.c.id == contact_point.value,
                    )
                )
                contact_preferences.extend(communication_from(doc) for doc in own.scalars())
            rows = await connection.execute(
                select(consent_record).where(
                    r.tenant_id == tenant_id,
                    r.customer_id == customer_id,
                    r.channel == channel.value,
                    r.purpose == purpose,
                )
            )
            records = [record_from_row(row) for row in rows.mappings()]
            policy = await _policy(connection, tenant_id, purpose)
        return DecisionInputs(records, customer_context(profile, contact_preferences), policy)

    async def allowed(
        self, tenant_id: str, customer_ids: Sequence[str], channel: Channel, policy: PurposePolicy, now: datetime
    ) -> list[str]:
        wanted = list(dict.fromkeys(customer_ids))  # first occurrence of each id, in the caller's order
        if not wanted:
            return []
        if self._pool is None:
            await self.start()
        assert self._pool is not None
        bases = sorted(b.value for b in policy.legal_bases)
        async with self._pool.acquire() as connection, connection.transaction(readonly=True):
            await connection.execute(_SET_TENANT, tenant_id)
            patterns = opt_out_patterns(channel, policy.purpose)
            rows = await connection.fetch(
                BULK_ALLOWED, tenant_id, wanted, channel.value, policy.purpose, now, bases, *patterns
            )
        allowed = {row[0] for row in rows}
        return [customer_id for customer_id in wanted if customer_id in allowed]

    async def expiring(
        self, tenant_id: str, now: datetime, until: datetime, after: str | None, limit: int
    ) -> tuple[list[ExpiringGrant], str | None]:
        after_at, after_id = _after(after, now)
        params: dict[str, Any] = {
            "tenant": tenant_id,
            "now": now,
            "until": until,
            "after_at": after_at,
            "after_id": after_id,
            "limit": limit + 1,
        }
        async with tenant_transaction(self._engine, tenant_id) as connection:
            rows = (await connection.execute(_EXPIRING, params)).mappings().all()
        grants = []
        for row in rows:
            record = record_from_row(row)
            assert record.expires_at is not None
            grants.append(
                ExpiringGrant(
                    record.customer_id,
                    record.id,
                    record.channel.value,
                    record.purpose,
                    record.contact_point,
                    record.expires_at,
                )
            )
        more = len(grants) > limit
        return grants[:limit], _cursor_of(grants[limit - 1]) if more else None


async def _policy(connection: Any, tenant_id: str, purpose: str) -> PurposePolicy:
    q = consent_purpose_policy.c
    row = (
        (await connection.execute(select(consent_purpose_policy).where(q.tenant_id == tenant_id, q.purpose == purpose)))
        .mappings()
        .first()
    )
    return default_policy(purpose) if row is None else policy_from_row(row)
