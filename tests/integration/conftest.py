"""Fixtures of the integration tests that several modules share."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from customer360.bootstrap import Services
from tests.support.duplicates import checking_app


@pytest.fixture(scope="module")
def app_that_checks(services: Services) -> FastAPI:
    return checking_app(services)


@pytest.fixture
async def checking(app_that_checks: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the service with the check on create switched on."""
    transport = httpx.ASGITransport(app=app_that_checks)
    async with httpx.AsyncClient(transport=transport, base_url="http://customer360.test") as http:
        yield http
