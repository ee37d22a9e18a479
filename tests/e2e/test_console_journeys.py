"""The data steward's console in a real browser (Debian's chromium), against the service as a process.

Every change made through the pages is checked through the API afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from tests.support.console_data import Seeded, api_get, api_patch
from tests.support.console_pages import signed_in
from tests.support.service import ServiceProcess


@pytest.fixture
async def steward(browser: Browser, console_service: ServiceProcess, seeded: Seeded) -> AsyncIterator[Page]:
    page = await signed_in(browser, console_service.url, seeded.tenant)
    yield page
    await page.context.close()


def pair_of(a: str, b: str) -> str:
    return "~".join(sorted((a, b)))


class TestStewardJourney:
    async def test_search_open_review_merge_with_a_choice_unmerge_and_dismiss(
        self, steward: Page, seeded: Seeded, console_service: ServiceProcess
    ) -> None:
        """search → customer → queue → side by side → merge (segment from the source) → unmerge → dismiss."""
        page, base, tenant = steward, console_service.url, seeded.tenant
        await page.fill("#q", "mueller maschinenbau")
        results = page.locator("#results table")
        await expect(results).to_contain_text("Müller Maschinenbau")
        await page.locator("#results a", has_text="Müller Maschinenbau").first.click()
        await expect(page.locator("h1")).to_contain_text("Müller Maschinenbau")
        await expect(page.locator("#contacts")).to_contain_text("Anna Schmidt")
        await expect(page.locator("#consent")).to_contain_text("revoked")

        await page.click("nav[aria-label=Main] >> text=Review queue")
        row = page.locator("tr", has_text="Mueller Maschinenbau")
        await expect(row).to_contain_text("open")
        await row.get_by_role("link", name="Review").click()
        await expect(page.locator("#h-compare")).to_be_visible()
        await expect(page.locator("table.explain")).to_contain_text("Tax id")
        await expect(page.locator("table.explain")).to_contain_text("agree exactly")

        await page.click("text=Merge…")
        await page.check("input[name='choice.segment'][value='SOURCE']")
        await expect(page.locator("table.merge tr", has_text="Segment").locator("td.golden")).to_have_text("MID")
        await page.get_by_role("button", name="Merge “").click()
        await expect(page.locator("#messages")).to_contain_text("Merged")

        target = api_get(base, tenant, f"/customers/{seeded.original}")
        source = api_get(base, tenant, f"/customers/{seeded.look_alike}")
        assert (target["segment"], source["status"], source["mergedInto"]) == ("MID", "MERGED", seeded.original)

        await page.get_by_role("button", name=f"Unmerge {seeded.look_alike}").click()
        await expect(page.locator("h1")).to_have_text("Unmerged")
        restored = api_get(base, tenant, f"/customers/{seeded.look_alike}")
        assert (restored["status"], restored["mergedInto"]) == ("ACTIVE", None)

        await page.goto(f"/console/duplicates/{pair_of(seeded.other, self._klara(base, tenant))}")
        await page.fill("#note", "Different people: checked the birth register")
        await page.click("button:has-text('Not a duplicate')")
        await expect(page.locator("#messages")).to_contain_text("not a duplicate")
        decided = api_get(base, tenant, f"/duplicates?status=DISMISSED&customerId={seeded.other}")["items"]
        assert [item["decision"]["status"] for item in decided] == ["NOT_DUPLICATE"]

    @staticmethod
    def _klara(base: str, tenant: str) -> str:
        hits = api_get(base, tenant, "/customers/search?name=klara%20hofmann")["items"]
        return str(hits[0]["customer"]["id"])


class TestStaleVersion:
    async def test_a_merge_of_a_profile_changed_since_the_page_was_opened_is_refused(
        self, steward: Page, seeded: Seeded, console_service: ServiceProcess
    ) -> None:
        """The page says it is stale (412) and nothing is merged."""
        page, base, tenant = steward, console_service.url, seeded.tenant
        await page.goto(f"/console/merge?target={seeded.original}&source={seeded.look_alike}")
        api_patch(base, tenant, seeded.original, {"industry": "Heavy machinery"})
        response_status = []
        page.on("response", lambda r: response_status.append(r.status) if r.request.method == "POST" else None)
        await page.get_by_role("button", name="Merge “").click()
        await expect(page.locator("[role=alert]")).to_contain_text("Nothing was saved")
        await expect(page.locator("[role=alert]")).to_contain_text("version")
        assert 412 in response_status
        assert api_get(base, tenant, f"/customers/{seeded.look_alike}")["status"] == "ACTIVE"


class TestWithoutMergePermission:
    @pytest.fixture
    async def reviewer(self, browser: Browser, console_service: ServiceProcess, seeded: Seeded) -> AsyncIterator[Page]:
        page = await signed_in(browser, console_service.url, seeded.tenant, profile="reviewer", user="reviewer-1")
        yield page
        await page.context.close()

    async def test_no_merge_button_is_shown(self, reviewer: Page, seeded: Seeded) -> None:
        """The pair offers only the dismissal; the merge form offers no merge button."""
        await reviewer.goto(f"/console/duplicates/{pair_of(seeded.original, seeded.look_alike)}")
        await expect(reviewer.locator("button:has-text('Not a duplicate')")).to_be_visible()
        await expect(reviewer.locator("text=Merge…")).to_have_count(0)
        await reviewer.goto(f"/console/merge?target={seeded.original}&source={seeded.look_alike}")
        await expect(reviewer.locator("table.merge")).to_be_visible()
        await expect(reviewer.get_by_role("button", name="Merge “")).to_have_count(0)

    async def test_the_server_refuses_a_merge_posted_anyway(
        self, reviewer: Page, seeded: Seeded, console_service: ServiceProcess
    ) -> None:
        """A hand-made POST with the reviewer's own valid form token gets 403 and merges nothing."""
        await reviewer.goto(f"/console/merge?target={seeded.original}&source={seeded.look_alike}")
        form: dict[str, str | float | bool] = {
            "csrf": await reviewer.locator("input[name=csrf]").first.input_value(),
            "target": seeded.original,
            "source": seeded.look_alike,
            "target_version": await reviewer.locator("input[name=target_version]").input_value(),
            "source_version": await reviewer.locator("input[name=source_version]").input_value(),
        }
        response = await reviewer.request.post("/console/merge", form=form)
        assert (response.status, "crm.customer:merge" in await response.text()) == (403, True)
        assert api_get(console_service.url, seeded.tenant, f"/customers/{seeded.look_alike}")["status"] == "ACTIVE"
