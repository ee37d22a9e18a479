"""End-to-end fixtures: the service running as its own process against the session's database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from customer360.infrastructure.persistence.database import DatabaseUrls
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
