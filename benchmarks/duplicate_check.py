"""The real-time duplicate check and the batch scan with 1,000,000 profiles in one tenant.

1. Loads N synthetic profiles (benchmarks/synthetic_customers.py: persons and organisations, 5 % of them
   corrupted copies of others) with their matching data by COPY (benchmarks/duplicate_load.py). The
   loaded database is kept under benchmarks/.cache/pgdata (BENCH_DATABASE_URL: a database
   ``c360_dedup_<N>`` on that server) and reused by later runs; ``--fresh`` reloads it.
2. Runs the batch scan to the end as ``customer360 dedup scan`` (its own process, as in production) and
   reports its time, the scan process's peak memory and its pair precision/recall against the copies.
3. Starts the service (``customer360 serve``) and sends, from a separate process, corrupted copies of
   existing profiles and new customers to ``POST /duplicates/check``, then the likely duplicates to
   ``POST /customers`` (answered 409, nothing written); prints p50/p95/p99 and what the check found.

    python benchmarks/duplicate_check.py                   # N = 1,000,000
    python benchmarks/duplicate_check.py --n 100000 --skip-scan
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from benchmarks.cached_server import database_server
from benchmarks.duplicate_load import load
from benchmarks.synthetic_customers import Synthetic, corrupt, organisation, person
from sqlalchemy.engine import URL
from tests.support.service import ServiceProcess

TENANT = "bench-tenant"
HEADERS = (
    f"X-User-Id: bench\r\nX-Tenant-ID: {TENANT}\r\n"
    "X-User-Permissions: crm.customer:read,crm.customer:write,crm.duplicates:read\r\n"
    "Content-Type: application/json\r\n"
)


def _dsn(url: URL, database: str) -> dict[str, Any]:
    return {"host": url.host or url.query.get("host"), "port": url.port, "user": url.username, "database": database}


async def prepared_database(server: URL, n: int, fresh: bool) -> URL:
    """The benchmark database with N profiles, loaded now unless a previous run loaded it completely."""
    from customer360.infrastructure.persistence.migrate import migrate

    name = f"c360_dedup_{n}"
    root = await asyncpg.connect(**_dsn(server, server.database or "postgres"))
    try:
        exists = await root.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        loaded = False
        if exists and not fresh:
            bench = await asyncpg.connect(**_dsn(server, name))
            try:
                loaded = bool(await bench.fetchval("SELECT to_regclass('public.bench_meta') IS NOT NULL")) and bool(
                    await bench.fetchval("SELECT count(*) FROM public.bench_meta")
                )
            finally:
                await bench.close()
        if loaded:
            print(f"reusing {name}: {n:,} profiles already loaded")
            return server.set(drivername="postgresql+asyncpg", database=name)
        if exists:
            await root.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await root.execute(f'CREATE DATABASE "{name}"')
    finally:
        await root.close()
    admin = server.set(drivername="postgresql+asyncpg", database=name)
    await migrate(admin)
    print(f"loading {n:,} synthetic profiles into {name} ...", flush=True)
    await load(_dsn(server, name), n, TENANT)
    return admin


# --- the batch scan -----------------------------------------------------------------------------------


def run_scan(admin: URL, server: URL, name: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "DATABASE_URL": admin.render_as_string(hide_password=False),
        "MIGRATE_ON_START": "false",
        "LOG_LEVEL": "WARNING",
    }
    print("scan: customer360 dedup scan (its own process) ...", flush=True)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "customer360", "dedup", "scan", "--tenant", TENANT, "--restart", "--quiet"], env=env
    )
    while process.poll() is None:
        time.sleep(15)
        status = asyncio.run(_scan_status(server, name))
        if status:
            print(f"  {time.perf_counter() - started:6.0f} s  {status}", flush=True)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if process.returncode:
        raise SystemExit(f"the scan failed with exit code {process.returncode}")
    return {"seconds": seconds, "peak_mb": peak_mb, **asyncio.run(_scan_quality(server, name))}


async def _scan_status(server: URL, name: str) -> str:
    connection = await asyncpg.connect(**_dsn(server, name))
    try:
        row = await connection.fetchrow(
            "SELECT phase, processed, total FROM crm_customer360.duplicate_scan ORDER BY requested_at DESC LIMIT 1"
        )
        return f"{row['phase']:<10} {row['processed']:>9,} / {row['total']:,}" if row else ""
    finally:
        await connection.close()


async def _scan_quality(server: URL, name: str) -> dict[str, Any]:
    """Stored pairs against the truth: copies of one original (and the original) are one customer."""
    connection = await asyncpg.connect(**_dsn(server, name))
    try:
        job = await connection.fetchrow(
            "SELECT id, result FROM crm_customer360.duplicate_scan ORDER BY requested_at DESC LIMIT 1"
        )
        truth = await connection.fetch("SELECT dup_id, original_id FROM public.bench_truth")
        stored = await connection.fetch(
            "SELECT low_id, high_id FROM crm_customer360.duplicate_candidate WHERE scan_id = $1", job["id"]
        )
        profiles = await connection.fetchval("SELECT count(*) FROM crm_customer360.match_record")
    finally:
        await connection.close()
    groups: dict[str, set[str]] = {}
    for dup, original in truth:
        groups.setdefault(original, {original}).add(dup)
    true_pairs = {frozenset((a, b)) for members in groups.values() for a in members for b in members if a < b}
    found = {frozenset((r["low_id"], r["high_id"])) for r in stored}
    hits = len(found & true_pairs)
    return {
        "profiles": profiles,
        "result": json.loads(job["result"]),
        "true_pairs": len(true_pairs),
        "precision": hits / len(found) if found else 0.0,
        "recall": hits / len(true_pairs) if true_pairs else 0.0,
    }


# --- the real-time check ------------------------------------------------------------------------------


async def _probes(server: URL, name: str, count: int) -> list[tuple[str, str | None, dict[str, Any]]]:
    """(kind, original id, body): corrupted copies of existing profiles and new customers, half each."""
    connection = await asyncpg.connect(**_dsn(server, name))
    try:
        samples = await connection.fetch("SELECT id, synthetic FROM public.bench_sample ORDER BY id")
    finally:
        await connection.close()
    rng = random.Random(2026)
    probes: list[tuple[str, str | None, dict[str, Any]]] = []
    for row in rng.sample(list(samples), min(count // 2, len(samples))):
        original = Synthetic(**json.loads(row["synthetic"]))
        probes.append(("copy", row["id"], corrupt(rng, original).body()))
    fresh = random.Random(4711)
    for _ in range(count - len(probes)):
        new = person(fresh) if fresh.random() < 0.7 else organisation(fresh)
        probes.append(("new", None, new.body()))
    rng.shuffle(probes)
    return probes


async def _client(port: int, requests: list[tuple[str, bytes]], out: list[tuple[float, int, bytes]]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for path, body in requests:
            head = f"POST {path} HTTP/1.1\r\nHost: bench\r\n{HEADERS}Content-Length: {len(body)}\r\n\r\n"
            started = time.perf_counter()
            writer.write(head.encode() + body)
            response = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line[15:]) for line in response.split(b"\r\n") if line[:15].lower() == b"content-length:")
            payload = await reader.readexactly(length)
            out.append((time.perf_counter() - started, int(response[9:12]), payload))
    finally:
        writer.close()


def _drive(port: int, requests: list[tuple[str, bytes]], concurrency: int, queue: Any) -> None:
    results: list[list[tuple[float, int, bytes]]] = [[] for _ in range(concurrency)]

    async def run() -> None:
        shares = [requests[i::concurrency] for i in range(concurrency)]
        await asyncio.gather(*(_client(port, share, out) for share, out in zip(shares, results, strict=True)))

    started = time.perf_counter()
    asyncio.run(run())
    queue.put(([r for part in results for r in part], time.perf_counter() - started))


def drive(port: int, requests: list[tuple[str, bytes]], concurrency: int) -> tuple[list[Any], float]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_drive, args=(port, requests, concurrency, queue))
    process.start()
    outcome = queue.get()
    process.join()
    return outcome  # type: ignore[no-any-return]


def report(label: str, results: list[tuple[float, int, bytes]], seconds: float) -> dict[str, float]:
    ordered = sorted(r[0] for r in results)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    statuses: dict[int, int] = {}
    for _, status, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    figures = {"p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99), "rps": len(ordered) / seconds}
    print(
        f"{label:<44} p50 {figures['p50']:6.2f} ms   p95 {figures['p95']:6.2f} ms   p99 {figures['p99']:6.2f} ms"
        f"   {figures['rps']:6.0f} req/s   ({len(ordered):,} requests, statuses {dict(sorted(statuses.items()))})"
    )
    return figures


def check_benchmark(admin: URL, server: URL, name: str, count: int, workers: int) -> None:
    probes = asyncio.run(_probes(server, name, count))
    check = [("/api/v1/crm/duplicates/check", json.dumps(body).encode()) for _, _, body in probes]
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="c360-dedup-") as tmp:
        service = ServiceProcess(
            admin.render_as_string(hide_password=False),
            Path(tmp) / "service.log",
            HTTP_WORKERS=str(workers),
            MIGRATE_ON_START="false",
            LOG_LEVEL="WARNING",
            ACCESS_LOG_ENABLED="false",
        )
        service.start()
        stack.callback(service.stop)
        print(f"service: {workers} uvicorn workers; {len(probes):,} probes (half copies of existing profiles)")
        drive(service.port, check[:300], 1)  # warm-up: connections, prepared statements, caches
        results, seconds = drive(service.port, check, 1)
        report("POST /duplicates/check, 1 client", results, seconds)
        _quality(probes, [r[2] for r in results])
        results, seconds = drive(service.port, check, 4)
        report("POST /duplicates/check, 4 clients", results, seconds)
        likely = [
            ("/api/v1/crm/customers", json.dumps(body).encode())
            for (_, _, body), (_, _, answer) in zip(probes, drive(service.port, check, 1)[0], strict=True)
            if json.loads(answer)["likelyDuplicate"]
        ]
        results, seconds = drive(service.port, likely, 1)
        report("POST /customers (likely duplicate: 409), 1 client", results, seconds)


def _quality(probes: list[tuple[str, str | None, dict[str, Any]]], answers: list[bytes]) -> None:
    found = likely = new_flagged = 0
    copies = sum(1 for kind, _, _ in probes if kind == "copy")
    for (kind, original, _), raw in zip(probes, answers, strict=True):
        answer = json.loads(raw)
        ids = [c["customerId"] for c in answer["candidates"]]
        if kind == "copy":
            found += original in ids
            likely += bool(ids) and ids[0] == original and answer["likelyDuplicate"]
        else:
            new_flagged += answer["likelyDuplicate"]
    print(
        f"  copies of existing profiles: original among the candidates {found / copies:.1%}, "
        f"refused on create (original first, >= likely threshold) {likely / copies:.1%}; "
        f"new customers refused on create {new_flagged / (len(probes) - copies):.1%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="profiles in the tenant")
    parser.add_argument("--probes", type=int, default=2000, help="check requests (half copies, half new)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--fresh", action="store_true", help="drop and reload the benchmark database")
    parser.add_argument("--skip-scan", action="store_true", help="only the real-time check")
    parser.add_argument("--skip-check", action="store_true", help="only the batch scan")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    server = database_server()
    admin = asyncio.run(prepared_database(server, args.n, args.fresh))
    name = admin.database or ""
    if not args.skip_scan:
        scan = run_scan(admin, server, name)
        print(
            f"scan of {scan['profiles']:,} profiles: {scan['seconds']:.0f} s, peak RSS of the scan process "
            f"{scan['peak_mb']:,.0f} MB; {scan['result']}"
        )
        print(
            f"  pairs stored vs the {scan['true_pairs']:,} true pairs: precision {scan['precision']:.4f}, "
            f"recall {scan['recall']:.4f}"
        )
    if not args.skip_check:
        check_benchmark(admin, server, name, args.probes, args.workers)


if __name__ == "__main__":
    main()
