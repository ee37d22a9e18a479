"""Value objects validate and normalise on construction."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer360.domain.errors import InvalidValue
from customer360.domain.ids import CONTACT_PREFIX, CUSTOMER_PREFIX, is_valid_id, new_id, new_ulid
from customer360.domain.values import (
    EmailAddress,
    LocalePreferences,
    PhoneNumber,
    TaxId,
    TaxIdType,
    clean_text,
    website_and_domain,
)


class TestText:
    def test_whitespace_is_collapsed_and_nfc_applied(self) -> None:
        """Decomposed accents are composed and runs of whitespace become one space."""
        assert clean_text("  Mu\u0308ller \t AG ", "name") == "Müller AG"

    @pytest.mark.parametrize("bad", ["\u200b", "a\u202eb", "a\x00b", "   "])
    def test_invisible_and_control_characters_are_refused(self, bad: str) -> None:
        """Zero-width, bidi override, NUL and blank strings are invalid."""
        with pytest.raises(InvalidValue):
            clean_text(bad, "name")

    @given(st.text(min_size=1, max_size=50))
    def test_cleaning_is_idempotent(self, text: str) -> None:
        """Cleaning a cleaned text changes nothing."""
        try:
            once = clean_text(text, "f")
        except InvalidValue:
            return
        assert once == clean_text(once, "f")


class TestEmail:
    def test_the_domain_is_lower_cased(self) -> None:
        """The domain part is normalised; the key is fully lower-case."""
        email = EmailAddress.parse("Anna.Schmidt@Example.COM", "email")
        assert (email.address, email.key) == ("Anna.Schmidt@example.com", "anna.schmidt@example.com")

    def test_the_error_does_not_repeat_the_address(self) -> None:
        """The reason names the rule, not the rejected value."""
        with pytest.raises(InvalidValue) as error:
            EmailAddress.parse("secret-person@@x", "emails[0]")
        assert "secret" not in str(error.value)


class TestPhone:
    @pytest.mark.parametrize("written", ["+49 30 1234567", "030-1234567", "(030) 123 45 67", "0049301234567"])
    def test_any_common_form_becomes_e164(self, written: str) -> None:
        """National and international forms of a Berlin number give the same E.164."""
        assert PhoneNumber.parse(written, "phone", default_region="DE").e164 == "+49301234567"

    def test_the_original_text_is_kept(self) -> None:
        """The caller's formatting survives next to the E.164 form."""
        assert PhoneNumber.parse("030 / 1234567", "phone", default_region="DE").original == "030 / 1234567"

    def test_an_impossible_number_is_kept_flagged(self) -> None:
        """Two digits are not a phone number: kept as given, its digits after the country code, flagged."""
        phone = PhoneNumber.parse("12", "phone", default_region="DE")
        assert (phone.e164, phone.original, phone.validated, phone.invalid_reason) == (
            "+4912",
            "12",
            False,
            "is not a possible phone number",
        )

    def test_text_without_digits_is_refused(self) -> None:
        """A phone field holding no digit at all is no number to keep."""
        with pytest.raises(InvalidValue):
            PhoneNumber.parse("n/a", "phone", default_region="DE")


class TestTaxId:
    def test_a_german_vat_id_is_validated_and_compacted(self) -> None:
        """Spaces go, the country prefix stays, the checksum is verified."""
        assert TaxId("DE", TaxIdType.VAT, "DE136695976", True) == TaxId.parse(
            "taxIds[0]", country="de", type=TaxIdType.VAT, value="DE 136 695 976"
        )

    def test_a_wrong_checksum_is_kept_flagged_with_the_reason(self) -> None:
        """One wrong digit fails the checksum: the compact value is kept, not validated, with why."""
        tax = TaxId.parse("taxIds[0]", country="DE", type=TaxIdType.VAT, value="DE 136 695 977")
        assert (tax.value, tax.validated, tax.invalid_reason) == ("DE136695977", False, "fails its check digits")

    def test_ids_without_a_validator_are_kept_unvalidated(self) -> None:
        """A registration number stdnum does not know is compacted and flagged, not lost."""
        tax = TaxId.parse("t", country="DE", type=TaxIdType.COMPANY_REGISTRATION, value="HRB 12345 B")
        assert (tax.value, tax.validated) == ("HRB12345B", False)


class TestWebsite:
    def test_the_domain_drops_scheme_www_and_path(self) -> None:
        """https://www.Example.com/about → example.com."""
        assert website_and_domain("https://www.Example.com/about", "website") == (
            "https://www.Example.com/about",
            "example.com",
        )

    def test_international_domains_are_punycoded(self) -> None:
        """Unicode host names become their ASCII form."""
        assert website_and_domain("müller.example", "website")[1] == "xn--mller-kva.example"


class TestLocale:
    def test_unknown_time_zones_and_currencies_are_refused(self) -> None:
        """Only IANA zones and ISO 4217 currencies are accepted."""
        with pytest.raises(InvalidValue, match="currency"):
            LocalePreferences.create("locale", language="de", time_zone="Europe/Berlin", currency="XYZ")


class TestIds:
    def test_ids_sort_by_creation_time(self) -> None:
        """A ULID made later sorts after one made earlier."""
        assert new_ulid(1_000) < new_ulid(2_000)

    def test_the_time_part_is_crockford_base32_of_the_milliseconds(self) -> None:
        """The ULID specification's example: 1469918176385 ms is 01ARYZ6S41; the random part is 16 of the
        same alphabet."""
        made = new_ulid(1_469_918_176_385)
        assert made[:10] == "01ARYZ6S41"
        assert len(made) == 26
        assert set(made[10:]) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    @given(st.integers(min_value=0, max_value=(1 << 48) - 1))
    def test_the_time_part_reads_back(self, millis: int) -> None:
        """Decoding the first ten characters gives the milliseconds back."""
        alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
        value = 0
        for char in new_ulid(millis)[:10]:
            value = value * 32 + alphabet.index(char)
        assert value == millis

    def test_ids_made_in_one_millisecond_keep_their_order(self) -> None:
        """Ids made one after the other sort in that order, even within the same millisecond."""
        made = [new_id(CONTACT_PREFIX) for _ in range(2_000)]
        assert made == sorted(made)
        assert len(set(made)) == len(made)

    def test_new_ids_have_the_documented_shape(self) -> None:
        """CUST- followed by 26 Crockford base32 characters."""
        assert is_valid_id(CUSTOMER_PREFIX, new_id(CUSTOMER_PREFIX))


class TestPrimitives:
    def test_value_objects_become_json_primitives(self) -> None:
        """Dataclasses become camelCase dicts, enums their values (a str enum stays the str it is), dates ISO
        strings, sets sorted lists, tuples lists, dict keys strings; anything else is refused."""
        from dataclasses import dataclass
        from datetime import UTC, date, datetime
        from enum import Enum

        from customer360.domain.primitives import to_primitive
        from customer360.domain.values import EmailType

        class Colour(Enum):
            RED = 1

        @dataclass(frozen=True)
        class Inner:
            when_made: date
            kinds: frozenset[str]

        @dataclass(frozen=True)
        class Outer:
            given_name: str | None
            colour: Colour
            email_type: EmailType
            inner: tuple[Inner, ...]
            extra: dict[int, datetime]

        value = Outer(
            None,
            Colour.RED,
            EmailType.WORK,
            (Inner(date(2026, 12, 5), frozenset({"b", "a"})),),
            {7: datetime(2026, 12, 5, 13, 0, tzinfo=UTC)},
        )
        assert to_primitive(value) == {
            "givenName": None,
            "colour": 1,
            "emailType": "WORK",
            "inner": [{"whenMade": "2026-12-05", "kinds": ["a", "b"]}],
            "extra": {"7": "2026-12-05T13:00:00+00:00"},
        }
        assert to_primitive(value)["emailType"] is EmailType.WORK
        assert to_primitive([True, 1.5, 2]) == [True, 1.5, 2]
        with pytest.raises(TypeError):
            to_primitive(object())
