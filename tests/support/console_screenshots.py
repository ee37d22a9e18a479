"""Takes the screenshots of docs/console.md: a service on a fresh database with synthetic customers.

``make console-screenshots`` (or ``python -m tests.support.console_screenshots DIR``).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from playwright.async_api import FilePayload, Page

from customer360.infrastructure.persistence.database import derive_urls
from tests.support.browser import chromium
from tests.support.console_data import Seeded, import_file, seed
from tests.support.console_pages import signed_in
from tests.support.database import FreshDatabase, embedded_server
from tests.support.service import ServiceProcess

TENANT = "tenant-001"


async def _shoot(page: Page, path: str, target: Path) -> None:
    await page.goto(path)
    await page.wait_for_load_state("networkidle")
    await page.screenshot(path=str(target), full_page=True)


async def take(base_url: str, seeded: Seeded, directory: Path) -> None:
    pair = "~".join(sorted((seeded.original, seeded.look_alike)))
    async with chromium() as browser:
        await _shoot(
            await browser.new_page(viewport={"width": 1280, "height": 760}),
            f"{base_url}/console/sign-in",
            directory / "sign-in.png",
        )
        page = await signed_in(browser, base_url, TENANT)
        await page.goto("/console/duplicates/scans")
        await page.click("button:has-text('Start a scan')")
        await page.wait_for_selector("#scan-progress:has-text('completed')", timeout=120_000)
        await page.screenshot(path=str(directory / "scan.png"), full_page=True)
        await _shoot(page, "/console/customers?q=maschinenbau&by=name", directory / "search.png")
        await _shoot(page, f"/console/customers/{seeded.original}", directory / "customer.png")
        await _shoot(page, "/console/duplicates", directory / "queue.png")
        await _shoot(page, f"/console/duplicates/{pair}", directory / "pair.png")
        await page.goto(f"/console/merge?target={seeded.original}&source={seeded.look_alike}")
        await page.check("input[name='choice.segment'][value='SOURCE']")
        await page.wait_for_load_state("networkidle")
        await page.screenshot(path=str(directory / "merge.png"), full_page=True)
        await _shoot(page, "/console/duplicates/clusters", directory / "clusters.png")
        admin = await signed_in(browser, base_url, TENANT, profile="admin", user="migration-1")
        await admin.goto("/console/imports")
        upload: FilePayload = {"name": "customers.csv", "mimeType": "text/csv", "buffer": import_file("DEMO")}
        await admin.set_input_files("#import-file", files=[upload])
        await admin.click("button:has-text('Import')")
        await admin.wait_for_selector("#import-progress:has-text('completed')", timeout=120_000)
        await admin.screenshot(path=str(directory / "import.png"), full_page=True)
        officer = await signed_in(browser, base_url, TENANT, profile="privacy", user="privacy-officer")
        await _shoot(officer, f"/console/customers/{seeded.original}/privacy", directory / "privacy.png")


async def main(directory: Path) -> None:
    with embedded_server() as server, tempfile.TemporaryDirectory() as scratch:
        database = FreshDatabase(server)
        admin = await database.create()
        service = ServiceProcess(
            derive_urls(admin).admin.render_as_string(hide_password=False),
            Path(scratch) / "service.log",
            DUPLICATE_CHECK_ON_CREATE="false",
            DUPLICATE_SCAN_RUNNER="inline",
        )
        service.start()
        try:
            await take(service.url, seed(service.url, TENANT), directory)
        finally:
            service.stop()
            await database.drop()


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/console")
    target.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(target))
