"""An import killed in the middle (SIGKILL of `customer360 import`) resumes without duplicates or gaps."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import text

from customer360.bootstrap import Services
from customer360.infrastructure.persistence.database import DatabaseUrls, tenant_transaction

ROWS = 2000


async def _scalars(services: Services, tenant: str, sql: str) -> list[object]:
    async with tenant_transaction(services.engine, tenant) as connection:
        return list((await connection.execute(text(sql), {"tenant": tenant})).all()[0])


def _command(tenant: str, *arguments: str) -> list[str]:
    return [sys.executable, "-m", "customer360", "import", "--tenant", tenant, "--quiet", *arguments]


async def test_an_import_killed_in_the_middle_resumes_without_duplicates_or_missing_rows(
    database: DatabaseUrls,
    services: Services,
    client: httpx.AsyncClient,
    headers: dict[str, str],
    tenant: str,
    tmp_path: Path,
) -> None:
    """2,000 rows in chunks of 10; the process is killed after 100 rows or more are applied; `import --job`
    finishes it: every row exactly once (2,000 profiles, references, audit rows and events)."""
    path = tmp_path / "customers.csv"
    path.write_text("name,externalRef\n" + "".join(f"Firma {i} GmbH,ERP:{i}\n" for i in range(ROWS)))
    env = {
        **os.environ,
        "DATABASE_URL": database.admin.render_as_string(hide_password=False),
        "MIGRATE_ON_START": "false",
        "IMPORT_CHUNK_SIZE": "10",
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(_command(tenant, str(path)), env=env)  # noqa: ASYNC220 - the test kills it
    deadline = time.monotonic() + 120
    processed = 0
    try:
        while processed < 100 and time.monotonic() < deadline and process.poll() is None:
            found = await _scalars(services, tenant, "SELECT coalesce(max(processed_rows), 0) FROM import_job")
            processed = int(found[0])  # type: ignore[call-overload]
            await asyncio.sleep(0.02)
    finally:
        process.kill()
        process.wait()
    job_id, status, killed_at = await _scalars(services, tenant, "SELECT id, status, processed_rows FROM import_job")
    shown = (await client.get(f"/api/v1/crm/imports/{job_id}", headers=headers)).json()["status"]
    assert (status, shown, 100 <= int(killed_at) < ROWS) == ("RUNNING", "INTERRUPTED", True)  # type: ignore[call-overload]

    resumed = await asyncio.create_subprocess_exec(*_command(tenant, "--job", str(job_id)), env=env)
    assert await resumed.wait() == 0

    counts = await _scalars(
        services,
        tenant,
        """SELECT (SELECT count(*) FROM customer_profile WHERE tenant_id = :tenant),
                  (SELECT count(DISTINCT external_id) FROM external_reference WHERE tenant_id = :tenant),
                  (SELECT count(*) FROM audit_log WHERE tenant_id = :tenant AND action = 'PROFILE_CREATED'),
                  (SELECT count(*) FROM event_outbox WHERE tenant_id = :tenant),
                  (SELECT count(*) FROM import_row WHERE tenant_id = :tenant)""",
    )
    job = (await client.get(f"/api/v1/crm/imports/{job_id}", headers=headers)).json()
    assert counts == [ROWS, ROWS, ROWS, ROWS, 0]
    assert (job["status"], job["processed"], job["counts"]["created"]) == ("COMPLETED", ROWS, ROWS)
