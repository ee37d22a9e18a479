"""What every console route gets: the console's parts, the services, and the person at the console."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from jinja2 import Environment

from customer360.application.executor import Handler
from customer360.infrastructure.rest.console.security import ConsoleSecurity, Viewer
from customer360.infrastructure.rest.dependencies import ApiServices, services
from customer360.infrastructure.rest.dispatch import context_of

C = TypeVar("C")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Console:
    security: ConsoleSecurity
    templates: Environment


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


async def run_as(request: Request, seen: Viewer, handler: Handler[C, R], command: C) -> R:
    """Execute a use case in one transaction as the person at the console."""
    return await services(request).executor.execute(context_of(request, seen.principal), handler, command)


def services_of(request: Request) -> ApiServices:
    """The API's services (the same dependency the routers use), for helpers that are handed the request."""
    return services(request)


async def viewer(request: Request) -> Viewer:
    """The signed-in person (401 otherwise), with this page's form token."""
    console = console_of(request)
    principal, developer = await console.security.principal(request, services_of(request).authenticator)
    request.state.tenant_id = principal.tenant_id
    nonce, new = console.security.nonce(request)
    seen = Viewer(principal, console.security.csrf_token(nonce, principal), nonce, new, developer)
    request.state.console_viewer = seen
    return seen


async def actor(request: Request) -> Viewer:
    """The signed-in person posting a form of theirs (CSRF checked): every change goes through this."""
    seen = await viewer(request)
    await console_of(request).security.check_csrf(request, seen.principal)
    return seen


Seen = Annotated[Viewer, Depends(viewer)]
Acting = Annotated[Viewer, Depends(actor)]
