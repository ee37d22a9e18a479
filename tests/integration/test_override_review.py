"""A profile created despite a likely duplicate ("create anyway") queues the pair for review: scans score
it again, it never trains the model, and the migration turns the old override decisions into queued pairs."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import httpx
import orjson
from sqlalchemy import text

from customer360.bootstrap import Services
from customer360.infrastructure.persistence import migrations
from customer360.infrastructure.persistence.database import DatabaseUrls, create_engine
from tests.support.duplicates import ANNA, ANNA_AGAIN, BERND, DUPLICATES, created, queue, scan, strangers

OVERRIDE = {"X-Override-Reason": "the clerk was sure"}
# A tenant big enough for the scan to train its model (EM) on: PEOPLE profiles and half as many copies.
PEOPLE = 80


def _migration() -> ModuleType:
    path = Path(migrations.__file__).parent / "versions" / "0013_override_review.py"
    spec = importlib.util.spec_from_file_location("override_review_migration", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestOverride:
    async def test_a_scan_scores_an_overridden_pair_again_and_learns_nothing_from_it(
        self, checking: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """After a scan the pair is still PENDING_REVIEW with the scan's score; the model counts no decision."""
        await created(checking, headers, ANNA)
        await created(checking, headers, BERND)
        await created(checking, {**headers, **OVERRIDE}, ANNA_AGAIN, override="true")
        job = await scan(services, tenant, min_training_records=2)
        [item] = (await queue(checking, headers, status="PENDING_REVIEW"))["items"]
        model = (await checking.get(f"{DUPLICATES}/model", headers=headers)).json()
        assert (item["scanId"], item["review"]["reason"], model["training"]["decisions"]) == (
            job.id,
            "CREATE_OVERRIDE",
            0,
        )

    async def test_overriding_half_the_duplicates_leaves_exact_copies_flagged(
        self,
        checking: httpx.AsyncClient,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        services: Services,
        tenant: str,
    ) -> None:
        """Half the people entered twice, half of those copies created with override, a scan that trains
        the model: an exact copy of an existing profile is still flagged with p >= 0.99."""
        people = strangers(PEOPLE)
        for body in people:
            await created(client, headers, body)
        for i, body in enumerate(people[: PEOPLE // 2]):
            if i % 2:
                await created(checking, {**headers, **OVERRIDE}, body, override="true")
            else:
                await created(client, headers, body)
        await scan(services, tenant, min_training_records=PEOPLE)
        check = await client.post(f"{DUPLICATES}/check", json=people[-1], headers=headers)
        best = max((c["probability"] for c in check.json()["candidates"]), default=0.0)
        assert (check.json()["likelyDuplicate"], best >= 0.99) == (True, True)


class TestMigration:
    async def test_old_override_decisions_become_queued_pairs_and_dismissals_stay(
        self, client: httpx.AsyncClient, headers: dict[str, str], database: DatabaseUrls, tenant: str
    ) -> None:
        """NOT_DUPLICATE rows with reason CREATE_OVERRIDE turn PENDING_REVIEW with the audited probability in
        the queue; a steward's dismissal (reason DISMISSED) is left as it is."""
        anna, again = sorted([await created(client, headers, ANNA), await created(client, headers, ANNA_AGAIN)])
        bernd, other = sorted([await created(client, headers, BERND), await created(client, headers, strangers(1)[0])])
        now = datetime.now(UTC)
        candidates = [{"customerId": anna, "probability": 0.97}]
        changes = [
            {"field": "overrideReason", "old": None, "new": "sure"},
            {"field": "candidates", "old": None, "new": candidates},
        ]
        migration = _migration()
        engine = create_engine(database.admin, pooled=False)
        try:
            async with engine.begin() as connection:
                await connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": tenant})
                await connection.execute(
                    text(
                        """INSERT INTO crm_customer360.duplicate_pair
                                  (tenant_id, low_id, high_id, status, reason, decided_by, decided_at)
                           VALUES (:t, :a, :b, 'NOT_DUPLICATE', 'CREATE_OVERRIDE', 'clerk', :now),
                                  (:t, :c, :d, 'NOT_DUPLICATE', 'DISMISSED', 'steward', :now)"""
                    ),
                    {"t": tenant, "a": anna, "b": again, "c": bernd, "d": other, "now": now},
                )
                await connection.execute(
                    text(
                        """INSERT INTO crm_customer360.audit_log (tenant_id, customer_id, entity_type, entity_id,
                                  action, actor, source, correlation_id, occurred_at, changes)
                           VALUES (:t, :b, 'CUSTOMER', :b, 'DUPLICATE_OVERRIDE', 'clerk', 'API', 'c-1', :now,
                                   CAST(:changes AS jsonb))"""
                    ),
                    {"t": tenant, "b": again, "now": now, "changes": orjson.dumps(changes).decode()},
                )
                await connection.execute(text(migration._CONVERT))
                await connection.execute(text(migration._QUEUE))
                statuses = (
                    await connection.execute(
                        text(
                            "SELECT reason, status FROM crm_customer360.duplicate_pair "
                            "WHERE tenant_id = :t ORDER BY reason"
                        ),
                        {"t": tenant},
                    )
                ).all()
        finally:
            await engine.dispose()
        [item] = (await queue(client, headers, status="PENDING_REVIEW"))["items"]
        assert ([tuple(row) for row in statuses], item["pairId"], item["probability"], item["scanId"]) == (
            [("CREATE_OVERRIDE", "PENDING_REVIEW"), ("DISMISSED", "NOT_DUPLICATE")],
            f"{anna}~{again}",
            0.97,
            None,
        )
