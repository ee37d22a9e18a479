"""Read side of profiles: documents straight from SQL, no aggregates (the fast path of the lookups)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import orjson
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from customer360.application.queries import CustomerFilter, Document, Page, SearchCriteria
from customer360.domain.errors import InvalidValue
from customer360.domain.ids import CUSTOMER_PREFIX, is_valid_id
from customer360.domain.search_terms import CITY, COUNTRY, NAME, POSTAL_CODE, STREET, query_terms
from customer360.infrastructure.persistence.database import tenant_transaction
from customer360.infrastructure.persistence.profile_lookup import ProfileLookup
from customer360.infrastructure.persistence.tables import SCHEMA, customer_profile

P = customer_profile.c

# The profile document is defined once, in SQL (migration 0004: customer_json); every read uses it.
PROFILE_COLUMNS = "p.id, p.tenant_id, crm_customer360.customer_json(p) AS document"
PROFILE_BY_ID = text(f"SELECT {PROFILE_COLUMNS} FROM customer_profile p WHERE p.tenant_id = :tenant AND p.id = :id")


def profile_document(row: Any) -> Document:
    document: Document = row["document"]
    return document


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


# Every cursor this API hands out encodes printable ASCII (ids, numbers, ISO timestamps); anything else
# decoded from a client's cursor (a NUL, say) must not reach a query.
_CURSOR_TEXT = re.compile(r"^[\x20-\x7e]{1,200}$")
_NUMBER_CURSOR = re.compile(r"^[0-9]{1,18}$")
NOT_A_CURSOR = "is not a cursor returned by this API"


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidValue("cursor", NOT_A_CURSOR) from None
    if not _CURSOR_TEXT.match(value):
        raise InvalidValue("cursor", NOT_A_CURSOR)
    return value


def decode_number_cursor(cursor: str | None) -> int | None:
    """A cursor over a bigint id (audit, access log): digits that fit, nothing else."""
    value = decode_cursor(cursor)
    if value is None:
        return None
    if not _NUMBER_CURSOR.match(value):
        raise InvalidValue("cursor", NOT_A_CURSOR)
    return int(value)


async def customer_exists(connection: AsyncConnection, tenant_id: str, customer_id: str) -> bool:
    if not is_valid_id(CUSTOMER_PREFIX, customer_id):
        return False
    result = await connection.execute(select(P.id).where(P.tenant_id == tenant_id, P.id == customer_id))
    return result.first() is not None


def filter_conditions(tenant_id: str, query: CustomerFilter) -> tuple[list[str], dict[str, Any]]:
    """The list endpoint's filters (also the bulk export's) as SQL conditions on ``p`` and parameters."""
    conditions = ["p.tenant_id = :tenant"]
    params: dict[str, Any] = {"tenant": tenant_id}
    if query.status:
        conditions.append("p.status = :status")
        params["status"] = query.status
    else:
        conditions.append("p.status NOT IN ('MERGED', 'ERASED')")
    if query.segment:
        conditions.append("p.segment = :segment")
        params["segment"] = query.segment
    if query.kind:
        conditions.append("p.kind = :kind")
        params["kind"] = query.kind
    if query.tag:
        conditions.append("p.tags @> ARRAY[CAST(:tag AS text)]")
        params["tag"] = query.tag
    if query.updated_since:
        conditions.append("p.updated_at >= :updated_since")
        params["updated_since"] = query.updated_since
    return conditions, params


class SqlProfileQueries:
    def __init__(self, engine: AsyncEngine, lookup: ProfileLookup) -> None:
        self._engine = engine
        self._lookup = lookup

    async def profile(self, tenant_id: str, customer_id: str) -> Document | None:
        text = await self.profile_text(tenant_id, customer_id)
        return None if text is None else dict(orjson.loads(text))

    async def profile_text(self, tenant_id: str, customer_id: str) -> str | None:
        """The same document as JSON text (the plain lookup route validates it straight into its model)."""
        if not is_valid_id(CUSTOMER_PREFIX, customer_id):
            return None
        return await self._lookup.document(tenant_id, customer_id)

    async def profiles(self, tenant_id: str, query: CustomerFilter) -> Page:
        conditions, params = filter_conditions(tenant_id, query)
        params["limit"] = query.limit + 1
        after = decode_cursor(query.cursor)
        if after:
            conditions.append("p.id > :after")
            params["after"] = after
        where = " AND ".join(conditions)
        statement = text(f"SELECT {PROFILE_COLUMNS} FROM customer_profile p WHERE {where} ORDER BY p.id LIMIT :limit")
        async with tenant_transaction(self._engine, tenant_id) as connection:
            rows = (await connection.execute(statement, params)).mappings().all()
        items = [profile_document(r) for r in rows[: query.limit]]
        more = len(rows) > query.limit
        return Page(items, encode_cursor(items[-1]["id"]) if more and items else None)

    async def contacts(self, tenant_id: str, customer_id: str) -> list[Document] | None:
        document = await self.profile(tenant_id, customer_id)
        return None if document is None else list(document["contacts"])

    async def search(self, tenant_id: str, criteria: SearchCriteria) -> list[Document]:
        return list(orjson.loads(await self.search_text(tenant_id, criteria)))

    async def search_text(self, tenant_id: str, criteria: SearchCriteria) -> str:
        """One round trip: ``customer_search`` (migration 0009, search_sql.py) answers the whole page."""
        arguments = search_arguments(tenant_id, criteria)
        if arguments is None:
            return "[]"
        return await self._lookup.value(SEARCH, *arguments) or "[]"


SEARCH = f"SELECT {SCHEMA}.customer_search($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"


def search_arguments(tenant_id: str, criteria: SearchCriteria) -> tuple[Any, ...] | None:
    """The function's arguments: prefix terms, exact keys (label, type, value) and q's alternatives;
    ``None`` when a criterion can match nothing (a name of punctuation only)."""
    terms: list[str] = []
    labels: list[str] = []
    for label, field, value in (
        ("name", NAME, criteria.name),
        ("street", STREET, criteria.street),
        ("city", CITY, criteria.city),
        ("postalCode", POSTAL_CODE, criteria.postal_code),
        ("country", COUNTRY, criteria.country),
    ):
        if value is None:
            continue
        asked = query_terms(field, value)
        if not asked:
            return None
        terms.extend(asked)
        labels.append(label)
    keys = _keys(criteria.email, criteria.phone, criteria.tax_id)
    if criteria.external_ref is not None:
        keys.append(("externalRef", "REF", ":".join(criteria.external_ref)))
    labels.extend(label for label, _, _ in keys)
    any_terms: list[str] = []
    any_keys: list[tuple[str, str, str]] = []
    if criteria.text is not None:
        text = criteria.text
        any_terms = query_terms(NAME, text.words) if text.words else []
        any_keys = _keys(text.email, text.phone, text.tax_id)
        if text.reference:
            any_keys.append(("externalRef", "REF_ID", text.reference))
        if not any_terms and not any_keys:
            return None
    return (
        tenant_id,
        terms,
        *_columns(keys),
        any_terms,
        *_columns(any_keys),
        sorted(set(labels)),
        not criteria.include_inactive,
        criteria.limit,
    )


def _keys(email: str | None, phone: tuple[str, ...], tax_id: str | None) -> list[tuple[str, str, str]]:
    keys = [("email", "EMAIL", email)] if email else []
    keys += [("phone", key_type, value) for value in phone for key_type in ("PHONE", "PHONE_NSN")]
    if tax_id:
        keys.append(("taxId", "TAX_ID", tax_id))
    return keys


def _columns(keys: list[tuple[str, str, str]]) -> tuple[list[str], list[str], list[str]]:
    return [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]
