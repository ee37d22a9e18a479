"""Driving the console as a person does: sign in through the developer sign-in, open pages."""

from __future__ import annotations

from playwright.async_api import Browser, Page


async def signed_in(
    browser: Browser, base_url: str, tenant: str, profile: str = "steward", user: str = "steward-1"
) -> Page:
    """A new browser context (own cookies) signed in with the developer sign-in as ``profile``."""
    context = await browser.new_context(base_url=base_url, viewport={"width": 1360, "height": 900})
    page = await context.new_page()
    await page.goto("/console/sign-in")
    await page.fill("#tenant", tenant)
    await page.fill("#user", user)
    await page.check(f"#profile-{profile}")
    await page.click("button:has-text('Sign in')")
    await page.wait_for_url("**/console/customers")
    return page
