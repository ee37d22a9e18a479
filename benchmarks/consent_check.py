"""Bulk consent check: POST /api/v1/crm/consent/check with 100,000 customer ids. Target: ≤ 1 s.

Loads N synthetic customers with a consent history each (grants, revocations, expiries, pending double
opt-ins, legitimate interest, point-specific records, channel opt-outs in the preferences), starts the
service as its own process, and times the whole request from a client — JSON body of N ids in, the
allowed subset out — and, for the breakdown, the SQL statement alone.

    python benchmarks/consent_check.py                 # N=100000, embedded PostgreSQL
    python benchmarks/consent_check.py --n 20000 --runs 10
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python benchmarks/consent_check.py

The data goes straight into the tables (COPY; the bulk check only reads them), into a database
`c360_consent_bench_<N>` that later runs reuse; the embedded server keeps it in
benchmarks/.cache/consent-pgdata. `--fresh` reloads it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import httpx
import orjson
from benchmarks.cached_server import bench_database, database_server
from sqlalchemy.engine import URL
from tests.support.service import ServiceProcess

from customer360.domain.consent_policy import default_policy
from customer360.domain.ids import CONSENT_PREFIX, CUSTOMER_PREFIX, new_id
from customer360.domain.values import Channel
from customer360.infrastructure.persistence.consent_check import SqlConsentChecks
from customer360.infrastructure.persistence.database import create_engine, derive_urls
from customer360.infrastructure.persistence.migrate import migrate

TENANT = "bench-tenant"
PREFERENCES = [
    [],
    [],
    [],
    [{"channel": "EMAIL", "topic": "MARKETING", "optIn": False}],
    [{"channel": "EMAIL", "topic": "ALL", "optIn": False}],
    [{"channel": "SMS", "topic": "ALL", "optIn": True}],
]


PROFILE_COLUMNS = [
    *("tenant_id", "id", "kind", "status", "name", "search_text", "communication"),
    *("created_at", "created_by", "updated_at", "updated_by", "version"),
]
RECORD_COLUMNS = [
    *("tenant_id", "id", "customer_id", "channel", "purpose", "status", "contact_point_kind"),
    *("contact_point_value", "legal_basis", "source", "evidence", "effective_at", "recorded_at"),
    *("recorded_by", "expires_at"),
]


def _connect_args(server: URL) -> dict[str, Any]:
    return {"host": server.host or server.query.get("host"), "port": server.port, "user": server.username}


def synthetic(n: int, rng: random.Random) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    now = datetime.now(UTC)
    profiles, records = [], []
    for _ in range(n):
        customer_id = new_id(CUSTOMER_PREFIX)
        created = now - timedelta(days=rng.randint(30, 900))
        communication = orjson.dumps({"channels": rng.choice(PREFERENCES)}).decode()
        person = (TENANT, customer_id, "PERSON", "ACTIVE", "Synthetic Person", "synthetic person", communication)
        profiles.append((*person, created, "bench", created, "bench", 1))
        at = created
        for _ in range(rng.choice([1, 1, 2, 2, 3, 4])):
            at += timedelta(days=rng.randint(1, 20))
            channel, purpose = rng.choice(
                [("EMAIL", "MARKETING")] * 4 + [("SMS", "MARKETING"), ("EMAIL", "NEWSLETTER")]
            )
            status = rng.choice(["GRANTED"] * 5 + ["REVOKED", "REVOKED", "PENDING", "EXPIRED"])
            basis = "LEGITIMATE_INTEREST" if rng.random() < 0.1 else "CONSENT"
            expires = (
                at + timedelta(days=rng.choice([30, 365, 730])) if status == "GRANTED" and rng.random() < 0.3 else None
            )
            point = rng.random() < 0.1
            records.append(
                (TENANT, new_id(CONSENT_PREFIX), customer_id, channel, purpose, status)
                + (("EMAIL", "someone@example.com") if point else (None, None))
                + (basis, "IMPORT", "{}", at, at, "bench", expires)
            )
    return profiles, records


async def prepared_database(server: URL, n: int, fresh: bool) -> URL:
    name = f"c360_consent_bench_{n}"
    admin = await bench_database(server, name, fresh)
    await migrate(admin)
    connection = await asyncpg.connect(database=name, **_connect_args(server))
    try:
        loaded = await connection.fetchval(
            "SELECT count(*) FROM crm_customer360.customer_profile WHERE tenant_id = $1", TENANT
        )
        if loaded == n:
            print(f"reusing {name}: {n:,} customers already loaded")
            return admin
        started = time.perf_counter()
        profiles, records = synthetic(n, random.Random(20261128))
        await connection.execute("DELETE FROM crm_customer360.consent_record WHERE tenant_id = $1", TENANT)
        await connection.execute("DELETE FROM crm_customer360.customer_profile WHERE tenant_id = $1", TENANT)
        await connection.copy_records_to_table(
            "customer_profile",
            schema_name="crm_customer360",
            columns=PROFILE_COLUMNS,
            records=profiles,
        )
        await connection.copy_records_to_table(
            "consent_record",
            schema_name="crm_customer360",
            columns=RECORD_COLUMNS,
            records=records,
        )
        await connection.execute("VACUUM ANALYZE crm_customer360.customer_profile")
        await connection.execute("VACUUM ANALYZE crm_customer360.consent_record")
        print(f"loaded {n:,} customers, {len(records):,} consent records in {time.perf_counter() - started:.1f} s")
    finally:
        await connection.close()
    return admin


async def customer_ids(admin: URL) -> list[str]:
    connection = await asyncpg.connect(database=admin.database, **_connect_args(admin))
    try:
        rows = await connection.fetch("SELECT id FROM crm_customer360.customer_profile WHERE tenant_id = $1", TENANT)
    finally:
        await connection.close()
    ids = [r[0] for r in rows]
    random.Random(7).shuffle(ids)
    return ids


def report(label: str, seconds: list[float], ids: int, allowed: int) -> None:
    best, median = min(seconds), statistics.median(seconds)
    print(
        f"{label:<44} best {best:6.3f} s   median {median:6.3f} s   max {max(seconds):6.3f} s   "
        f"{ids / median:>10,.0f} ids/s   ({ids:,} ids, {allowed:,} allowed, {len(seconds)} runs)"
    )


async def sql_only(admin: URL, ids: list[str], runs: int) -> None:
    urls = derive_urls(admin)
    engine = create_engine(urls.app, pool_size=1)
    checks = SqlConsentChecks(engine, urls.app, pool_size=1)
    policy = default_policy("MARKETING")
    try:
        allowed = await checks.allowed(TENANT, ids, Channel.EMAIL, policy, datetime.now(UTC))  # warm-up
        seconds = []
        for _ in range(runs):
            started = time.perf_counter()
            allowed = await checks.allowed(TENANT, ids, Channel.EMAIL, policy, datetime.now(UTC))
            seconds.append(time.perf_counter() - started)
        report("SQL statement (asyncpg, in process)", seconds, len(ids), len(allowed))
    finally:
        await checks.close()
        await engine.dispose()


def over_http(port: int, ids: list[str], runs: int) -> None:
    headers = {"X-User-Id": "bench", "X-Tenant-ID": TENANT, "X-User-Permissions": "crm.consent:read"}
    url = f"http://127.0.0.1:{port}/api/v1/crm/consent/check"
    json_body = orjson.dumps({"channel": "EMAIL", "purpose": "MARKETING", "customerIds": ids})
    text_body = "\n".join(ids).encode()
    with httpx.Client(timeout=60) as http:
        for label, body, content_type in (
            ("POST /consent/check (JSON body), end to end", json_body, "application/json"),
            ("POST /consent/check (text/plain), end to end", text_body, "text/plain"),
        ):
            params = {} if content_type == "application/json" else {"channel": "EMAIL", "purpose": "MARKETING"}
            send = {**headers, "Content-Type": content_type}
            seconds, allowed = [], 0
            for run in range(runs + 1):
                started = time.perf_counter()
                response = http.post(url, content=body, params=params, headers=send)
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, response.text[:500]
                allowed = len(response.json()["allowed"])
                if run:  # the first run warms the pool and the caches
                    seconds.append(elapsed)
            report(label, seconds, len(ids), allowed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="customers to load and check")
    parser.add_argument("--runs", type=int, default=7, help="measured runs of each variant")
    parser.add_argument("--fresh", action="store_true", help="drop and reload the benchmark database")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    admin = asyncio.run(prepared_database(database_server("consent-pgdata"), args.n, args.fresh))
    ids = asyncio.run(customer_ids(admin))
    asyncio.run(sql_only(admin, ids, args.runs))
    with tempfile.TemporaryDirectory(prefix="c360-bench-") as tmp:
        service = ServiceProcess(
            admin.render_as_string(hide_password=False),
            Path(tmp) / "service.log",
            LOG_LEVEL="WARNING",
            CONSENT_EXPIRY_IN_SERVE="false",
        )
        service.start()
        try:
            over_http(service.port, ids, args.runs)
        finally:
            service.stop()


if __name__ == "__main__":
    main()
