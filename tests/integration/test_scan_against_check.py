"""The batch scan is never worse than the real-time check on the same data.

A small realistic CRM data set (benchmarks/crm_dataset.py: four countries, several source systems,
duplicates of labelled kinds and look-alike groups of different customers) goes through the API as a
tenant would load it: ``POST /duplicates/check`` before each ``POST /customers``, updates as ``PATCH``;
then a scan. Both are judged at the service's defaults: the check at the likely-duplicate threshold
(what a create refuses), the scan at the review threshold (what the queue shows).
"""

from __future__ import annotations

from typing import Any

import httpx
from benchmarks.crm_dataset import Record, generate
from benchmarks.crm_scoring import Pair, score, truth_of

from customer360.bootstrap import Services
from tests.support.api import CUSTOMERS
from tests.support.duplicates import DUPLICATES, queue, scan

ENTITIES = 80
LIKELY, REVIEW = 0.9, 0.5


async def _load(client: httpx.AsyncClient, headers: dict[str, str], seed: int) -> tuple[Any, set[Pair], dict[str, str]]:
    """The data set loaded through the API; the pairs the check flagged; customer id -> record id."""
    dataset = generate(ENTITIES, seed)
    ids: dict[str, str] = {}
    records: dict[str, str] = {}
    flagged: set[Pair] = set()
    for step in dataset.steps:
        if isinstance(step, Record):
            check = await client.post(f"{DUPLICATES}/check", json=step.body, headers=headers)
            assert check.status_code == 200, check.text
            for candidate in check.json()["candidates"]:
                if candidate["probability"] >= LIKELY:
                    flagged.add(frozenset((step.record_id, records[candidate["customerId"]])))
            created = await client.post(CUSTOMERS, json=step.body, headers=headers)
            assert created.status_code == 201, created.text
            ids[step.record_id] = created.json()["id"]
            records[created.json()["id"]] = step.record_id
        else:
            patched = await client.patch(f"{CUSTOMERS}/{ids[step.record_id]}", json=step.patch, headers=headers)
            assert patched.status_code == 200, patched.text
    return dataset, flagged, records


async def test_the_scan_finds_duplicates_at_least_as_well_as_the_real_time_check(
    client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
) -> None:
    """F1 of the scan (review threshold) >= F1 of the check before each create (likely threshold)."""
    dataset, flagged, records = await _load(client, headers, seed=7)
    await scan(services, tenant)
    found: set[Pair] = set()
    page = await queue(client, headers, limit=200)
    while True:
        found |= {
            frozenset((records[i["left"]["id"]], records[i["right"]["id"]]))
            for i in page["items"]
            if i["probability"] >= REVIEW
        }
        if not page.get("nextCursor"):
            break
        page = await queue(client, headers, limit=200, cursor=page["nextCursor"])
    truth = truth_of(dataset.records)
    check_f1, scan_f1 = score(truth, flagged)[0].f1, score(truth, found)[0].f1
    assert (len(truth.true_pairs) > 20, scan_f1 >= check_f1) == (True, True), (check_f1, scan_f1)
