"""SearchCustomers: accent/case-insensitive, partial and typo-tolerant names; e-mail, phone, references."""

from __future__ import annotations

import httpx
import pytest

from tests.support.api import CUSTOMERS, create_customer


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
