"""End-to-end fixtures: the service running as its own process against the session's database."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser

from customer360.infrastructure.persistence.database import DatabaseUrls
from tests.support.browser import chromium
from tests.support.console_data import Seeded, scan, seed
from tests.support.otlp_collector import OtlpCollector
from tests.support.service import ServiceProcess


@pytest.fixture(scope="session")
def service(database: DatabaseUrls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    log = tmp_path_factory.mktemp("service") / "service.log"
    process = ServiceProcess(database.admin.render_as_string(hide_password=False), log)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def collector() -> Iterator[OtlpCollector]:
    """An OTLP/HTTP collector in the test process, for services started with OTEL_EXPORTER_OTLP_ENDPOINT."""
    running = OtlpCollector()
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Headless chromium (Debian's package, see tests/support/browser.py) for the whole session."""
    async with chromium() as launched:
        yield launched


@pytest.fixture(scope="session")
def console_service(database: DatabaseUrls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """The service for the console's journeys: look-alike profiles may be created (the tests make duplicates
    on purpose), and scans and imports run inside the service so the page can follow them."""
    log = tmp_path_factory.mktemp("console") / "service.log"
    process = ServiceProcess(
        database.admin.render_as_string(hide_password=False),
        log,
        DUPLICATE_CHECK_ON_CREATE="false",
        DUPLICATE_SCAN_RUNNER="inline",
        IMPORT_RUNNER="inline",
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def seeded(console_service: ServiceProcess) -> Seeded:
    """A new tenant with the console's synthetic customers, scanned for duplicates."""
    tenant = f"t-{secrets.token_hex(5)}"
    data = seed(console_service.url, tenant)
    scan(console_service.url, tenant)
    return data
