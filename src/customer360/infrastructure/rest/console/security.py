"""Who is at the console, and whether a form they post is theirs.

Identity is the API's: the gateway's trusted headers (or, in ``jwt`` mode, the bearer token a front proxy
adds) through the same authenticator. For local use there is a **developer sign-in**: a signed cookie
naming tenant, user, roles and permissions. It exists only in ``gateway`` mode on a loopback address, where
anyone who can reach the service can already send those headers with curl, so it grants nothing new;
in ``jwt`` mode or on any other address it is never consulted and its page is not served.

CSRF: every browser gets a random nonce in an HttpOnly, SameSite=Strict cookie; forms carry
HMAC(key, nonce, tenant, user), which a page of another site can neither read nor compute. A POST without
the matching token (form field ``csrf`` or header ``X-CSRF-Token``) is refused, and so is any POST the
browser itself marks as cross-site (``Sec-Fetch-Site``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from customer360.infrastructure.rest.auth import (
    Authenticator,
    Forbidden,
    Principal,
    TenantRequired,
    Unauthenticated,
    parse_principal,
)

NONCE_COOKIE = "c360_console_nonce"
DEV_COOKIE = "c360_console_dev"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
COOKIE_PATH = "/console"


class CsrfRejected(Exception):
    """A state-changing request without this browser's token: HTTP 403."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person at the console: their principal, this page's form token, how they signed in."""

    principal: Principal
    csrf: str
    nonce: str
    new_nonce: bool
    developer: bool

    def may(self, permission: str) -> bool:
        return self.principal.may(permission)

    def require(self, permission: str) -> None:
        if not self.principal.may(permission):
            raise Forbidden(permission)


class ConsoleSecurity:
    def __init__(self, key: bytes, *, developer_sign_in: bool) -> None:
        self._key = key
        self.developer_sign_in = developer_sign_in

    def _mac(self, *parts: str) -> str:
        return hmac.new(self._key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()

    # -- CSRF ------------------------------------------------------------------------------------------
    def nonce(self, request: Request) -> tuple[str, bool]:
        """This browser's nonce, and whether it is new (then the response must set the cookie)."""
        current = request.cookies.get(NONCE_COOKIE, "")
        if 20 <= len(current) <= 64 and current.isascii():
            return current, False
        return secrets.token_urlsafe(24), True

    def csrf_token(self, nonce: str, principal: Principal | None) -> str:
        tenant, user = (principal.tenant_id, principal.user_id) if principal else ("", "")
        return self._mac("csrf", nonce, tenant, user)

    async def check_csrf(self, request: Request, principal: Principal | None) -> None:
        if request.headers.get("sec-fetch-site") == "cross-site":
            raise CsrfRejected("cross-site request")
        nonce = request.cookies.get(NONCE_COOKIE)
        sent = request.headers.get(CSRF_HEADER)
        if sent is None:
            sent = str((await request.form()).get(CSRF_FIELD, ""))
        if not nonce or not hmac.compare_digest(sent, self.csrf_token(nonce, principal)):
            raise CsrfRejected("missing or stale form token")

    # -- identity --------------------------------------------------------------------------------------
    async def principal(self, request: Request, authenticator: Authenticator) -> tuple[Principal, bool]:
        """The gateway's (or the token's) identity when the request carries one, else the developer's."""
        headers = request.headers
        if "x-user-id" in headers or "authorization" in headers or not self.developer_sign_in:
            return await authenticator.authenticate(request), False
        developer = self._developer(request)
        if developer is None:
            raise Unauthenticated("not signed in")
        return developer, True

    def developer_cookie(self, principal: Principal) -> str:
        claims = {
            "tenant": principal.tenant_id,
            "user": principal.user_id,
            "roles": sorted(principal.roles),
            "permissions": sorted(principal.permissions),
        }
        body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode()
        return f"{body}.{self._mac('developer', body)}"

    def _developer(self, request: Request) -> Principal | None:
        client = request.client.host if request.client else ""
        if not is_loopback(client):
            return None
        body, _, mac = request.cookies.get(DEV_COOKIE, "").partition(".")
        if not body or not hmac.compare_digest(mac, self._mac("developer", body)):
            return None
        try:
            claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body.encode()))
            return parse_principal(claims["user"], claims["tenant"], claims["roles"], claims["permissions"])
        except (ValueError, KeyError, TypeError, Unauthenticated, TenantRequired):
            return None
