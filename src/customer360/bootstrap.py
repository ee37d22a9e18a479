"""The composition root: builds every part of the service from its settings and hands each edge what it
needs (no work at import time). Nothing below imports this module; ``cli.py`` calls it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from customer360.application.context import Clock, RequestContext, SystemClock
from customer360.application.duplicate_ports import MatchingLimits, Offload, ScanJob
from customer360.application.duplicate_scan import Progress, ScanOptions
from customer360.application.executor import CommandExecutor
from customer360.application.import_ports import ImportJob
from customer360.application.imports import ImportRun, ImportSettings, plan_in_process, score_in_process
from customer360.application.imports import Progress as ImportProgress
from customer360.domain.duplicates import DuplicatePolicy
from customer360.domain.survivorship import Rule, SurvivorshipPolicy
from customer360.infrastructure.duplicate_scans import ScanLauncher, auto_merger, run_scan_job
from customer360.infrastructure.import_files import row_input
from customer360.infrastructure.imports import ImportDesk, ProcessPlanner, run_import_job
from customer360.infrastructure.job_launcher import JobLauncher
from customer360.infrastructure.messaging.envelopes import envelope
from customer360.infrastructure.messaging.relay_runtime import RelayInServe
from customer360.infrastructure.messaging.schema_documents import CatalogSchemas
from customer360.infrastructure.metrics import new_registry
from customer360.infrastructure.observability import configure_logging
from customer360.infrastructure.periodic import PeriodicTask
from customer360.infrastructure.persistence.access_log import AccessLog
from customer360.infrastructure.persistence.consent_check import SqlConsentChecks
from customer360.infrastructure.persistence.consent_expiry import ConsentExpirySweep
from customer360.infrastructure.persistence.database import DatabaseUrls, create_engine, derive_urls
from customer360.infrastructure.persistence.duplicate_queries import SqlDuplicateQueries
from customer360.infrastructure.persistence.embedded import start_embedded
from customer360.infrastructure.persistence.export_queries import SqlExports
from customer360.infrastructure.persistence.history_queries import SqlHistoryQueries
from customer360.infrastructure.persistence.idempotency import IdempotencyPurge, SqlIdempotencyLookup
from customer360.infrastructure.persistence.import_queries import SqlImportQueries
from customer360.infrastructure.persistence.import_store import SqlImportJobs
from customer360.infrastructure.persistence.import_unit import SqlImportUnit, encode_created
from customer360.infrastructure.persistence.integration_queries import SqlIntegrationQueries
from customer360.infrastructure.persistence.match_codec import features_from_json
from customer360.infrastructure.persistence.match_index import ModelCache
from customer360.infrastructure.persistence.merge_queries import SqlMergeQueries
from customer360.infrastructure.persistence.migrate import current_revision, head_revision, migrate
from customer360.infrastructure.persistence.privacy_queries import SqlPrivacyQueries
from customer360.infrastructure.persistence.profile_lookup import ProfileLookup
from customer360.infrastructure.persistence.profile_queries import SqlProfileQueries
from customer360.infrastructure.persistence.read_routing import ReadReplica
from customer360.infrastructure.persistence.relationship_queries import SqlRelationshipQueries
from customer360.infrastructure.persistence.scan_store import SqlScanStore
from customer360.infrastructure.persistence.unit_of_work import SqlUnitOfWorkFactory
from customer360.infrastructure.rest.app import ServicesScope, create_app
from customer360.infrastructure.rest.auth import build_authenticator
from customer360.infrastructure.rest.dependencies import ApiServices
from customer360.infrastructure.tracing import CorrelatedRequests, configure_tracing
from customer360.settings import Settings

T = TypeVar("T")


async def database_urls(settings: Settings) -> DatabaseUrls:
    """The configured server, or the embedded one (started on first use) when DATABASE_URL is unset."""
    admin = settings.database_url or await start_embedded(settings.data_dir, settings.database_name)
    return derive_urls(admin, settings.database_app_url, settings.database_worker_url, settings.database_read_url)


def evidence_hasher(key: bytes) -> Any:
    def digest(value: str) -> str:
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()

    return digest


async def readiness(engine: AsyncEngine) -> dict[str, dict[str, Any]]:
    """Database reachable and migrations current (``/health/ready``)."""
    try:
        async with engine.connect() as connection:
            revision = await current_revision(connection)
    except Exception as exc:  # readiness reports any failure as DOWN instead of raising
        return {"database": {"status": "DOWN", "error": type(exc).__name__}}
    head = head_revision()
    migrations = {"status": "UP" if revision == head else "DOWN", "current": revision, "head": head}
    return {"database": {"status": "UP"}, "migrations": migrations}


@dataclass
class Services:
    """Everything one process of the service is built from, and what closes it; ``api`` is what the HTTP
    edge is given (ports only)."""

    settings: Settings
    urls: DatabaseUrls
    engine: AsyncEngine
    clock: Clock
    executor: CommandExecutor
    lookup: ProfileLookup
    consent_checks: SqlConsentChecks
    access_log: AccessLog
    consent_expiry: ConsentExpirySweep
    idempotency_purge: IdempotencyPurge
    scans: ScanLauncher
    # Bulk import: receiving files and starting their jobs; the run of a tenant's jobs with these adapters.
    imports: ImportDesk
    import_run: Callable[[str], ImportRun]
    import_queries: SqlImportQueries
    planner: ProcessPlanner | None
    exports: SqlExports
    api: ApiServices
    registry: CollectorRegistry = field(default_factory=new_registry)
    replica: ReadReplica | None = None

    async def scan(
        self,
        tenant_id: str,
        *,
        job_id: str | None = None,
        restart: bool = False,
        on_progress: Progress | None = None,
        offload: Offload | None = None,
    ) -> ScanJob:
        """Run (or resume) a batch duplicate scan of the tenant here (``dedup scan``, inline scans);
        ``offload``: where TRAIN may run work beside its own (the scan process forks, the server not)."""
        return await run_scan_job(
            self.engine,
            tenant_id,
            default_policy=duplicate_defaults(self.settings),
            options=scan_options(self.settings),
            clock=self.clock,
            job_id=job_id,
            restart=restart,
            on_progress=on_progress,
            merge=auto_merger(self.executor, tenant_id),
            offload=offload,
        )

    def scan_store(self, tenant_id: str) -> SqlScanStore:
        return SqlScanStore(self.engine, tenant_id, duplicate_defaults(self.settings))

    async def run_import(self, tenant_id: str, job_id: str, on_progress: ImportProgress | None = None) -> ImportJob:
        """Apply (or resume) a staged import job here (``customer360 import``, inline imports)."""
        return await run_import_job(self.engine, self.import_run(tenant_id), tenant_id, job_id, on_progress)

    async def aclose(self) -> None:
        await self.imports.aclose()
        if self.planner is not None:
            self.planner.close()
        await self.scans.aclose()
        await self.access_log.close()
        await self.consent_checks.close()
        await self.lookup.close()
        if self.replica is not None:
            await self.replica.aclose()
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

    units = SqlUnitOfWorkFactory(
        engine,
        envelope,
        merge_policy,
        suppression_key,
        duplicate_policy,
        matching_limits,
        ModelCache(),
        record_position=urls.read is not None,
    )
    hasher = evidence_hasher(settings.evidence_hash_key.get_secret_value().encode())
    executor = CommandExecutor(units, clock=clock, phone_region=settings.phone_default_region, hasher=hasher)

    def import_unit(context: RequestContext) -> SqlImportUnit:
        """The bulk import's unit of work, with the same settings as every command's."""
        return SqlImportUnit(
            engine,
            context,
            envelope,
            merge_policy,
            suppression_key=suppression_key,
            duplicate_policy=duplicate_policy,
            matching_limits=matching_limits,
            match_models=units.match_models,
        )

    planner = ProcessPlanner(settings.import_workers) if settings.import_workers else None

    def import_run(tenant_id: str) -> ImportRun:
        return ImportRun(
            jobs=SqlImportJobs(engine, tenant_id),
            units=import_unit,
            clock=clock,
            phone_region=settings.phone_default_region,
            hasher=hasher,
            read_row=row_input,
            encode=functools.partial(encode_created, envelope),
            decode_record=features_from_json,
            settings=ImportSettings(
                chunk_size=settings.import_chunk_size,
                max_block_size=settings.duplicate_max_block_size,
                big_block_size=settings.duplicate_scan_big_block_size,
                max_candidates=settings.duplicate_max_candidates,
                results=settings.duplicate_check_results,
            ),
            planner=planner or plan_in_process,
            scorer=planner.score if planner else score_in_process,
            plan_ahead=max(1, settings.import_workers),
        )

    registry = registry or new_registry()
    replica = (
        ReadReplica(
            urls.read,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            lookup_size=settings.db_lookup_pool_size,
            retry_seconds=settings.read_replica_retry_seconds,
        )
        if urls.read is not None
        else None
    )

    def read_side(build: Callable[[AsyncEngine, ProfileLookup], T]) -> T:
        """A read port on the primary; with a replica, one that prefers it (read_routing.py)."""
        primary = build(engine, lookup)
        return primary if replica is None else replica.route(primary, build)

    consent_checks = SqlConsentChecks(engine, urls.app, pool_size=settings.db_consent_check_pool_size)
    access_log = AccessLog(
        engine,
        enabled=settings.access_log_enabled,
        flush_interval=settings.access_log_flush_interval_seconds,
        batch_size=settings.access_log_batch_size,
        max_buffer=settings.access_log_max_buffer,
        registry=registry,
    )

    history = read_side(lambda e, _: SqlHistoryQueries(e))
    scans = ScanLauncher(
        engine,
        JobLauncher(
            urls.admin,
            command=("dedup", "scan"),
            runner=settings.duplicate_scan_runner,
            # ``services`` is bound below, before any scan can start.
            run_inline=lambda tenant_id, job_id: services.scan(tenant_id, job_id=job_id),
            log=logging.getLogger("customer360.duplicate_scan"),
        ),
        clock=clock,
    )
    imports = ImportDesk(
        engine,
        JobLauncher(
            urls.admin,
            command=("import",),
            runner=settings.import_runner,
            # ``services`` is bound below, before any import can start.
            run_inline=lambda tenant_id, job_id: services.run_import(tenant_id, job_id),
            log=logging.getLogger("customer360.imports"),
        ),
        clock,
    )
    import_queries = SqlImportQueries(engine)
    exports = SqlExports(engine, access_log)
    services = Services(
        settings=settings,
        urls=urls,
        engine=engine,
        clock=clock,
        executor=executor,
        lookup=lookup,
        consent_checks=consent_checks,
        access_log=access_log,
        consent_expiry=ConsentExpirySweep(urls.worker, executor, clock),
        idempotency_purge=IdempotencyPurge(urls.worker, timedelta(hours=settings.idempotency_ttl_hours)),
        scans=scans,
        imports=imports,
        import_run=import_run,
        import_queries=import_queries,
        planner=planner,
        exports=exports,
        api=ApiServices(
            settings=settings,
            executor=executor,
            # Lookups, search, lists, exports and integration look-ups prefer a read replica.
            profiles=read_side(SqlProfileQueries),
            history=history,
            relationships=read_side(lambda e, _: SqlRelationshipQueries(e)),
            merges=SqlMergeQueries(engine),
            integration=read_side(lambda e, _: SqlIntegrationQueries(e)),
            consent_checks=consent_checks,
            privacy=read_side(lambda e, _: SqlPrivacyQueries(e)),
            duplicates=SqlDuplicateQueries(engine, duplicate_policy),
            scans=scans,
            imports=imports,
            import_queries=import_queries,
            exports=exports,
            event_schemas=CatalogSchemas(),
            idempotency=SqlIdempotencyLookup(engine, timedelta(hours=settings.idempotency_ttl_hours)),
            access_log=access_log,
            authenticator=build_authenticator(settings),
            clock=clock,
            readiness=functools.partial(readiness, engine),
            registry=registry,
        ),
        registry=registry,
        replica=replica,
    )
    return services


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


@asynccontextmanager
async def serving(settings: Settings, registry: CollectorRegistry) -> AsyncIterator[ApiServices]:
    """``serve``'s services for the app's lifetime, with its background work: the relay (RELAY_IN_SERVE)
    and the periodic sweeps."""
    built = await build_services(settings, registry)
    relay = RelayInServe.start(settings, built.urls.worker, registry)
    jobs = [PeriodicTask("idempotency-purge", built.idempotency_purge.run_once, 3600.0)]
    if settings.consent_expiry_in_serve:
        jobs.append(
            PeriodicTask("consent-expiry", built.consent_expiry.run_once, settings.consent_expiry_interval_seconds)
        )
    for job in jobs:
        job.start()
    try:
        yield built.api
    finally:
        for job in jobs:
            await job.stop()
        if relay is not None:
            await relay.stop()
        await built.aclose()


def create_app_from_env() -> ASGIApp:
    """The uvicorn factory of ``serve``: settings from the environment, services built when the app starts."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    registry = new_registry()
    app = create_app(settings, ServicesScope(registry, lambda: serving(settings, registry)))
    return CorrelatedRequests(app) if configure_tracing(settings) else app
