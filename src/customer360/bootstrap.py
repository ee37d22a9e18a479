"""Builds everything the service needs from its settings, in one place (no work at import time)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from customer360.application.context import Clock, RequestContext, SystemClock
from customer360.application.executor import CommandExecutor
from customer360.domain.survivorship import Rule, SurvivorshipPolicy
from customer360.infrastructure.persistence.access_log import AccessLog
from customer360.infrastructure.persistence.consent_check import SqlConsentChecks
from customer360.infrastructure.persistence.consent_expiry import ConsentExpirySweep
from customer360.infrastructure.persistence.database import DatabaseUrls, create_engine, derive_urls
from customer360.infrastructure.persistence.embedded import start_embedded
from customer360.infrastructure.persistence.history_queries import SqlHistoryQueries
from customer360.infrastructure.persistence.idempotency import SqlIdempotencyLookup
from customer360.infrastructure.persistence.migrate import current_revision, head_revision, migrate
from customer360.infrastructure.persistence.privacy_queries import SqlPrivacyQueries
from customer360.infrastructure.persistence.profile_lookup import ProfileLookup
from customer360.infrastructure.persistence.profile_queries import SqlProfileQueries
from customer360.infrastructure.persistence.relationship_queries import SqlRelationshipQueries
from customer360.infrastructure.persistence.unit_of_work import SqlUnitOfWork
from customer360.infrastructure.rest.auth import Authenticator, build_authenticator
from customer360.settings import Settings


async def database_urls(settings: Settings) -> DatabaseUrls:
    """The configured server, or the embedded one (started on first use) when DATABASE_URL is unset."""
    admin = settings.database_url or await start_embedded(settings.data_dir, settings.database_name)
    return derive_urls(admin, settings.database_app_url, settings.database_worker_url)


def evidence_hasher(key: bytes) -> Any:
    def digest(value: str) -> str:
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()

    return digest


@dataclass
class Services:
    settings: Settings
    urls: DatabaseUrls
    engine: AsyncEngine
    executor: CommandExecutor
    profiles: SqlProfileQueries
    history: SqlHistoryQueries
    relationships: SqlRelationshipQueries
    lookup: ProfileLookup
    idempotency: SqlIdempotencyLookup
    authenticator: Authenticator
    clock: Clock
    consent_checks: SqlConsentChecks
    privacy: SqlPrivacyQueries
    access_log: AccessLog
    consent_expiry: ConsentExpirySweep
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    async def readiness(self) -> dict[str, dict[str, Any]]:
        try:
            async with self.engine.connect() as connection:
                revision = await current_revision(connection)
        except Exception as exc:  # readiness reports any failure as DOWN instead of raising
            return {"database": {"status": "DOWN", "error": type(exc).__name__}}
        head = head_revision()
        migrations = {"status": "UP" if revision == head else "DOWN", "current": revision, "head": head}
        return {"database": {"status": "UP"}, "migrations": migrations}

    async def aclose(self) -> None:
        await self.access_log.close()
        await self.consent_checks.close()
        await self.lookup.close()
        await self.engine.dispose()


async def build_services(settings: Settings, registry: CollectorRegistry | None = None) -> Services:
    urls = await database_urls(settings)
    if settings.migrate_on_start:
        await migrate(urls.admin)
    engine = create_engine(urls.app, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)
    lookup = ProfileLookup(urls.app, size=settings.db_lookup_pool_size)
    await lookup.start()
    clock = SystemClock()

    merge_policy = SurvivorshipPolicy.default(
        default_rule=Rule(settings.merge_default_rule), source_priority=settings.merge_source_priority
    )

    suppression_key = settings.suppression_hash_key.get_secret_value().encode()

    def unit_of_work(context: RequestContext) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, context, merge_policy, suppression_key=suppression_key)

    executor = CommandExecutor(
        unit_of_work,
        clock=clock,
        phone_region=settings.phone_default_region,
        hasher=evidence_hasher(settings.evidence_hash_key.get_secret_value().encode()),
    )
    registry = registry or CollectorRegistry()
    consent_checks = SqlConsentChecks(engine, urls.app, pool_size=settings.db_consent_check_pool_size)
    access_log = AccessLog(
        engine,
        enabled=settings.access_log_enabled,
        flush_interval=settings.access_log_flush_interval_seconds,
        batch_size=settings.access_log_batch_size,
        max_buffer=settings.access_log_max_buffer,
        registry=registry,
    )
    return Services(
        settings=settings,
        urls=urls,
        engine=engine,
        executor=executor,
        profiles=SqlProfileQueries(engine, lookup),
        history=SqlHistoryQueries(engine),
        relationships=SqlRelationshipQueries(engine),
        lookup=lookup,
        idempotency=SqlIdempotencyLookup(engine, timedelta(hours=settings.idempotency_ttl_hours)),
        authenticator=build_authenticator(settings),
        clock=clock,
        consent_checks=consent_checks,
        privacy=SqlPrivacyQueries(engine),
        access_log=access_log,
        consent_expiry=ConsentExpirySweep(urls.worker, executor, clock),
        registry=registry,
    )


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
