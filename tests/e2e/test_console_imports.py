"""The console's imports page in the browser: upload with options, live progress, counts, the report."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, FilePayload, Page, expect

from tests.support.browser import serious_violations
from tests.support.console_data import Seeded, api_get, import_file
from tests.support.console_pages import signed_in
from tests.support.service import ServiceProcess


@pytest.fixture
async def admin(browser: Browser, console_service: ServiceProcess, seeded: Seeded) -> AsyncIterator[Page]:
    page = await signed_in(browser, console_service.url, seeded.tenant, profile="admin", user="migration-1")
    yield page
    await page.context.close()


async def _upload(page: Page, content: bytes, *, dry_run: bool = False) -> None:
    await page.click("nav[aria-label=Main] >> text=Imports")
    upload: FilePayload = {"name": "customers.csv", "mimeType": "text/csv", "buffer": content}
    await page.set_input_files("#import-file", files=[upload])
    await page.check("#policy-skip")
    if dry_run:
        await page.check("#import-dry-run")
    await page.click("button:has-text('Import')")


class TestImportJourney:
    async def test_an_uploaded_file_is_imported_with_its_progress_counts_and_report(
        self, admin: Page, seeded: Seeded, console_service: ServiceProcess, tmp_path: Path
    ) -> None:
        """upload (policy skip) → the job page follows it to completed → counts → report row 3 → report CSV."""
        tag = secrets.token_hex(3)
        await _upload(admin, import_file(tag))
        progress = admin.locator("#import-progress")
        await expect(progress).to_contain_text("completed", timeout=120_000)
        await expect(progress.locator("dl.facts")).to_contain_text("Created2")
        await expect(progress.locator("table")).to_contain_text("emails[0].address")
        async with admin.expect_download() as download:
            await admin.click("text=Download the report (CSV)")
        report = (await (await download.value).path()).read_text().splitlines()
        found = api_get(console_service.url, seeded.tenant, f"/customers/search?externalRef=IMP-{tag}:2")["items"]
        job_id = admin.url.rsplit("/", 1)[-1]
        job = api_get(console_service.url, seeded.tenant, f"/imports/{job_id}")
        assert (report[0], report[1].split(",")[:3]) == (
            "row,field,outcome,reason,customerId",
            ["3", "emails[0].address", "INVALID"],
        )
        assert (len(report), [hit["customer"]["name"] for hit in found]) == (2, ["Brückner Metallbau KG"])
        assert (job["onDuplicate"], job["counts"]["created"], job["counts"]["invalid"]) == ("skip", 2, 1)

    async def test_a_dry_run_writes_no_profile(
        self, admin: Page, seeded: Seeded, console_service: ServiceProcess
    ) -> None:
        """The dry run's counts say what would happen; the API finds none of its references."""
        tag = secrets.token_hex(3)
        await _upload(admin, import_file(tag), dry_run=True)
        await expect(admin.locator("#import-progress")).to_contain_text("completed", timeout=120_000)
        await expect(admin.locator("#import-progress")).to_contain_text("dry run")
        found = api_get(console_service.url, seeded.tenant, f"/customers/search?externalRef=IMP-{tag}:1")["items"]
        assert found == []

    async def test_the_imports_pages_have_no_serious_or_critical_axe_violations(
        self, admin: Page, seeded: Seeded
    ) -> None:
        """axe-core on the list with its upload form and on a finished job's page."""
        await admin.goto("/console/imports")
        listed = await serious_violations(admin)
        await _upload(admin, import_file(secrets.token_hex(3)))
        await expect(admin.locator("#import-progress")).to_contain_text("completed", timeout=120_000)
        assert (listed, await serious_violations(admin)) == ([], [])


class TestPermission:
    async def test_a_steward_without_the_import_permission_sees_no_imports_and_is_refused(
        self, browser: Browser, console_service: ServiceProcess, seeded: Seeded
    ) -> None:
        """No Imports link in the menu; the page itself answers 403."""
        page = await signed_in(browser, console_service.url, seeded.tenant)
        try:
            links = await page.locator("nav[aria-label=Main] a").all_inner_texts()
            response = await page.goto("/console/imports")
            assert ("Imports" in links, response and response.status) == (False, 403)
        finally:
            await page.context.close()
