"""Pages: the Jinja2 environment, the response headers every page carries, and errors shown as pages.

Console routes use ``ConsoleRoute``: the errors the API answers as JSON (through the one status table in
``rest/errors.py``) are answered here as a page with the same status, in words for a data steward.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

from customer360.domain.errors import DomainError, VersionMismatch
from customer360.infrastructure.rest.auth import Forbidden, TenantRequired, Unauthenticated
from customer360.infrastructure.rest.console.security import COOKIE_PATH, NONCE_COOKIE, CsrfRejected, Viewer
from customer360.infrastructure.rest.errors import log_unexpected, status_of

TEMPLATES = Path(__file__).parent / "templates"
_log = logging.getLogger("customer360.console")

# Pages hold personal data: never cached, never framed, scripts and styles only from the service itself.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def when(value: Any) -> str:
    """A timestamp as stewards read it: ``2025-03-04 14:05 UTC`` (documents hold ISO strings or datetimes)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def percent(value: float | None) -> str:
    if value is None:
        return "—"
    shown = f"{value * 100:.1f}"
    # 0.9996 must not read as a certain 100.0 %
    if shown == "100.0" and value < 1:
        shown = "99.9"
    return f"{shown} %"


def brief(value: Any) -> str:
    """A value of the audit trail or a profile field in one short line ("—" when there is none)."""
    return _brief(value) or "—"


def _brief(value: Any) -> str:
    if value is None or value in ("", [], {}):
        return ""
    if isinstance(value, list):
        return ", ".join(_brief(item) for item in value)
    if isinstance(value, dict):
        for key in ("address", "original", "e164", "value", "name", "id"):
            if isinstance(value.get(key), str):
                return str(value[key])
        if "sourceSystem" in value:
            return f"{value['sourceSystem']}:{value.get('externalId', '')}"
        if "lines" in value:
            return ", ".join(
                [*value["lines"], value.get("postalCode") or "", value.get("city", ""), value.get("country", "")]
            )
        return "; ".join(f"{k} {_brief(v)}" for k, v in value.items() if _brief(v))
    return str(value)


def build_templates() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = when
    environment.filters["percent"] = percent
    environment.filters["brief"] = brief
    return environment


def render_page(
    request: Request, viewer: Viewer | None, template: str, context: Mapping[str, Any], status_code: int = 200
) -> HTMLResponse:
    console = request.app.state.console
    body = console.templates.get_template(template).render(
        request=request,
        viewer=viewer,
        csrf=viewer.csrf if viewer else "",
        developer_sign_in=console.security.developer_sign_in,
        **context,
    )
    response = HTMLResponse(body, status_code=status_code, headers=PAGE_HEADERS)
    if viewer is not None and viewer.new_nonce:
        response.set_cookie(
            NONCE_COOKIE, viewer.nonce, path=COOKIE_PATH, httponly=True, samesite="strict", secure=_secure(request)
        )
    return response


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def redirect(url: str) -> RedirectResponse:
    """After a change: the browser asks for the page anew (a reload never repeats the change)."""
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def is_fragment(request: Request) -> bool:
    """htmx asks for a part of the page; a browser without JavaScript gets the whole page."""
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"


# -- errors as pages ---------------------------------------------------------------------------------------
_TITLES = {
    400: "That request was not valid",
    401: "You are not signed in",
    403: "You are not allowed to do this",
    404: "Not found",
    409: "This cannot be done now",
    412: "Someone changed this in the meantime",
    422: "This is not allowed",
    428: "The version you saw is missing",
}


def error_page(request: Request, exc: Exception) -> Response:
    viewer: Viewer | None = getattr(request.state, "console_viewer", None)
    if isinstance(exc, Unauthenticated) and request.app.state.console.security.developer_sign_in:
        return redirect("/console/sign-in")
    context: dict[str, Any] = {"code": "", "message": "", "fields": [], "details": {}}
    if isinstance(exc, DomainError):
        status = status_of(exc)
        if status is None:
            return _unexpected(request, exc)
        context.update(code=exc.code, message=exc.message, details=exc.details)
        context["fields"] = list(exc.details.get("fields", [])) if isinstance(exc, DomainError) else []
        context["stale"] = isinstance(exc, VersionMismatch)
    elif isinstance(exc, RequestValidationError):
        status = 400
        fields = [
            {"field": ".".join(str(p) for p in e.get("loc", ())[1:]) or "form", "reason": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        context.update(code="VALIDATION_ERROR", message="Some fields are not valid.", fields=fields)
    elif isinstance(exc, Forbidden):
        status = 403
        context.update(code="FORBIDDEN", message=f"This needs the permission {exc.permission}.")
    elif isinstance(exc, CsrfRejected):
        status = 403
        context.update(
            code="FORM_EXPIRED",
            message="This form is no longer valid (the page is old, or it came from another site). "
            "Nothing was changed. Open the page again and repeat the action.",
        )
    elif isinstance(exc, TenantRequired | Unauthenticated):
        status = 401
        context.update(
            code="UNAUTHENTICATED",
            message="Open the console through the ERP's gateway, which tells the service who you are.",
        )
    else:
        return _unexpected(request, exc)
    context["title"] = _TITLES.get(status, "Something went wrong")
    context["back"] = request.headers.get("hx-current-url") or request.headers.get("referer") or "/console"
    template = "fragments/error.html" if is_fragment(request) else "error.html"
    response = render_page(request, viewer, template, context, status)
    if is_fragment(request):
        # htmx swaps only 2xx answers by default; the error replaces the target all the same.
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def _unexpected(request: Request, exc: Exception) -> Response:
    error_id = log_unexpected(exc)
    viewer: Viewer | None = getattr(request.state, "console_viewer", None)
    context = {
        "title": "Something went wrong",
        "code": "INTERNAL_ERROR",
        "message": f"An unexpected error occurred. Nothing was changed. Quote error id {error_id} to support.",
        "fields": [],
        "details": {},
        "back": "/console",
    }
    return render_page(request, viewer, "error.html", context, 500)


class ConsoleRoute(APIRoute):
    """A console route: the errors of the application layer, of authentication and of forms become pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except (
                DomainError,
                RequestValidationError,
                Forbidden,
                Unauthenticated,
                TenantRequired,
                CsrfRejected,
            ) as exc:
                return error_page(request, exc)
            except Exception as exc:  # a page, not the API's JSON body; logged without its message
                return _unexpected(request, exc)

        return console_handler
