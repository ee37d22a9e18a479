"""The served application's start: what it does to the process once its services are open."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from customer360.infrastructure.rest.app import ServicesScope, create_app
from customer360.infrastructure.rest.dependencies import ApiServices
from customer360.settings import Settings


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


async def test_started_with_its_services_it_freezes_what_is_loaded(unfrozen: None) -> None:
    """Everything alive once the services are open is out of the garbage collector's generations."""
    opened: Any = object()

    @asynccontextmanager
    async def services() -> AsyncIterator[ApiServices]:
        yield opened

    app = create_app(Settings.model_validate({}), ServicesScope(CollectorRegistry(), services))
    async with app.router.lifespan_context(app):
        frozen = gc.get_freeze_count()
        assert app.state.services is opened
    assert frozen > 0
