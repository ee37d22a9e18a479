"""Reading import files: columns recognised or mapped, rows turned into create bodies, streams decoded."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

import pytest

from customer360.application.import_ports import RowIssue, StagedRow
from customer360.infrastructure.import_files import (
    ColumnMapping,
    UnreadableFile,
    csv_rows,
    map_columns,
    text_lines,
)


async def _stream(data: bytes, size: int = 7) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def _lines(data: bytes, size: int = 7) -> list[str]:
    return [line async for line in text_lines(_stream(data, size))]


async def _rows(text: str, batch: int = 2) -> list[StagedRow | list[RowIssue]]:
    rows = [item async for item in csv_rows(text_lines(_stream(text.encode())), None, batch=batch)]
    assert isinstance(rows[0], ColumnMapping)
    return rows[1:]  # type: ignore[return-value]


class TestColumns:
    def test_header_names_are_recognised_whatever_their_case_and_separators(self) -> None:
        """'E-Mail', 'first_name', 'ZIP code' and 'Company' name email, givenName, postalCode and name."""
        mapping = map_columns(["E-Mail", "first_name", "Company", "ZIP", "Notes"], None)
        assert (mapping.applied, mapping.ignored) == (
            {"E-Mail": "email", "first_name": "givenName", "Company": "name", "ZIP": "postalCode"},
            ("Notes",),
        )

    def test_a_file_naming_no_customer_is_refused(self) -> None:
        """No name, givenName/familyName, customerId or externalRef column: MISSING_REQUIRED_COLUMN."""
        with pytest.raises(UnreadableFile) as refused:
            map_columns(["email", "city"], None)
        assert refused.value.code == "MISSING_REQUIRED_COLUMN"

    def test_a_mapping_to_an_unknown_field_is_refused(self) -> None:
        """mapping={"Firma": "firm"}: UNKNOWN_FIELD naming it."""
        with pytest.raises(UnreadableFile) as refused:
            map_columns(["Firma"], {"Firma": "firm"})
        assert (refused.value.code, refused.value.details["fields"]) == ("UNKNOWN_FIELD", ["firm"])


class TestRows:
    async def test_a_row_becomes_the_create_body_of_the_api(self) -> None:
        """Cells map to the body's nested shape: e-mails, phones, one address, references, a tax id."""
        [row] = await _rows(
            "name,email,phone,street,postalCode,city,country,taxId,externalRef\n"
            "Acme GmbH,a@acme.example,030 1234567,Weg 1,10115,Berlin,DE,DE136695976,ERP:1\n"
        )
        assert isinstance(row, StagedRow)
        assert row.body == {
            "name": "Acme GmbH",
            "emails": [{"address": "a@acme.example"}],
            "phones": [{"number": "030 1234567"}],
            "addresses": [
                {"type": "BILLING", "lines": ["Weg 1"], "postal_code": "10115", "city": "Berlin", "country": "DE"}
            ],
            "tax_ids": [{"country": "DE", "value": "DE136695976"}],
            "external_refs": [{"source_system": "ERP", "external_id": "1"}],
        }

    async def test_a_quoted_record_spanning_lines_is_one_row_across_batch_boundaries(self) -> None:
        """Batches of two lines never cut a quoted value: rows 1-3 stay rows 1-3."""
        rows = await _rows('name,street,city,country\nA,x,Bonn,DE\n"B\nB",y,Bonn,DE\nC,z,Bonn,DE\n', batch=2)
        assert [r.body["name"] for r in rows if isinstance(r, StagedRow)] == ["A", "B\nB", "C"]
        assert [r.number for r in rows if isinstance(r, StagedRow)] == [1, 2, 3]

    async def test_a_reference_without_its_system_is_reported(self) -> None:
        """'12345' instead of 'SYSTEM:12345': the row's externalRef is refused, with the rule."""
        [row] = await _rows("name,externalRef\nAcme,12345\n")
        assert row == [RowIssue(1, "externalRef", "INVALID", "must be SYSTEM:id")]


class TestStreams:
    async def test_gzip_is_recognised_by_its_first_bytes(self) -> None:
        """A gzipped body is read as its text, however the chunks fall."""
        assert await _lines(gzip.compress("name\nMüller\n".encode()), size=3) == ["name\n", "Müller\n"]

    async def test_a_multi_byte_character_split_between_chunks_is_read_whole(self) -> None:
        """UTF-8 is decoded incrementally: 'ü' cut in half by a chunk boundary is still 'ü'."""
        assert await _lines("Müller\n".encode(), size=2) == ["Müller\n"]

    async def test_a_header_that_is_not_csv_refuses_the_file(self) -> None:
        """A carriage return inside the header row: UNREADABLE_FILE naming the header, not an unexpected error."""
        with pytest.raises(UnreadableFile) as refused:
            await _rows("na\rme,email\nAnna,a@x.example\n")
        assert (refused.value.code, refused.value.field) == ("UNREADABLE_FILE", "header")

    async def test_text_that_is_not_utf8_is_refused_with_its_line(self) -> None:
        """Latin-1 on line 2: WRONG_ENCODING, line 2."""
        with pytest.raises(UnreadableFile) as refused:
            await _lines("name\nMüller\n".encode("latin-1"), size=100)
        assert (refused.value.code, refused.value.details["line"]) == ("WRONG_ENCODING", 2)
