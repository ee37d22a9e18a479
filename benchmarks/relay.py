"""Outbox relay: throughput (events/s) and commit-to-broker-ack latency (p50/p95/p99).

Runs the real relay (``build_relay``, as ``customer360 relay`` and ``RELAY_IN_SERVE`` do) against a real
PostgreSQL and a real Kafka-protocol broker (Tansu, started here on a free port):

1. **Throughput.** N outbox rows shaped exactly as committing transactions write them (JSON envelopes
   of CustomerProfileUpdatedEvent over 1,000 customers, several tenants) are committed in one
   transaction while the relay waits; the clock runs from that commit to the broker's ack of the last
   row (fetching, Avro encoding, producing, waiting for acks and marking rows published included).
2. **Latency.** Customers are created through the application layer (command executor, unit of work,
   outbox insert under the EXCLUSIVE lock, NOTIFY) at a steady rate while the relay runs; for each
   event, latency = the broker's ack (delivery report in the relay) minus the moment the commit
   returned. The writer is a process of its own (as the API is); both read the same wall clock.

    python benchmarks/relay.py                       # N=50000, 100 changes/s for 15 s, embedded PostgreSQL
    python benchmarks/relay.py --events 20000 --rate 100 --seconds 10
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python benchmarks/relay.py
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from tests.support.database import FreshDatabase, embedded_server
from tests.support.kafka_broker import TansuBroker

from customer360.application.context import RequestContext, SystemClock
from customer360.application.customers import CreateCustomerProfile, create_customer_profile
from customer360.application.executor import CommandExecutor
from customer360.application.inputs import ProfileInput
from customer360.infrastructure.messaging.envelopes import envelope
from customer360.infrastructure.messaging.relay import Published
from customer360.infrastructure.messaging.relay_runtime import build_relay
from customer360.infrastructure.persistence.database import DatabaseUrls, create_engine, derive_urls
from customer360.infrastructure.persistence.migrate import migrate
from customer360.infrastructure.persistence.unit_of_work import SqlUnitOfWork
from customer360.settings import Settings

# Rows as journal.write_outbox writes them: the seed's envelope, positions from the identity column.
PREFILL = text("""
    INSERT INTO crm_customer360.event_outbox
           (tenant_id, event_id, event_type, aggregate_id, correlation_id, envelope, created_at)
    SELECT 'bench-' || (i % 4), 'evt-bench-' || :run || '-' || i, 'CustomerProfileUpdatedEvent',
           'CUST-BENCH' || lpad((i % 1000)::text, 16, '0'), 'corr-' || i,
           jsonb_build_object(
             'eventType', 'CustomerProfileUpdatedEvent', 'eventId', 'evt-bench-' || :run || '-' || i,
             'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'aggregateId', 'CUST-BENCH' || lpad((i % 1000)::text, 16, '0'), 'tenantId', 'bench-' || (i % 4),
             'correlationId', 'corr-' || i,
             'payload', jsonb_build_object(
               'customerId', 'CUST-BENCH' || lpad((i % 1000)::text, 16, '0'),
               'changedFields', jsonb_build_array('segment', 'phones'), 'updatedBy', 'user-bench',
               'source', 'API', 'version', i / 1000 + 2)),
           now()
      FROM generate_series(1, :n) AS i
""")


class Acks:
    """The relay's observer: ack time of every published event id."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.changed = asyncio.Event()

    def __call__(self, published: list[Published]) -> None:
        for item in published:
            self.at.setdefault(item.event_id, item.acked_at)
        self.changed.set()

    async def wait_for(self, predicate: Callable[[], bool], within: float) -> None:
        async with asyncio.timeout(within):
            while not predicate():
                self.changed.clear()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), 1.0)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def throughput(urls: DatabaseUrls, acks: Acks, n: int) -> tuple[float, float]:
    engine = create_engine(urls.admin, pooled=False)
    run = secrets.token_hex(3)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("LOCK TABLE crm_customer360.event_outbox IN EXCLUSIVE MODE"))
            await connection.execute(PREFILL, {"n": n, "run": run})
            await connection.execute(text("NOTIFY crm_customer360_outbox"))
        committed = time.time()
        prefix = f"evt-bench-{run}-"
        await acks.wait_for(lambda: sum(1 for e in acks.at if e.startswith(prefix)) >= n, within=600)
        last = max(at for e, at in acks.at.items() if e.startswith(prefix))
    finally:
        await engine.dispose()
    seconds = last - committed
    return n / seconds, seconds


async def write_steadily(app_url: str, tenant: str, rate: float, seconds: float) -> tuple[dict[str, float], float]:
    """Create customers at a steady rate: (customer id → wall-clock time its commit returned, seconds taken)."""
    engine = create_engine(make_url(app_url), pool_size=8)
    executor = CommandExecutor(
        lambda context: SqlUnitOfWork(engine, context, envelope), clock=SystemClock(), phone_region="DE", hasher=str
    )
    committed: dict[str, float] = {}
    # At most as many commits in flight as connections: an arrival rate above what the writer machine
    # can commit queues here (the relay's latency is measured from each commit, so it is unaffected).
    slots = asyncio.Semaphore(8)

    async def one(i: int) -> None:
        context = RequestContext(tenant_id=tenant, actor="bench", correlation_id=f"c-{i}")
        async with slots:
            result = await executor.execute(
                context, create_customer_profile, CreateCustomerProfile(ProfileInput(name=f"Co {i}"))
            )
        committed[result.customer_id] = time.time()

    tasks = []
    start = time.monotonic()
    for i in range(int(rate * seconds)):
        # A steady arrival rate, independent of how long each commit takes.
        await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - start
    await engine.dispose()
    return committed, elapsed


def writer_process(app_url: str, tenant: str, rate: float, seconds: float, results: Any) -> None:
    try:
        results.put(asyncio.run(write_steadily(app_url, tenant, rate, seconds)))
    except Exception as exc:  # report instead of leaving the parent waiting forever
        results.put(f"writer failed: {exc!r}")
        raise


async def latency(urls: DatabaseUrls, acks: Acks, rate: float, seconds: float) -> tuple[list[float], float]:
    """The writer is a process of its own (as the API is); both read the same wall clock."""
    tenant = f"bench-latency-{secrets.token_hex(3)}"
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    app_url = urls.app.render_as_string(hide_password=False)
    writer = context.Process(target=writer_process, args=(app_url, tenant, rate, seconds, results))
    writer.start()
    answer = await asyncio.to_thread(results.get)
    await asyncio.to_thread(writer.join)
    if isinstance(answer, str):
        raise RuntimeError(answer)
    committed: dict[str, float] = answer[0]
    engine = create_engine(urls.app, pooled=False)
    async with engine.connect() as connection:
        await connection.execute(text("SELECT set_config('app.tenant_id', :t, false)"), {"t": tenant})
        rows = (await connection.execute(text("SELECT event_id, aggregate_id FROM event_outbox"))).all()
    await engine.dispose()
    customer_of: dict[str, str] = {str(event_id): str(aggregate_id) for event_id, aggregate_id in rows}
    await acks.wait_for(lambda: all(e in acks.at for e in customer_of), within=120)
    return [acks.at[e] - committed[c] for e, c in customer_of.items()], float(answer[1])


async def main(args: argparse.Namespace, admin: URL, broker: TansuBroker) -> None:
    await migrate(admin)
    urls = derive_urls(admin)
    settings = Settings.model_validate(
        {
            "database_url": admin.render_as_string(hide_password=False),
            "kafka_bootstrap_servers": broker.bootstrap_servers,
            "relay_batch_size": args.batch_size,
            "relay_linger_ms": args.linger_ms,
            "relay_metrics_port": 0,
        }
    )
    acks = Acks()
    relay = build_relay(settings, urls.worker, CollectorRegistry(), observer=acks)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await throughput(urls, acks, 200)  # warm-up: topics created, producer connected
        rate, seconds = await throughput(urls, acks, args.events)
        latencies, written_seconds = await latency(urls, acks, args.rate, args.seconds)
    finally:
        stop.set()
        await task
    ms = [value * 1000 for value in latencies]
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"relay batch size {args.batch_size}, linger {args.linger_ms} ms")
    print(f"throughput: {args.events} events committed at once -> all acked in {seconds:.2f} s = {rate:,.0f} events/s")
    print(f"writer: {len(ms)} commits in {written_seconds:.1f} s ({len(ms) / written_seconds:.0f}/s achieved)")
    print(
        f"latency (commit -> broker ack), {len(ms)} events at {args.rate:g}/s for {args.seconds:g} s: "
        f"p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms, p99 {percentile(ms, 99):.1f} ms, "
        f"max {max(ms):.1f} ms, mean {statistics.fmean(ms):.1f} ms"
    )


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000, help="outbox rows for the throughput run")
    parser.add_argument("--rate", type=float, default=100.0, help="changes per second in the latency run")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the latency run")
    parser.add_argument("--batch-size", type=int, default=1000, help="RELAY_BATCH_SIZE")
    parser.add_argument("--linger-ms", type=int, default=5, help="RELAY_LINGER_MS")
    args = parser.parse_args()
    with ExitStack() as stack:
        configured = os.environ.get("BENCH_DATABASE_URL")
        server = make_url(configured) if configured else stack.enter_context(embedded_server())
        fresh = FreshDatabase(server)
        admin = asyncio.run(fresh.create())
        stack.callback(lambda: asyncio.run(fresh.drop()))
        broker = TansuBroker(log_path=Path(tempfile.mkdtemp(prefix="c360-tansu-")) / "broker.log")
        broker.start()
        stack.callback(broker.stop)
        asyncio.run(main(args, admin, broker))


if __name__ == "__main__":
    run()
