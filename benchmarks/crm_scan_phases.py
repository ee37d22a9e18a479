"""Where the batch scan's wall clock goes, step by step, on the 20,000-customer CRM database.

Runs the scan job in this process as ``customer360 dedup scan`` runs it (same settings, same forked
children, same garbage-collector settings) on the database a 20,000-customer run of
benchmarks/matching_crm.py leaves in benchmarks/.cache/pgdata-crm, with every store call, phase and CPU
step timed (``time.perf_counter``; a forked child's steps too) and every PostgreSQL statement logged with
its duration (``log_min_duration_statement = 0`` for the scan's database while it runs, reset after).
Prints a timeline (start and end from the scan's start, in ms, per process), the CPU of this process,
its children and PostgreSQL's backends, and the statements' time by kind.

    .venv/bin/python benchmarks/crm_scan_phases.py [--first] [--runs N] [--no-statements]

``--first``: the tenant's stored pairs and clusters deleted before each scan (a first scan's writes).
Not a timing to compare with Splink (the wrappers and the statement log cost a little): a map of where
the time goes. Time it under the benchmark lock like the others.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import inspect
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.cached_server import database_server
from benchmarks.crm_scan_timing import DATABASE, _forget_pairs
from benchmarks.crm_service import TENANT

_EVENTS = Path(tempfile.gettempdir()) / f"crm-scan-phases-{os.getpid()}.log"
_fd: int | None = None
_origin = 0.0
_epoch = 0.0


def _note(label: str, started: float, ended: float) -> None:
    assert _fd is not None
    os.write(_fd, f"{os.getpid()}\t{label}\t{started - _origin:.4f}\t{ended - _origin:.4f}\n".encode())


def _timed(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def waited(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                _note(label, started, time.perf_counter())

        return waited

    @functools.wraps(function)
    def called(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            _note(label, started, time.perf_counter())

    return called


def _instrument() -> None:
    from customer360.application import duplicate_scan
    from customer360.domain.matching import MatchModel
    from customer360.infrastructure import forked
    from customer360.infrastructure.persistence import scan_store

    writer = getattr(scan_store, "_WholeWriter", None)
    for owner in (scan_store.SqlScanStore, writer) if writer else (scan_store.SqlScanStore,):
        for name, member in list(vars(owner).items()):
            if inspect.iscoroutinefunction(member) and not name.startswith("__"):
                setattr(
                    owner, name, _timed(f"{'store' if owner is scan_store.SqlScanStore else 'writer'}.{name}", member)
                )
    for name in ("blocked_in_memory", "_decoded"):
        setattr(scan_store, name, _timed(name, getattr(scan_store, name)))
    for name in ("compare_pairs", "explained_pairs", "estimate", "clusters_of"):
        setattr(duplicate_scan, name, _timed(name, getattr(duplicate_scan, name)))
    for name in ("index", "stop_keys", "train", "pairs", "clusters", "auto_merge", "advance"):
        setattr(duplicate_scan._Run, name, _timed(f"phase.{name}", getattr(duplicate_scan._Run, name)))
    MatchModel.chance_agreement = _timed("chance_agreement", MatchModel.chance_agreement)  # type: ignore[method-assign]
    forked.in_forked_process = _timed("forked", forked.in_forked_process)


def _postgres_cpu(postmaster: int) -> float:
    """CPU seconds (user + system) of the server's processes now alive."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster or int(entry.name) == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


async def _log_statements(admin: Any, on: bool) -> None:
    connection = await asyncpg.connect(
        host=admin.query.get("host") or admin.host, port=admin.port, user=admin.username, database="postgres"
    )
    try:
        value = "0" if on else "DEFAULT"
        await connection.execute(f"ALTER DATABASE {DATABASE} SET log_min_duration_statement = {value}")
    finally:
        await connection.close()


_LINE = re.compile(r"^(\S+ \S+) \S+ \[(\d+)\] LOG:  duration: ([\d.]+) ms  (statement|execute|parse|bind)[^:]*: (.*)")


def _statements(log: Path, offset: int) -> list[tuple[float, int, float, str, str]]:
    """(end as epoch seconds, backend pid, ms, step, statement) of each statement logged after ``offset``."""
    found: list[tuple[float, int, float, str, str]] = []
    with log.open("rb") as lines:
        lines.seek(offset)
        for raw in lines:
            line = raw.decode(errors="replace").rstrip("\n")
            match = _LINE.match(line)
            if match:
                ended = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC).timestamp()
                found.append((ended, int(match.group(2)), float(match.group(3)), match.group(4), match.group(5)))
            elif line.startswith("\t") and found:
                ended, pid, ms, step, statement = found[-1]
                found[-1] = (ended, pid, ms, step, f"{statement} {line.strip()}")
    return found


def main() -> None:
    global _fd, _origin
    first = "--first" in sys.argv
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 1
    statements = "--no-statements" not in sys.argv
    admin = database_server("pgdata-crm").set(drivername="postgresql+asyncpg", database=DATABASE)
    os.environ.update(
        DATABASE_URL=admin.render_as_string(hide_password=False), MIGRATE_ON_START="false", LOG_LEVEL="WARNING"
    )
    from customer360.bootstrap import build_services
    from customer360.settings import Settings

    _instrument()
    from customer360.infrastructure import forked

    pgdata = Path(__file__).resolve().parent / ".cache" / "pgdata-crm"
    postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
    log = pgdata / "log"
    asyncio.run(_log_statements(admin, statements))
    try:
        for run in range(1, runs + 1):
            if first:
                asyncio.run(_forget_pairs(admin))
            _fd = os.open(_EVENTS, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND)
            offset = log.stat().st_size
            gc.collect()

            async def scan() -> Any:
                services = await build_services(Settings())
                try:
                    global _origin, _epoch
                    gc.freeze()
                    gc.set_threshold(100_000, 50, 100)
                    pg_before, own_before = _postgres_cpu(postmaster), time.process_time()
                    children_before = os.times()
                    _origin, _epoch = time.perf_counter(), time.time()
                    job = await services.scan(TENANT, restart=True, offload=forked.in_forked_process)
                    wall = time.perf_counter() - _origin
                    await asyncio.sleep(0.3)  # the reaper threads join the children
                    children = os.times()
                    return (
                        job,
                        wall,
                        time.process_time() - own_before,
                        (
                            children.children_user
                            + children.children_system
                            - children_before.children_user
                            - children_before.children_system
                        ),
                        _postgres_cpu(postmaster) - pg_before,
                    )
                finally:
                    await services.aclose()
                    gc.unfreeze()

            job, wall, own, children, pg = asyncio.run(scan())
            os.close(_fd)
            span = (job.finished_at - job.started_at).total_seconds()
            print(
                f"\nrun {run}{' (first scan)' if first else ''}: wall {wall:.3f} s (job {span:.3f} s), CPU: scan "
                f"process {own:.3f} s, its children {children:.3f} s, PostgreSQL {pg:.3f} s; load "
                f"{os.getloadavg()[0]:.2f}; {job.result}"
            )
            main_pid = str(os.getpid())
            for line in _EVENTS.read_text().splitlines():
                pid, label, started, ended = line.split("\t")
                who = "" if pid == main_pid else " [child]"
                begun, done = float(started) * 1000, float(ended) * 1000
                print(f"  {begun:8.1f} {done:8.1f} {done - begun:7.1f}  {label}{who}")
            if statements:
                time.sleep(0.2)
                logged = _statements(log, offset)
                kinds: dict[str, list[float]] = defaultdict(list)
                for _, _, ms, step, statement in logged:
                    kinds[f"{step[:5]} {' '.join(statement.split())[:100]}"].append(ms)
                print(f"  statements: {len(logged)}, {sum(ms for *_, ms, _, _ in logged):.1f} ms in all")
                for kind, times in sorted(kinds.items(), key=lambda item: -sum(item[1]))[:20]:
                    print(f"   {sum(times):8.1f} ms {len(times):4d}x  {kind}")
                print("  statements of 2 ms or more (start, end, ms from the scan's start; backend):")
                for ended, pid, ms, step, statement in logged:
                    if ms >= float(os.environ.get("PHASES_MIN_MS", "2")):
                        end = (ended - _epoch) * 1000
                        what = " ".join(statement.split())[:80]
                        print(f"  {end - ms:8.1f} {end:8.1f} {ms:7.1f}  [{pid}] {step[:5]} {what}")
    finally:
        asyncio.run(_log_statements(admin, False))
        _EVENTS.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
