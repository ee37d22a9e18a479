"""The integration look-ups, each one SQL statement (plus one per merge hop for an id that was merged).

An id that was merged answers for its golden record (``customerId`` is the survivor, ``requestedId``
the id asked for), so the ids other systems hold keep working after a merge.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from customer360.application.integration_queries import LookupCriteria
from customer360.application.queries import Document
from customer360.domain.entitlements import Entitlement, effective_sla
from customer360.domain.errors import InvalidValue
from customer360.domain.ids import CUSTOMER_PREFIX, is_valid_id
from customer360.infrastructure.persistence.database import tenant_transaction
from customer360.infrastructure.persistence.profile_queries import decode_cursor, encode_cursor

_MAX_MERGE_HOPS = 10

_ENTITLEMENTS = text("""
    SELECT p.id, p.status, p.merged_into, e.contract_id, e.services, e.sla_tier, e.response_time_minutes,
           e.resolution_time_minutes, e.valid_from, e.valid_to, e.activated_at
      FROM customer_profile p
      LEFT JOIN entitlement e
        ON e.tenant_id = p.tenant_id AND e.customer_id = p.id
       AND e.valid_from <= :on AND (e.valid_to IS NULL OR e.valid_to >= :on)
     WHERE p.tenant_id = :tenant AND p.id = :id
     ORDER BY e.response_time_minutes, e.resolution_time_minutes, e.contract_id
""")

_BILLING = text("""
    SELECT p.id, p.status, p.merged_into, p.name, p.legal_name, p.tax_ids, p.addresses,
           COALESCE((SELECT jsonb_agg(jsonb_build_object(
                       'id', c.id, 'name', c.name, 'roles', to_jsonb(c.roles),
                       'primary', 'BILLING' = ANY(c.primary_roles), 'emails', c.emails, 'phones', c.phones)
                     ORDER BY ('BILLING' = ANY(c.primary_roles)) DESC, c.id)
                       FROM contact c
                      WHERE c.tenant_id = p.tenant_id AND c.customer_id = p.id AND c.removed_at IS NULL
                        AND 'BILLING' = ANY(c.roles)), '[]'::jsonb) AS billing_contacts,
           cc.credit_limit, cc.currency, cc.payment_terms, cc.credit_blocked, cc.source_system,
           cc.source_updated_at
      FROM customer_profile p
      LEFT JOIN customer_credit cc ON cc.tenant_id = p.tenant_id AND cc.customer_id = p.id
     WHERE p.tenant_id = :tenant AND p.id = :id
""")

_SERVICE_HISTORY = text("""
    SELECT p.id, p.status, p.merged_into, s.service_order_id, s.order_number, s.order_type, s.priority,
           s.status AS order_status, s.opened_at, s.summary
      FROM customer_profile p
      LEFT JOIN LATERAL (
            SELECT * FROM service_history s
             WHERE s.tenant_id = p.tenant_id AND s.customer_id = p.id
               AND (CAST(:after_id AS text) IS NULL
                    OR (s.opened_at, s.service_order_id) < (CAST(:after_at AS timestamptz), :after_id))
             ORDER BY s.opened_at DESC, s.service_order_id DESC
             LIMIT :limit) s ON true
     WHERE p.tenant_id = :tenant AND p.id = :id
""")

# Addresses a bill goes to, in order of preference.
_BILLING_ADDRESS_TYPES = ("BILLING", "REGISTERED")


class SqlIntegrationQueries:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def entitlements(self, tenant_id: str, customer_id: str, on: date) -> Document | None:
        async with tenant_transaction(self._engine, tenant_id) as connection:
            rows = await _follow(connection, _ENTITLEMENTS, {"tenant": tenant_id, "id": customer_id, "on": on})
        if not rows:
            return None
        entitlements = [
            Entitlement(
                contract_id=r["contract_id"],
                customer_id=r["id"],
                services=tuple(r["services"]),
                sla_tier=r["sla_tier"],
                response_time_minutes=r["response_time_minutes"],
                resolution_time_minutes=r["resolution_time_minutes"],
                valid_from=r["valid_from"],
                valid_to=r["valid_to"],
            )
            for r in rows
            if r["contract_id"] is not None
        ]
        activated = {r["contract_id"]: r["activated_at"] for r in rows}
        best = effective_sla(entitlements, on)
        return {
            "customerId": rows[0]["id"],
            "requestedId": customer_id,
            "at": on,
            "entitlements": [_entitlement(e, activated[e.contract_id]) for e in entitlements],
            "effectiveSla": None
            if best is None
            else {
                "contractId": best.contract_id,
                "slaTier": best.sla_tier,
                "responseTimeMinutes": best.response_time_minutes,
                "resolutionTimeMinutes": best.resolution_time_minutes,
            },
        }

    async def billing(self, tenant_id: str, customer_id: str) -> Document | None:
        async with tenant_transaction(self._engine, tenant_id) as connection:
            rows = await _follow(connection, _BILLING, {"tenant": tenant_id, "id": customer_id})
        if not rows:
            return None
        row = rows[0]
        addresses = list(row["addresses"])
        billing_address = next(
            (a for kind in _BILLING_ADDRESS_TYPES for a in addresses if a.get("type") == kind),
            None,
        )
        credit = None
        if row["source_system"] is not None:
            credit = {
                "creditLimit": None if row["credit_limit"] is None else f"{row['credit_limit']:.2f}",
                "currency": row["currency"],
                "paymentTerms": row["payment_terms"],
                "creditBlocked": row["credit_blocked"],
                "sourceSystem": row["source_system"],
                "updatedAt": row["source_updated_at"],
            }
        return {
            "customerId": row["id"],
            "requestedId": customer_id,
            "name": row["name"],
            "legalName": row["legal_name"],
            "billingContacts": row["billing_contacts"],
            "billingAddress": billing_address,
            "addresses": [a for a in addresses if a.get("type") in _BILLING_ADDRESS_TYPES],
            "taxIds": row["tax_ids"],
            "credit": credit,
        }

    async def service_history(
        self, tenant_id: str, customer_id: str, cursor: str | None, limit: int
    ) -> Document | None:
        after_at, after_id = _history_cursor(cursor)
        params = {
            "tenant": tenant_id,
            "id": customer_id,
            "after_at": after_at,
            "after_id": after_id,
            "limit": limit + 1,
        }
        async with tenant_transaction(self._engine, tenant_id) as connection:
            rows = await _follow(connection, _SERVICE_HISTORY, params)
        if not rows:
            return None
        orders = [
            {
                "serviceOrderId": r["service_order_id"],
                "orderNumber": r["order_number"],
                "orderType": r["order_type"],
                "priority": r["priority"],
                "status": r["order_status"],
                "openedAt": r["opened_at"],
                "summary": r["summary"],
            }
            for r in rows
            if r["service_order_id"] is not None
        ]
        page, more = orders[:limit], len(orders) > limit
        last = page[-1] if page else None
        next_cursor = (
            encode_cursor(f"{last['openedAt'].isoformat()}|{last['serviceOrderId']}") if more and last else None
        )
        return {"customerId": rows[0]["id"], "requestedId": customer_id, "items": page, "nextCursor": next_cursor}

    async def lookup(self, tenant_id: str, criteria: LookupCriteria) -> list[Document]:
        conditions = ["p.tenant_id = :tenant", "p.status NOT IN ('MERGED', 'ERASED')"]
        params: dict[str, Any] = {"tenant": tenant_id, "limit": criteria.limit}
        keys = {"EMAIL": criteria.email, "DOMAIN": criteria.domain, "TAX_ID": criteria.tax_id}
        for key_type, value in keys.items():
            if value:
                name = key_type.lower()
                params[name] = value
                conditions.append(_with_key(f"k.key_type = '{key_type}' AND k.key_value = :{name}"))
        if criteria.phone:
            params["phones"] = list(criteria.phone)
            conditions.append(_with_key("k.key_type IN ('PHONE', 'PHONE_NSN') AND k.key_value = ANY(:phones)"))
        if criteria.external_ref:
            params["system"], params["external_id"] = criteria.external_ref
            conditions.append(
                "p.id IN (SELECT r.customer_id FROM external_reference r WHERE r.tenant_id = :tenant "
                "AND r.source_system = :system AND r.external_id = :external_id)"
            )
        statement = text(
            "SELECT crm_customer360.customer_json(p) AS document FROM customer_profile p "
            f"WHERE {' AND '.join(conditions)} ORDER BY p.id LIMIT :limit"
        )
        async with tenant_transaction(self._engine, tenant_id) as connection:
            rows = (await connection.execute(statement, params)).all()
        return [dict(row[0]) for row in rows]


def _with_key(condition: str) -> str:
    return f"p.id IN (SELECT k.customer_id FROM customer_key k WHERE k.tenant_id = :tenant AND {condition})"


async def _follow(connection: AsyncConnection, statement: Any, params: dict[str, Any]) -> list[Any]:
    """Rows for the id, or for its golden record when it was merged; [] when there is no such profile."""
    if not is_valid_id(CUSTOMER_PREFIX, params["id"]):
        return []
    for _ in range(_MAX_MERGE_HOPS):
        rows = list((await connection.execute(statement, params)).mappings().all())
        if not rows or rows[0]["merged_into"] is None:
            return rows
        params = {**params, "id": rows[0]["merged_into"]}
    return []


def _entitlement(entitlement: Entitlement, activated_at: Any) -> Document:
    return {
        "contractId": entitlement.contract_id,
        "services": list(entitlement.services),
        "slaTier": entitlement.sla_tier,
        "responseTimeMinutes": entitlement.response_time_minutes,
        "resolutionTimeMinutes": entitlement.resolution_time_minutes,
        "validFrom": entitlement.valid_from,
        "validTo": entitlement.valid_to,
        "activatedAt": activated_at,
    }


def _history_cursor(cursor: str | None) -> tuple[datetime | None, str | None]:
    value = decode_cursor(cursor)
    if value is None:
        return None, None
    opened_at, _, order_id = value.partition("|")
    try:
        moment = datetime.fromisoformat(opened_at)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or not order_id:
        raise InvalidValue("cursor", "is not a cursor returned by this API")
    return moment, order_id
