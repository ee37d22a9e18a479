"""Writing a bulk export: NDJSON (the full profile document per line) or CSV (one row per profile, in the
import's column names, so an exported file can be imported again: ``customerId`` makes each row an
update). CSV keeps the first e-mail, phone, address, tax id and external reference; NDJSON keeps all."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import orjson

CSV_COLUMNS = (
    "customerId",
    "externalRef",
    "kind",
    "status",
    "name",
    "legalName",
    "givenName",
    "familyName",
    "birthDate",
    "segment",
    "industry",
    "website",
    "email",
    "phone",
    "street",
    "street2",
    "postalCode",
    "city",
    "region",
    "country",
    "taxId",
    "tags",
    "language",
    "timeZone",
    "currency",
    "version",
    "updatedAt",
)


def _first(document: dict[str, Any], name: str) -> dict[str, Any]:
    items = document.get(name) or []
    return items[0] if items else {}


def csv_row(document: dict[str, Any]) -> list[Any]:
    ref, email, phone = _first(document, "externalRefs"), _first(document, "emails"), _first(document, "phones")
    address, tax, locale = _first(document, "addresses"), _first(document, "taxIds"), document.get("locale") or {}
    lines = address.get("lines") or []
    values = {
        "customerId": document["id"],
        "externalRef": f"{ref['sourceSystem']}:{ref['externalId']}" if ref else None,
        "email": email.get("address"),
        "phone": phone.get("e164"),
        "street": lines[0] if lines else None,
        "street2": lines[1] if len(lines) > 1 else None,
        "postalCode": address.get("postalCode"),
        "city": address.get("city"),
        "region": address.get("region"),
        "country": address.get("country"),
        "taxId": tax.get("value"),
        "tags": "|".join(document.get("tags") or []),
        "language": locale.get("language"),
        "timeZone": locale.get("timeZone"),
        "currency": locale.get("currency"),
    }
    return [values[c] if c in values else document.get(c) for c in CSV_COLUMNS]


async def ndjson_export(batches: AsyncIterator[list[tuple[str, str]]]) -> AsyncIterator[bytes]:
    async for batch in batches:
        yield "".join(f"{document}\n" for _, document in batch).encode()


async def csv_export(batches: AsyncIterator[list[tuple[str, str]]]) -> AsyncIterator[bytes]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    yield out.getvalue().encode()
    async for batch in batches:
        out.seek(0)
        out.truncate()
        writer.writerows(csv_row(orjson.loads(document)) for _, document in batch)
        yield out.getvalue().encode()
