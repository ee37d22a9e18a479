"""What the tests of the plain ASGI routes (rest/profile_read.py, rest/search_read.py) stand them on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send


class Downstream:
    """Stands for FastAPI behind a plain route: records what it was handed and answers 418."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@asynccontextmanager
async def plain_client(route: ASGIApp, app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the plain route alone, with the real services of ``app`` behind it."""

    async def with_app(scope: Scope, receive: Receive, send: Send) -> None:
        await route({**scope, "app": app}, receive, send)

    transport = httpx.ASGITransport(app=with_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://customer360.test") as http:
        yield http
