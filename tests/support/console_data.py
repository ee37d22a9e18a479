"""Synthetic customers for the console's browser tests and screenshots, written through the API."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import ALL_PERMISSIONS

API = "/api/v1/crm"


@dataclass(frozen=True)
class Seeded:
    tenant: str
    parent: str
    original: str
    look_alike: str
    other: str
    stranger: str


def _headers(tenant: str) -> dict[str, str]:
    return {"X-User-Id": "seeder", "X-Tenant-ID": tenant, "X-User-Permissions": ALL_PERMISSIONS}


def _create(http: httpx.Client, tenant: str, body: dict[str, Any]) -> str:
    response = http.post(f"{API}/customers", json=body, headers=_headers(tenant))
    if response.status_code == 409:
        raise AssertionError("the duplicate check refused a seed profile (serve with DUPLICATE_CHECK_ON_CREATE=false)")
    response.raise_for_status()
    return str(response.json()["id"])


def seed(base_url: str, tenant: str, tag: str = "") -> Seeded:
    """A parent company, a subsidiary with a look-alike duplicate, a second pair, and an unrelated person."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        h = _headers(tenant)
        parent = _create(
            http,
            tenant,
            {"name": f"Nordlicht Holding{tag} AG", "segment": "ENTERPRISE", "industry": "Holding"},
        )
        original = _create(
            http,
            tenant,
            {
                "name": f"Müller Maschinenbau{tag} GmbH",
                "legalName": f"Müller Maschinenbau{tag} GmbH",
                "segment": "SMB",
                "industry": "Machinery",
                "website": "https://mueller-maschinenbau.example",
                "emails": [{"address": f"info{tag}@mueller-maschinenbau.example", "primary": True}],
                "phones": [{"number": "+49 30 1234567", "type": "LANDLINE"}],
                "taxIds": [{"country": "DE", "type": "VAT", "value": "DE136695976"}],
                "addresses": [
                    {
                        "type": "BILLING",
                        "lines": ["Industriestraße 12"],
                        "city": "Berlin",
                        "postalCode": "10115",
                        "country": "DE",
                    }
                ],
                "externalRefs": [{"sourceSystem": "FINANCE", "externalId": f"F-1001{tag}"}],
                "contacts": [
                    {
                        "name": "Anna Schmidt",
                        "email": f"anna.schmidt{tag}@mueller-maschinenbau.example",
                        "role": "BILLING",
                        "primary": True,
                    },
                    {
                        "name": "Jonas Weber",
                        "email": f"jonas.weber{tag}@mueller-maschinenbau.example",
                        "role": "SERVICE",
                        "jobTitle": "Service lead",
                    },
                ],
            },
        )
        look_alike = _create(
            http,
            tenant,
            {
                "name": f"Mueller Maschinenbau{tag}",
                "segment": "MID",
                "website": "https://mueller-maschinenbau.example",
                "emails": [{"address": f"info{tag}@mueller-maschinenbau.example"}],
                "phones": [{"number": "030 1234567", "type": "LANDLINE"}],
                "taxIds": [{"country": "DE", "type": "VAT", "value": "DE 136 695 976"}],
                "externalRefs": [{"sourceSystem": "SALES", "externalId": f"L-77{tag}"}],
                "contacts": [
                    {"name": "Anna Schmidt", "email": f"a.schmidt{tag}@mueller-maschinenbau.example", "role": "SALES"}
                ],
            },
        )
        other = _create(
            http,
            tenant,
            {
                "kind": "PERSON",
                "name": f"Clara Hoffmann{tag}",
                "givenName": "Clara",
                "familyName": f"Hoffmann{tag}",
                "birthDate": "1984-03-12",
                "emails": [{"address": f"clara.hoffmann{tag}@example.org"}],
                "phones": [{"number": "+49 170 5550101", "type": "MOBILE"}],
            },
        )
        _create(
            http,
            tenant,
            {
                "kind": "PERSON",
                "name": f"Klara Hofmann{tag}",
                "givenName": "Klara",
                "familyName": f"Hofmann{tag}",
                "birthDate": "1984-03-12",
                "emails": [{"address": f"clara.hoffmann{tag}@example.org"}],
            },
        )
        stranger = _create(
            http,
            tenant,
            {"kind": "PERSON", "name": f"Theo Brandt{tag}", "givenName": "Theo", "familyName": f"Brandt{tag}"},
        )
        http.post(
            f"{API}/customers/{original}/relationships",
            json={"type": "SUBSIDIARY_OF", "toCustomerId": parent},
            headers=h,
        ).raise_for_status()
        for status in ("GRANTED", "REVOKED", "GRANTED"):
            http.post(
                f"{API}/customers/{original}/consent", json={"type": "EMAIL", "status": status}, headers=h
            ).raise_for_status()
        http.post(
            f"{API}/customers/{original}/consent", json={"type": "SMS", "status": "REVOKED"}, headers=h
        ).raise_for_status()
        http.patch(
            f"{API}/customers/{original}",
            json={"tags": ["key-account"], "communication": {"preferredChannel": "EMAIL"}},
            headers=h,
        ).raise_for_status()
    return Seeded(tenant, parent, original, look_alike, other, stranger)


def scan(base_url: str, tenant: str, timeout: float = 120.0) -> None:
    """Run a duplicate scan through the API and wait for it to finish."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        started = http.post(f"{API}/duplicates/scan", headers=_headers(tenant))
        started.raise_for_status()
        job = started.json()["jobId"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = http.get(f"{API}/duplicates/scan/{job}", headers=_headers(tenant)).json()["status"]
            if status == "COMPLETED":
                return
            if status == "FAILED":
                raise AssertionError(f"scan {job} failed")
            if status == "INTERRUPTED":
                raise AssertionError(f"scan {job} stopped")
            time.sleep(0.3)
    raise AssertionError(f"scan {job} did not finish within {timeout} s")


def api_get(base_url: str, tenant: str, path: str) -> Any:
    """Read through the API what the console changed (the browser's word is not the proof)."""
    response = httpx.get(f"{base_url}{API}{path}", headers=_headers(tenant), timeout=30)
    response.raise_for_status()
    return response.json()


def api_patch(base_url: str, tenant: str, customer_id: str, body: dict[str, Any]) -> None:
    response = httpx.patch(f"{base_url}{API}/customers/{customer_id}", json=body, headers=_headers(tenant), timeout=30)
    response.raise_for_status()


def import_file(tag: str) -> bytes:
    """A CSV file for the console's import page: two good rows and a third with a malformed e-mail address
    (references ``IMP-<tag>:1..3``)."""
    return (
        "name,email,phone,street,postalCode,city,country,externalRef\n"
        f"Lindenhof Gartenbau GmbH,info@lindenhof.example,030 5550101,Lindenweg 2,10117,Berlin,DE,IMP-{tag}:1\n"
        f"Brückner Metallbau KG,post@brueckner.example,,Hafenstraße 9,28195,Bremen,DE,IMP-{tag}:2\n"
        f"Seidel Druck OHG,not-an-address,,Marktplatz 4,04109,Leipzig,DE,IMP-{tag}:3\n"
    ).encode()
