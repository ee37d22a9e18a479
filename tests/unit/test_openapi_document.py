"""The application's routes against its own OpenAPI document, in-process (no services are opened)."""

from __future__ import annotations

import re
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from customer360.infrastructure.rest.app import ServicesScope, create_app
from customer360.infrastructure.rest.dependencies import ApiServices
from customer360.settings import Settings

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CALLER = {"X-User-Id": "u", "X-Tenant-ID": "t", "X-User-Roles": "TENANT_ADMIN"}


def _app() -> FastAPI:
    def unopened() -> AbstractAsyncContextManager[ApiServices]:
        raise AssertionError("routing and the document need no services")

    return create_app(Settings.model_validate({}), ServicesScope(CollectorRegistry(), unopened))


APP = _app()
DOCUMENT: dict[str, Any] = APP.openapi()


def _concrete(template: str) -> str:
    # A value no literal segment has: a collision with a literal sibling is then the literal path's own.
    return re.sub(r"\{[^}]+\}", "p1", template)


@pytest.mark.parametrize("path", sorted(DOCUMENT["paths"]))
async def test_a_method_the_path_does_not_offer_is_405_with_allow(path: str) -> None:
    """Every method a documented path lacks is 405 with Allow naming exactly the documented methods (not a
    parameter route beside it taking the literal word for an id)."""
    offered = sorted(method.upper() for method in DOCUMENT["paths"][path])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=APP), base_url="http://test") as client:
        answers = {
            method: (response.status_code, response.headers.get("allow"), response.json().get("error"))
            for method in METHODS
            if method not in offered
            for response in [await client.request(method, _concrete(path), headers=CALLER)]
        }
    expected = (405, ", ".join(offered), "METHOD_NOT_ALLOWED")
    assert answers == dict.fromkeys(answers, expected)
