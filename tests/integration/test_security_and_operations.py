"""JWT authentication, health checks and metrics."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from prometheus_client import CollectorRegistry

from customer360.bootstrap import Services
from customer360.infrastructure.rest.app import create_app
from customer360.infrastructure.rest.auth import JwtAuthenticator
from tests.support.api import CUSTOMERS, create_customer
from tests.support.metrics import sample


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
async def jwt_client(
    services: Services, signing_key: rsa.RSAPrivateKey, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    jwk = json.loads(RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}))
    settings = services.settings.model_copy(
        update={"auth_mode": "jwt", "jwt_jwks_file": jwks, "jwt_issuer": "https://idp.example", "jwt_audience": "crm"}
    )
    jwt_services = dataclasses.replace(
        services.api, authenticator=JwtAuthenticator(settings), registry=CollectorRegistry()
    )
    app = create_app(settings, jwt_services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c360.test") as client:
        yield client


def _token(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    body = {
        "sub": "user-7",
        "iss": "https://idp.example",
        "aud": "crm",
        "exp": int(time.time()) + 300,
        "tenant_id": "jwt-tenant",
        "permissions": ["crm.customer:read", "crm.customer:write"],
        **claims,
    }
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "k1"})


class TestJwtMode:
    async def test_a_valid_token_is_accepted(
        self, jwt_client: httpx.AsyncClient, signing_key: rsa.RSAPrivateKey
    ) -> None:
        """Tenant, user and permissions come from the verified claims."""
        response = await jwt_client.post(
            CUSTOMERS, json={"name": "Jwt Corp"}, headers={"Authorization": f"Bearer {_token(signing_key)}"}
        )
        assert (response.status_code, response.json()["createdBy"]) == (201, "user-7")

    @pytest.mark.parametrize(
        "claims",
        [{"exp": int(time.time()) - 10}, {"aud": "someone-else"}, {"iss": "https://evil.example"}],
        ids=["expired", "wrong-audience", "wrong-issuer"],
    )
    async def test_invalid_tokens_are_401(
        self, jwt_client: httpx.AsyncClient, signing_key: rsa.RSAPrivateKey, claims: dict[str, Any]
    ) -> None:
        """Expired tokens and tokens for another audience or issuer are refused."""
        token = _token(signing_key, **claims)
        response = await jwt_client.get(CUSTOMERS, headers={"Authorization": f"Bearer {token}"})
        assert (response.status_code, response.json()["error"]) == (401, "UNAUTHENTICATED")

    async def test_a_token_signed_by_another_key_is_401(self, jwt_client: httpx.AsyncClient) -> None:
        """A forged signature is refused."""
        forged = _token(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        assert (await jwt_client.get(CUSTOMERS, headers={"Authorization": f"Bearer {forged}"})).status_code == 401

    async def test_gateway_headers_are_not_trusted_in_jwt_mode(self, jwt_client: httpx.AsyncClient) -> None:
        """X-User-Id without a token authenticates nobody."""
        response = await jwt_client.get(CUSTOMERS, headers={"X-User-Id": "x", "X-Tenant-ID": "jwt-tenant"})
        assert response.status_code == 401

    async def test_only_a_system_admin_may_switch_tenant(
        self, jwt_client: httpx.AsyncClient, signing_key: rsa.RSAPrivateKey
    ) -> None:
        """X-Tenant-ID other than the token's is 403, except for SYSTEM_ADMIN."""
        user = _token(signing_key)
        admin = _token(signing_key, roles=["SYSTEM_ADMIN"])
        other = {"X-Tenant-ID": "another-tenant"}
        denied = await jwt_client.get(CUSTOMERS, headers={"Authorization": f"Bearer {user}", **other})
        allowed = await jwt_client.get(CUSTOMERS, headers={"Authorization": f"Bearer {admin}", **other})
        assert (denied.status_code, allowed.status_code) == (403, 200)


class TestOperations:
    async def test_readiness_reports_database_and_migrations(self, client: httpx.AsyncClient) -> None:
        """Ready means the database answers and the schema is at the latest migration."""
        body = (await client.get("/health/ready")).json()
        assert (body["checks"]["database"]["status"], body["checks"]["migrations"]["status"]) == ("UP", "UP")

    async def test_metrics_use_route_templates_not_ids(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Request metrics are labelled by route template; customer ids never become labels."""
        created = await create_customer(client, headers)
        read = {"method": "GET", "route": "/api/v1/crm/customers/{customerId}", "status": "200"}
        before = sample((await client.get("/metrics")).text, "crm_customer360_http_requests_total", read)
        await client.get(f"{CUSTOMERS}/{created['id']}", headers=headers)
        metrics = (await client.get("/metrics")).text
        assert sample(metrics, "crm_customer360_http_requests_total", read) == before + 1
        assert created["id"] not in metrics


class TestCorrelation:
    async def test_a_callers_trace_becomes_the_correlation_id(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """traceparent without X-Correlation-ID: the trace id is echoed as the correlation id."""
        traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        response = await client.get(CUSTOMERS, headers={**headers, "traceparent": traceparent})
        assert response.headers["x-correlation-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"

    async def test_an_explicit_correlation_id_wins_over_a_traceparent(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Both given: X-Correlation-ID is the correlation id."""
        traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        sent = {**headers, "traceparent": traceparent, "X-Correlation-ID": "order-42"}
        assert (await client.get(CUSTOMERS, headers=sent)).headers["x-correlation-id"] == "order-42"
