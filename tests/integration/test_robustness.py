"""Bad input gets a clear 4xx with the field and the reason, and changes nothing."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from tests.support.api import CUSTOMERS, create_customer


async def _count(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    return len((await client.get(CUSTOMERS, params={"limit": 200}, headers=headers)).json()["items"])


class TestMalformedInput:
    async def test_malformed_json_is_400(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A body that is not JSON gets MALFORMED_JSON."""
        response = await client.post(
            CUSTOMERS, content=b'{"name": ', headers={**headers, "Content-Type": "application/json"}
        )
        assert (response.status_code, response.json()["error"]) == (400, "MALFORMED_JSON")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": 42}, "name"),
            ({"name": "X", "status": "DELETED"}, "status"),
            ({"name": "X", "kind": "ROBOT"}, "kind"),
            ({"name": "X", "contacts": [{"name": "A", "role": "JANITOR"}]}, "contacts[0].role"),
            ({"name": "X", "unknownField": 1}, "unknownField"),
            ({"name": "X", "emails": [{"address": "not-an-email"}]}, "emails[0].address"),
            ({"name": "X", "phones": [{"number": "n/a"}]}, "phones[0].number"),
            (
                {"name": "X", "addresses": [{"type": "BILLING", "lines": ["a"], "city": "B", "country": "XX"}]},
                "addresses[0].country",
            ),
            ({"name": "X", "locale": {"timeZone": "Mars/Olympus"}}, "locale.timeZone"),
            ({"name": "x" * 201}, "name"),
        ],
    )
    async def test_invalid_fields_are_named(
        self, client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, object], field: str
    ) -> None:
        """Each invalid field is reported by its path, and nothing is created."""
        response = await client.post(CUSTOMERS, json=body, headers=headers)
        assert response.status_code == 400
        assert field in [f["field"] for f in response.json()["details"]["fields"]]
        assert await _count(client, headers) == 0

    async def test_a_malformed_id_is_400(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """An id that cannot be a customer id is a 400, not a 404 or 500."""
        response = await client.get(f"{CUSTOMERS}/CUST-'; DROP TABLE x;--", headers=headers)
        assert (response.status_code, response.json()["details"]["fields"][0]["field"]) == (400, "customerId")

    async def test_an_unknown_id_is_404(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A well-formed id nobody has is CUSTOMER_NOT_FOUND."""
        response = await client.get(f"{CUSTOMERS}/CUST-01JDX3Y7ZK8V2N4Q6R8T0W2Y4A", headers=headers)
        assert (response.status_code, response.json()["error"]) == (404, "CUSTOMER_NOT_FOUND")

    async def test_invisible_characters_are_refused(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Zero-width and bidi-override characters in a name are a 400."""
        response = await client.post(CUSTOMERS, json={"name": "Acme\u202eevil"}, headers=headers)
        assert response.status_code == 400

    async def test_other_scripts_and_emoji_are_kept(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Names in any script survive unchanged (NFC)."""
        created = await create_customer(client, headers, name="株式会社テスト 🚀 Ωmega")
        assert created["name"] == "株式会社テスト 🚀 Ωmega"

    async def test_an_oversized_body_is_413(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A body above MAX_BODY_BYTES is refused before parsing."""
        response = await client.post(CUSTOMERS, content=b"{" + b" " * 2_000_000 + b"}", headers=headers)
        assert (response.status_code, response.json()["error"]) == (413, "PAYLOAD_TOO_LARGE")

    async def test_errors_carry_the_seeds_body(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """error, message, details, timestamp and traceId (= the correlation id) are always present."""
        response = await client.get(
            f"{CUSTOMERS}/CUST-01JDX3Y7ZK8V2N4Q6R8T0W2Y4A", headers={**headers, "X-Correlation-ID": "corr-123"}
        )
        body = response.json()
        assert {"error", "message", "details", "timestamp", "traceId"} == set(body)
        assert (body["traceId"], response.headers["x-correlation-id"]) == ("corr-123", "corr-123")


class TestHostileCharacters:
    """The issue's 500s: a NUL in a parameter or cursor reached PostgreSQL; a "[" reached urlsplit."""

    @pytest.mark.parametrize(
        ("path", "params", "field"),
        [
            ("/search", {"email": "a\x00b@x.example"}, "email"),
            ("/search", {"taxId": "DE\x00"}, "taxId"),
            ("", {"tag": ["ok", "a\x00"]}, "tag"),
            ("", {"segment": "a\x00"}, "segment"),
            ("/lookup", {"domain": "a\x01b"}, "domain"),
        ],
    )
    async def test_a_control_character_in_a_parameter_is_400_naming_it(
        self, client: httpx.AsyncClient, headers: dict[str, str], path: str, params: dict[str, Any], field: str
    ) -> None:
        """The parameter is named in details.fields, whatever the route."""
        response = await client.get(f"{CUSTOMERS}{path}", params=params, headers=headers)
        assert (response.status_code, response.json()["details"]["fields"]) == (
            400,
            [{"field": field, "reason": "must not contain control characters"}],
        )

    async def test_the_duplicate_queue_refuses_a_nul_in_its_filters(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """clusterId and customerId of /duplicates are named too."""
        response = await client.get("/api/v1/crm/duplicates", params={"clusterId": "\x00"}, headers=headers)
        assert (response.status_code, response.json()["details"]["fields"][0]["field"]) == (400, "clusterId")

    @pytest.mark.parametrize("path", ["", "/{id}/consent/history", "/{id}/merges", "/{id}/audit"])
    async def test_a_cursor_decoding_to_a_nul_is_400(
        self, client: httpx.AsyncClient, headers: dict[str, str], path: str
    ) -> None:
        """?cursor=AA== decodes to one NUL byte: not a cursor this API gave out."""
        created = await create_customer(client, headers)
        url = CUSTOMERS + path.replace("{id}", created["id"])
        response = await client.get(url, params={"cursor": "AA=="}, headers=headers)
        assert (response.status_code, response.json()["details"]["fields"][0]["field"]) == (400, "cursor")

    async def test_a_number_cursor_of_other_digits_is_400(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """ "²" is a digit to str.isdigit(), not to the access log's cursor (base64 of "²")."""
        response = await client.get("/api/v1/crm/access-log", params={"cursor": "wrI"}, headers=headers)
        assert (response.status_code, response.json()["details"]["fields"][0]["field"]) == (400, "cursor")

    async def test_a_website_with_an_unbalanced_bracket_is_400(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """http://[evil is not a web address (urlsplit's ValueError no longer escapes)."""
        response = await client.post(CUSTOMERS, json={"name": "X", "website": "http://[evil"}, headers=headers)
        assert (response.status_code, response.json()["details"]["fields"][0]["field"]) == (400, "website")

    async def test_a_lookup_domain_of_a_bracket_is_400(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """lookup?domain=[ names the domain."""
        response = await client.get(f"{CUSTOMERS}/lookup", params={"domain": "["}, headers=headers)
        assert (response.status_code, response.json()["details"]["fields"][0]["field"]) == (400, "domain")

    async def test_a_nul_deep_in_a_body_is_400_naming_the_path_and_creates_nothing(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Body strings are checked at any depth, before the route."""
        body = {"name": "X", "addresses": [{"type": "BILLING", "lines": ["a\x00"], "city": "B", "country": "DE"}]}
        response = await client.post(CUSTOMERS, json=body, headers=headers)
        assert (response.status_code, response.json()["details"]["fields"][0]["field"]) == (
            400,
            "addresses[0].lines[0]",
        )
        assert await _count(client, headers) == 0

    async def test_a_lone_surrogate_in_a_body_is_400(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Half a surrogate pair cannot be stored as text."""
        response = await client.post(
            CUSTOMERS, content=b'{"name": "X\\ud800"}', headers={**headers, "Content-Type": "application/json"}
        )
        assert (response.status_code, response.json()["details"]["fields"][0]["field"]) == (400, "name")

    async def test_a_control_character_in_a_path_parameter_names_it(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """A NUL in {purpose} of PUT /consent/policies/{purpose} names purpose."""
        response = await client.put("/api/v1/crm/consent/policies/A%00B", json={}, headers=headers)
        assert (response.status_code, response.json()["details"]["fields"][0]["field"]) == (400, "purpose")

    @pytest.mark.parametrize("name", ["X-Tenant-ID", "X-User-Id", "X-User-Roles", "X-User-Permissions"])
    async def test_an_identity_header_sent_twice_is_400(
        self, client: httpx.AsyncClient, headers: dict[str, str], name: str
    ) -> None:
        """The first copy no longer wins: two copies are refused, naming the header."""
        value = headers.get(name, "TENANT_ADMIN")
        sent = [*((k, v) for k, v in headers.items() if k != name), (name, value), (name, value)]
        response = await client.get(CUSTOMERS, headers=sent)
        assert (response.status_code, response.json()["details"]["fields"]) == (
            400,
            [{"field": name, "reason": "must be sent once"}],
        )


class TestAuthorization:
    async def test_no_user_is_401(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """Without X-User-Id the gateway did not authenticate anybody."""
        response = await client.get(CUSTOMERS, headers={"X-Tenant-ID": headers["X-Tenant-ID"]})
        assert (response.status_code, response.json()["error"]) == (401, "UNAUTHENTICATED")

    async def test_missing_permission_is_403(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """A reader cannot write."""
        reader = {**headers, "X-User-Permissions": "crm.customer:read"}
        response = await client.post(CUSTOMERS, json={"name": "X"}, headers=reader)
        assert (response.status_code, response.json()["details"]["permission"]) == (403, "crm.customer:write")

    async def test_wildcard_actions_grant_access(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """crm.customer:* allows writing customers."""
        response = await client.post(
            CUSTOMERS, json={"name": "X"}, headers={**headers, "X-User-Permissions": "crm.customer:*"}
        )
        assert response.status_code == 201

    async def test_the_tenant_admin_role_grants_everything_in_its_tenant(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """TENANT_ADMIN needs no explicit permissions."""
        admin = {"X-User-Id": "admin", "X-Tenant-ID": headers["X-Tenant-ID"], "X-User-Roles": "TENANT_ADMIN"}
        assert (await client.post(CUSTOMERS, json={"name": "X"}, headers=admin)).status_code == 201


class TestPersonalDataStaysOutOfLogs:
    async def test_search_terms_and_bodies_are_not_logged(
        self, client: httpx.AsyncClient, headers: dict[str, str], caplog: pytest.LogCaptureFixture
    ) -> None:
        """A search by e-mail and a create with personal data leave no trace of either in the logs."""
        caplog.set_level(logging.DEBUG)
        await create_customer(
            client, headers, name="Ingrid Secretperson", emails=[{"address": "ingrid@private.example"}]
        )
        await client.get(f"{CUSTOMERS}/search", params={"email": "ingrid@private.example"}, headers=headers)
        await client.post(
            CUSTOMERS, json={"name": "X", "emails": [{"address": "bad@@private.example"}]}, headers=headers
        )
        # Records of the test's own HTTP client (httpx) are not the service's logs.
        service = [r for r in caplog.records if not r.name.startswith("httpx")]
        logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in service)
        assert "route" in logged
        assert ("Secretperson" in logged, "private.example" in logged) == (False, False)
