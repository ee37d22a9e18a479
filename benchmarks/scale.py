"""One million profiles: lookup, search (every criterion, typeahead), create, duplicate check, bulk consent
check and the change feed, each under load beside the canary of the same run.

1. Loads N synthetic profiles (benchmarks/synthetic_customers.py, 5 % of them corrupted copies) by COPY with
   everything the service derives from them (benchmarks/duplicate_load.py: look-up keys, an ERP reference,
   search tokens, matching data), plus one consent record per profile with an e-mail and a change-feed
   event for every fifth profile. The database is kept under benchmarks/.cache/pgdata
   (BENCH_DATABASE_URL: a database ``c360_scale_<N>`` on that server) and reused; ``--fresh`` reloads it.
2. Starts the service (``customer360 serve``, one uvicorn worker) and drives each request kind from C
   keep-alive clients in a separate process (benchmarks/lookup.py's load generator, canary and CPU
   accounting): throughput, p50/p95/p99 and CPU time per request of the service, PostgreSQL and the load
   generator. Creations are new customers, each sent once, with the duplicate check on (the default).

    python benchmarks/scale.py                       # N = 1,000,000, 16 clients, 20 s per run
    python benchmarks/scale.py --n 100000 --seconds 10 --only search
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from benchmarks.cached_server import bench_database, database_server
from benchmarks.duplicate_load import load
from benchmarks.lookup import TENANT, Request, canary, count_postgres_of, drive, report
from benchmarks.synthetic_customers import Synthetic, organisation, person
from sqlalchemy.engine import URL
from tests.support.service import ServiceProcess

from customer360.domain.ids import CONSENT_PREFIX, EVENT_PREFIX, new_id

SCHEMA = "crm_customer360"
CONSENT_COLUMNS = [
    *("tenant_id", "id", "customer_id", "channel", "purpose", "status", "legal_basis", "source"),
    *("effective_at", "recorded_at", "recorded_by"),
]
OUTBOX_COLUMNS = [
    *("tenant_id", "event_id", "event_type", "aggregate_id", "correlation_id", "envelope"),
    *("created_at", "published_at"),
]
WRITE = "crm.customer:read,crm.customer:write,crm.duplicates:read"


def scale_rows(rows: dict[str, Any], tenant: str) -> list[tuple[str, list[str], list[tuple[Any, ...]]]]:
    """Consent records (one per profile with an e-mail) and change-feed events (every fifth profile)."""
    consents, events = [], []
    rng = random.Random(rows["profiles"][0][1])
    for number, profile in enumerate(rows["profiles"]):
        customer_id, created = profile[1], profile[16]
        if profile[12] != "[]":  # emails
            status = "GRANTED" if rng.random() < 0.6 else "REVOKED"
            at = created - timedelta(days=rng.randint(1, 900))
            consents.append(
                (
                    tenant,
                    new_id(CONSENT_PREFIX),
                    customer_id,
                    "EMAIL",
                    "MARKETING",
                    status,
                    "CONSENT",
                    "IMPORT",
                    at,
                    at,
                    "bench-loader",
                )
            )
        if number % 5 == 0:
            event_id = new_id(EVENT_PREFIX)
            envelope = {
                "eventType": "CustomerProfileCreatedEvent",
                "eventId": event_id,
                "timestamp": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "aggregateId": customer_id,
                "tenantId": tenant,
                "correlationId": "bench-load",
                "payload": {"customerId": customer_id, "name": profile[4], "status": "ACTIVE", "segment": None},
            }
            events.append((tenant, event_id, envelope["eventType"], customer_id, "bench-load"))
            events[-1] += (json.dumps(envelope), created, created)
    return [("consent_record", CONSENT_COLUMNS, consents), ("event_outbox", OUTBOX_COLUMNS, events)]


def _dsn(url: URL, database: str) -> dict[str, Any]:
    return {"host": url.host or url.query.get("host"), "port": url.port, "user": url.username, "database": database}


async def prepared_database(server: URL, n: int, fresh: bool) -> URL:
    """The benchmark database with N profiles, loaded now unless a previous run loaded it completely."""
    from customer360.infrastructure.persistence.migrate import migrate

    name = f"c360_scale_{n}"
    admin = await bench_database(server, name, fresh)
    await migrate(admin)
    bench = await asyncpg.connect(**_dsn(server, name))
    try:
        loaded = bool(await bench.fetchval("SELECT to_regclass('public.bench_meta') IS NOT NULL")) and bool(
            await bench.fetchval("SELECT count(*) FROM public.bench_meta")
        )
    finally:
        await bench.close()
    if loaded:
        print(f"reusing {name}: {n:,} profiles already loaded")
    else:
        await load(_dsn(server, name), n, TENANT, extra=scale_rows)
    return admin


async def samples(admin: URL, count: int) -> dict[str, Any]:
    """Ids, synthetic originals (names, e-mails, phones, addresses) and feed positions to ask for."""
    connection = await asyncpg.connect(**_dsn(admin, admin.database or ""))
    try:
        if admin.host in (None, "localhost", "127.0.0.1", "::1"):  # a server of this machine
            count_postgres_of(await connection.fetchval("SELECT pg_backend_pid()"))
        ids = [
            r[0]
            for r in await connection.fetch(
                f"SELECT id FROM {SCHEMA}.customer_profile TABLESAMPLE SYSTEM (1) REPEATABLE (7) LIMIT $1", count
            )
        ]
        originals = [
            (r[0], Synthetic(**json.loads(r[1])))
            for r in await connection.fetch("SELECT id, synthetic FROM public.bench_sample ORDER BY id LIMIT $1", count)
        ]
        refs = [
            r[0]
            for r in await connection.fetch(
                f"SELECT external_id FROM {SCHEMA}.external_reference TABLESAMPLE SYSTEM (1) REPEATABLE (7) LIMIT 2000"
            )
        ]
        positions = await connection.fetchrow(
            f"SELECT min(position), max(position) FROM {SCHEMA}.event_outbox WHERE tenant_id = $1", TENANT
        )
        consent_ids = [
            r[0]
            for r in await connection.fetch(
                f"SELECT customer_id FROM {SCHEMA}.consent_record TABLESAMPLE SYSTEM (20) REPEATABLE (7) LIMIT 100000"
            )
        ]
    finally:
        await connection.close()
    return {"ids": ids, "originals": originals, "refs": refs, "positions": positions, "consent_ids": consent_ids}


def _search(**params: Any) -> str:
    return f"/api/v1/crm/customers/search?{urlencode(params)}"


def search_requests(data: dict[str, Any]) -> dict[str, list[Request]]:
    """Per criterion, what a service desk types: whole names, a name and its family name's start, a word
    with a typo, e-mails and phones written otherwise, streets, cities, postcodes, free text."""
    rng = random.Random(11)
    by: dict[str, list[Request]] = {
        k: [] for k in ("name", "email", "phone", "address", "free text", "typeahead", "tax id / reference")
    }
    for _, s in data["originals"]:
        name = s.name or f"{s.given} {s.family}"
        words = name.split()
        by["name"].append(_search(name=name.lower(), limit=10))
        if len(words) > 1:
            by["name"].append(_search(name=f"{words[0]} {words[-1][:4]}", limit=10))
        typo = words[-1]
        if len(typo) > 5:
            i = rng.randrange(2, len(typo) - 1)
            by["name"].append(_search(name=typo[:i] + typo[i + 1 :], limit=10))
        by["typeahead"].append(_search(name=words[-1][: rng.randint(2, 4)], limit=10))
        if s.email:
            by["email"].append(_search(email=s.email.upper(), limit=10))
        if s.phone:
            by["phone"].append(_search(phone=s.phone.replace("+49 ", "0").replace(" ", "-"), limit=10))
        if s.street and s.city:
            street = s.street.replace("straße", "str.")
            by["address"].append(_search(street=street, city=s.city, limit=10))
            by["address"].append(_search(postalCode=s.postal_code, street=street.split()[0], limit=10))
            by["address"].append(_search(city=s.city, name=words[-1], limit=10))
        by["free text"].append(_search(q=" ".join(words[-2:]).lower(), limit=10))
        if s.email:
            by["free text"].append(_search(q=s.email, limit=10))
        if s.tax_id:
            by["tax id / reference"].append(_search(taxId=s.tax_id, limit=10))
    for ref in data["refs"]:
        by["tax id / reference"].append(_search(q=ref, limit=10))
        by["free text"].append(_search(q=ref, limit=10))
    return by


def create_requests(count: int) -> list[Request]:
    rng = random.Random(time.time_ns())  # new customers every run: a repeated body would be a duplicate (409)
    return [
        (
            "POST",
            "/api/v1/crm/customers",
            json.dumps((person(rng) if rng.random() < 0.7 else organisation(rng)).body()).encode(),
        )
        for _ in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="profiles to load")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--write-concurrency", type=int, default=8, help="clients of the create run")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each measured run")
    parser.add_argument(
        "--warm-up",
        type=float,
        default=30.0,
        help="seconds of the whole search mix, not counted, before the searches are measured",
    )
    parser.add_argument("--fresh", action="store_true", help="drop and reload the benchmark database")
    parser.add_argument("--only", default="", help="comma-separated: lookup,search,create,dedup,consent,feed")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))

    def wanted(kind: str) -> bool:
        return not only or kind in only

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()},"
        f" load average {os.getloadavg()[0]:.2f}"
    )
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="c360-scale-") as tmp:
        admin = asyncio.run(prepared_database(database_server(), args.n, args.fresh))
        data = asyncio.run(samples(admin, 20_000))
        service = ServiceProcess(
            admin.render_as_string(hide_password=False),
            Path(tmp) / "service.log",
            DB_POOL_SIZE=str(args.concurrency),
            LOG_LEVEL="WARNING",
        )
        service.start()
        stack.callback(service.stop)
        assert service.process is not None
        pid, port, c = service.process.pid, service.port, args.concurrency
        lookups: list[Request] = [f"/api/v1/crm/customers/{i}" for i in data["ids"]]
        print(f"service: 1 uvicorn worker; {c} keep-alive clients, {args.seconds:.0f} s per run")
        canary(lookups, c)
        if wanted("lookup"):
            drive(port, lookups, c, 3.0, pid)
            report("GET /customers/{id}", drive(port, lookups, c, args.seconds, pid), args.seconds)
        if wanted("search"):
            by_kind = search_requests(data)
            if args.warm_up > 0:
                # A server that has just started reads the word index and the profiles from disk or the OS
                # cache: whichever criterion ran first paid for it (a name search's database time x4). Every
                # criterion's requests, interleaved, until the working set is read in; reported, not counted.
                mix = [r for requests in by_kind.values() for r in requests]
                warm = drive(port, mix, c, args.warm_up, pid)
                report(f"warm-up: every search, {args.warm_up:.0f} s", warm, args.warm_up)
            for kind, requests in by_kind.items():
                drive(port, requests, c, 2.0, pid)
                report(f"search: {kind}", drive(port, requests, c, args.seconds, pid), args.seconds)
        if wanted("feed"):
            low, high = data["positions"]
            feed: list[Request] = [
                f"/api/v1/crm/events?after={random.Random(i).randint(low, high)}&limit=100" for i in range(5_000)
            ]
            drive(port, feed, c, 2.0, pid, permissions="crm.events:read")
            report(
                "GET /events (100 per page)", drive(port, feed, c, args.seconds, pid, "crm.events:read"), args.seconds
            )
        if wanted("dedup"):
            rng = random.Random(5)
            check: list[Request] = [
                ("POST", "/api/v1/crm/duplicates/check", json.dumps(person(rng).body()).encode()) for _ in range(5_000)
            ]
            drive(port, check, c, 2.0, pid, WRITE)
            report("POST /duplicates/check", drive(port, check, c, args.seconds, pid, WRITE), args.seconds)
        if wanted("consent"):
            ids = data["consent_ids"]
            body = json.dumps({"channel": "EMAIL", "purpose": "MARKETING", "customerIds": ids}).encode()
            consent: list[Request] = [("POST", "/api/v1/crm/consent/check", body)]
            drive(port, consent, 1, 2.0, pid, "crm.consent:read")
            run = drive(port, consent, 1, args.seconds, pid, "crm.consent:read")
            report(f"POST /consent/check ({len(ids):,} ids), 1 client", run, args.seconds)
        if wanted("create"):
            w = args.write_concurrency
            creates = create_requests(int(args.seconds * 1_500) + 3_000)
            drive(port, creates[:1_000], w, 2.0, pid, WRITE, once=True)
            run = drive(port, creates[1_000:], w, args.seconds, pid, WRITE, once=True)
            report(f"POST /customers (duplicate check on), {w} clients", run, args.seconds)


if __name__ == "__main__":
    main()
