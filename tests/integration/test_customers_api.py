"""Customer profiles over HTTP against the real database."""

from __future__ import annotations

import httpx

from tests.support.api import CUSTOMERS, create_customer


class TestCreateCustomer:
    async def test_the_seeds_body_creates_a_profile(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """The seed's request body works as shown in the seed."""
        body = {
            "name": "Acme Corp",
            "status": "ACTIVE",
            "contacts": [{"name": "Jane Doe", "email": "jane@acme.example", "role": "BILLING"}],
        }
        response = await client.post(CUSTOMERS, json=body, headers=headers)
        assert response.status_code == 201
        created = response.json()
        assert (created["name"], created["status"], created["kind"]) == ("Acme Corp", "ACTIVE", "ORGANIZATION")
        assert created["contacts"][0]["roles"] == ["BILLING"]
        assert created["contacts"][0]["emails"][0]["address"] == "jane@acme.example"
        assert f'"{created["version"]}"' == response.headers["etag"]
        assert f"{CUSTOMERS}/{created['id']}" == response.headers["location"]

    async def test_values_are_normalised(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Phones become E.164 (original kept), e-mail domains lower-case, VAT ids compact, domain derived."""
        created = await create_customer(
            client,
            headers,
            name="Müller GmbH",
            emails=[{"address": "Anna.Schmidt@MUELLER.example"}],
            phones=[{"number": "030 1234567", "type": "LANDLINE"}],
            taxIds=[{"country": "DE", "type": "VAT", "value": "DE 136 695 976"}],
            website="www.Mueller.example/kontakt",
        )
        assert created["emails"][0]["address"] == "Anna.Schmidt@mueller.example"
        assert (created["phones"][0]["e164"], created["phones"][0]["original"]) == ("+49301234567", "030 1234567")
        assert created["taxIds"][0] == {
            "country": "DE",
            "type": "VAT",
            "value": "DE136695976",
            "validated": True,
            "invalidReason": None,
        }
        assert created["domain"] == "mueller.example"

    async def test_a_person_gets_a_display_name(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A person created from given and family name is displayed by both."""
        created = await create_customer(
            client, headers, name=None, kind="PERSON", givenName="Zoë", familyName="Ångström", birthDate="1980-02-29"
        )
        assert (created["name"], created["birthDate"]) == ("Zoë Ångström", "1980-02-29")

    async def test_a_vat_id_failing_its_checksum_is_kept_flagged(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """A VAT id failing its checksum no longer refuses the record: kept as given, validated false."""
        created = await create_customer(client, headers, taxIds=[{"country": "DE", "value": "DE 136 695 977"}])
        stored = (await client.get(f"{CUSTOMERS}/{created['id']}", headers=headers)).json()
        assert stored["taxIds"] == [
            {
                "country": "DE",
                "type": "VAT",
                "value": "DE136695977",
                "validated": False,
                "invalidReason": "fails its check digits",
            }
        ]

    async def test_an_impossible_phone_is_kept_flagged(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """A phone that cannot be a number no longer refuses the record: its digits kept, validated false."""
        created = await create_customer(client, headers, phones=[{"number": "+49 30 12", "type": "LANDLINE"}])
        stored = (await client.get(f"{CUSTOMERS}/{created['id']}", headers=headers)).json()
        phone = stored["phones"][0]
        assert (phone["e164"], phone["original"], phone["validated"], phone["invalidReason"]) == (
            "+493012",
            "+49 30 12",
            False,
            "is not a possible phone number",
        )

    async def test_a_phone_with_a_control_character_is_still_refused(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Keeping unvalidated values stops at hostile text: a control character is a 400 naming the field."""
        response = await client.post(
            CUSTOMERS, json={"name": "X", "phones": [{"number": "030\x071234567"}]}, headers=headers
        )
        assert response.status_code == 400
        assert response.json()["details"]["fields"][0]["field"].startswith("phones[0]")

    async def test_an_external_reference_belongs_to_one_customer(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """A second customer with the same (sourceSystem, externalId) gets 409."""
        ref = [{"sourceSystem": "SAP", "externalId": "0000100234"}]
        first = await create_customer(client, headers, externalRefs=ref)
        response = await client.post(CUSTOMERS, json={"name": "Other", "externalRefs": ref}, headers=headers)
        assert response.status_code == 409
        assert ("DUPLICATE_EXTERNAL_REFERENCE", first["id"]) == (
            response.json()["error"],
            response.json()["details"]["customerId"],
        )


class TestReadAndUpdate:
    async def test_get_returns_the_profile_with_its_etag(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """GET answers the stored profile and its version as ETag."""
        created = await create_customer(client, headers, segment="SMB")
        response = await client.get(f"{CUSTOMERS}/{created['id']}", headers=headers)
        assert (200, created) == (response.status_code, response.json())
        assert response.headers["etag"] == '"1"'

    async def test_merge_patch_changes_only_what_it_names(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """A merge patch sets, merges nested objects and removes nulls; everything else stays."""
        created = await create_customer(client, headers, segment="SMB", industry="Retail", locale={"language": "de"})
        response = await client.patch(
            f"{CUSTOMERS}/{created['id']}",
            json={"segment": "ENTERPRISE", "industry": None, "locale": {"currency": "eur"}},
            headers={**headers, "Content-Type": "application/merge-patch+json"},
        )
        updated = response.json()
        assert response.status_code == 200
        assert (updated["segment"], updated["industry"], updated["version"]) == ("ENTERPRISE", None, 2)
        assert updated["locale"] == {"language": "de", "timeZone": None, "currency": "EUR"}
        assert created["name"] == updated["name"]

    async def test_a_stale_if_match_is_refused_with_412(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """If-Match naming an old version gets 412 and changes nothing."""
        created = await create_customer(client, headers)
        url = f"{CUSTOMERS}/{created['id']}"
        assert (
            await client.patch(url, json={"segment": "A"}, headers={**headers, "If-Match": '"1"'})
        ).status_code == 200
        stale = await client.patch(url, json={"segment": "B"}, headers={**headers, "If-Match": '"1"'})
        assert (stale.status_code, stale.json()["error"]) == (412, "VERSION_MISMATCH")
        assert (await client.get(url, headers=headers)).json()["segment"] == "A"

    async def test_status_changes_are_versioned(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Putting a customer on hold records a new version."""
        created = await create_customer(client, headers)
        response = await client.post(
            f"{CUSTOMERS}/{created['id']}/status", json={"status": "ON_HOLD", "reason": "credit"}, headers=headers
        )
        assert (response.json()["status"], response.json()["version"]) == ("ON_HOLD", 2)

    async def test_the_kind_cannot_change(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A patch that changes the kind is refused."""
        created = await create_customer(client, headers)
        response = await client.patch(f"{CUSTOMERS}/{created['id']}", json={"kind": "PERSON"}, headers=headers)
        assert response.status_code == 400


class TestListCustomers:
    async def test_keyset_pages_cover_every_customer_once(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Following nextCursor visits each customer exactly once."""
        ids = {(await create_customer(client, headers, name=f"C{i}"))["id"] for i in range(5)}
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get(CUSTOMERS, params=params, headers=headers)).json()
            seen.extend(item["id"] for item in page["items"])
            cursor = page["nextCursor"]
            if cursor is None:
                break
        assert (ids, 5) == (set(seen), len(seen))

    async def test_filters_combine(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Status, segment, kind and tag filters all apply."""
        wanted = await create_customer(client, headers, segment="SMB", tags=["key-account"])
        await create_customer(client, headers, segment="SMB")
        await create_customer(client, headers, segment="ENTERPRISE", tags=["key-account"])
        page = (
            await client.get(
                CUSTOMERS,
                params={"segment": "SMB", "tag": "key-account", "status": "ACTIVE", "kind": "ORGANIZATION"},
                headers=headers,
            )
        ).json()
        assert [wanted["id"]] == [item["id"] for item in page["items"]]
