"""Every knob of the service, read from the environment (or a .env file) when the process starts.

Nothing reads settings at import time: ``Settings()`` is built once in ``bootstrap`` / the CLI.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# The HMAC keys' shipped value: fine on a laptop, refused where the service can be reached from outside.
DEVELOPMENT_KEY = "change-me-in-production"


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
    database_read_url: str | None = Field(
        None,
        description="A streaming replica for lookups, search, lists, exports and integration look-ups"
        " (read-your-writes: X-Read-After); the app role connects unless the URL names a user",
    )
    read_replica_retry_seconds: float = Field(
        5.0, gt=0, le=3600, description="After a replica failed, reads stay on the primary this long"
    )
    db_pool_size: int = Field(10, ge=1, le=200)
    db_max_overflow: int = Field(10, ge=0, le=200)
    db_lookup_pool_size: int = Field(8, ge=1, le=200, description="Connections of the profile-lookup fast path")
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
    console_secret_key: SecretStr | None = Field(
        None,
        description="Signs the console's CSRF tokens and developer sign-in; unset = a random key per `serve`",
    )
    evidence_hash_key: SecretStr = Field(
        SecretStr(DEVELOPMENT_KEY),
        description="HMAC key for hashing consent evidence (IP address, user agent)",
    )

    # --- behaviour ---------------------------------------------------------------------------
    phone_default_region: str | None = Field(
        "DE", description="ISO country used to read phone numbers written without a country code"
    )
    idempotency_ttl_hours: int = Field(24, ge=1)
    outbox_retention_days: int = Field(7, ge=1, description="Published events stay in the change feed this long")

    # --- merge and survivorship (defaults of tenants without a policy of their own) -----------
    merge_default_rule: Literal["KEEP_TARGET", "KEEP_SOURCE", "MOST_RECENT", "MOST_COMPLETE", "SOURCE_PRIORITY"] = (
        Field("KEEP_TARGET", description="Survivorship rule of single-valued fields (lists are always united)")
    )
    merge_source_priority: list[str] = Field(
        default_factory=lambda: ["MDG", "FINANCE", "SALES", "WEB"],
        description="Source systems from most to least trusted, for SOURCE_PRIORITY (JSON list)",
    )

    # --- Kafka: publishing (outbox relay) -----------------------------------------------------
    kafka_bootstrap_servers: str | None = Field(
        None, description="host:port[,host:port]; unset = no Kafka (the outbox keeps the events, the feed serves them)"
    )
    kafka_client_id: str = Field("crm-customer360", description="client.id of our producers and consumers")
    kafka_config: dict[str, str] = Field(
        default_factory=dict,
        description="Extra librdkafka settings for every client, as JSON (security.protocol, sasl.*, ssl.* ...)",
    )
    kafka_create_topics: bool = Field(True, description="Create missing topics (seed partition counts) on start")
    kafka_replication_factor: int = Field(-1, ge=-1, le=32, description="For created topics; -1 = broker default")
    topic_profile_created: str = "crm.customer360.profile.created"
    topic_profile_updated: str = Field(
        "crm.customer360.profile.updated", description="Also carries CustomerErasedEvent (same key, same order)"
    )
    topic_profile_merged: str = Field(
        "crm.customer360.profile.merged", description="CustomerMergedEvent and CustomerUnmergedEvent"
    )
    topic_consent_updated: str = "crm.customer360.consent.updated"
    relay_in_serve: bool = Field(False, description="Run the outbox relay inside `serve` (one publishes at a time)")
    relay_batch_size: int = Field(1000, ge=1, le=10_000, description="Outbox rows read and published per batch")
    relay_poll_interval_seconds: float = Field(
        1.0, gt=0, le=60, description="Fallback poll when no NOTIFY arrives (NOTIFY wakes the relay at once)"
    )
    relay_lock_retry_seconds: float = Field(
        1.0, gt=0, le=60, description="How often a standby relay tries to take the lock over"
    )
    relay_backoff_max_seconds: float = Field(30.0, gt=0, description="Upper bound of the retry backoff")
    relay_delivery_timeout_ms: int = Field(
        0, ge=0, description="librdkafka message.timeout.ms; 0 = retry until the broker acks (keeps the order)"
    )
    relay_linger_ms: int = Field(5, ge=0, le=1000, description="librdkafka linger.ms of the relay's producer")
    relay_purge_interval_seconds: float = Field(3600.0, gt=0, description="How often published rows are purged")
    relay_stats_interval_seconds: float = Field(5.0, gt=0, description="How often pending count and age are read")
    relay_metrics_port: int = Field(
        9402, ge=0, le=65535, description="Prometheus port of the standalone relay (0 = none)"
    )

    # --- Kafka: consuming ------------------------------------------------------------------------
    consumer_group: str = Field("crm-customer360-cg", description="The seed's consumer group")
    topic_lead_created: str = Field("sales.pipeline.lead.created", description="LeadCreatedEvent (Sales)")
    topic_service_order_created: str = Field(
        "service.orders.order.created", description="ServiceOrderCreatedEvent (Service Orders)"
    )
    topic_contract_activated: str = Field(
        "service.contracts.contract.activated", description="ContractActivatedEvent (Contracts)"
    )
    topic_customer_master_updated: str = Field(
        "mdg.customer.master.updated", description="CustomerMasterUpdatedEvent (master data governance)"
    )
    topic_dlq: str = Field("crm.customer360.dlq", description="Dead-letter topic of consumed messages")
    dlq_partitions: int = Field(3, ge=1, le=1000, description="Partitions of the dead-letter topic when created")
    consumer_max_attempts: int = Field(3, ge=1, le=100, description="Failures of one message before the DLQ")
    consumer_retry_backoff_ms: int = Field(200, ge=0, description="Pause before retrying a failed message")
    consumer_batch_size: int = Field(100, ge=1, le=10_000, description="Messages taken per poll")
    consumer_session_timeout_ms: int = Field(10_000, ge=1000, description="librdkafka session.timeout.ms")
    consumer_metrics_port: int = Field(9403, ge=0, le=65535, description="Prometheus port of `consume` (0 = none)")
    inbox_retention_days: int = Field(
        30, ge=1, description="Processed event ids are remembered this long (longer than topic retention)"
    )

    # --- privacy: consent policy, erasure, access log (README "Privacy") --------------------------
    consent_check_max_body_bytes: int = Field(
        8_388_608, ge=1024, description="Body limit of POST /consent/check (up to 100,000 ids); others: MAX_BODY_BYTES"
    )
    db_consent_check_pool_size: int = Field(
        2, ge=1, le=50, description="Connections of the bulk consent check's fast path per process"
    )
    consent_confirmation_ttl_hours: int = Field(
        72, ge=1, le=8760, description="How long a double opt-in confirmation token can be used"
    )
    consent_expiry_in_serve: bool = Field(True, description="Run the consent expiry sweep inside `serve`")
    consent_expiry_interval_seconds: float = Field(
        3600.0, gt=0, description="How often `serve` sweeps expired grants (first run at start)"
    )
    suppression_hash_key: SecretStr = Field(
        SecretStr(DEVELOPMENT_KEY),
        description="HMAC key of the suppression list (hashes of erased e-mails and phones)",
    )
    access_log_enabled: bool = Field(True, description="Record reads of personal data in the access log")
    access_log_flush_interval_seconds: float = Field(
        1.0, gt=0, le=60, description="The access log is written in the background at least this often"
    )
    access_log_batch_size: int = Field(500, ge=1, le=100_000, description="…or as soon as this many entries wait")
    access_log_max_buffer: int = Field(
        100_000, ge=100, description="Entries kept while the database is unreachable; beyond, new ones are dropped"
    )

    # --- duplicate detection (README "Matching and duplicates"; tenants may override thresholds) ----
    duplicate_review_threshold: float = Field(
        0.5, gt=0, lt=1, description="Pairs at or above this match probability are stored for review"
    )
    duplicate_likely_threshold: float = Field(
        0.9, gt=0, lt=1, description="POST /customers answers 409 DUPLICATE_CUSTOMER at or above this probability"
    )
    duplicate_auto_merge: bool = Field(False, description="Scans merge pairs above the automatic-merge threshold")
    duplicate_auto_merge_threshold: float = Field(
        0.999, gt=0, lt=1, description="…and with an e-mail, phone or tax id agreeing exactly"
    )
    duplicate_check_on_create: bool = Field(True, description="Run the real-time duplicate check on POST /customers")
    duplicate_max_block_size: int = Field(
        100, ge=2, le=10_000, description="A blocking key shared by more profiles is ignored (stop key)"
    )
    duplicate_max_candidates: int = Field(
        200, ge=1, le=10_000, description="Profiles scored by one real-time check (most shared keys first)"
    )
    duplicate_check_results: int = Field(10, ge=1, le=100, description="Candidates a check answers with, at most")
    duplicate_scan_chunk_size: int = Field(5000, ge=10, le=100_000, description="Profiles per scan step (checkpoint)")
    duplicate_scan_training_records: int = Field(
        100_000, ge=100, description="Profiles sampled to train the tenant's model in a scan"
    )
    duplicate_scan_big_block_size: int = Field(
        20, ge=2, le=10_000, description="In a scan, pairs sharing only keys of bigger blocks must share two keys"
    )
    duplicate_scan_min_training_profiles: int = Field(
        1000, ge=2, description="Smaller tenants keep the default model (refined by decisions): EM needs data"
    )
    duplicate_scan_runner: Literal["process", "inline"] = Field(
        "process", description="API-triggered scans run as a `customer360 dedup scan` process, or inside `serve`"
    )

    # --- bulk import and export (README "Import and export") ---------------------------------
    import_max_body_bytes: int = Field(
        21_474_836_480,
        ge=1024,
        description="Upload limit of POST /imports, which streams its body (every other route: MAX_BODY_BYTES)",
    )
    import_chunk_size: int = Field(2000, ge=1, le=50_000, description="Rows applied per transaction (one resume point)")
    import_workers: int = Field(
        2, ge=0, le=32, description="Processes that parse and validate rows ahead of the one applying them (0: none)"
    )
    import_runner: Literal["process", "inline"] = Field(
        "process", description="Uploaded imports are applied by a `customer360 import --job` process, or in `serve`"
    )

    # --- observability -----------------------------------------------------------------------
    log_level: str = "INFO"
    log_json: bool = True
    otel_exporter_otlp_endpoint: str | None = Field(
        None,
        description="OTLP/HTTP collector base URL (spans go to <url>/v1/traces); unset = no tracing",
    )
    otel_service_name: str = Field("crm-customer360", description="service.name of the exported spans")

    def listens_beyond_loopback(self) -> bool:
        if self.http_host == "localhost":
            return False
        try:
            return not ipaddress.ip_address(self.http_host).is_loopback
        except ValueError:  # a host name: it may resolve to anything
            return True

    def development_keys(self) -> list[str]:
        """The HMAC keys still at their shipped value, by environment variable."""
        keys = {"EVIDENCE_HASH_KEY": self.evidence_hash_key, "SUPPRESSION_HASH_KEY": self.suppression_hash_key}
        return [name for name, key in keys.items() if key.get_secret_value() == DEVELOPMENT_KEY]
