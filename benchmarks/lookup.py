"""Profile lookup and search under concurrent load.

Loads N synthetic profiles (with contacts and consents) through the real application layer, starts the
service as its own process, then drives GET /customers/{id} and GET /customers/search from C concurrent
keep-alive connections in a separate process, and prints throughput, p50/p95/p99 and the CPU time per
request of the service, PostgreSQL and the load generator. A canary (a FastAPI route answering a constant,
under the same load) runs first: it says how fast the shared machine is at the time.

    python benchmarks/lookup.py                      # N=100000, 16 clients, embedded PostgreSQL
    python benchmarks/lookup.py --n 10000 --seconds 10 --workers 2
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python benchmarks/lookup.py

Data is synthetic (random names, example.com addresses, 555-style numbers). Loading 100,000 profiles
through the application takes 10-20 minutes here, so the loaded database is kept and reused by later runs: the
embedded server's data lives in benchmarks/.cache/pgdata (BENCH_DATABASE_URL: a database
`c360_bench_<N>` on that server). `--fresh` drops and reloads it.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import platform
import random
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil
from benchmarks.cached_server import bench_database, database_server
from sqlalchemy.engine import URL
from tests.support.inputs import contact_inputs, profile_input
from tests.support.service import ServiceProcess, free_port

from customer360.application.consents import RecordConsent, record_consent
from customer360.application.context import RequestContext, SystemClock
from customer360.application.customers import CreateCustomerProfile, create_customer_profile
from customer360.application.environment import HandlerEnv
from customer360.infrastructure.messaging.envelopes import envelope
from customer360.infrastructure.persistence.database import create_engine, derive_urls
from customer360.infrastructure.persistence.migrate import migrate
from customer360.infrastructure.persistence.unit_of_work import SqlUnitOfWork

TENANT = "bench-tenant"
GIVEN = ["Anna", "Ben", "Clara", "David", "Eva", "Felix", "Greta", "Hugo", "Ida", "Jonas", "Karla", "Lukas"]
FAMILY = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann"]
SYLLABLES = [
    "ka",
    "lo",
    "mer",
    "tin",
    "ber",
    "sa",
    "vo",
    "rin",
    "del",
    "ta",
    "no",
    "gus",
    "pe",
    "lan",
    "dor",
    "fi",
    "mo",
    "ra",
    "zen",
    "bu",
    "ste",
    "wa",
    "hol",
    "ki",
    "tra",
    "ne",
    "sol",
    "ma",
    "gre",
    "ju",
    "ven",
    "ol",
]
TRADES = ["Maschinenbau", "Logistik", "Systems", "Handel", "Bau", "Chemie", "Software", "Consulting", "Foods", "Textil"]
FORMS = ["GmbH", "AG", "KG", "SE", "Ltd", "Inc.", "GmbH & Co. KG", "S.A.R.L."]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def synthetic_customer(i: int, rng: random.Random) -> dict[str, Any]:
    # Company names as diverse as real ones: invented words, a trade and a legal form.
    name = f"{_word(rng)} {rng.choice([_word(rng), rng.choice(TRADES)])} {rng.choice(FORMS)}"
    domain = f"c{i}.example.com"
    return {
        "name": name,
        "segment": rng.choice(["SMB", "MID", "ENTERPRISE"]),
        "emails": [{"address": f"info@{domain}", "primary": True}],
        "phones": [{"number": f"+49 30 {5550000 + i % 4_000_000}", "type": "LANDLINE"}],
        "addresses": [
            {
                "type": "BILLING",
                "lines": [f"Hauptstraße {i % 200 + 1}"],
                "city": "Berlin",
                "postal_code": "10115",
                "country": "DE",
            }
        ],
        "tags": [rng.choice(["key-account", "reseller", "prospect"])],
        "external_refs": [{"source_system": "ERP", "external_id": f"K{i:08d}"}],
    }


def synthetic_contacts(i: int, rng: random.Random) -> tuple[dict[str, Any], ...]:
    return tuple(
        {
            "given_name": rng.choice(GIVEN),
            "family_name": rng.choice(FAMILY),
            "roles": [role],
            "primary": True,
            "emails": [{"address": f"{role.lower()}{i}@c{i}.example.com"}],
        }
        for role in ("BILLING", "SALES")
    )


async def load(admin: URL, n: int, batch: int = 250) -> tuple[list[str], list[dict[str, Any]]]:
    """Create N profiles through the real handlers, many per transaction (outbox and audit included)."""
    await migrate(admin)
    engine = create_engine(derive_urls(admin).app, pool_size=4)
    rng = random.Random(42)
    ids: list[str] = []
    samples: list[dict[str, Any]] = []
    context = RequestContext(tenant_id=TENANT, actor="bench-loader", correlation_id="bench-load")
    env = HandlerEnv(context=context, clock=SystemClock(), phone_region="DE", hasher=lambda v: v)
    started = time.perf_counter()

    async def one_batch(start: int) -> None:
        async with SqlUnitOfWork(engine, context, envelope) as uow:
            for i in range(start, min(start + batch, n)):
                data = synthetic_customer(i, rng)
                created = await create_customer_profile(
                    CreateCustomerProfile(profile_input(data), contacts=contact_inputs(synthetic_contacts(i, rng))),
                    uow,
                    env,
                )
                for channel in ("EMAIL", "SMS"):
                    status = rng.choice(["GRANTED", "REVOKED"])
                    await record_consent(RecordConsent(created.customer_id, channel, status), uow, env)
                ids.append(created.customer_id)
                if i % 97 == 0:
                    samples.append(
                        {
                            "name": data["name"],
                            "email": data["emails"][0]["address"],
                            "phone": data["phones"][0]["number"],
                        }
                    )
            await uow.commit()

    semaphore = asyncio.Semaphore(3)

    async def guarded(start: int) -> None:
        async with semaphore:
            await one_batch(start)

    await asyncio.gather(*(guarded(s) for s in range(0, n, batch)))
    await engine.dispose()
    seconds = time.perf_counter() - started
    print(f"loaded {n:,} profiles (2 contacts, 2 consent records each) in {seconds:.1f} s ({n / seconds:,.0f}/s)")
    return ids, samples


# --- load generator (runs in its own process) -------------------------------------------------------


# A GET path, or (method, path, body).
Request = str | tuple[str, str, bytes]
READ = "crm.customer:read"


async def _client(
    port: int,
    requests: Iterator[Request],
    headers: bytes,
    deadline: float,
    latencies: list[float],
    errors: list[int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            request = next(requests)
            method, path, body = ("GET", request, b"") if isinstance(request, str) else request
            head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\n".encode() + headers
            if body:
                head += b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n"
            started = time.perf_counter()
            writer.write(head + b"\r\n" + body)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status >= 400:
                errors.append(status)
    finally:
        writer.close()


def _drive(
    port: int, requests: list[Request], concurrency: int, seconds: float, queue: Any, permissions: str, once: bool
) -> None:
    headers = f"X-User-Id: bench\r\nX-Tenant-ID: {TENANT}\r\nX-User-Permissions: {permissions}\r\n".encode()
    latencies: list[float] = []
    errors: list[int] = []
    rng = random.Random()
    # once: every request is sent at most once, in order (creations must not repeat); else at random.
    source = iter(requests) if once else (rng.choice(requests) for _ in itertools.count())

    async def run() -> None:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(
            *(_client(port, source, headers, deadline, latencies, errors) for _ in range(concurrency)),
            return_exceptions=once,  # a client that runs out of requests stops
        )

    import uvloop  # the service's own event loop; the load generator shares the two cores, so it stays lean

    cpu = time.process_time()
    uvloop.run(run())
    queue.put((latencies, errors, time.process_time() - cpu))


@dataclass(frozen=True)
class Run:
    latencies: list[float]
    errors: list[int]
    cpu_seconds: dict[str, float]  # CPU time of the service, PostgreSQL and the load generator during the run


def drive(
    port: int,
    requests: list[Request],
    concurrency: int,
    seconds: float,
    service_pid: int,
    permissions: str = READ,
    once: bool = False,
) -> Run:
    """Send requests from ``concurrency`` keep-alive clients in a separate process for ``seconds``."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_drive, args=(port, requests, concurrency, seconds, queue, permissions, once))
    before = _cpu_snapshot(service_pid)
    process.start()
    latencies, errors, load_cpu = queue.get()
    process.join()
    after = _cpu_snapshot(service_pid)
    cpu = {who: sum(t - before[who].get(pid, 0.0) for pid, t in times.items()) for who, times in after.items()}
    return Run(latencies, errors, {**cpu, "load generator": load_cpu})


_postmaster: int | None = None


def count_postgres_of(backend_pid: int) -> None:
    """Count only the processes of the server that runs ``backend_pid`` (a connection's
    ``pg_backend_pid()``): other PostgreSQL servers on a shared machine then stay out of the figures."""
    global _postmaster
    _postmaster = psutil.Process(backend_pid).ppid()


def _cpu_snapshot(service_pid: int) -> dict[str, dict[int, float]]:
    """CPU seconds per process of the service (with its children) and of the benchmark's PostgreSQL server
    (``count_postgres_of``; else of every PostgreSQL process on this machine, and a server elsewhere counts
    as zero). Differences are taken per process, so a backend that ends during a run drops out instead of
    subtracting its whole life; its last moments go uncounted."""
    root = psutil.Process(service_pid)
    service = [root, *root.children(recursive=True)]
    if _postmaster is not None:
        server = psutil.Process(_postmaster)
        postgres = [server, *server.children()]
    else:
        postgres = [p for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]
    return {"service": _cpu_of(service), "PostgreSQL": _cpu_of(postgres)}


def _cpu_of(processes: list[psutil.Process]) -> dict[int, float]:
    seconds = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:  # ended meanwhile
            continue
        seconds[process.pid] = float(times.user + times.system)
    return seconds


# --- canary: how fast is the machine right now? -----------------------------------------------------


def _serve_canary(port: int) -> None:
    import uvicorn
    from fastapi import FastAPI
    from starlette.responses import Response

    app = FastAPI()

    @app.get("/api/v1/crm/customers/{customer_id}")
    async def constant(customer_id: str) -> Response:
        return Response(b'{"id":"constant"}', media_type="application/json")

    uvicorn.run(app, port=port, loop="uvloop", http="httptools", access_log=False, log_level="warning")


def canary(paths: list[Request], concurrency: int) -> dict[str, float]:
    """A FastAPI route answering a constant, under the same load: shared VMs change speed by a factor of 3
    within minutes, and this figure says which speed the other figures were measured at."""
    port = free_port()
    server = multiprocessing.get_context("spawn").Process(target=_serve_canary, args=(port,), daemon=True)
    server.start()
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port)):
                    break
            except OSError:
                time.sleep(0.1)
        assert server.pid is not None
        drive(port, paths, concurrency, 1.0, server.pid)
        return report("canary (FastAPI, constant body)", drive(port, paths, concurrency, 5.0, server.pid), 5.0)
    finally:
        server.terminate()
        server.join()


def report(label: str, run: Run, seconds: float) -> dict[str, float]:
    ordered = sorted(run.latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    figures = {
        "requests": len(ordered),
        "rps": len(ordered) / seconds,
        "p50": pct(0.50),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "mean": statistics.fmean(ordered) * 1000,
        "errors": len(run.errors),
    }
    print(
        f"{label:<34} {figures['rps']:>8,.0f} req/s   p50 {figures['p50']:6.2f} ms   p95 {figures['p95']:6.2f} ms"
        f"   p99 {figures['p99']:6.2f} ms   ({figures['requests']:,} requests, {figures['errors']} non-200)"
    )
    per_request = ", ".join(f"{who} {cpu / len(ordered) * 1e6:,.0f} µs" for who, cpu in run.cpu_seconds.items())
    print(f"{'':<34} CPU per request: {per_request}")
    return figures


async def prepared_database(server: URL, n: int, fresh: bool) -> tuple[URL, list[str], list[dict[str, Any]]]:
    """The benchmark database with N profiles: reused when a previous run loaded it completely."""
    import asyncpg

    name = f"c360_bench_{n}"
    admin = await bench_database(server, name, fresh)
    connect = {"host": server.host or server.query.get("host"), "port": server.port, "user": server.username}
    bench = await asyncpg.connect(database=name, **connect)
    try:
        await bench.execute("CREATE TABLE IF NOT EXISTS bench_sample (kind text, value jsonb)")
        ids = [r[0] for r in await bench.fetch("SELECT value->>0 FROM bench_sample WHERE kind = 'id'")]
        samples = [json.loads(r[0]) for r in await bench.fetch("SELECT value FROM bench_sample WHERE kind = 'sample'")]
        if len(ids) == n:
            print(f"reusing {name}: {n:,} profiles already loaded")
            return admin, ids, samples
        await bench.execute("TRUNCATE bench_sample")
    finally:
        await bench.close()
    ids, samples = await load(admin, n)
    bench = await asyncpg.connect(database=name, **connect)
    try:
        await bench.executemany(
            "INSERT INTO bench_sample VALUES ($1, $2)",
            [("id", json.dumps([i])) for i in ids] + [("sample", json.dumps(s)) for s in samples],
        )
    finally:
        await bench.close()
    return admin, ids, samples


def search_paths(samples: list[dict[str, Any]]) -> list[str]:
    from urllib.parse import quote

    paths = []
    for sample in samples:
        words = sample["name"].split()
        paths.append(f"/api/v1/crm/customers/search?name={quote(' '.join(words[:2]).lower())}&limit=10")
        paths.append(f"/api/v1/crm/customers/search?name={quote(words[0][:-1])}&limit=10")
        paths.append(f"/api/v1/crm/customers/search?email={quote(sample['email'])}")
        paths.append(
            f"/api/v1/crm/customers/search?phone={quote(sample['phone'].replace(' ', '').replace('+49', '0'))}"
        )
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="profiles to load")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each measured run")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (the service default: 1)")
    parser.add_argument("--fresh", action="store_true", help="drop and reload the benchmark database")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="c360-bench-") as tmp:
        admin, ids, samples = asyncio.run(prepared_database(database_server(), args.n, args.fresh))
        service = ServiceProcess(
            admin.render_as_string(hide_password=False),
            Path(tmp) / "service.log",
            HTTP_WORKERS=str(args.workers),
            DB_POOL_SIZE="16",
            LOG_LEVEL="WARNING",
        )
        service.start()
        stack.callback(service.stop)
        profile_paths = [f"/api/v1/crm/customers/{i}" for i in random.Random(7).sample(ids, min(len(ids), 20_000))]
        clients = f"{args.concurrency} keep-alive clients, {args.seconds:.0f} s per run"
        print(f"service: {args.workers} uvicorn workers; load: {clients}")
        canary(profile_paths, args.concurrency)
        assert service.process is not None
        pid = service.process.pid
        drive(service.port, profile_paths, args.concurrency, 3.0, pid)  # warm-up: caches, prepared statements
        report(
            "GET /customers/{id}", drive(service.port, profile_paths, args.concurrency, args.seconds, pid), args.seconds
        )
        paths = search_paths(samples)
        drive(service.port, paths, args.concurrency, 3.0, pid)
        report(
            "GET /customers/search (name|email|phone)",
            drive(service.port, paths, args.concurrency, args.seconds, pid),
            args.seconds,
        )


if __name__ == "__main__":
    main()
