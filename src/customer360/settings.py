"""Every knob of the service, read from the environment (or a .env file) when the process starts.

Nothing reads settings at import time: ``Settings()`` is built once in ``bootstrap`` / the CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("crm-customer360"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # --- HTTP -------------------------------------------------------------------------------
    http_host: str = Field("127.0.0.1", description="Interface to listen on (0.0.0.0 to expose it)")
    http_port: int = Field(9401, description="The seed's port")
    http_workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes")
    max_body_bytes: int = Field(1_048_576, ge=1024, description="Larger request bodies get 413")

    # --- database ---------------------------------------------------------------------------
    database_url: str | None = Field(
        None,
        description="Owner/admin connection used for migrations; unset = embedded PostgreSQL under DATA_DIR",
    )
    database_app_url: str | None = Field(
        None, description="Connection for request handling; default: DATABASE_URL with the app role as user"
    )
    database_worker_url: str | None = Field(
        None, description="Connection for the relay and purges; default: DATABASE_URL with the worker role"
    )
    database_name: str = Field("chiroerp_crm_customer360", description="Database created in embedded mode")
    db_pool_size: int = Field(10, ge=1, le=200)
    db_max_overflow: int = Field(10, ge=0, le=200)
    migrate_on_start: bool = Field(True, description="Run Alembic migrations when serve starts")
    data_dir: Path = Field(default_factory=_default_data_dir, description="Embedded PostgreSQL data lives here")

    # --- security ---------------------------------------------------------------------------
    auth_mode: Literal["gateway", "jwt"] = "gateway"
    jwt_jwks_url: str | None = None
    jwt_jwks_file: Path | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256"])
    jwt_tenant_claim: str = "tenant_id"
    jwt_permissions_claim: str = "permissions"
    jwt_roles_claim: str = "roles"
    evidence_hash_key: SecretStr = Field(
        SecretStr("change-me-in-production"),
        description="HMAC key for hashing consent evidence (IP address, user agent)",
    )

    # --- behaviour ---------------------------------------------------------------------------
    phone_default_region: str | None = Field(
        "DE", description="ISO country used to read phone numbers written without a country code"
    )
    idempotency_ttl_hours: int = Field(24, ge=1)
    outbox_retention_days: int = Field(7, ge=1, description="Published events stay in the change feed this long")

    # --- observability -----------------------------------------------------------------------
    log_level: str = "INFO"
    log_json: bool = True
