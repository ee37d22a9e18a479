"""Who is calling: the API gateway's trusted headers, or a verified JWT; and what they may do.

Permissions are ``resource:action[:scope]`` strings (``crm.customer:read``); a grant may use ``*`` for the
resource or the action. SYSTEM_ADMIN may do everything and act for any tenant (operations);
TENANT_ADMIN may do everything within its own tenant. Everything else is denied by default.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import jwt
from fastapi import Request

from customer360.settings import Settings

SYSTEM_ADMIN = "SYSTEM_ADMIN"
TENANT_ADMIN = "TENANT_ADMIN"
TENANT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
_USER_PATTERN = re.compile(r"^[\w.@:\-]{1,128}$")


class Unauthenticated(Exception):
    """No (valid) identity: HTTP 401."""


class Forbidden(Exception):
    """Identity known, permission missing: HTTP 403."""

    def __init__(self, permission: str) -> None:
        super().__init__(f"Missing permission {permission}")
        self.permission = permission


class TenantRequired(Exception):
    """No usable tenant: HTTP 401 (fail closed, never a default tenant). An identity without its tenant is
    not a complete identity: the request is not authenticated, whichever header is missing."""


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    tenant_id: str
    roles: frozenset[str]
    permissions: frozenset[str]

    def may(self, permission: str) -> bool:
        if SYSTEM_ADMIN in self.roles or TENANT_ADMIN in self.roles:
            return True
        resource, _, action = permission.partition(":")
        for grant in self.permissions:
            granted_resource, _, rest = grant.partition(":")
            granted_action = rest.partition(":")[0]
            if granted_resource in ("*", resource) and granted_action in ("*", action):
                return True
        return False


class Authenticator(Protocol):
    async def authenticate(self, request: Request) -> Principal: ...


def _split(value: str | None) -> frozenset[str]:
    if not value:
        return frozenset()
    return frozenset(part.strip() for part in re.split(r"[,\s]+", value) if part.strip())


def _tenant(value: str | None) -> str:
    if not value:
        raise TenantRequired("X-Tenant-ID is required")
    if not TENANT_PATTERN.match(value):
        raise TenantRequired("X-Tenant-ID must be 1-64 letters, digits, '.', '_' or '-'")
    return value


def parse_principal(
    user: str | None, tenant: str | None, roles: Iterable[str], permissions: Iterable[str]
) -> Principal:
    """A principal from the gateway's four values, user and tenant checked (the console's sign-in uses it too)."""
    if not user or not _USER_PATTERN.match(user):
        raise Unauthenticated("X-User-Id is required")
    return Principal(
        user_id=user, tenant_id=_tenant(tenant), roles=frozenset(roles), permissions=frozenset(permissions)
    )


class GatewayAuthenticator:
    """The ERP's API gateway validated the token and passes the identity in trusted headers."""

    async def authenticate(self, request: Request) -> Principal:
        headers = request.headers
        return parse_principal(
            headers.get("x-user-id"),
            headers.get("x-tenant-id"),
            _split(headers.get("x-user-roles")),
            _split(headers.get("x-user-permissions")),
        )


class JwtAuthenticator:
    """Verifies a bearer token (RS256/ES256) against a JWKS file or URL; identity comes from its claims."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: jwt.PyJWKClient | None = None
        self._keys: jwt.PyJWKSet | None = None
        if settings.jwt_jwks_file is not None:
            self._keys = jwt.PyJWKSet.from_dict(json.loads(settings.jwt_jwks_file.read_text()))
        elif settings.jwt_jwks_url is not None:
            self._client = jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True, lifespan=300)
        else:
            raise ValueError("AUTH_MODE=jwt needs JWT_JWKS_FILE or JWT_JWKS_URL")

    def _key(self, token: str) -> Any:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key
        assert self._keys is not None
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._keys.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise Unauthenticated("unknown signing key")

    async def authenticate(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("a bearer token is required")
        s = self._settings
        try:
            claims = jwt.decode(
                token,
                self._key(token),
                algorithms=s.jwt_algorithms,
                audience=s.jwt_audience,
                issuer=s.jwt_issuer,
                options={"require": ["exp", "sub"], "verify_aud": s.jwt_audience is not None},
            )
        except (jwt.PyJWTError, ValueError):
            raise Unauthenticated("invalid token") from None
        roles = _claim_set(claims.get(s.jwt_roles_claim))
        tenant = claims.get(s.jwt_tenant_claim)
        requested = request.headers.get("x-tenant-id")
        if requested and requested != tenant:
            if SYSTEM_ADMIN not in roles:
                raise Forbidden("cross-tenant access")
            tenant = requested
        return Principal(
            user_id=str(claims["sub"]),
            tenant_id=_tenant(tenant if isinstance(tenant, str) else None),
            roles=roles,
            permissions=_claim_set(claims.get(s.jwt_permissions_claim) or claims.get("scope")),
        )


def _claim_set(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return _split(value)
    if isinstance(value, list):
        return frozenset(str(v) for v in value)
    return frozenset()


def build_authenticator(settings: Settings) -> Authenticator:
    return JwtAuthenticator(settings) if settings.auth_mode == "jwt" else GatewayAuthenticator()
