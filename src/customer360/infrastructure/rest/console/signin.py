"""The developer sign-in (local use only): choose a tenant, a user, and a role or permissions.

Registered only when the service listens on loopback in ``gateway`` mode (see ``security.py``); in any
other setup these paths do not exist.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from customer360.infrastructure.rest.auth import TENANT_ADMIN, TenantRequired, Unauthenticated, parse_principal
from customer360.infrastructure.rest.console.dependencies import Acting, console_of
from customer360.infrastructure.rest.console.rendering import ConsoleRoute, redirect, render_page
from customer360.infrastructure.rest.console.security import COOKIE_PATH, DEV_COOKIE, NONCE_COOKIE, Viewer

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

PERMISSIONS = (
    "crm.customer:read",
    "crm.customer:write",
    "crm.customer:merge",
    "crm.customer:import",
    "crm.customer:export",
    "crm.duplicates:read",
    "crm.duplicates:write",
    "crm.consent:read",
    "crm.consent:write",
    "crm.consent:admin",
    "crm.audit:read",
    "crm.events:read",
    "crm.privacy:export",
    "crm.privacy:erase",
    "crm.privacy:hold",
)
_PRIVACY = tuple(p for p in PERMISSIONS if p.startswith("crm.privacy:"))
_BULK = ("crm.customer:import", "crm.customer:export")
# A data steward may do everything but answer privacy requests, administer or write consent, and load or
# unload the tenant in bulk (a migration's permissions).
_STEWARD = tuple(p for p in PERMISSIONS if p not in {*_PRIVACY, *_BULK, "crm.consent:write", "crm.consent:admin"})
PROFILES: dict[str, tuple[str, tuple[str, ...]]] = {
    "steward": ("Data steward", _STEWARD),
    "reviewer": (
        "Reviewer (no merge)",
        ("crm.customer:read", "crm.duplicates:read", "crm.duplicates:write", "crm.consent:read", "crm.audit:read"),
    ),
    "privacy": ("Privacy officer", ("crm.customer:read", "crm.consent:read", "crm.audit:read", *_PRIVACY)),
    "readonly": ("Read only", ("crm.customer:read", "crm.duplicates:read")),
    "admin": ("Tenant admin (everything in the tenant)", ()),
    "custom": ("Custom: the permissions ticked below", ()),
}
Profile = Literal["steward", "reviewer", "privacy", "readonly", "admin", "custom"]


def _anonymous(request: Request) -> Viewer:
    security = console_of(request).security
    nonce, new = security.nonce(request)
    return Viewer(
        principal=parse_principal("anonymous", "none", (), ()),
        csrf=security.csrf_token(nonce, None),
        nonce=nonce,
        new_nonce=new,
        developer=True,
    )


def _sign_in_form(request: Request, error: str = "", status_code: int = 200) -> Response:
    context = {"profiles": PROFILES, "permissions": PERMISSIONS, "signed_out": True, "error": error}
    return render_page(request, _anonymous(request), "sign_in.html", context, status_code)


@router.get("/sign-in")
async def sign_in_page(request: Request) -> Response:
    return _sign_in_form(request)


@router.post("/sign-in")
async def sign_in(
    request: Request,
    tenant: Annotated[str, Form(max_length=64)],
    user: Annotated[str, Form(max_length=128)],
    profile: Annotated[Profile, Form()] = "steward",
    permission: Annotated[list[str] | None, Form()] = None,
) -> Response:
    security = console_of(request).security
    await security.check_csrf(request, None)
    roles: tuple[str, ...] = (TENANT_ADMIN,) if profile == "admin" else ()
    custom = tuple(p for p in permission or () if p in PERMISSIONS)
    granted = custom if profile == "custom" else PROFILES[profile][1]
    try:
        principal = parse_principal(user.strip(), tenant.strip(), roles, granted)
    except Unauthenticated:
        return _sign_in_form(request, "User: 1-128 letters, digits or . _ @ : -", 400)
    except TenantRequired:
        return _sign_in_form(request, "Tenant: 1-64 letters, digits or . _ - (starting with a letter or digit)", 400)
    response = redirect("/console/customers")
    response.set_cookie(
        DEV_COOKIE,
        security.developer_cookie(principal),
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/sign-out")
async def sign_out(seen: Acting) -> Response:
    response = redirect("/console/sign-in" if seen.developer else "/console")
    response.delete_cookie(DEV_COOKIE, path=COOKIE_PATH)
    response.delete_cookie(NONCE_COOKIE, path=COOKIE_PATH)
    return response
