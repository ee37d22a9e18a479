"""The edge's one input rule: control characters and repeated identity headers are named, values never."""

from __future__ import annotations

import pytest

from customer360.infrastructure.rest.input_rules import body_errors, header_errors, query_errors

CONTROL = "must not contain control characters"


class TestQueryParameters:
    @pytest.mark.parametrize("encoded", ["%00", "%1F", "%7F", "%C2%85", "%0A"])
    def test_a_percent_encoded_control_character_is_named(self, encoded: str) -> None:
        """NUL, other C0 controls, DEL and C1 controls in a value name the parameter."""
        assert query_errors(f"name=ok&email=a{encoded}b".encode()) == [{"field": "email", "reason": CONTROL}]

    def test_ordinary_text_passes(self) -> None:
        """Accents, brackets, plus signs and percent-encoded UTF-8 are text."""
        assert query_errors(b"name=M%C3%BCller+%5Bx%5D&domain=%5B&phone=%2B49") == []

    def test_a_control_character_in_a_parameter_name_is_refused(self) -> None:
        """The name is not echoed; the query as a whole is named."""
        assert query_errors(b"a%00b=1")[0]["field"] == "query"


class TestHeaders:
    def test_an_identity_header_sent_twice_is_named(self) -> None:
        """Two X-Tenant-ID headers: which one the gateway meant is not guessed."""
        headers = [(b"x-tenant-id", b"t-1"), (b"x-user-id", b"u"), (b"x-tenant-id", b"t-2")]
        assert header_errors(headers) == [{"field": "X-Tenant-ID", "reason": "must be sent once"}]

    def test_repeatable_headers_may_repeat(self) -> None:
        """Accept, for instance, may come twice."""
        assert header_errors([(b"accept", b"text/html"), (b"accept", b"application/json")]) == []

    def test_a_control_character_in_a_header_value_is_named(self) -> None:
        """A NUL in X-User-Id names the header."""
        assert header_errors([(b"x-user-id", b"a\x00b")]) == [{"field": "X-User-Id", "reason": CONTROL}]

    def test_raw_utf8_and_tabs_in_header_values_pass(self) -> None:
        """Bytes 0x80-0x9f of UTF-8 text ("Ā" is C4 80) are not C1 controls in a header."""
        assert header_errors([(b"x-override-reason", "Ā\tx".encode())]) == []


class TestBodies:
    def test_a_json_string_with_an_escaped_nul_names_its_path(self) -> None:
        """The field is given as the API's path, e.g. contacts[0].name."""
        body = b'{"name": "ok", "contacts": [{"name": "a\\u0000b"}]}'
        assert body_errors(body, "application/json") == [{"field": "contacts[0].name", "reason": CONTROL}]

    def test_a_lone_surrogate_is_refused(self) -> None:
        """Half a surrogate pair is not text (PostgreSQL cannot store it)."""
        assert body_errors(b'{"name": "\\ud800"}', "application/merge-patch+json")[0]["field"] == "name"

    def test_line_breaks_and_tabs_in_text_pass(self) -> None:
        """Notes and address lines may span lines."""
        assert body_errors(b'{"note": "line one\\nline\\ttwo\\r\\n"}', "application/json") == []

    def test_an_escaped_backslash_before_u0000_is_text(self) -> None:
        """\\\\u0000 is the six characters \\u0000, not a NUL."""
        assert body_errors(b'{"note": "\\\\u0000"}', "application/json") == []

    def test_a_member_name_with_a_control_character_is_refused(self) -> None:
        """The member name is not echoed; its parent is named."""
        assert body_errors(b'{"fieldChoices": {"a\\u0001": "SOURCE"}}', "application/json") == [
            {"field": "fieldChoices", "reason": "a member name " + CONTROL}
        ]

    def test_a_text_body_with_a_nul_is_refused(self) -> None:
        """Plain-text bodies (the bulk consent check's id lists) follow the same rule."""
        assert body_errors(b"CUST-1\nCUST-\x002\n", "text/plain") == [{"field": "body", "reason": CONTROL}]

    def test_malformed_json_is_left_to_the_route(self) -> None:
        """Not JSON at all: the route answers MALFORMED_JSON, as before."""
        assert body_errors(b'{"name": "\x00', "application/json") == []
