"""Bulk-loading synthetic customers for benchmarks/duplicate_check.py and benchmarks/scale.py: profile rows,
their look-up keys, external references, search tokens and matching data by COPY.

Profiles never go through the HTTP API or the handlers here (100-300 per second on this machine); they
are built as the aggregate's value objects, their derived rows are computed with the service's own
functions (``attribute_keys``, ``search_tokens``, ``match_record_of``, the engine's ``prepare`` and
``blocking_keys``, ``match_codec``), and rows are written with ``COPY`` (asyncpg ``copy_records_to_table``)
while secondary indexes and derived primary keys are dropped and the search trigger is off (its postings
are copied too, the vocabulary is built from them at the end); the indexes are rebuilt and the tables
vacuumed afterwards. Two worker processes build the rows. A caller may add tables (``extra``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from benchmarks.synthetic_customers import Synthetic, chunk

from customer360.domain.duplicates import match_record_of
from customer360.domain.ids import CUSTOMER_PREFIX, new_id
from customer360.domain.matching import prepare, prepared_blocking_keys, record_terms
from customer360.domain.profile_attributes import ProfileAttributes
from customer360.domain.search_terms import search_text, search_tokens
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
from customer360.infrastructure.persistence import search_sql
from customer360.infrastructure.persistence.customer_repository import attribute_keys
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
    "search_tokens",
]
LOADED_TABLES = (
    "customer_profile",
    "customer_key",
    "external_reference",
    "search_token",
    "match_record",
    "match_key",
    "match_term",
)
KEEP_INDEXES = {"pk_customer_profile", "pk_match_record"}
# Tables an ``extra`` builder may fill (their indexes are dropped and rebuilt too).
EXTRA_TABLES = ("consent_record", "event_outbox")
DERIVED = {
    "customer_key": ["tenant_id", "key_type", "key_value", "customer_id", "owner"],
    "external_reference": ["tenant_id", "source_system", "external_id", "customer_id", "created_at"],
    "search_token": ["tenant_id", "token", "customer_id"],
}


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
    """Rows of one chunk: profiles, their derived rows, matching records, key postings, true duplicate
    pairs, samples."""
    generated = chunk(index, size)
    now = datetime.now(UTC)
    ids = [new_id(CUSTOMER_PREFIX) for _ in generated.customers]
    profiles, records, keys = [], [], []
    derived: dict[str, list[tuple[Any, ...]]] = {table: [] for table in DERIVED}
    for number, (customer_id, synthetic) in enumerate(zip(ids, generated.customers, strict=True)):
        a = attributes_of(synthetic)
        tokens = search_tokens((a.name, a.legal_name), a.addresses)
        derived["customer_key"].extend((tenant, t, v, customer_id, o) for t, v, o in attribute_keys(a, []))
        derived["external_reference"].append((tenant, "ERP", f"K{index * CHUNK + number:08d}", customer_id, now))
        derived["search_token"].extend((tenant, t, customer_id) for t in tokens)
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
                tokens,
            )
        )
        prepared = prepare(match_record_of(customer_id, a))
        hashes = key_hashes(prepared_blocking_keys(prepared))
        records.append((tenant, customer_id, features_json(prepared), hashes, key_hashes(record_terms(prepared))))
        keys.append(hashes)
    truth = [(ids[copy], ids[original]) for copy, original in generated.copies.items()]
    originals = sorted(set(range(len(ids))) - set(generated.copies))[:SAMPLES_PER_CHUNK]
    samples = [(ids[i], json.dumps(dataclasses.asdict(generated.customers[i]))) for i in originals]
    return {
        "profiles": profiles,
        "records": records,
        "keys": keys,
        "truth": truth,
        "samples": samples,
        "derived": derived,
    }


def _key_rows(tenant: str, records: list[tuple[Any, ...]], keys: list[list[int]]) -> Iterator[tuple[str, int, str]]:
    for record, hashes in zip(records, keys, strict=True):
        for key_hash in hashes:
            yield (tenant, key_hash, record[1])


def _term_rows(tenant: str, records: list[tuple[Any, ...]]) -> Iterator[tuple[str, int, str]]:
    for record in records:
        for term_hash in record[4]:
            yield (tenant, term_hash, record[1])


async def _drop_indexes(connection: asyncpg.Connection, tables: tuple[str, ...]) -> list[str]:
    """Drop secondary indexes and derived tables' primary keys; return the statements that rebuild them."""
    rebuild = []
    constraints = await connection.fetch(
        "SELECT c.conrelid::regclass::text AS tab, c.conname, pg_get_constraintdef(c.oid) AS def"
        "  FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
        " WHERE n.nspname = $1 AND c.contype = 'p' AND c.conrelid::regclass::text = ANY($2)",
        SCHEMA,
        [f"{SCHEMA}.{t}" for t in tables if t != "customer_profile"],
    )
    for row in constraints:
        if row["conname"] in KEEP_INDEXES:
            continue
        await connection.execute(f"ALTER TABLE {row['tab']} DROP CONSTRAINT {row['conname']}")
        rebuild.append(f"ALTER TABLE {row['tab']} ADD CONSTRAINT {row['conname']} {row['def']}")
    rows = await connection.fetch(
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = ANY($2)",
        SCHEMA,
        list(tables),
    )
    for row in rows:
        if row["indexname"] in KEEP_INDEXES or row["indexname"].startswith("pk_"):
            continue
        await connection.execute(f'DROP INDEX {SCHEMA}."{row["indexname"]}"')
        rebuild.append(row["indexdef"])
    return rebuild


Extra = Callable[[dict[str, Any], str], list[tuple[str, list[str], list[tuple[Any, ...]]]]]


async def load(dsn: dict[str, Any], n: int, tenant: str, extra: Extra | None = None) -> None:
    """Load ``n`` synthetic profiles (5 % of them duplicates) with their derived rows and matching data;
    ``extra(chunk rows, tenant)`` gives more (table, columns, records) per chunk (run in this process)."""
    connection = await asyncpg.connect(**dsn)
    started = time.perf_counter()
    try:
        await connection.execute("SET synchronous_commit = off; SET maintenance_work_mem = '1GB'")
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS public.bench_truth (dup_id text, original_id text);"
            "CREATE TABLE IF NOT EXISTS public.bench_sample (id text, synthetic jsonb);"
            "CREATE TABLE IF NOT EXISTS public.bench_meta (n integer, loaded_at timestamptz, seconds float8)"
        )
        tables = LOADED_TABLES + tuple(dict.fromkeys(t for t in EXTRA_TABLES if extra is not None))
        rebuild = await _drop_indexes(connection, tables)
        await connection.execute(f"ALTER TABLE {SCHEMA}.customer_profile DISABLE TRIGGER sync_search_tokens")
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
                    columns=["tenant_id", "customer_id", "features", "keys", "terms"],
                    records=rows["records"],
                )
                await connection.copy_records_to_table(
                    "match_term",
                    schema_name=SCHEMA,
                    columns=["tenant_id", "term_hash", "customer_id"],
                    records=_term_rows(tenant, rows["records"]),
                )
                await connection.copy_records_to_table(
                    "match_key",
                    schema_name=SCHEMA,
                    columns=["tenant_id", "key_hash", "customer_id"],
                    records=_key_rows(tenant, rows["records"], rows["keys"]),
                )
                for table, columns in DERIVED.items():
                    await connection.copy_records_to_table(
                        table, schema_name=SCHEMA, columns=columns, records=rows["derived"][table]
                    )
                for table, columns, records in extra(rows, tenant) if extra is not None else ():
                    await connection.copy_records_to_table(table, schema_name=SCHEMA, columns=columns, records=records)
                await connection.copy_records_to_table("bench_truth", records=rows["truth"])
                await connection.copy_records_to_table("bench_sample", records=rows["samples"])
                done += len(rows["profiles"])
                if done % 100_000 < CHUNK:
                    print(f"  {done:>9,} profiles copied ({time.perf_counter() - started:6.0f} s)", flush=True)
        print("  rebuilding indexes ...", flush=True)
        for statement in rebuild:
            await connection.execute(statement)
        await connection.execute(f"ALTER TABLE {SCHEMA}.customer_profile ENABLE TRIGGER sync_search_tokens")
        # What the trigger does per profile, for all at once: the vocabulary of name, street and city words.
        await connection.execute(
            f"INSERT INTO {SCHEMA}.search_word (tenant_id, field, word)"
            f" SELECT DISTINCT tenant_id, left(token, 1), substr(token, 3) FROM {SCHEMA}.search_token"
            " WHERE left(token, 1) IN ('n', 's', 'c') ON CONFLICT DO NOTHING"
        )
        # And its prefix postings (migration 0016), from the postings just copied.
        await connection.execute(search_sql.prefix_backfill(SCHEMA, "$1"), tenant)
        # And its pair postings of name words (migration 0017), from the profiles just copied.
        await connection.execute(search_sql.pair_backfill(SCHEMA, "$1"), tenant)
        print("  vacuum analyze ...", flush=True)
        for table in (*tables, "search_word"):
            await connection.execute(f"VACUUM (ANALYZE) {SCHEMA}.{table}")
        seconds = time.perf_counter() - started
        await connection.execute("INSERT INTO public.bench_meta VALUES ($1, now(), $2)", n, seconds)
        print(f"loaded {n:,} profiles with their matching data in {seconds:.0f} s ({n / seconds:,.0f}/s)")
    finally:
        await connection.close()
