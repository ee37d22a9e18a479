"""Bulk import of 1,000,000 generated profiles with the duplicate check: rows/s, peak memory, pairs queued.

1. Writes the file once (benchmarks/.cache/import_<N>.csv.gz, reused): the synthetic customers of
   benchmarks/synthetic_customers.py (persons and organisations, 5 % of them corrupted copies of others),
   one CSV row each with an external reference ``BENCH:<row>``.
2. Creates a fresh database (embedded PostgreSQL under benchmarks/.cache, or BENCH_DATABASE_URL's server)
   and migrates it.
3. Runs ``customer360 import FILE --tenant bench-import --quiet`` as its own process, as an operator would;
   the time is wall clock to the process's exit (staging + applying), memory the peak RSS of that process.
   Every ``--progress`` seconds (60 by default, 0 for none) a line with the rows applied so far, the rate
   since the start and the memory of the import process and of its workers, so that a long run that is
   stopped still leaves its figures.
4. Counts what was written (profiles, audit rows, outbox events, review-queue pairs) and how many of the
   true duplicate pairs (copy, original) are in the review queue.

    python benchmarks/import.py                 # N = 1,000,000
    python benchmarks/import.py --n 100000
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gzip
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from benchmarks.cached_server import CACHE, database_server
from benchmarks.synthetic_customers import Synthetic, chunk
from sqlalchemy.engine import URL

TENANT = "bench-import"
DATABASE = "c360_import_bench"
CHUNK = 10_000
COLUMNS = (
    "externalRef",
    "kind",
    "name",
    "givenName",
    "familyName",
    "birthDate",
    "email",
    "phone",
    "street",
    "postalCode",
    "city",
    "country",
    "taxId",
    "website",
)


def _row(number: int, s: Synthetic) -> list[Any]:
    return [
        f"BENCH:{number}",
        s.kind,
        s.name if s.kind == "ORGANIZATION" else None,
        s.given,
        s.family,
        s.birth_date,
        s.email,
        s.phone,
        s.street,
        s.postal_code if s.street else None,
        s.city if s.street else None,
        "DE" if s.street else None,
        s.tax_id,
        s.website,
    ]


def write_file(path: Path, n: int) -> list[tuple[int, int]]:
    """The CSV (gzip) of n synthetic customers; the true duplicate pairs as (copy row, original row)."""
    truth: list[tuple[int, int]] = []
    with gzip.open(path, "wt", encoding="utf-8", newline="", compresslevel=3) as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for index in range((n + CHUNK - 1) // CHUNK):
            generated = chunk(index, min(CHUNK, n - index * CHUNK))
            base = index * CHUNK + 1
            writer.writerows(_row(base + i, s) for i, s in enumerate(generated.customers))
            truth += [(base + copy, base + original) for copy, original in generated.copies.items()]
    return truth


def truth_of(n: int) -> list[tuple[int, int]]:
    truth = []
    for index in range((n + CHUNK - 1) // CHUNK):
        base = index * CHUNK + 1
        truth += [(base + c, base + o) for c, o in chunk(index, min(CHUNK, n - index * CHUNK)).copies.items()]
    return truth


def _dsn(url: URL, database: str) -> dict[str, Any]:
    return {"host": url.host or url.query.get("host"), "port": url.port, "user": url.username, "database": database}


async def fresh_database(server: URL) -> URL:
    from customer360.infrastructure.persistence.migrate import migrate

    root = await asyncpg.connect(**_dsn(server, server.database or "postgres"))
    try:
        await root.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await root.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await root.close()
    admin = server.set(drivername="postgresql+asyncpg", database=DATABASE)
    await migrate(admin)
    return admin


async def results(server: URL, truth: list[tuple[int, int]]) -> dict[str, Any]:
    connection = await asyncpg.connect(**_dsn(server, DATABASE))
    try:
        await connection.execute("SET search_path = crm_customer360")
        counts = {
            name: await connection.fetchval(sql, TENANT)
            for name, sql in {
                "profiles": "SELECT count(*) FROM customer_profile WHERE tenant_id = $1",
                "audit rows": "SELECT count(*) FROM audit_log WHERE tenant_id = $1",
                "outbox events": "SELECT count(*) FROM event_outbox WHERE tenant_id = $1",
                "pairs queued": "SELECT count(*) FROM duplicate_candidate WHERE tenant_id = $1",
                "staged rows left": "SELECT count(*) FROM import_row WHERE tenant_id = $1",
            }.items()
        }
        job = await connection.fetchrow(
            "SELECT id, status, counts, staged_rows, extract(epoch FROM started_at - requested_at) AS staging_s,"
            " extract(epoch FROM finished_at - started_at) AS applying_s FROM import_job WHERE tenant_id = $1",
            TENANT,
        )
        refs = dict(
            await connection.fetch(
                "SELECT CAST(external_id AS bigint), customer_id FROM external_reference WHERE tenant_id = $1", TENANT
            )
        )
        pairs = {
            (low, high)
            for low, high in await connection.fetch(
                "SELECT low_id, high_id FROM duplicate_candidate WHERE tenant_id = $1", TENANT
            )
        }
    finally:
        await connection.close()
    found = 0
    for copy, original in truth:
        a, b = refs.get(copy), refs.get(original)
        if a and b and tuple(sorted((a, b))) in pairs:
            found += 1
    return {"counts": counts, "job": dict(job) if job else None, "true pairs queued": found}


class PostgresCpu:
    """CPU seconds of the benchmark's PostgreSQL (postmaster and every backend), sampled while the import
    runs: backends exit with their connections, taking their CPU counters with them."""

    def __init__(self, data_dir: Path, interval: float = 0.5) -> None:
        self._pid_file = data_dir / "postmaster.pid"
        self._interval = interval
        self._seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        import psutil

        if not self._pid_file.exists():
            return
        postmaster = psutil.Process(int(self._pid_file.read_text().split()[0]))
        for process in [postmaster, *postmaster.children(recursive=True)]:
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            self._seen[process.pid] = times.user + times.system

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def __enter__(self) -> PostgresCpu:
        self._sample()
        self._start = dict(self._seen)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def seconds(self) -> float:
        return sum(cpu - self._start.get(pid, 0.0) for pid, cpu in self._seen.items())


class ProgressLines:
    """Every ``interval`` seconds while the import runs: the job's rows applied (from its resume point), the
    rate since the start, the RSS of the import process and of its workers, the load average."""

    def __init__(self, server: URL, pid: int, interval: float) -> None:
        self._server, self._pid, self._interval = server, pid, interval
        self._started = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _rows(self) -> tuple[int, int, str] | None:
        connection = await asyncpg.connect(**_dsn(self._server, DATABASE))
        try:
            await connection.execute("SET search_path = crm_customer360")
            row = await connection.fetchrow(
                "SELECT processed_rows, staged_rows, status FROM import_job WHERE tenant_id = $1", TENANT
            )
        finally:
            await connection.close()
        return (row["processed_rows"], row["staged_rows"], row["status"]) if row else None

    def _line(self) -> str:
        import psutil

        elapsed = time.perf_counter() - self._started
        try:
            found = asyncio.run(self._rows())
        except (OSError, asyncpg.PostgresError) as error:
            found, problem = None, type(error).__name__
        else:
            problem = "no job yet"
        try:
            process = psutil.Process(self._pid)
            rss = process.memory_info().rss / 1e6
            workers = sum(child.memory_info().rss for child in process.children(recursive=True)) / 1e6
            memory = f"RSS import {rss:,.0f} MB, workers {workers:,.0f} MB"
        except psutil.Error:
            memory = "import process gone"
        load = "/".join(f"{x:.1f}" for x in os.getloadavg())
        clock = time.strftime("%H:%M:%S", time.gmtime())
        if found is None:
            return f"[{clock} UTC, {elapsed:,.0f} s] {problem}; {memory}; load {load}"
        processed, staged, status = found
        return (
            f"[{clock} UTC, {elapsed:,.0f} s] {status}: {processed:,} of {staged:,} staged rows applied,"
            f" {processed / elapsed:,.0f} rows/s since the start; {memory}; load {load}"
        )

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            print(self._line(), flush=True)

    def __enter__(self) -> ProgressLines:
        if self._interval > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def canary(seconds: float = 1.0) -> float:
    """Pure-Python operations per second now: the machine's speed at this moment."""
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        sum(i * i for i in range(1000))
        done += 1
    return done / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="rows in the file")
    parser.add_argument("--on-duplicate", default="queue", choices=("queue", "skip", "create"))
    parser.add_argument(
        "--profile", type=Path, help="record the import and its workers with py-spy into this file (collapsed stacks)"
    )
    parser.add_argument(
        "--progress", type=float, default=60.0, help="seconds between progress lines while importing (0: none)"
    )
    args = parser.parse_args()

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"import_{args.n}.csv.gz"
    if path.exists():
        truth = truth_of(args.n)
        print(f"reusing {path.name}")
    else:
        started = time.perf_counter()
        truth = write_file(path, args.n)
        print(f"wrote {path.name} in {time.perf_counter() - started:.0f} s")
    print(f"{args.n:,} rows, {path.stat().st_size / 1e6:.1f} MB gzipped, {len(truth):,} true duplicate pairs")

    server = database_server()
    admin = asyncio.run(fresh_database(server))
    env = {
        **os.environ,
        "DATABASE_URL": admin.render_as_string(hide_password=False),
        "MIGRATE_ON_START": "false",
        "LOG_LEVEL": "WARNING",
    }
    # Bytecode written once, as an installed package has it: compiled from source in the import process and
    # in each worker on every run, the modules would add seconds of CPU to each run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "customer360", "--help"], env=env, check=True, stdout=subprocess.DEVNULL)
    before = canary()
    command = [sys.executable, "-m", "customer360", "import", str(path), "--tenant", TENANT, "--quiet"]
    command += ["--on-duplicate", args.on_duplicate]
    if args.profile:
        spy = Path(sys.executable).with_name("py-spy")
        command = [
            str(spy),
            "record",
            "--subprocesses",
            "--format",
            "raw",
            "--rate",
            "40",
            "-o",
            str(args.profile),
            "--",
            *command,
        ]
    warm = resource.getrusage(resource.RUSAGE_CHILDREN)  # the warm-up's CPU is not the import's
    started = time.perf_counter()
    with PostgresCpu(CACHE / "pgdata") as postgres:
        process = subprocess.Popen(command, env=env)
        with ProgressLines(server, process.pid, 0 if args.profile else args.progress):  # py-spy: not its RSS
            returncode = process.wait()
        if returncode:
            raise subprocess.CalledProcessError(returncode, command)
    seconds = time.perf_counter() - started
    pg_seconds = postgres.seconds
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mb = usage.ru_maxrss / 1024
    cpu = usage.ru_utime + usage.ru_stime - warm.ru_utime - warm.ru_stime
    after = canary()
    found = asyncio.run(results(server, truth))
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"canary (pure-Python loops/s) before {before:,.0f}, after {after:,.0f}; load average {os.getloadavg()}")
    print(
        f"import of {args.n:,} rows (on-duplicate={args.on_duplicate}): {seconds:.1f} s, {args.n / seconds:,.0f} rows/s"
    )
    print(f"peak RSS of the import process: {peak_mb:,.0f} MB")
    print(
        f"CPU per row: import process and its workers {cpu / args.n * 1e6:,.0f} µs,"
        f" PostgreSQL {pg_seconds / args.n * 1e6:,.0f} µs"
    )
    for name, value in found["counts"].items():
        print(f"  {name:<18} {value:,}")
    print(f"  job                {found['job']}")
    print(f"  true duplicate pairs in the review queue: {found['true pairs queued']:,} of {len(truth):,}")


if __name__ == "__main__":
    main()
