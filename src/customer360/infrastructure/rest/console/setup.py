"""Mounting the console on the application: its parts, its routes and its static files."""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import APIRouter, FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from customer360.domain.errors import NotFound
from customer360.infrastructure.rest.console import (
    customer,
    imports,
    merging,
    privacy,
    review,
    scans,
    search,
    signin,
)
from customer360.infrastructure.rest.console.dependencies import Console
from customer360.infrastructure.rest.console.rendering import ConsoleRoute, build_templates
from customer360.infrastructure.rest.console.security import ConsoleSecurity, is_loopback
from customer360.settings import Settings

STATIC = Path(__file__).parent / "static"


class PageNotFound(NotFound):
    code = "NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("There is no such page in the console.")


_fallback = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)


@_fallback.get("/{rest:path}")
async def unknown_page(rest: str) -> Response:
    raise PageNotFound()


def install_console(app: FastAPI, settings: Settings) -> None:
    secret = settings.console_secret_key
    key = secret.get_secret_value().encode() if secret is not None else secrets.token_bytes(32)
    developer_sign_in = settings.auth_mode == "gateway" and is_loopback(settings.http_host)
    app.state.console = Console(ConsoleSecurity(key, developer_sign_in=developer_sign_in), build_templates())
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    # scans before review: /duplicates/clusters and /duplicates/scans must not be read as a pair id.
    routers = [
        search.router,
        customer.router,
        privacy.router,
        merging.router,
        scans.router,
        review.router,
        imports.router,
    ]
    if developer_sign_in:
        routers.append(signin.router)
    for router in [*routers, _fallback]:
        app.include_router(router)
