"""Property: ``POST /customers`` and ``POST /duplicates/check`` accept the same bodies.

Whatever one accepts the other accepts; whatever one refuses with 400 the other refuses, naming the same
fields. Bodies mix valid values with the kinds a CRM feed sends: tax ids failing their checksum and
phones that cannot be numbers (both kept, flagged), unreadable e-mails, a phone without digits, a tax id
without a country, bad dates and statuses, control characters, unknown members. The example count is
bounded (CHECK_PROPERTY_EXAMPLES, default 40).
"""

from __future__ import annotations

import os
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.api import CUSTOMERS
from tests.support.duplicates import DUPLICATES

EXAMPLES = int(os.environ.get("CHECK_PROPERTY_EXAMPLES", "40"))

# Good values first in each list, then bad ones (a phone that cannot be a number and a tax id failing its
# checksum count as good: they are kept, flagged); the strategies below slice them apart.
NAMES = ["Müller Maschinenbau GmbH", "Acme", "", " ", "Bad\x07Name", "x" * 300]
GIVEN = [None, "Anna", "", "Zoë"]
FAMILY = [None, "Schmidt", "Ångström", "Sch\x00midt"]
BIRTH_DATES = [None, "1980-05-17", "2999-01-01", "17.05.1980", "1980-02-30"]
EMAILS = ["anna@example.com", "INFO@mueller.example", "not-an-email", "a@b", "x@@example.com"]
PHONES = ["+49 30 1234567", "030 1234567", "+49 30 12", "12", "n/a", "+44 20 7946 0958 99999", "030\x071234"]
TAX_IDS = [
    {"country": "DE", "value": "DE136695976"},
    {"country": "DE", "value": "DE136695977"},
    {"country": "GB", "type": "VAT", "value": "GB123456789"},
    {"country": "XX", "value": "123"},
    {"country": "DE", "value": "---"},
    {"country": "FR", "type": "COMPANY_REGISTRATION", "value": "RCS 123"},
    {"value": "DE136695976"},
]
ADDRESSES = [
    {"type": "BILLING", "lines": ["Hauptstraße 5"], "city": "Berlin", "postalCode": "10115", "country": "DE"},
    {"type": "SHIPPING", "lines": ["Flat 3", "12 High Street"], "city": "Leeds", "country": "GB"},
    {"type": "BILLING", "lines": [], "city": "Berlin", "country": "DE"},
    {"type": "BILLING", "lines": ["a", "b", "c", "d", "e"], "city": "Berlin", "country": "DE"},
    {"type": "NOWHERE", "lines": ["x"], "city": "Berlin", "country": "DE"},
    {"type": "BILLING", "lines": ["x"], "city": "Berlin", "country": "Germany"},
]
CONTACTS = [
    {"name": "Anna Schmidt", "email": "anna@mueller.example", "role": "BILLING"},
    {"name": "Bob", "email": "not-an-email"},
    {"givenName": "Eva", "familyName": "Lind", "phone": "12"},
    {"name": ""},
]
EXTRA = [{}, {"status": "INACTIVE"}, {"website": "www.mueller.example"}, {"status": "MERGED"}, {"unknown": 1}]


def _mostly(good: list[Any], bad: list[Any]) -> st.SearchStrategy[Any]:
    """Good values four times as often as bad ones, so that both answers are common."""
    return st.sampled_from(good * 4 + bad)


_common = {
    "emails": st.lists(_mostly(EMAILS[:2], EMAILS[2:]), max_size=2),
    "phones": st.lists(_mostly(PHONES[:4], PHONES[4:]), max_size=2),
    "addresses": st.lists(_mostly(ADDRESSES[:2], ADDRESSES[2:]), max_size=2),
    "extra": _mostly(EXTRA[:3], EXTRA[3:]),
}
organisations = st.fixed_dictionaries(
    {
        "kind": _mostly([None, "ORGANIZATION"], ["ALIEN", "PERSON"]),
        "name": _mostly(NAMES[:2], [None, *NAMES[2:]]),
        "taxIds": st.lists(_mostly(TAX_IDS[:3], TAX_IDS[3:]), max_size=2),
        "contacts": st.lists(_mostly(CONTACTS[:1], CONTACTS[1:]), max_size=2),
        **_common,
    }
)
people = st.fixed_dictionaries(
    {
        "kind": _mostly(["PERSON"], [None]),
        "givenName": _mostly(GIVEN[1:2], [None, *GIVEN[2:]]),
        "familyName": _mostly(FAMILY[1:3], [None, *FAMILY[3:]]),
        "birthDate": _mostly(BIRTH_DATES[:2], BIRTH_DATES[2:]),
        **_common,
    }
)
bodies = st.one_of(organisations, people)


def _body(spec: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {k: v for k, v in spec.items() if k not in ("extra", "emails", "phones") and v is not None}
    body["emails"] = [{"address": e} for e in spec["emails"]]
    body["phones"] = [{"number": p} for p in spec["phones"]]
    return {**body, **spec["extra"]}


def _outcome(response: httpx.Response) -> tuple[bool, list[str]]:
    """Accepted or not, and the fields a 400 names."""
    if response.status_code == 400:
        return False, sorted(f["field"] for f in response.json()["details"].get("fields", []))
    assert response.status_code in (200, 201), response.text
    return True, []


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=bodies)
async def test_the_check_accepts_exactly_what_create_accepts(
    client: httpx.AsyncClient, headers: dict[str, str], spec: dict[str, Any]
) -> None:
    """A random body, good or bad: the check and the create agree on accepting it and on the fields refused."""
    body = _body(spec)
    checked = await client.post(f"{DUPLICATES}/check", json=body, headers=headers)
    created = await client.post(CUSTOMERS, json=body, headers=headers)
    assert _outcome(checked) == _outcome(created)
