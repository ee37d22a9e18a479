"""``customer360 serve | migrate | relay | consume | consent expire | dedup scan | dedup reindex | import |
export``."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
from importlib.metadata import version as installed_version
from pathlib import Path
from types import FrameType

import typer
import uvicorn

from customer360.application.import_ports import OnDuplicate
from customer360.bootstrap import build_services, database_urls
from customer360.infrastructure.consumers.runtime import run_consumer_process
from customer360.infrastructure.messaging.relay_runtime import run_relay_process
from customer360.infrastructure.metrics import new_registry
from customer360.infrastructure.observability import configure_logging
from customer360.infrastructure.persistence.database import DatabaseUrls
from customer360.infrastructure.persistence.migrate import migrate as run_migrations
from customer360.infrastructure.tracing import configure_tracing
from customer360.settings import Settings

app = typer.Typer(help="crm-customer360: the golden customer profile service", no_args_is_help=True)


def _print_version(requested: bool) -> None:
    if requested:
        typer.echo(f"crm-customer360 {installed_version('customer360')}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit"
    ),
) -> None:
    """crm-customer360: the golden customer profile service."""


def _refuse_development_keys(settings: Settings) -> None:
    """Hashes made with a published key protect nothing: refused wherever the process can be reached."""
    keys = settings.development_keys()
    if keys and settings.listens_beyond_loopback():
        typer.echo(
            f"{' and '.join(keys)} still have the development default and HTTP_HOST={settings.http_host} is "
            "reachable beyond this machine: set them to secrets of your own (changing SUPPRESSION_HASH_KEY "
            "later forgets the suppression list)",
            err=True,
        )
        raise typer.Exit(2)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Overrides HTTP_HOST"),
    port: int | None = typer.Option(None, help="Overrides HTTP_PORT"),
    workers: int | None = typer.Option(None, help="Overrides HTTP_WORKERS"),
) -> None:
    """Serve the HTTP API (starting the embedded PostgreSQL and migrating first when configured so)."""
    settings = Settings()
    if host is not None:
        settings.http_host = host
    configure_logging(settings.log_level, settings.log_json)
    _refuse_development_keys(settings)
    urls = asyncio.run(_prepare(settings))
    # Workers inherit the resolved database and must not start or migrate it again.
    os.environ["DATABASE_URL"] = urls.admin.render_as_string(hide_password=False)
    os.environ["MIGRATE_ON_START"] = "false"
    # The console knows it listens on loopback only from HTTP_HOST (its developer sign-in depends on it), and
    # its workers must share one signing key (a form rendered by one is posted to another).
    os.environ["HTTP_HOST"] = host or settings.http_host
    if settings.console_secret_key is None:
        os.environ["CONSOLE_SECRET_KEY"] = secrets.token_urlsafe(32)
    # uvicorn re-raises SIGINT/SIGTERM after its graceful shutdown, under the handlers it found; with the
    # default ones the process would die without running atexit, leaving the embedded PostgreSQL running.
    for handled in (signal.SIGINT, signal.SIGTERM):
        signal.signal(handled, _exit_normally)
    uvicorn.run(
        "customer360.bootstrap:create_app_from_env",
        factory=True,
        host=settings.http_host,
        port=port or settings.http_port,
        workers=workers or settings.http_workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=None,
        proxy_headers=False,
    )


def _exit_normally(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


async def _prepare(settings: Settings) -> DatabaseUrls:
    urls = await database_urls(settings)
    if settings.migrate_on_start:
        await run_migrations(urls.admin)
    return urls


@app.command()
def migrate() -> None:
    """Apply the database migrations and exit."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)

    async def run() -> None:
        urls = await database_urls(settings)
        await run_migrations(urls.admin)

    asyncio.run(run())
    typer.echo("migrations applied")


@app.command()
def relay() -> None:
    """Publish the outbox to Kafka. One instance publishes at a time; others wait as standbys."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    _require_kafka(settings, "publish to (the outbox keeps the events and the change feed serves them)")
    configure_tracing(settings)

    async def run() -> None:
        urls = await _prepare(settings)
        await run_relay_process(settings, urls.worker)

    asyncio.run(run())


@app.command()
def consume() -> None:
    """Consume the ERP's events (group crm-customer360-cg); failing messages go to the dead-letter topic."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    _require_kafka(settings, "consume from")
    _refuse_development_keys(settings)
    configure_tracing(settings)

    async def run() -> None:
        registry = new_registry()
        services = await build_services(settings, registry)
        try:
            await run_consumer_process(settings, services.executor, services.urls, registry)
        finally:
            await services.aclose()

    asyncio.run(run())


consent_app = typer.Typer(help="Consent workflows", no_args_is_help=True)
app.add_typer(consent_app, name="consent")


@consent_app.command("expire")
def consent_expire() -> None:
    """Record the expiry of every grant past its expiresAt (EXPIRED records and events); idempotent."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)

    async def run() -> None:
        services = await build_services(settings)
        try:
            result = await services.consent_expiry.run_once()
        finally:
            await services.aclose()
        typer.echo(f"{result.expired} grants expired for {result.customers} customers")

    asyncio.run(run())


dedup = typer.Typer(help="Duplicate detection: batch scans and re-indexing", no_args_is_help=True)
app.add_typer(dedup, name="dedup")


@dedup.command("scan")
def dedup_scan(
    tenant: str = typer.Option(..., help="The tenant to scan"),
    job: str | None = typer.Option(None, help="Run (or resume) this job id; default: resume the interrupted one"),
    restart: bool = typer.Option(False, help="Abandon an interrupted scan and start afresh"),
    quiet: bool = typer.Option(False, help="No progress bar (for the API's scan processes)"),
) -> None:
    """Find duplicate candidates in a tenant: train its model, store pairs and clusters for review.

    Resumable: an interrupted scan (Ctrl-C, crash) continues from its last checkpoint when run again."""
    from customer360.infrastructure.duplicate_scan_cli import run_scan_command
    from customer360.infrastructure.forked import in_forked_process

    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)

    async def run() -> int:
        services = await build_services(settings)
        try:
            return await run_scan_command(
                lambda progress: services.scan(
                    tenant, job_id=job, restart=restart, on_progress=progress, offload=in_forked_process
                ),
                quiet=quiet,
            )
        finally:
            await services.aclose()

    raise typer.Exit(asyncio.run(run()))


@dedup.command("reindex")
def dedup_reindex(
    tenant: str = typer.Option(..., help="The tenant whose matching data is rebuilt"),
) -> None:
    """Rebuild every profile's blocking keys and matching features (after changing normalisers or keys)."""
    from customer360.infrastructure.duplicate_scan_cli import run_reindex_command

    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)

    async def run() -> int:
        services = await build_services(settings)
        try:
            return await run_reindex_command(services.scan_store(tenant))
        finally:
            await services.aclose()

    count = asyncio.run(run())
    typer.echo(f"{count} profiles re-indexed")


@app.command("import")
def import_file(
    file: Path | None = typer.Argument(None, help="CSV (header row) or NDJSON file, optionally gzipped"),
    tenant: str = typer.Option(..., help="The tenant to import into"),
    job: str | None = typer.Option(None, help="Apply (or resume) this staged job instead of reading a file"),
    format: str | None = typer.Option(None, help="csv or ndjson (default: from the file name)"),
    on_duplicate: OnDuplicate = typer.Option(OnDuplicate.QUEUE, help="queue (review), skip or create"),
    dry_run: bool = typer.Option(False, help="Validate and match, write nothing but the job and its report"),
    mapping: str | None = typer.Option(None, help='CSV column → field as JSON, e.g. {"Firma": "name"}'),
    quiet: bool = typer.Option(False, help="No progress bar"),
) -> None:
    """Import customers from a file: validated like POST /customers, upserted by external reference or
    customer id, duplicate-checked; resumable after a crash (import --job ID)."""
    from customer360.infrastructure.import_cli import run_import_command

    if (file is None) == (job is None):
        typer.echo("give a FILE or --job", err=True)
        raise typer.Exit(2)
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    given = json.loads(mapping) if mapping else None

    async def run() -> int:
        services = await build_services(settings)
        try:
            return await run_import_command(
                services.import_run(tenant).jobs,
                lambda job_id, progress: services.run_import(tenant, job_id, progress),
                services.clock,
                path=file,
                job_id=job,
                fmt=format,
                on_duplicate=on_duplicate,
                dry_run=dry_run,
                mapping=given,
                quiet=quiet,
            )
        finally:
            await services.aclose()

    raise typer.Exit(asyncio.run(run()))


@app.command("export")
def export_customers(
    tenant: str = typer.Option(..., help="The tenant to export"),
    format: str = typer.Option("ndjson", help="ndjson (full documents) or csv (the import's columns)"),
    output: Path | None = typer.Option(None, help="File to write (default: standard output)"),
    status: str | None = typer.Option(None, help="Only this status (default: all but MERGED and ERASED)"),
    segment: str | None = typer.Option(None),
    kind: str | None = typer.Option(None, help="PERSON or ORGANIZATION"),
    tag: str | None = typer.Option(None),
) -> None:
    """Export the tenant's customers from one consistent snapshot (recorded in the access log)."""
    from customer360.application.queries import CustomerFilter
    from customer360.infrastructure.import_cli import run_export_command

    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    query = CustomerFilter(status=status, segment=segment, kind=kind, tag=tag)

    async def run() -> int:
        services = await build_services(settings)
        try:
            return await run_export_command(services.exports, tenant, fmt=format, output=output, query=query)
        finally:
            await services.aclose()

    raise typer.Exit(asyncio.run(run()))


def _require_kafka(settings: Settings, what: str) -> None:
    if not settings.kafka_bootstrap_servers:
        typer.echo(f"KAFKA_BOOTSTRAP_SERVERS is not set: there is no broker to {what}", err=True)
        raise typer.Exit(2)


def main() -> None:
    app()
