"""Reading an import file as a stream: bytes (gzip or not) → UTF-8 text → rows → create bodies.

Nothing here holds more than a batch of rows: a 10 GB file is read as it arrives. Every row is mapped
to the create body of ``POST /customers`` (CSV columns by the mapping; an NDJSON line is that body) and
checked by the API's own request model (``ImportRowIn`` = ``CustomerCreate`` + ``customerId``), so a
row is held to exactly the shape rules of the API; the domain rules follow when the row is applied.
A malformed row becomes a report line (row, field, reason); the file as a whole fails only when it
cannot be read: not gzip although it says so, not UTF-8, no header, a required column missing.

Row numbers: CSV counts data records (1 = the first record after the header); NDJSON counts lines.
"""

from __future__ import annotations

import codecs
import csv
import re
import zlib
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from customer360.application.import_ports import INVALID, RowInput, RowIssue, StagedRow
from customer360.domain.errors import InvalidValue
from customer360.infrastructure.rest.errors import field_path
from customer360.infrastructure.rest.models.imports import ImportRowIn

GZIP_MAGIC = b"\x1f\x8b"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NAME = re.compile(r"[\s_\-.]+")


class UnreadableFile(InvalidValue):
    """The file as a whole cannot be imported (nothing of it is applied)."""

    code = "UNREADABLE_FILE"

    def __init__(self, code: str, field: str, reason: str, **details: Any) -> None:
        super().__init__(field, reason)
        self.code = code
        self.details.update(details)


# Field → the column names it is recognised by (compared without case, spaces, '_', '-', '.').
FIELDS: dict[str, tuple[str, ...]] = {
    "customerId": ("customerid", "id"),
    "externalRef": ("externalref", "externalreference", "ref", "sourceref"),
    "kind": ("kind", "type", "customertype"),
    "status": ("status",),
    "name": ("name", "company", "companyname", "organization", "organisation", "fullname"),
    "legalName": ("legalname",),
    "givenName": ("givenname", "firstname", "forename", "vorname"),
    "familyName": ("familyname", "lastname", "surname", "nachname"),
    "birthDate": ("birthdate", "dateofbirth", "dob", "geburtsdatum"),
    "segment": ("segment",),
    "industry": ("industry", "branche"),
    "website": ("website", "web", "url", "homepage"),
    "email": ("email", "mail", "emailaddress"),
    "phone": ("phone", "telephone", "tel", "phonenumber", "mobile", "telefon"),
    "street": ("street", "address", "addressline1", "line1", "strasse", "straße"),
    "street2": ("street2", "addressline2", "line2"),
    "postalCode": ("postalcode", "zip", "zipcode", "postcode", "plz"),
    "city": ("city", "town", "ort", "stadt"),
    "region": ("region", "state", "province"),
    "country": ("country", "countrycode", "land"),
    "addressType": ("addresstype",),
    "taxId": ("taxid", "vat", "vatid", "vatnumber", "ustidnr", "ustid"),
    "taxIdCountry": ("taxidcountry", "vatcountry"),
    "tags": ("tags",),
    "language": ("language",),
    "timeZone": ("timezone",),
    "currency": ("currency",),
}
# Fields a column may repeat (each column adds an item).
REPEATABLE = frozenset({"externalRef", "email", "phone"})
# A file must name the customer or point at one.
IDENTIFYING = ("name", "givenName", "familyName", "customerId", "externalRef")
_BY_NAME = {alias: f for f, aliases in FIELDS.items() for alias in (*aliases, f.lower())}


def _normalised(column: str) -> str:
    return _NAME.sub("", column).lower()


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which file column feeds which field (positions into the record); the rest are ignored."""

    columns: tuple[tuple[int, str], ...]
    applied: dict[str, str]
    ignored: tuple[str, ...]


def map_columns(header: list[str], given: Mapping[str, str] | None) -> ColumnMapping:
    """The given mapping (column → field), else the header's names; raises UnreadableFile."""
    header = [h.strip() for h in header]
    if given:
        unknown = sorted(f for f in given.values() if f not in FIELDS)
        if unknown:
            raise UnreadableFile("UNKNOWN_FIELD", "mapping", f"names no field: {', '.join(unknown)}", fields=unknown)
        missing = sorted(c for c in given if c not in header)
        if missing:
            raise UnreadableFile("MISSING_COLUMN", "mapping", "names columns the header does not have", columns=missing)
        wanted = dict(given)
    else:
        wanted = {c: _BY_NAME[_normalised(c)] for c in header if _normalised(c) in _BY_NAME}
    columns, seen = [], set()
    for position, name in enumerate(header):
        target = wanted.get(name)
        if target is None or (target in seen and target not in REPEATABLE):
            continue
        seen.add(target)
        columns.append((position, target))
    if not seen & set(IDENTIFYING):
        raise UnreadableFile(
            "MISSING_REQUIRED_COLUMN",
            "header",
            "needs a column for the name (name, or givenName/familyName) or for the customer (customerId, externalRef)",
            required=list(IDENTIFYING),
        )
    used = {header[p] for p, _ in columns}
    applied = {header[p]: f for p, f in columns}
    return ColumnMapping(tuple(columns), applied, tuple(h for h in header if h not in used))


def _ref(value: str) -> dict[str, str]:
    system, sep, external_id = value.partition(":")
    if not sep:
        raise InvalidValue("externalRef", "must be SYSTEM:id")
    return {"sourceSystem": system, "externalId": external_id}


def body_of(values: dict[str, list[str]]) -> dict[str, Any]:
    """The create body from a CSV record's mapped cells (empty cells are absent)."""
    one = {f: v[0] for f, v in values.items()}
    body: dict[str, Any] = {}
    for simple in ("customerId", "name", "legalName", "givenName", "familyName", "birthDate", "segment", "industry"):
        if simple in one:
            body[simple] = one[simple]
    for upper in ("kind", "status"):
        if upper in one:
            body[upper] = one[upper].strip().upper()
    if "website" in one:
        body["website"] = one["website"]
    if "externalRef" in values:
        body["externalRefs"] = [_ref(v) for v in values["externalRef"]]
    if "email" in values:
        body["emails"] = [{"address": v} for v in values["email"]]
    if "phone" in values:
        body["phones"] = [{"number": v} for v in values["phone"]]
    if {"street", "street2", "postalCode", "city", "region", "country"} & one.keys():
        address: dict[str, Any] = {"type": one.get("addressType", "BILLING").strip().upper()}
        address["lines"] = [one[k] for k in ("street", "street2") if k in one]
        for name in ("postalCode", "city", "region", "country"):
            if name in one:
                address[name] = one[name]
        body["addresses"] = [address]
    if "taxId" in one:
        value = one["taxId"].strip()
        country = one.get("taxIdCountry") or (value[:2] if value[:2].isalpha() else "")
        body["taxIds"] = [{"country": country.upper(), "value": value}]
    if "tags" in one:
        body["tags"] = [t.strip() for t in one["tags"].split("|") if t.strip()]
    locale = {k: one[k] for k in ("language", "timeZone", "currency") if k in one}
    if locale:
        body["locale"] = locale
    return body


def _control_character(value: Any, path: str) -> str | None:
    """The path of a string holding a control character (PostgreSQL refuses NUL; none belongs in data)."""
    if isinstance(value, str):
        return path if _CONTROL.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _control_character(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _control_character(item, f"{path}[{i}]")
            if found:
                return found
    return None


def row_input(body: Mapping[str, Any]) -> RowInput:
    """A staged body (checked when staged) as the use cases' typed input: the API's own conversion."""
    return ImportRowIn.model_validate(body).to_row()


def checked(number: int, body: Any) -> StagedRow | list[RowIssue]:
    """The row's body held to the API's request model, or its report lines."""
    if not isinstance(body, dict):
        return [RowIssue(number, "row", INVALID, "must be a JSON object (the create body of POST /customers)")]
    bad = _control_character(body, "")
    if bad:
        return [RowIssue(number, bad, INVALID, "contains a control character")]
    try:
        model = ImportRowIn.model_validate(body)
    except ValidationError as error:
        return [
            RowIssue(number, field_path(tuple(e.get("loc", ()))), INVALID, str(e.get("msg", "")))
            for e in error.errors()
        ]
    return StagedRow(number, model.model_dump(mode="json", exclude_unset=True))


async def text_lines(chunks: AsyncIterator[bytes], *, gzipped: bool | None = None) -> AsyncIterator[str]:
    """Lines (with their ends) of a UTF-8 byte stream, gunzipped when it is gzip (by ``gzipped`` or by
    its first bytes); raises UnreadableFile for a broken gzip stream or text that is not UTF-8."""
    inflate: Any = None
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    line = 0
    first = True
    async for chunk in chunks:
        if not chunk:
            continue
        if first:
            first = False
            if gzipped or (gzipped is None and chunk.startswith(GZIP_MAGIC)):
                inflate = zlib.decompressobj(wbits=47)
        try:
            data = inflate.decompress(chunk) if inflate is not None else chunk
        except zlib.error:
            raise UnreadableFile("UNREADABLE_FILE", "file", "is not a readable gzip stream") from None
        try:
            pending += decoder.decode(data)
        except UnicodeDecodeError as error:
            at = line + pending.count("\n") + data[: max(0, error.start)].count(b"\n") + 1
            raise UnreadableFile("WRONG_ENCODING", "file", "is not UTF-8 text", line=at) from None
        # Only "\n" ends a line (str.splitlines would also cut at U+2028 and other separators inside a value).
        *lines, pending = pending.split("\n")
        for text in lines:
            line += 1
            yield text + "\n"
    if inflate is not None and not inflate.eof:
        raise UnreadableFile("UNREADABLE_FILE", "file", "is a truncated gzip stream")
    try:
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise UnreadableFile("WRONG_ENCODING", "file", "is not UTF-8 text", line=line + 1) from None
    if pending:
        yield pending


def _dialect(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


async def csv_rows(
    lines: AsyncIterator[str], given: Mapping[str, str] | None, batch: int = 2000
) -> AsyncIterator[ColumnMapping | StagedRow | list[RowIssue]]:
    """First the column mapping, then each record's staged row or report lines."""
    header_line = None
    async for text in lines:
        if text.strip():
            header_line = text
            break
    if header_line is None:
        raise UnreadableFile("EMPTY_FILE", "file", "has no header row")
    delimiter = _dialect(header_line)
    try:
        header = next(csv.reader([header_line], delimiter=delimiter))
    except csv.Error as error:  # a NUL, say: the header is the file's, so the file is refused (not a 500)
        raise UnreadableFile("UNREADABLE_FILE", "header", f"is not valid CSV ({error})") from None
    mapping = map_columns(header, given)
    yield mapping
    number = 0
    buffered: list[str] = []
    quotes = 0
    async for text in lines:
        buffered.append(text)
        quotes += text.count('"')
        # A quoted field may span lines: cut batches only where no quote is open.
        if len(buffered) >= batch and quotes % 2 == 0:
            for row in _records(buffered, delimiter, mapping, len(header), number):
                number = row.number if isinstance(row, StagedRow) else row[0].row
                yield row
            buffered, quotes = [], 0
    for row in _records(buffered, delimiter, mapping, len(header), number):
        yield row


def _records(
    lines: list[str], delimiter: str, mapping: ColumnMapping, width: int, number: int
) -> Iterator[StagedRow | list[RowIssue]]:
    reader = csv.reader(lines, delimiter=delimiter)
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            number += 1
            yield [RowIssue(number, "row", INVALID, f"is not valid CSV ({error})")]
            continue
        if not any(cell.strip() for cell in record):
            continue
        number += 1
        yield _row(number, record, mapping, width)


def _row(number: int, record: list[str], mapping: ColumnMapping, width: int) -> StagedRow | list[RowIssue]:
    if len(record) > width:
        return [RowIssue(number, "row", INVALID, f"has {len(record)} fields, the header {width}")]
    values: dict[str, list[str]] = {}
    for position, target in mapping.columns:
        if position < len(record) and record[position].strip():
            values.setdefault(target, []).append(record[position])
    try:
        body = body_of(values)
    except InvalidValue as error:
        return [RowIssue(number, error.field, INVALID, error.reason)]
    return checked(number, body)


async def ndjson_rows(lines: AsyncIterator[str]) -> AsyncIterator[StagedRow | list[RowIssue]]:
    number = 0
    async for text in lines:
        number += 1
        if not text.strip():
            continue
        try:
            body = orjson.loads(text)
        except orjson.JSONDecodeError:
            yield [RowIssue(number, "row", INVALID, "is not valid JSON")]
            continue
        yield checked(number, body)
