"""SearchCustomers: accent/case-insensitive, partial and typo-tolerant names; e-mail, phone, references."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from customer360.infrastructure.persistence.database import DatabaseUrls, create_engine
from customer360.infrastructure.persistence.privacy_sql import document_json
from tests.conftest import ALL_PERMISSIONS
from tests.support.api import CUSTOMERS, create_customer

COMMON_HEADERS = {"X-User-Id": "steward-1", "X-User-Permissions": ALL_PERMISSIONS}


async def _search(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> list[str]:
    response = await client.get(f"{CUSTOMERS}/search", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [hit["customer"]["id"] for hit in response.json()["items"]]


class TestSearch:
    @pytest.mark.parametrize("query", ["mueller", "Müller", "MULLER", "muell", "mueler gmbh"])
    async def test_finds_mueller_gmbh_by_name(
        self, client: httpx.AsyncClient, headers: dict[str, str], query: str
    ) -> None:
        """'Müller GmbH' is found by spelling variants, a prefix and a typo."""
        wanted = (await create_customer(client, headers, name="Müller GmbH"))["id"]
        await create_customer(client, headers, name="Schneider AG")
        assert [wanted] == await _search(client, headers, name=query)

    async def test_finds_a_phone_written_another_way(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """'+49 30 1234567' is found from '030-1234567'."""
        wanted = (await create_customer(client, headers, phones=[{"number": "+49 30 1234567"}]))["id"]
        assert [wanted] == await _search(client, headers, phone="030-1234567")

    async def test_finds_a_contacts_email(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A contact's e-mail, in any case, finds the customer."""
        wanted = (await create_customer(client, headers, contacts=[{"name": "Jo", "email": "jo@firm.example"}]))["id"]
        assert [wanted] == await _search(client, headers, email="JO@firm.example")

    async def test_finds_by_external_reference(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """SYSTEM:id finds the customer that system knows."""
        wanted = (await create_customer(client, headers, externalRefs=[{"sourceSystem": "sap", "externalId": "77"}]))[
            "id"
        ]
        assert [wanted] == await _search(client, headers, externalRef="SAP:77")

    async def test_criteria_combine(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Name and e-mail together must both match."""
        await create_customer(client, headers, name="Alpha Trading", emails=[{"address": "x@alpha.example"}])
        wanted = (
            await create_customer(client, headers, name="Alpha Trading", emails=[{"address": "y@alpha.example"}])
        )["id"]
        assert [wanted] == await _search(client, headers, name="alpha trading", email="y@alpha.example")

    async def test_exact_names_rank_first(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """The closest name comes first."""
        exact = (await create_customer(client, headers, name="Nordwind Logistik"))["id"]
        await create_customer(client, headers, name="Nordwand Logistics International")
        assert exact == (await _search(client, headers, name="Nordwind Logistik"))[0]

    async def test_every_word_of_a_name_must_match(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """'Moosbach Textil' does not return every other textile company."""
        wanted = (await create_customer(client, headers, name="Moosbach Textil GmbH"))["id"]
        await create_customer(client, headers, name="Kranich Textil GmbH")
        assert [wanted] == await _search(client, headers, name="Moosbach Textil")

    async def test_a_short_word_matches_the_start_of_a_word(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """'lor' finds 'Lorenz Bau', not 'Florian Bau'."""
        wanted = (await create_customer(client, headers, name="Lorenz Bau"))["id"]
        await create_customer(client, headers, name="Florian Bau")
        assert [wanted] == await _search(client, headers, name="lor")

    async def test_a_search_needs_a_criterion(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """No criterion at all is a 400."""
        response = await client.get(f"{CUSTOMERS}/search", headers=headers)
        assert (response.status_code, response.json()["details"]["fields"][0]["field"]) == (400, "query")


def _address(street: str, city: str, postal_code: str, country: str = "DE") -> dict[str, Any]:
    return {"type": "BILLING", "lines": [street], "city": city, "postalCode": postal_code, "country": country}


class TestSearchByAddress:
    async def test_finds_by_street_written_short(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """'Lindenstr. 12' finds a profile stored at 'Lindenstraße 12'."""
        wanted = (await create_customer(client, headers, addresses=[_address("Lindenstraße 12", "Köln", "50667")]))[
            "id"
        ]
        await create_customer(client, headers, addresses=[_address("Lindenallee 12", "Köln", "50667")])
        assert [wanted] == await _search(client, headers, street="Lindenstr. 12")

    async def test_finds_by_city_accents_and_prefix(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """'kol' and 'Köln' find a profile in Köln, not one in Bonn."""
        wanted = (await create_customer(client, headers, addresses=[_address("Ring 1", "Köln", "50667")]))["id"]
        await create_customer(client, headers, addresses=[_address("Ring 1", "Bonn", "53111")])
        assert ([wanted], [wanted]) == (
            await _search(client, headers, city="kol"),
            await _search(client, headers, city="Köln"),
        )

    async def test_finds_by_postal_code_start(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A postal code, or its first digits, finds the profiles there."""
        wanted = (await create_customer(client, headers, addresses=[_address("Ring 1", "Köln", "50667")]))["id"]
        await create_customer(client, headers, addresses=[_address("Ring 1", "Bonn", "53111")])
        assert [wanted] == await _search(client, headers, postalCode="506")

    async def test_country_narrows_other_criteria(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Name and country together: the Austrian namesake is left out."""
        wanted = (
            await create_customer(client, headers, name="Adler Optik", addresses=[_address("Ring 1", "Köln", "50667")])
        )["id"]
        await create_customer(
            client, headers, name="Adler Optik", addresses=[_address("Ring 1", "Wien", "1010", country="AT")]
        )
        assert [wanted] == await _search(client, headers, name="adler optik", country="de")

    async def test_an_unknown_country_code_is_a_400(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """country must be an ISO 3166-1 alpha-2 code."""
        response = await client.get(f"{CUSTOMERS}/search", params={"country": "XX"}, headers=headers)
        assert (response.status_code, response.json()["details"]["fields"][0]["field"]) == (400, "country")


class TestFreeTextSearch:
    async def test_q_finds_name_words(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """q='brenner hol' finds 'Brenner Holzbau' and says it matched on the name."""
        wanted = (await create_customer(client, headers, name="Brenner Holzbau"))["id"]
        await create_customer(client, headers, name="Brenner Stahl")
        response = await client.get(f"{CUSTOMERS}/search", params={"q": "brenner hol"}, headers=headers)
        hits = response.json()["items"]
        assert [(wanted, ["name"])] == [(h["customer"]["id"], h["matchedOn"]) for h in hits]

    async def test_q_finds_an_email(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """q with an e-mail address finds its owner, matched on email."""
        wanted = (await create_customer(client, headers, emails=[{"address": "Info@Quarz.example"}]))["id"]
        response = await client.get(f"{CUSTOMERS}/search", params={"q": "info@quarz.example"}, headers=headers)
        assert [(wanted, ["email"])] == [(h["customer"]["id"], h["matchedOn"]) for h in response.json()["items"]]

    async def test_q_finds_a_phone(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """q='030 9876543' finds '+49 30 9876543'."""
        wanted = (await create_customer(client, headers, phones=[{"number": "+49 30 9876543"}]))["id"]
        assert [wanted] == await _search(client, headers, q="030 9876543")

    async def test_q_finds_a_tax_id(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """q with a VAT number, spaced as people write it, finds the organisation."""
        wanted = (
            await create_customer(
                client, headers, kind="ORGANIZATION", taxIds=[{"country": "DE", "type": "VAT", "value": "DE136695976"}]
            )
        )["id"]
        assert [wanted] == await _search(client, headers, q="DE 136 695 976")

    async def test_q_finds_a_reference_of_any_system(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """q with an external id finds the profile whatever system knows it."""
        wanted = (
            await create_customer(client, headers, externalRefs=[{"sourceSystem": "SAP", "externalId": "K-4711"}])
        )["id"]
        response = await client.get(f"{CUSTOMERS}/search", params={"q": "K-4711"}, headers=headers)
        assert [(wanted, ["externalRef"])] == [(h["customer"]["id"], h["matchedOn"]) for h in response.json()["items"]]

    async def test_q_and_city_combine(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """q and city together must both match."""
        await create_customer(client, headers, name="Falke Reisen", addresses=[_address("Ring 1", "Bonn", "53111")])
        wanted = (
            await create_customer(client, headers, name="Falke Reisen", addresses=[_address("Ring 1", "Köln", "50667")])
        )["id"]
        assert [wanted] == await _search(client, headers, q="falke", city="koln")


class TestWordIndex:
    async def test_an_exact_word_ranks_before_longer_words(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Typeahead 'lind' lists 'Lind Bau' before 'Lindner Bau' and 'Lindemann Bau'."""
        longer = [(await create_customer(client, headers, name=n))["id"] for n in ("Lindner Bau", "Lindemann Bau")]
        exact = (await create_customer(client, headers, name="Lind Bau"))["id"]
        found = await _search(client, headers, name="lind")
        assert (exact, set(longer)) == (found[0], set(found[1:]))

    async def test_a_renamed_profile_is_found_by_its_new_name_only(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """After a rename the old name finds nothing and the new one finds the profile."""
        customer = await create_customer(client, headers, name="Zander Fisch")
        response = await client.patch(
            f"{CUSTOMERS}/{customer['id']}",
            json={"name": "Hecht Fisch"},
            headers={**headers, "Content-Type": "application/merge-patch+json"},
        )
        assert response.status_code == 200, response.text
        assert ([], [customer["id"]]) == (
            await _search(client, headers, name="zander"),
            await _search(client, headers, name="hecht"),
        )

    async def test_a_misspelt_word_lists_its_most_similar_word_first(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """'brunnmayr' lists 'Brunnmayer Bau' before two 'Brunnmaier Bau' (less similar, first in word order)."""
        for _ in range(2):
            await create_customer(client, headers, name="Brunnmaier Bau")
        wanted = (await create_customer(client, headers, name="Brunnmayer Bau"))["id"]
        assert [wanted] == await _search(client, headers, name="brunnmayr", limit="1")

    async def test_a_typo_in_one_word_is_forgiven(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """'Kastanienhof Gastronomie' is found from 'kastanienhfo gastro' (a word that matches nothing)."""
        wanted = (await create_customer(client, headers, name="Kastanienhof Gastronomie"))["id"]
        await create_customer(client, headers, name="Eichenhof Gastronomie")
        assert [wanted] == await _search(client, headers, name="kastanienhfo gastro")


@pytest.fixture(scope="class")
async def common_tenant(app: FastAPI) -> dict[str, str]:
    return {**COMMON_HEADERS, "X-Tenant-ID": f"t-{secrets.token_hex(6)}"}


@pytest.fixture(scope="class")
async def common(app: FastAPI, common_tenant: dict[str, str]) -> dict[str, list[str]]:
    """410 profiles, created once for the class (a tenant of its own): both words have 220 postings."""
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://customer360.test")
    headers = common_tenant
    names = {
        "both": [f"Ostwind Handel {i}" for i in range(30)],
        "first": [f"Ostwind Logistik {i}" for i in range(190)],
        "second": [f"Westwind Handelshaus {i}" for i in range(190)],
    }
    ids: dict[str, list[str]] = {}
    for group, group_names in names.items():
        ids[group] = []
        for start in range(0, len(group_names), 15):
            batch = group_names[start : start + 15]
            created = await asyncio.gather(*(create_customer(client, headers, name=n) for n in batch))
            ids[group].extend(c["id"] for c in created)
    await client.aclose()
    return ids


class TestCommonWords:
    """Words with hundreds of postings take the index's other paths (whole-word join, posting join, scan)."""

    async def test_two_common_whole_words_find_only_profiles_with_both(
        self, client: httpx.AsyncClient, common_tenant: dict[str, str], common: dict[str, list[str]]
    ) -> None:
        """'ostwind handel': exactly the 30 profiles having both words whole, each scoring 1."""
        response = await client.get(
            f"{CUSTOMERS}/search", params={"name": "ostwind handel", "limit": 100}, headers=common_tenant
        )
        hits = response.json()["items"]
        assert ({h["score"] for h in hits}, {h["customer"]["id"] for h in hits}) == ({1.0}, set(common["both"]))

    async def test_a_common_word_and_a_start_find_only_profiles_with_both(
        self, client: httpx.AsyncClient, common_tenant: dict[str, str], common: dict[str, list[str]]
    ) -> None:
        """'ostwind hand': exactly the profiles with 'Ostwind' and a word starting 'hand'."""
        found = await _search(client, common_tenant, name="ostwind hand", limit="100")
        assert set(found) == set(common["both"])

    async def test_typeahead_over_common_words_lists_their_profiles(
        self, client: httpx.AsyncClient, common_tenant: dict[str, str], common: dict[str, list[str]]
    ) -> None:
        """'ostw': five profiles whose name has a word starting so."""
        found = await _search(client, common_tenant, name="ostw", limit="5")
        assert (len(found), set(found) <= set(common["both"] + common["first"])) == (5, True)


@pytest.fixture(scope="class")
async def prefix_tenant(app: FastAPI) -> dict[str, str]:
    return {**COMMON_HEADERS, "X-Tenant-ID": f"t-{secrets.token_hex(6)}"}


def _letters(number: int) -> str:
    """A word of letters only for a number (0 -> 'aa', 1 -> 'ab' ...): names of many distinct words."""
    return "".join(chr(ord("a") + d) for d in (number // 26, number % 26))


@pytest.fixture(scope="class")
async def prefixed(app: FastAPI, prefix_tenant: dict[str, str]) -> dict[str, list[str]]:
    """420 profiles in a tenant of their own: 'sonnberg' and words starting 'talb' (dozens of distinct words,
    so the start is answered from its prefix postings) have 220 postings each and meet in 20 profiles."""
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://customer360.test")
    names = {
        "whole": ["Sonnberg Talb"],
        "both": [f"Sonnberg Talb{_letters(i)}" for i in range(19)],
        "first": [f"Sonnberg Wald {i}" for i in range(200)],
        "second": [f"Weissberg Talb{_letters(i)}" for i in range(200)],
    }
    ids: dict[str, list[str]] = {}
    for group, group_names in names.items():
        ids[group] = []
        for start in range(0, len(group_names), 15):
            batch = group_names[start : start + 15]
            created = await asyncio.gather(*(create_customer(client, prefix_tenant, name=n) for n in batch))
            ids[group].extend(c["id"] for c in created)
    await client.aclose()
    return ids


class TestPrefixPostings:
    """Common words meeting rarely are joined through their postings (migration 0016) before any profile is
    read: a start of four letters or more through its prefix postings."""

    async def test_a_common_word_and_a_common_start_find_exactly_the_profiles_with_both(
        self, client: httpx.AsyncClient, prefix_tenant: dict[str, str], prefixed: dict[str, list[str]]
    ) -> None:
        """'sonnberg talb': the 20 profiles having both, none of the 400 having one of them."""
        found = await _search(client, prefix_tenant, name="sonnberg talb", limit="100")
        assert set(found) == set(prefixed["whole"] + prefixed["both"])

    async def test_the_whole_word_ranks_first(
        self, client: httpx.AsyncClient, prefix_tenant: dict[str, str], prefixed: dict[str, list[str]]
    ) -> None:
        """'sonnberg talb' lists 'Sonnberg Talb' first, with a higher score than every longer word."""
        response = await client.get(
            f"{CUSTOMERS}/search", params={"name": "sonnberg talb", "limit": "5"}, headers=prefix_tenant
        )
        hits = response.json()["items"]
        assert (hits[0]["customer"]["id"], hits[0]["score"] > max(h["score"] for h in hits[1:])) == (
            prefixed["whole"][0],
            True,
        )

    async def test_a_longer_start_finds_only_the_words_starting_so(
        self, client: httpx.AsyncClient, prefix_tenant: dict[str, str], prefixed: dict[str, list[str]]
    ) -> None:
        """'sonnberg talba': the 19 profiles whose word starts 'talba', not 'Sonnberg Talb'."""
        found = await _search(client, prefix_tenant, name="sonnberg talba", limit="100")
        assert set(found) == set(prefixed["both"])

    async def test_a_renamed_profile_leaves_its_old_prefix_postings(
        self, client: httpx.AsyncClient, prefix_tenant: dict[str, str], database: DatabaseUrls
    ) -> None:
        """The trigger posts 'N:zugs' for 'Zugspitz Alm' and, after a rename to 'Watzmann Alm', removes it
        and posts 'N:watz' (the alm's 'N:alm' never existed: three letters)."""
        customer = await create_customer(client, prefix_tenant, name="Zugspitz Alm")
        before = await _prefix_postings(database, prefix_tenant["X-Tenant-ID"], customer["id"])
        response = await client.patch(
            f"{CUSTOMERS}/{customer['id']}",
            json={"name": "Watzmann Alm"},
            headers={**prefix_tenant, "Content-Type": "application/merge-patch+json"},
        )
        assert response.status_code == 200, response.text
        after = await _prefix_postings(database, prefix_tenant["X-Tenant-ID"], customer["id"])
        assert (before, after) == (["N:zugs"], ["N:watz"])


async def _prefix_postings(database: DatabaseUrls, tenant: str, customer_id: str) -> list[str]:
    return await _postings(database, tenant, customer_id, "left(token, 1) IN ('N', 'S', 'C', 'P')")


async def _pair_postings(database: DatabaseUrls, tenant: str, customer_id: str) -> list[str]:
    return await _postings(database, tenant, customer_id, "left(token, 2) = 'm:'")


async def _postings(database: DatabaseUrls, tenant: str, customer_id: str, kind: str) -> list[str]:
    engine = create_engine(database.admin, pooled=False)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": tenant})
            rows = await connection.execute(
                text(
                    "SELECT token FROM crm_customer360.search_token WHERE tenant_id = :t AND customer_id = :c"
                    f" AND {kind} ORDER BY token"
                ),
                {"t": tenant, "c": customer_id},
            )
            return [r[0] for r in rows]
    finally:
        await engine.dispose()


class TestPostingsOfNewProfiles:
    """A new profile's postings are inserted plainly (migration 0020): each once, all of them."""

    async def test_a_new_profile_has_every_posting_search_postings_lists(
        self, client: httpx.AsyncClient, headers: dict[str, str], database: DatabaseUrls
    ) -> None:
        """Words, prefixes and pairs of a created profile are search_postings(search_tokens), no more."""
        customer = await create_customer(
            client,
            headers,
            name="Kranich Moorbach Holz",
            addresses=[
                {
                    "type": "BILLING",
                    "lines": ["Lindenallee 7"],
                    "city": "Potsdam",
                    "postalCode": "14467",
                    "country": "DE",
                }
            ],
        )
        stored = await _postings(database, headers["X-Tenant-ID"], customer["id"], "true")
        engine = create_engine(database.admin, pooled=False)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text("SELECT set_config('app.tenant_id', :t, true)"), {"t": headers["X-Tenant-ID"]}
                )
                listed = (
                    await connection.execute(
                        text(
                            "SELECT ARRAY(SELECT unnest(crm_customer360.search_postings(search_tokens)) ORDER BY 1)"
                            " FROM crm_customer360.customer_profile WHERE id = :c"
                        ),
                        {"c": customer["id"]},
                    )
                ).scalar_one()
        finally:
            await engine.dispose()
        assert stored == sorted(listed)
        assert {"n:kranich", "N:kran", "m:kranich holz", "m:holz kranich"} <= set(stored)


class TestPairPostings:
    """Two name terms are one range of the pair postings (migration 0017), read best-scoring first."""

    async def test_a_renamed_profile_leaves_its_old_pair_postings(
        self, client: httpx.AsyncClient, headers: dict[str, str], database: DatabaseUrls
    ) -> None:
        """The trigger posts 'm:kranich moor' and 'm:moor kranich', and after a rename the new name's pairs."""
        customer = await create_customer(client, headers, name="Kranich Moor")
        before = await _pair_postings(database, headers["X-Tenant-ID"], customer["id"])
        response = await client.patch(
            f"{CUSTOMERS}/{customer['id']}",
            json={"name": "Reiher Moor"},
            headers={**headers, "Content-Type": "application/merge-patch+json"},
        )
        assert response.status_code == 200, response.text
        after = await _pair_postings(database, headers["X-Tenant-ID"], customer["id"])
        assert (before, after) == (["m:kranich moor", "m:moor kranich"], ["m:moor reiher", "m:reiher moor"])

    async def test_a_shorter_word_ranks_first_whatever_its_alphabetical_place(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """'falkner birk' lists 'Falkner Birkz' (more of the word typed) before every 'Falkner Birkach'."""
        await asyncio.gather(*(create_customer(client, headers, name=f"Falkner Birkach {i}") for i in range(12)))
        shorter = {(await create_customer(client, headers, name="Falkner Birkz"))["id"] for _ in range(2)}
        assert shorter == set(await _search(client, headers, name="falkner birk", limit="2"))

    async def test_one_word_may_match_two_terms(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """'lindgren lind' finds 'Lindgren Bau': both terms are starts of its one word 'lindgren'."""
        wanted = (await create_customer(client, headers, name="Lindgren Bau"))["id"]
        assert [wanted] == await _search(client, headers, name="lindgren lind")

    async def test_a_name_of_many_words_is_found_by_two_of_them(
        self, client: httpx.AsyncClient, headers: dict[str, str], database: DatabaseUrls
    ) -> None:
        """A name of more words than pairs are posted for ('m:' instead) is found by two of its words."""
        wanted = (await create_customer(client, headers, name="Alpha Beta Gamma Delta Epsilon Zeta Eta Theta Iota"))[
            "id"
        ]
        await create_customer(client, headers, name="Gamma Iotas Bau")
        found = await _search(client, headers, name="gamma iota")
        postings = await _pair_postings(database, headers["X-Tenant-ID"], wanted)
        assert (found[0], postings) == (wanted, ["m:"])


class TestPageDocuments:
    """The page's documents are built in customer_search's statement (privacy_sql.document_json), and a page
    of candidates known to match (a typeahead's postings, two name terms' pair postings) is scored without
    search_hits: both answer what customer_json and search_hits answer."""

    async def test_a_page_document_is_customer_json(
        self, client: httpx.AsyncClient, headers: dict[str, str], database: DatabaseUrls
    ) -> None:
        """A profile with every part (tax ids, contacts, references, tags, addresses) has one document."""
        customer = await create_customer(
            client,
            headers,
            name="Dokument Probe GmbH",
            emails=[{"address": "info@probe.example"}],
            phones=[{"number": "030 1234567", "type": "LANDLINE"}],
            taxIds=[{"country": "DE", "type": "VAT", "value": "DE 136 695 976"}],
            addresses=[_address("Lindenstraße 12", "Köln", "50667")],
            tags=["key-account", "b2b"],
            externalRefs=[{"sourceSystem": "sap", "externalId": "77"}, {"sourceSystem": "crm", "externalId": "9"}],
            contacts=[{"name": "Jo Probe", "email": "jo@probe.example", "roles": ["BILLING"]}],
        )
        engine = create_engine(database.admin, pooled=False)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text("SELECT set_config('app.tenant_id', :t, true)"), {"t": headers["X-Tenant-ID"]}
                )
                same = await connection.scalar(
                    text(
                        f"SELECT crm_customer360.customer_json(p) = ({document_json('crm_customer360', 'p')})::jsonb"
                        " FROM crm_customer360.customer_profile p WHERE p.tenant_id = :t AND p.id = :c"
                    ),
                    {"t": headers["X-Tenant-ID"], "c": customer["id"]},
                )
        finally:
            await engine.dispose()
        assert same is True

    async def test_a_typeahead_page_is_the_checked_pages(
        self, client: httpx.AsyncClient, common_tenant: dict[str, str], common: dict[str, list[str]]
    ) -> None:
        """'ostw' (a common start: its first postings are the page) answers what the checked path answers
        (activeOnly, every profile active): the same scores, order and documents."""
        pages = [
            (
                await client.get(
                    f"{CUSTOMERS}/search", params={"name": "ostw", "limit": "7", **extra}, headers=common_tenant
                )
            ).json()
            for extra in ({}, {"activeOnly": "true"})
        ]
        assert (pages[0], len(pages[0]["items"])) == (pages[1], 7)

    async def test_a_pair_postings_page_is_the_checked_pages(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """'falkner birk' (two name terms: pair postings) answers what the checked path answers (activeOnly,
        every profile active): the same scores, order and documents."""
        await asyncio.gather(*(create_customer(client, headers, name=f"Falkner Birkach {i}") for i in range(6)))
        await create_customer(client, headers, name="Falkner Birkz", tags=["x"])
        pages = [
            (
                await client.get(
                    f"{CUSTOMERS}/search", params={"name": "falkner birk", "limit": "5", **extra}, headers=headers
                )
            ).json()
            for extra in ({}, {"activeOnly": "true"})
        ]
        assert (pages[0], len({h["score"] for h in pages[0]["items"]})) == (pages[1], 2)


class TestStreetPairs:
    """Two street terms are one range of the street pairs (migration 0019), each candidate checked."""

    async def test_the_trigger_posts_a_profiles_street_pairs(
        self, client: httpx.AsyncClient, headers: dict[str, str], database: DatabaseUrls
    ) -> None:
        """'Ahornstr. 4' posts 'r:4 ahornstrasse' and 'r:ahornstrasse 4'."""
        customer = await create_customer(client, headers, addresses=[_address("Ahornstr. 4", "München", "80331")])
        postings = await _postings(database, headers["X-Tenant-ID"], customer["id"], "left(token, 2) = 'r:'")
        assert postings == ["r:4 ahornstrasse", "r:ahornstrasse 4"]

    async def test_a_street_with_its_number_and_city_finds_only_that_address(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """'Ahornstr. 4' in 'München' finds Ahornstraße 4 and 41 there, not Ahornstraße 5 nor Ahornstraße 4 in
        Köln, the whole number first."""
        wanted = (await create_customer(client, headers, addresses=[_address("Ahornstraße 4", "München", "80331")]))[
            "id"
        ]
        longer = (await create_customer(client, headers, addresses=[_address("Ahornstraße 41", "München", "80331")]))[
            "id"
        ]
        await create_customer(client, headers, addresses=[_address("Ahornstraße 5", "München", "80331")])
        await create_customer(client, headers, addresses=[_address("Ahornstraße 4", "Köln", "50667")])
        assert [wanted, longer] == await _search(client, headers, street="Ahornstr. 4", city="münchen")
