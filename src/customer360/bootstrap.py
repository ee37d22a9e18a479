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
from customer360.application.duplicate_ports import MatchingLimits
from customer360.application.duplicate_scan import ScanOptions
from customer360.application.executor import CommandExecutor
from customer360.domain.duplicates import DuplicatePolicy
from customer360.domain.survivorship import Rule, SurvivorshipPolicy
from customer360.infrastructure.duplicate_scans import ScanLauncher, auto_merger, run_scan_job
from customer360.infrastructure.messaging.envelopes import envelope
from customer360.infrastructure.persistence.access_log import AccessLog
from customer360.infrastructure.persistence.consent_check import SqlConsentChecks
from customer360.infrastructure.persistence.consent_expiry import ConsentExpirySweep
from customer360.infrastructure.persistence.database import DatabaseUrls, create_engine, derive_urls
from customer360.infrastructure.persistence.duplicate_queries import SqlDuplicateQueries
from customer360.infrastructure.persistence.embedded import start_embedded
from customer360.infrastructure.persistence.history_queries import SqlHistoryQueries
from customer360.infrastructure.persistence.idempotency import IdempotencyPurge, SqlIdempotencyLookup
from customer360.infrastructure.persistence.match_index import ModelCache
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
    idempotency_purge: IdempotencyPurge
    duplicates: SqlDuplicateQueries
    scans: ScanLauncher
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
        await self.scans.aclose()
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

    duplicate_policy = duplicate_defaults(settings)
    matching_limits = MatchingLimits(
        max_block_size=settings.duplicate_max_block_size,
        max_candidates=settings.duplicate_max_candidates,
        results=settings.duplicate_check_results,
    )
    match_models = ModelCache()

    def unit_of_work(context: RequestContext) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            engine,
            context,
            envelope,
            merge_policy,
            suppression_key=suppression_key,
            duplicate_policy=duplicate_policy,
            matching_limits=matching_limits,
            match_models=match_models,
        )

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

    async def scan_inline(tenant_id: str, job_id: str) -> Any:
        return await run_scan_job(
            engine,
            tenant_id,
            default_policy=duplicate_policy,
            options=scan_options(settings),
            clock=clock,
            job_id=job_id,
            merge=auto_merger(executor, tenant_id),
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
        idempotency_purge=IdempotencyPurge(urls.worker, timedelta(hours=settings.idempotency_ttl_hours)),
        duplicates=SqlDuplicateQueries(engine, duplicate_policy),
        scans=ScanLauncher(
            engine, urls.admin, runner=settings.duplicate_scan_runner, clock=clock, run_inline=scan_inline
        ),
        registry=registry,
    )


def duplicate_defaults(settings: Settings) -> DuplicatePolicy:
    """The thresholds of tenants without settings of their own."""
    return DuplicatePolicy(
        review_threshold=settings.duplicate_review_threshold,
        likely_threshold=settings.duplicate_likely_threshold,
        auto_merge=settings.duplicate_auto_merge,
        auto_merge_threshold=settings.duplicate_auto_merge_threshold,
    )


def scan_options(settings: Settings) -> ScanOptions:
    return ScanOptions(
        chunk_size=settings.duplicate_scan_chunk_size,
        training_records=settings.duplicate_scan_training_records,
        min_training_records=settings.duplicate_scan_min_training_profiles,
        max_block_size=settings.duplicate_max_block_size,
        big_block_size=settings.duplicate_scan_big_block_size,
    )


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
