"""Bulk-loading synthetic customers for benchmarks/duplicate_check.py: profile rows and matching data by COPY.

Profiles never go through the HTTP API or the handlers here (100-300 per second on this machine); they
are built as the aggregate's value objects, their matching data is computed with the service's own
functions (``match_record_of``, the engine's ``prepare`` and ``blocking_keys``, ``match_codec``), and
rows are written with ``COPY`` (asyncpg ``copy_records_to_table``) while secondary indexes are dropped;
the indexes are rebuilt and the tables vacuumed afterwards. Two worker processes build the rows.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from benchmarks.synthetic_customers import Synthetic, chunk

from customer360.domain.duplicates import match_record_of
from customer360.domain.ids import CUSTOMER_PREFIX, new_id
from customer360.domain.matching import prepare, prepared_blocking_keys
from customer360.domain.profile_attributes import ProfileAttributes
from customer360.domain.search_terms import search_text
from customer360.domain.values import (
    AddressType,
    CustomerKind,
    EmailAddress,
    PhoneNumber,
    PhoneType,
    PostalAddress,
    TaxId,
    TaxIdType,
)
from customer360.infrastructure.persistence.documents import to_document
from customer360.infrastructure.persistence.match_codec import features_json, key_hashes

SCHEMA = "crm_customer360"
CHUNK = 10_000
SAMPLES_PER_CHUNK = 20
PROFILE_COLUMNS = [
    "tenant_id",
    "id",
    "kind",
    "status",
    "name",
    "legal_name",
    "given_name",
    "family_name",
    "birth_date",
    "website",
    "domain",
    "tax_ids",
    "emails",
    "phones",
    "addresses",
    "search_text",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "version",
]
LOADED_TABLES = ("customer_profile", "match_record", "match_key")
KEEP_INDEXES = {"pk_customer_profile", "pk_match_record"}


def attributes_of(s: Synthetic) -> ProfileAttributes:
    """What the API would store for this body (the values are valid by construction)."""
    emails = ()
    if s.email:
        local, _, domain = s.email.rpartition("@")
        emails = (EmailAddress(address=f"{local}@{domain.lower()}", primary=True),)
    phones = ()
    if s.phone:
        kind = PhoneType.MOBILE if s.phone.startswith("+49 1") else PhoneType.LANDLINE
        phones = (PhoneNumber(e164=s.phone.replace(" ", ""), original=s.phone, type=kind, country="DE"),)
    addresses = ()
    if s.street and s.city:
        addresses = (PostalAddress(AddressType.BILLING, (s.street,), s.city, "DE", s.postal_code),)
    if s.kind == "PERSON":
        return ProfileAttributes(
            kind=CustomerKind.PERSON,
            name=f"{s.given} {s.family}",
            given_name=s.given,
            family_name=s.family,
            birth_date=date.fromisoformat(s.birth_date) if s.birth_date else None,
            emails=emails,
            phones=phones,
            addresses=addresses,
        )
    domain = s.website.split("://", 1)[1].removeprefix("www.") if s.website else None
    return ProfileAttributes(
        kind=CustomerKind.ORGANIZATION,
        name=s.name or "",
        website=s.website,
        domain=domain,
        tax_ids=(TaxId("DE", TaxIdType.VAT, s.tax_id, True),) if s.tax_id else (),
        emails=emails,
        phones=phones,
        addresses=addresses,
    )


def build_chunk(index: int, size: int, tenant: str) -> dict[str, Any]:
    """Rows of one chunk: profiles, matching records, key postings, true duplicate pairs, samples."""
    generated = chunk(index, size)
    now = datetime.now(UTC)
    ids = [new_id(CUSTOMER_PREFIX) for _ in generated.customers]
    profiles, records, keys = [], [], []
    for customer_id, synthetic in zip(ids, generated.customers, strict=True):
        a = attributes_of(synthetic)
        profiles.append(
            (
                tenant,
                customer_id,
                a.kind.value,
                "ACTIVE",
                a.name,
                a.legal_name,
                a.given_name,
                a.family_name,
                a.birth_date,
                a.website,
                a.domain,
                json.dumps(to_document(a.tax_ids)),
                json.dumps(to_document(a.emails)),
                json.dumps(to_document(a.phones)),
                json.dumps(to_document(a.addresses)),
                search_text(a.name, a.legal_name),
                now,
                "bench-loader",
                now,
                "bench-loader",
                1,
            )
        )
        prepared = prepare(match_record_of(customer_id, a))
        hashes = key_hashes(prepared_blocking_keys(prepared))
        records.append((tenant, customer_id, features_json(prepared), hashes))
        keys.append(hashes)
    truth = [(ids[copy], ids[original]) for copy, original in generated.copies.items()]
    originals = sorted(set(range(len(ids))) - set(generated.copies))[:SAMPLES_PER_CHUNK]
    samples = [(ids[i], json.dumps(dataclasses.asdict(generated.customers[i]))) for i in originals]
    return {"profiles": profiles, "records": records, "keys": keys, "truth": truth, "samples": samples}


def _key_rows(tenant: str, records: list[tuple[Any, ...]], keys: list[list[int]]) -> Iterator[tuple[str, int, str]]:
    for record, hashes in zip(records, keys, strict=True):
        for key_hash in hashes:
            yield (tenant, key_hash, record[1])


async def _drop_indexes(connection: asyncpg.Connection) -> list[str]:
    """Drop secondary indexes and match_key's primary key; return the statements that rebuild them."""
    rows = await connection.fetch(
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = ANY($2)",
        SCHEMA,
        list(LOADED_TABLES),
    )
    rebuild = []
    for row in rows:
        if row["indexname"] in KEEP_INDEXES:
            continue
        if row["indexname"] == "pk_match_key":
            await connection.execute(f"ALTER TABLE {SCHEMA}.match_key DROP CONSTRAINT pk_match_key")
            rebuild.append(
                f"ALTER TABLE {SCHEMA}.match_key ADD CONSTRAINT pk_match_key "
                "PRIMARY KEY (tenant_id, key_hash, customer_id)"
            )
        else:
            await connection.execute(f'DROP INDEX {SCHEMA}."{row["indexname"]}"')
            rebuild.append(row["indexdef"])
    return rebuild


async def load(dsn: dict[str, Any], n: int, tenant: str) -> None:
    """Load ``n`` synthetic profiles (5 % of them duplicates) with their matching data."""
    connection = await asyncpg.connect(**dsn)
    started = time.perf_counter()
    try:
        await connection.execute("SET synchronous_commit = off; SET maintenance_work_mem = '1GB'")
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS public.bench_truth (dup_id text, original_id text);"
            "CREATE TABLE IF NOT EXISTS public.bench_sample (id text, synthetic jsonb);"
            "CREATE TABLE IF NOT EXISTS public.bench_meta (n integer, loaded_at timestamptz, seconds float8)"
        )
        rebuild = await _drop_indexes(connection)
        chunks = (n + CHUNK - 1) // CHUNK
        loop = asyncio.get_running_loop()
        done = 0
        with ProcessPoolExecutor(2) as pool:

            def submit(i: int) -> asyncio.Future[dict[str, Any]]:
                return loop.run_in_executor(pool, build_chunk, i, min(CHUNK, n - i * CHUNK), tenant)

            window = [submit(i) for i in range(min(chunks, 4))]  # a few chunks in flight, not all in memory
            for index in range(chunks):
                rows = await window.pop(0)
                if index + len(window) + 1 < chunks:
                    window.append(submit(index + len(window) + 1))
                await connection.copy_records_to_table(
                    "customer_profile", schema_name=SCHEMA, columns=PROFILE_COLUMNS, records=rows["profiles"]
                )
                await connection.copy_records_to_table(
                    "match_record",
                    schema_name=SCHEMA,
                    columns=["tenant_id", "customer_id", "features", "keys"],
                    records=rows["records"],
                )
                await connection.copy_records_to_table(
                    "match_key",
                    schema_name=SCHEMA,
                    columns=["tenant_id", "key_hash", "customer_id"],
                    records=_key_rows(tenant, rows["records"], rows["keys"]),
                )
                await connection.copy_records_to_table("bench_truth", records=rows["truth"])
                await connection.copy_records_to_table("bench_sample", records=rows["samples"])
                done += len(rows["profiles"])
                if done % 100_000 < CHUNK:
                    print(f"  {done:>9,} profiles copied ({time.perf_counter() - started:6.0f} s)", flush=True)
        print("  rebuilding indexes ...", flush=True)
        for statement in rebuild:
            await connection.execute(statement)
        print("  vacuum analyze ...", flush=True)
        for table in LOADED_TABLES:
            await connection.execute(f"VACUUM (ANALYZE) {SCHEMA}.{table}")
        seconds = time.perf_counter() - started
        await connection.execute("INSERT INTO public.bench_meta VALUES ($1, now(), $2)", n, seconds)
        print(f"loaded {n:,} profiles with their matching data in {seconds:.0f} s ({n / seconds:,.0f}/s)")
    finally:
        await connection.close()
