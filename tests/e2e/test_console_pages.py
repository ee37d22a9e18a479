"""The console's other pages in the browser: accessibility of every main page, the live scan, privacy."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from tests.support.browser import serious_violations
from tests.support.console_data import Seeded, api_get
from tests.support.console_pages import signed_in
from tests.support.service import ServiceProcess


@pytest.fixture
async def admin(browser: Browser, console_service: ServiceProcess, seeded: Seeded) -> AsyncIterator[Page]:
    page = await signed_in(browser, console_service.url, seeded.tenant, profile="admin", user="officer-1")
    yield page
    await page.context.close()


def main_pages(s: Seeded) -> list[str]:
    pair = "~".join(sorted((s.original, s.look_alike)))
    return [
        "/console/customers?q=maschinenbau&by=name",
        f"/console/customers/{s.original}",
        "/console/duplicates",
        f"/console/duplicates/{pair}",
        f"/console/merge?target={s.original}&source={s.look_alike}",
        "/console/duplicates/clusters",
        "/console/duplicates/scans",
        f"/console/customers/{s.original}/privacy",
    ]


class TestAccessibility:
    async def test_main_pages_have_no_serious_or_critical_axe_violations(self, admin: Page, seeded: Seeded) -> None:
        """axe-core (WCAG 2.1 A/AA and best practices) finds nothing serious or critical on any main page."""
        found = {}
        for path in main_pages(seeded):
            await admin.goto(path)
            found[path] = await serious_violations(admin)
        await admin.goto("/console/sign-in")
        found["/console/sign-in"] = await serious_violations(admin)
        assert {path: v for path, v in found.items() if v} == {}

    async def test_the_search_is_usable_with_the_keyboard_alone(self, admin: Page) -> None:
        """Tab reaches the search box, typing shows results, Tab and Enter open the first one."""
        await admin.goto("/console/customers")
        await admin.keyboard.type("nordlicht")
        await expect(admin.locator("#results table")).to_contain_text("Nordlicht Holding")
        await admin.locator("#results a").first.focus()
        await admin.keyboard.press("Enter")
        await expect(admin.locator("h1")).to_contain_text("Nordlicht Holding")


class TestScanProgress:
    async def test_a_scan_started_on_the_page_shows_its_progress_until_it_completes(self, admin: Page) -> None:
        """The progress part refreshes by itself (htmx) and ends with a link to the review queue."""
        await admin.goto("/console/duplicates/scans")
        await admin.click("button:has-text('Start a scan')")
        await expect(admin.locator("#scan-progress")).to_contain_text("completed", timeout=60_000)
        await expect(admin.get_by_role("link", name="Open the review queue")).to_be_visible()


class TestPrivacy:
    async def test_a_hold_blocks_the_erasure_and_after_its_release_the_confirmed_erasure_runs(
        self, admin: Page, seeded: Seeded, console_service: ServiceProcess
    ) -> None:
        """Hold → refused erasure on record as BLOCKED → release → erasure typed-confirmed → tombstone."""
        await admin.goto(f"/console/customers/{seeded.stranger}/privacy")
        await admin.fill("#hold-reason", "LIT-2025-014")
        await admin.click("button:has-text('Place hold')")
        await expect(admin.locator("#messages")).to_contain_text("Legal hold placed")
        await self._erase(admin, seeded.stranger)
        await expect(admin.locator("[role=alert]")).to_contain_text("Legal hold")
        await admin.goto(f"/console/customers/{seeded.stranger}/privacy")
        await expect(admin.locator("section.danger-zone table")).to_contain_text("blocked")
        await admin.click("button:has-text('Release')")
        await self._erase(admin, seeded.stranger)
        await expect(admin.locator("h1")).to_have_text("Erased")
        profile = api_get(console_service.url, seeded.tenant, f"/customers/{seeded.stranger}")
        assert (profile["status"], profile["name"]) == ("ERASED", "[erased]")

    async def test_an_erasure_without_the_typed_confirmation_erases_nothing(
        self, admin: Page, seeded: Seeded, console_service: ServiceProcess
    ) -> None:
        """A wrong id in the confirmation box is refused with the reason; the profile is untouched."""
        await admin.goto(f"/console/customers/{seeded.stranger}/privacy")
        await admin.fill("#erase-reason", "Art. 17 request")
        await admin.fill("#erase-requester", "DSR-1")
        await admin.fill("#erase-confirm", "CUST-WRONG")
        await admin.click("button:has-text('Erase this person')")
        await expect(admin.locator("[role=alert]")).to_contain_text("type the customer id")
        assert api_get(console_service.url, seeded.tenant, f"/customers/{seeded.stranger}")["status"] == "ACTIVE"

    @staticmethod
    async def _erase(page: Page, customer_id: str) -> None:
        await page.goto(f"/console/customers/{customer_id}/privacy")
        await page.fill("#erase-reason", "Art. 17 request")
        await page.fill("#erase-requester", "DSR-4711")
        await page.fill("#erase-confirm", customer_id)
        await page.click("button:has-text('Erase this person')")


class TestLogs:
    def test_the_service_log_holds_no_personal_data_shown_or_typed_in_the_console(
        self, console_service: ServiceProcess
    ) -> None:
        """After every console journey of the session: no name, e-mail or phone of the seeded customers."""
        log = console_service.log_path.read_text()
        seen = [
            value
            for value in ("Maschinenbau", "Hoffmann", "Hofmann", "mueller-maschinenbau", "1234567")
            if value in log
        ]
        assert ("console" in log, seen) == (True, [])
