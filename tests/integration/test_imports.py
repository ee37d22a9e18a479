"""Bulk import over HTTP: CSV and NDJSON (gzip too), the report, upserts, duplicates, dry runs, bad files."""

from __future__ import annotations

import csv
import gzip
import io
from typing import Any

import httpx
import orjson
from sqlalchemy import text

from customer360.bootstrap import Services
from customer360.infrastructure.persistence.database import tenant_transaction
from tests.conftest import ALL_PERMISSIONS

IMPORTS = "/api/v1/crm/imports"
CUSTOMERS = "/api/v1/crm/customers"
HEADER = "name,email,phone,street,postalCode,city,country,externalRef\n"
CSV = (
    HEADER + "Müller Maschinenbau GmbH,info@mueller.example,030 1234567,Hauptstraße 1,10115,Berlin,DE,ERP:1001\n"
    "Schmidt Logistik AG,kontakt@schmidt.example,,Ring 5,20095,Hamburg,DE,ERP:1002\n"
)


async def posted(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    content: bytes,
    media: str = "text/csv",
    extra: dict[str, str] | None = None,
    **params: Any,
) -> httpx.Response:
    return await client.post(
        IMPORTS, content=content, headers={**headers, "Content-Type": media, **(extra or {})}, params=params
    )


async def imported(
    client: httpx.AsyncClient, headers: dict[str, str], services: Services, content: bytes, **kwargs: Any
) -> dict[str, Any]:
    response = await posted(client, headers, content, **kwargs)
    assert response.status_code == 202, response.text
    await services.imports.wait()
    job = await client.get(f"{IMPORTS}/{response.json()['id']}", headers=headers)
    return dict(job.json())


async def report(client: httpx.AsyncClient, headers: dict[str, str], job: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.get(f"{IMPORTS}/{job['id']}/report", params={"limit": 1000}, headers=headers)
    return list(response.json()["items"])


async def by_ref(client: httpx.AsyncClient, headers: dict[str, str], ref: str) -> list[dict[str, Any]]:
    found = await client.get(f"{CUSTOMERS}/search", params={"externalRef": ref}, headers=headers)
    return [hit["customer"] for hit in found.json()["items"]]


async def scalar(services: Services, tenant: str, sql: str) -> Any:
    async with tenant_transaction(services.engine, tenant) as connection:
        return (await connection.execute(text(sql), {"tenant": tenant})).scalar_one()


def rows_csv(count: int, bad: dict[int, dict[str, str]] | None = None) -> bytes:
    """``count`` distinct organisations (row i has reference ERP:i); ``bad`` replaces cells of some rows."""
    out = io.StringIO()
    writer = csv.DictWriter(out, ["name", "email", "taxId", "externalRef"], lineterminator="\n")
    writer.writeheader()
    for i in range(1, count + 1):
        row = {"name": f"Firma {i:05d} Handel GmbH", "email": f"info{i}@firma{i}.example"}
        writer.writerow({**row, "externalRef": f"ERP:{i}", **(bad or {}).get(i, {})})
    return out.getvalue().encode()


class TestCsvImport:
    async def test_a_csv_file_creates_one_profile_per_row(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """Two rows, two profiles, found again by their external references."""
        job = await imported(client, headers, services, CSV.encode())
        [found] = await by_ref(client, headers, "ERP:1002")
        assert (job["status"], job["counts"]["created"], job["rows"]) == ("COMPLETED", 2, 2)
        assert (found["name"], found["phones"], found["addresses"][0]["city"]) == ("Schmidt Logistik AG", [], "Hamburg")

    async def test_every_profile_of_one_insert_is_in_the_word_index(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """The rows of a chunk are inserted by one statement; each is found by its name and city words."""
        content = rows_csv(3).replace(b"Handel GmbH", b"Wortindex Handel GmbH")
        job = await imported(client, headers, services, content)
        found = await client.get(f"{CUSTOMERS}/search", params={"q": "Wortindex", "limit": 10}, headers=headers)
        names = sorted(hit["customer"]["name"] for hit in found.json()["items"])
        assert job["counts"]["created"] == 3
        assert names == [f"Firma {i:05d} Wortindex Handel GmbH" for i in (1, 2, 3)]

    async def test_the_columns_are_inferred_from_the_header_and_unknown_ones_listed(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """Common spellings are recognised (E-Mail, Company, ZIP); a column nobody knows is ignored and named."""
        content = "Company;E-Mail;ZIP;City;Country;Street;Favourite colour\n"
        content += "Acme AG;a@acme.example;10115;Berlin;DE;Weg 1;blue\n"
        job = await imported(client, headers, services, content.encode())
        assert job["mapping"] == {
            "Company": "name",
            "E-Mail": "email",
            "ZIP": "postalCode",
            "City": "city",
            "Country": "country",
            "Street": "street",
        }
        assert (job["ignoredColumns"], job["counts"]["created"]) == (["Favourite colour"], 1)

    async def test_a_given_mapping_names_the_columns(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """mapping={"Firma": "name", "Kennung": "externalRef"} reads columns the inference would not know."""
        content = "Firma,Kennung\nBeta KG,SAP:77\n"
        mapping = orjson.dumps({"Firma": "name", "Kennung": "externalRef"}).decode()
        job = await imported(client, headers, services, content.encode(), mapping=mapping)
        [found] = await by_ref(client, headers, "SAP:77")
        assert (job["counts"]["created"], found["name"]) == (1, "Beta KG")

    async def test_a_quoted_value_may_span_lines_and_hold_the_delimiter(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """RFC 4180 quoting: a name with a comma, an address line break inside quotes."""
        content = 'name,street,city,country,externalRef\n"Gamma, Delta & Co. KG","Hof 3\nHinterhaus",Bonn,DE,X:1\n'
        job = await imported(client, headers, services, content.encode())
        [found] = await by_ref(client, headers, "X:1")
        assert (job["counts"]["created"], found["name"]) == (1, "Gamma, Delta & Co. KG")


class TestReport:
    async def test_a_file_with_one_percent_bad_rows_imports_the_rest_and_reports_every_bad_one(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """300 rows, 3 bad (an e-mail, a tax id without its country, no name): 297 created, and the
        report names exactly those rows and fields."""
        bad = {
            17: {"email": "not-an-email"},
            150: {"taxId": "123456789"},
            299: {"name": ""},
        }
        job = await imported(client, headers, services, rows_csv(300, bad))
        lines = await report(client, headers, job)
        assert (job["counts"]["created"], job["counts"]["invalid"]) == (297, 3)
        assert [(line["row"], line["field"], line["outcome"]) for line in lines] == [
            (17, "emails[0].address", "INVALID"),
            (150, "taxIds[0].country", "INVALID"),
            (299, "name", "INVALID"),
        ]
        assert await scalar(services, tenant, "SELECT count(*) FROM customer_profile WHERE tenant_id = :tenant") == 297

    async def test_the_report_never_repeats_the_rejected_value(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """The reason states the rule; the bad e-mail itself appears nowhere in the report."""
        job = await imported(client, headers, services, rows_csv(3, {2: {"email": "secret-person@@x"}}))
        csv_report = await client.get(f"{IMPORTS}/{job['id']}/report.csv", headers=headers)
        assert csv_report.text.splitlines()[0] == "row,field,outcome,reason,customerId"
        assert csv_report.text.splitlines()[1].startswith("2,emails[0].address,INVALID,")
        assert "secret-person" not in csv_report.text

    async def test_a_malformed_row_never_stops_the_import(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """Too many fields, a NUL character, an unknown kind: reported; the rows around them imported."""
        content = (
            "name,kind,externalRef\nErste GmbH,,A:1\nZweite,ORGANIZATION,A:2,extra\nDri\x00tte,,A:3\n"
            "Vierte,ALIEN,A:4\nFünfte AG,,A:5\n"
        )
        job = await imported(client, headers, services, content.encode())
        lines = await report(client, headers, job)
        assert (job["counts"]["created"], [(line["row"], line["field"]) for line in lines]) == (
            2,
            [(2, "row"), (3, "name"), (4, "kind")],
        )


class TestFormats:
    async def test_ndjson_lines_are_create_bodies_and_gzip_is_accepted(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """A gzipped NDJSON file (Content-Encoding: gzip) of POST /customers bodies, contacts included."""
        lines = [
            {"name": "Nord GmbH", "externalRefs": [{"sourceSystem": "CRM", "externalId": "n1"}]},
            {
                "kind": "PERSON",
                "givenName": "Anna",
                "familyName": "Schmidt",
                "externalRefs": [{"sourceSystem": "CRM", "externalId": "p1"}],
            },
            {"name": "Süd AG", "contacts": [{"name": "Eva Weber", "email": "eva@sued.example", "role": "BILLING"}]},
        ]
        content = gzip.compress(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
        job = await imported(
            client, headers, services, content, media="application/x-ndjson", extra={"Content-Encoding": "gzip"}
        )
        [person] = await by_ref(client, headers, "CRM:p1")
        assert (job["format"], job["counts"]["created"], person["name"]) == ("NDJSON", 3, "Anna Schmidt")

    async def test_a_line_that_is_not_json_is_reported(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """NDJSON rows are lines: line 2 is not JSON, line 3 not an object; line 1 and 4 are imported."""
        content = b'{"name": "Eins"}\n{"name": \n[1, 2]\n{"name": "Vier"}\n'
        job = await imported(client, headers, services, content, media="application/x-ndjson")
        lines = await report(client, headers, job)
        assert (job["counts"]["created"], [line["row"] for line in lines]) == (2, [2, 3])


class TestUpserts:
    async def test_a_row_with_a_known_external_reference_updates_that_profile(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """Importing the file again with a changed city updates, creates nothing; an unchanged row is counted."""
        await imported(client, headers, services, CSV.encode())
        changed = CSV.replace("Ring 5,20095,Hamburg", "Ring 5,20095,Bremen")
        job = await imported(client, headers, services, changed.encode())
        [found] = await by_ref(client, headers, "ERP:1002")
        counts = job["counts"]
        assert (counts["created"], counts["updated"], counts["unchanged"]) == (0, 1, 1)
        assert (found["addresses"][0]["city"], found["version"]) == ("Bremen", 2)

    async def test_a_row_naming_a_customer_id_updates_it_as_a_merge_patch(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """customerId + segment changes only the segment; the profile keeps its other values."""
        created = await client.post(CUSTOMERS, json={"name": "Omega GmbH", "segment": "SMB"}, headers=headers)
        customer_id = created.json()["id"]
        job = await imported(client, headers, services, f"customerId,segment\n{customer_id},ENTERPRISE\n".encode())
        document = (await client.get(f"{CUSTOMERS}/{customer_id}", headers=headers)).json()
        assert (job["counts"]["updated"], document["segment"], document["name"]) == (1, "ENTERPRISE", "Omega GmbH")

    async def test_the_same_reference_twice_in_one_file_creates_once_then_updates(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """Rows 1 and 3 carry ERP:9: one profile, the later row's values win."""
        content = "name,city,country,street,externalRef\nAlpha GmbH,Köln,DE,Weg 1,ERP:9\nBeta AG,Bonn,DE,Weg 2,ERP:8\n"
        content += "Alpha GmbH,Essen,DE,Weg 1,ERP:9\n"
        job = await imported(client, headers, services, content.encode())
        found = await by_ref(client, headers, "ERP:9")
        assert (job["counts"]["created"], job["counts"]["updated"]) == (2, 1)
        assert [f["addresses"][0]["city"] for f in found] == ["Essen"]


class TestEventsAndAudit:
    async def test_every_created_profile_has_its_audit_row_and_its_event_in_commit_order(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """One PROFILE_CREATED audit row and one CustomerProfileCreatedEvent per row, the events in the
        change feed in file order (positions follow commit order)."""
        job = await imported(client, headers, services, rows_csv(5))
        audit = await scalar(
            services, tenant, "SELECT count(*) FROM audit_log WHERE tenant_id = :tenant AND action = 'PROFILE_CREATED'"
        )
        feed = (await client.get("/api/v1/crm/events", params={"after": 0}, headers=headers)).json()["items"]
        names = [event["payload"]["name"] for event in feed if event["eventType"] == "CustomerProfileCreatedEvent"]
        assert (job["counts"]["created"], audit) == (5, 5)
        assert names == [f"Firma {i:05d} Handel GmbH" for i in range(1, 6)]


class TestDuplicates:
    async def test_a_likely_duplicate_is_created_and_its_pair_queued_for_review(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """The default policy: the row is imported and the pair is in the review queue, found by the import."""
        original = await client.post(
            CUSTOMERS,
            json={"name": "Hansen Logistik GmbH", "emails": [{"address": "info@hansen.example"}]},
            headers=headers,
        )
        job = await imported(
            client, headers, services, b"name,email,externalRef\nHansen Logistik,info@hansen.example,K:1\n"
        )
        queue = (await client.get("/api/v1/crm/duplicates", headers=headers)).json()["items"]
        [new] = await by_ref(client, headers, "K:1")
        assert (job["counts"]["created"], job["counts"]["pairsQueued"]) == (1, 1)
        assert [({q["left"]["id"], q["right"]["id"]}, q["scanId"]) for q in queue] == [
            ({original.json()["id"], new["id"]}, job["id"])
        ]

    async def test_with_skip_a_likely_duplicate_is_left_out_and_reported_with_the_existing_profile(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """onDuplicate=skip: no second profile; the report names the existing one."""
        original = await client.post(
            CUSTOMERS,
            json={"name": "Hansen Logistik GmbH", "emails": [{"address": "info@hansen.example"}]},
            headers=headers,
        )
        content = (
            b"name,email,externalRef\nHansen Logistik GmbH,info@hansen.example,K:1\nAndere AG,x@andere.example,K:2\n"
        )
        job = await imported(client, headers, services, content, onDuplicate="skip")
        [line] = await report(client, headers, job)
        assert (job["counts"]["created"], job["counts"]["skipped"]) == (1, 1)
        assert (line["row"], line["outcome"], line["customerId"]) == (1, "DUPLICATE", original.json()["id"])

    async def test_duplicates_within_the_file_are_found_too(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """Two rows of one file for the same company: both created, their pair queued."""
        content = b"name,email,externalRef\nHansen Logistik GmbH,info@hansen.example,K:1\n"
        content += b"Hansen Logistik,info@hansen.example,K:2\n"
        job = await imported(client, headers, services, content)
        assert (job["counts"]["created"], job["counts"]["pairsQueued"]) == (2, 1)


class TestDryRun:
    async def test_a_dry_run_reports_what_would_happen_and_writes_nothing(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """dryRun=true: counts and report as for a real run, no profile, no event."""
        job = await imported(client, headers, services, rows_csv(4, {3: {"email": "bad"}}), dryRun="true")
        profiles = await scalar(services, tenant, "SELECT count(*) FROM customer_profile WHERE tenant_id = :tenant")
        events = await scalar(services, tenant, "SELECT count(*) FROM event_outbox WHERE tenant_id = :tenant")
        assert (job["dryRun"], job["counts"]["created"], job["counts"]["invalid"]) == (True, 3, 1)
        assert (profiles, events, [line["row"] for line in await report(client, headers, job)]) == (0, 0, [3])


class TestBadFiles:
    async def test_a_file_that_is_not_utf8_gets_one_clear_error_and_nothing_is_applied(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """Latin-1 text: 400 WRONG_ENCODING naming the line; the job is FAILED; no profile."""
        response = await posted(client, headers, "name\nErste GmbH\nMüller GmbH\n".encode("latin-1"))
        job = (await client.get(f"{IMPORTS}/{response.json()['details']['jobId']}", headers=headers)).json()
        profiles = await scalar(services, tenant, "SELECT count(*) FROM customer_profile WHERE tenant_id = :tenant")
        assert (response.status_code, response.json()["error"], response.json()["details"]["line"]) == (
            400,
            "WRONG_ENCODING",
            3,
        )
        assert (job["status"], job["error"], profiles) == ("FAILED", "WRONG_ENCODING", 0)

    async def test_a_file_without_a_name_column_is_refused(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Neither a name nor a customer column: 400 MISSING_REQUIRED_COLUMN."""
        response = await posted(client, headers, b"email,city\na@b.example,Bonn\n")
        assert (response.status_code, response.json()["error"]) == (400, "MISSING_REQUIRED_COLUMN")

    async def test_a_broken_gzip_stream_is_refused(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """gzip magic bytes, then garbage: 400 UNREADABLE_FILE."""
        response = await posted(client, headers, b"\x1f\x8b\x08\x00garbage-garbage")
        assert (response.status_code, response.json()["error"]) == (400, "UNREADABLE_FILE")

    async def test_a_content_type_that_is_neither_csv_nor_ndjson_is_refused(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """application/json is not an import format: 400 naming Content-Type."""
        response = await posted(client, headers, b"[]", media="application/json")
        assert (response.status_code, response.json()["details"]["fields"][0]["field"]) == (400, "Content-Type")

    async def test_the_import_route_is_not_held_to_the_ordinary_body_limit(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """A file larger than MAX_BODY_BYTES (1 MiB) is streamed and imported, not refused with 413."""
        notes = "n" * 300  # an ignored column makes the file big without making the test slow
        content = "name,notes\n" + "".join(f"Firma {i} GmbH,{notes}\n" for i in range(4000))
        job = await imported(client, headers, services, content.encode())
        assert (len(content) > services.settings.max_body_bytes, job["counts"]["created"]) == (True, 4000)


class TestPermissions:
    async def test_importing_needs_the_import_permission(self, client: httpx.AsyncClient, tenant: str) -> None:
        """crm.customer:write is not enough to bulk-load a tenant: 403."""
        headers = {"X-User-Id": "u", "X-Tenant-ID": tenant, "X-User-Permissions": "crm.customer:write"}
        response = await posted(client, headers, CSV.encode())
        assert response.status_code == 403

    async def test_another_tenants_job_is_not_found(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """A job id of tenant A read by tenant B: 404 IMPORT_NOT_FOUND."""
        job = await imported(client, headers, services, CSV.encode())
        other = {"X-User-Id": "u", "X-Tenant-ID": "someone-else", "X-User-Permissions": ALL_PERMISSIONS}
        response = await client.get(f"{IMPORTS}/{job['id']}", headers=other)
        assert (response.status_code, response.json()["error"]) == (404, "IMPORT_NOT_FOUND")

    async def test_the_job_list_shows_the_tenants_jobs_newest_first(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services
    ) -> None:
        """Two imports: listed newest first, paged with a cursor."""
        first = await imported(client, headers, services, CSV.encode())
        second = await imported(client, headers, services, CSV.encode())
        page = (await client.get(IMPORTS, params={"limit": 1}, headers=headers)).json()
        rest = (await client.get(IMPORTS, params={"cursor": page["nextCursor"]}, headers=headers)).json()
        assert [j["id"] for j in page["items"] + rest["items"]] == [second["id"], first["id"]]
