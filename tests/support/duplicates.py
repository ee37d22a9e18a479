"""Helpers for duplicate-detection tests: look-alike profiles, an app that checks on create, scans."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from customer360.application.context import SystemClock
from customer360.application.duplicate_ports import Offload, ScanJob
from customer360.application.duplicate_scan import Progress, ScanOptions
from customer360.bootstrap import Services, duplicate_defaults
from customer360.infrastructure.duplicate_scans import auto_merger, run_scan_job
from customer360.infrastructure.rest.app import create_app
from tests.support.api import CUSTOMERS

DUPLICATES = "/api/v1/crm/duplicates"

ANNA = {
    "kind": "PERSON",
    "givenName": "Anna",
    "familyName": "Schmidt",
    "birthDate": "1980-05-17",
    "emails": [{"address": "anna.schmidt@example.com"}],
    "phones": [{"number": "+49 30 1234567"}],
    "addresses": [
        {"type": "BILLING", "lines": ["Hauptstraße 5"], "city": "Berlin", "postalCode": "10115", "country": "DE"}
    ],
}
# The same person as typed by someone else: a typo in the family name, the e-mail in capitals, no phone.
ANNA_AGAIN = {
    "kind": "PERSON",
    "givenName": "Anna",
    "familyName": "Schmitt",
    "birthDate": "1980-05-17",
    "emails": [{"address": "Anna.Schmidt@example.com"}],
}
# A chain: the first two share an e-mail, the last two a phone; the first and the last share no key.
CLARA = {
    "kind": "PERSON",
    "givenName": "Clara",
    "familyName": "Weber",
    "birthDate": "1975-03-02",
    "emails": [{"address": "clara@web.example"}],
    "phones": [{"number": "+49 40 5550101"}],
    "addresses": [
        {"type": "BILLING", "lines": ["Lindenweg 7"], "city": "Hamburg", "postalCode": "20095", "country": "DE"}
    ],
}
CLARA_2 = {
    "kind": "PERSON",
    "givenName": "Clara",
    "familyName": "Weber",
    "birthDate": "1975-03-02",
    "emails": [{"address": "clara@web.example"}],
    "phones": [{"number": "+49 40 5550202"}],
}
CLARA_3 = {
    "kind": "PERSON",
    "givenName": "Klara",
    "familyName": "Webber",
    "phones": [{"number": "+49 40 5550202"}],
    "addresses": [
        {"type": "BILLING", "lines": ["Gartenweg 1"], "city": "München", "postalCode": "80331", "country": "DE"}
    ],
}
BERND = {
    "kind": "PERSON",
    "givenName": "Bernd",
    "familyName": "Keller",
    "birthDate": "1962-11-03",
    "emails": [{"address": "bernd.keller@example.org"}],
}


GIVEN = ["Jonas", "Greta", "Felix", "Ida", "Lukas", "Karla", "Hugo", "Eva", "Ben", "Mia", "Paul", "Lea"]
FAMILY = ["Fischer", "Wagner", "Becker", "Hoffmann", "Schulz", "Koch", "Richter", "Klein", "Wolf", "Neumann"]


def strangers(count: int) -> list[dict[str, Any]]:
    """``count`` distinct people with nothing in common beyond chance."""
    people = []
    for i in range(count):
        people.append(
            {
                "kind": "PERSON",
                "givenName": GIVEN[i % len(GIVEN)],
                "familyName": FAMILY[(i * 7) % len(FAMILY)] + ("" if i < len(FAMILY) else f"-{i}"),
                "birthDate": f"{1950 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "emails": [{"address": f"person{i}@strangers.example"}],
                "phones": [{"number": f"+49 89 {5550000 + i}"}],
            }
        )
    return people


def checking_app(services: Services) -> FastAPI:
    """The service with the real-time check on create switched on (the test settings switch it off)."""
    settings = services.settings.model_copy(update={"duplicate_check_on_create": True})
    return create_app(settings, dataclasses.replace(services.api, settings=settings, registry=CollectorRegistry()))


async def created(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], **params: Any) -> str:
    response = await client.post(CUSTOMERS, json=body, headers=headers, params=params)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def scan(
    services: Services,
    tenant: str,
    *,
    chunk_size: int = 1000,
    min_training_records: int = 1000,
    big_block_size: int = 20,
    training_records: int = 10_000,
    on_progress: Progress | None = None,
    job_id: str | None = None,
    offload: Offload | None = None,
    split_pairs: int = 4000,
) -> ScanJob:
    """A batch scan of the tenant, run in this process (the CLI's and the API's runner). A tenant of more
    than ``training_records`` profiles is scanned chunk by chunk, a smaller one read whole."""
    options = ScanOptions(
        chunk_size=chunk_size,
        training_records=training_records,
        min_training_records=min_training_records,
        big_block_size=big_block_size,
        split_pairs=split_pairs,
    )
    return await run_scan_job(
        services.engine,
        tenant,
        default_policy=duplicate_defaults(services.settings),
        options=options,
        clock=SystemClock(),
        job_id=job_id,
        on_progress=on_progress,
        merge=auto_merger(services.executor, tenant),
        offload=offload,
    )


async def queue(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get(DUPLICATES, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def pairs_of(page: dict[str, Any]) -> set[frozenset[str]]:
    return {frozenset((item["left"]["id"], item["right"]["id"])) for item in page["items"]}
