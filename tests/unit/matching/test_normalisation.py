"""Normalisers turn the spellings of one fact into one comparable value."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer360.domain.matching import (
    OrganisationName,
    PersonName,
    Street,
    canonical_given_names,
    normalise_domain,
    normalise_email,
    normalise_phone,
    normalise_postal_code,
    normalise_street,
    normalise_tax_id,
    parse_person_name,
    split_legal_form,
)
from customer360.domain.matching.text import fold, soundex


class TestFolding:
    def test_case_accents_and_punctuation_are_erased(self) -> None:
        """ "Müller-Lüdenscheidt" folds to lower-case ASCII words."""
        assert fold("  Müller-Lüdenscheidt ") == "muller ludenscheidt"

    def test_apostrophes_join_the_letters_around_them(self) -> None:
        """ "O’Brien" and "OBrien" fold alike."""
        assert fold("OBrien") == fold("O’Brien")

    def test_non_latin_scripts_are_transliterated(self) -> None:
        """Cyrillic becomes its Latin transliteration."""
        assert fold("Иван") == "ivan"

    @given(st.text())
    def test_folding_is_idempotent(self, text: str) -> None:
        """Folding a folded string changes nothing."""
        once = fold(text)
        assert once == fold(once)

    def test_soundex_groups_spelling_variants(self) -> None:
        """Robert and Rupert share a Soundex code (R163)."""
        assert soundex("robert") == soundex("rupert") == "r163"


class TestLegalForms:
    @pytest.mark.parametrize(
        ("name", "legal_form"),
        [
            ("Acme GmbH", "gmbh"),
            ("ACME G.m.b.H.", "gmbh"),
            ("Acme Inc.", "inc"),
            ("Acme Incorporated", "inc"),
            ("Acme Ltd", "ltd"),
            ("Acme Limited", "ltd"),
            ("Acme S.A.R.L.", "sarl"),
            ("Acme S.à r.l.", "sarl"),
            ("Acme LLC", "llc"),
            ("Acme AG", "ag"),
            ("Acme B.V.", "bv"),
        ],
    )
    def test_legal_form_is_stripped_and_kept_as_a_feature(self, name: str, legal_form: str) -> None:
        """Each spelling of a legal form leaves the core name "acme" and the canonical form."""
        assert OrganisationName(core="acme", legal_form=legal_form) == split_legal_form(name)

    def test_longest_legal_form_wins(self) -> None:
        """ "GmbH & Co. KG" is one legal form, not "KG" after a name ending in "GmbH & Co"."""
        assert OrganisationName(core="muller bau", legal_form="gmbh_co_kg") == split_legal_form(
            "Müller Bau GmbH & Co. KG"
        )

    def test_a_name_is_never_reduced_to_nothing(self) -> None:
        """A company called "Limited" keeps its name."""
        assert OrganisationName(core="limited", legal_form=None) == split_legal_form("Limited")

    def test_name_without_legal_form_is_only_folded(self) -> None:
        """No legal form found: core is the folded name, legal form is None."""
        assert OrganisationName(core="acme widgets", legal_form=None) == split_legal_form("ACME Widgets")


class TestPersonNames:
    @pytest.mark.parametrize(("nickname", "canonical"), [("bill", "william"), ("bob", "robert"), ("peggy", "margaret")])
    def test_nicknames_map_to_their_given_name(self, nickname: str, canonical: str) -> None:
        """Common English nicknames resolve to the full given name."""
        assert canonical in canonical_given_names(nickname)

    def test_an_ambiguous_nickname_keeps_every_reading(self) -> None:
        """ "Al" may be Albert, Alan or Alfred."""
        assert {"albert", "alan", "alfred"} <= canonical_given_names("al")

    def test_a_name_without_entry_stands_for_itself(self) -> None:
        """Unknown names are their own canonical form."""
        assert frozenset({"zebulon"}) == canonical_given_names("zebulon")

    def test_last_comma_first_is_understood(self) -> None:
        """ "Smith, John" is family name Smith, given name John."""
        assert PersonName(given="john", family="smith") == parse_person_name("Smith, John")

    def test_first_last_is_understood(self) -> None:
        """ "John Smith" is given name John, family name Smith."""
        assert PersonName(given="john", family="smith") == parse_person_name("John Smith")

    def test_titles_and_suffixes_are_dropped(self) -> None:
        """ "Dr. John Smith Jr." keeps only the names."""
        assert PersonName(given="john", family="smith") == parse_person_name("Dr. John Smith Jr.")

    def test_particles_belong_to_the_family_name(self) -> None:
        """ "Ludwig van Beethoven" has family name "van beethoven"."""
        assert PersonName(given="ludwig", family="van beethoven") == parse_person_name("Ludwig van Beethoven")


class TestEmails:
    def test_plus_tag_and_case_are_removed(self) -> None:
        """Sub-addressing and upper case do not make another mailbox."""
        assert normalise_email("Max.Muster+Newsletter@Firma.DE") == "max.muster@firma.de"

    def test_gmail_ignores_dots_and_googlemail_is_gmail(self) -> None:
        """Gmail delivers j.o.h.n@googlemail.com to john@gmail.com."""
        assert normalise_email("J.o.h.n+crm@googlemail.com") == "john@gmail.com"

    def test_dots_matter_outside_gmail(self) -> None:
        """Other providers treat dots as part of the address."""
        assert normalise_email("J.Doe@example.com") == "j.doe@example.com"

    def test_blank_and_addressless_values_are_missing(self) -> None:
        """Nothing usable gives None."""
        assert (normalise_email("  "), normalise_email("not an address")) == (None, None)


class TestPhones:
    def test_national_number_gets_the_default_region(self) -> None:
        """A German national number becomes E.164 with region DE."""
        assert normalise_phone("030 1234567", "DE") == "+49301234567"

    def test_international_spellings_agree(self) -> None:
        """Separators and brackets do not matter once in E.164."""
        assert normalise_phone("030/123-4567", "DE") == normalise_phone("+49 (30) 123 4567")

    def test_unparseable_number_falls_back_to_its_digits(self) -> None:
        """Without a region a national number keeps its digits, so equal typos still match."""
        assert normalise_phone("030 1234567") == "0301234567"

    def test_too_short_number_is_missing(self) -> None:
        """A handful of digits is no phone number."""
        assert normalise_phone("12") is None


class TestAddresses:
    @pytest.mark.parametrize(
        ("street", "expected"),
        [
            ("Main Street", "main st"),
            ("Main St.", "main st"),
            ("Hauptstraße", "haupt st"),
            ("Hauptstr.", "haupt st"),
            ("Haupt Str.", "haupt st"),
            ("Park Avenue", "park ave"),
            ("Park Ave", "park ave"),
        ],
    )
    def test_street_types_are_abbreviated_one_way(self, street: str, expected: str) -> None:
        """Every spelling of a street type becomes its short form."""
        assert expected == normalise_street(street).name

    def test_house_number_written_in_the_street_is_split_off(self) -> None:
        """ "Hauptstraße 5a" is street "haupt st", number "5a"."""
        assert Street(name="haupt st", house_number="5a") == normalise_street("Hauptstraße 5a")

    def test_house_number_ranges_survive(self) -> None:
        """ "Lindenweg 3-5" keeps the range."""
        assert Street(name="linden weg", house_number="3-5") == normalise_street("Lindenweg 3 - 5")

    def test_postal_codes_lose_spaces_and_case(self) -> None:
        """ "sw1a 1aa" is "SW1A1AA"."""
        assert normalise_postal_code("sw1a 1aa") == "SW1A1AA"


class TestIdentifiers:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("DE 136 695 976", "DE136695976"),
            ("de136.695.976", "DE136695976"),
            ("GB 980 7806 84", "GB980780684"),
            ("FR 40 303 265 045", "FR40303265045"),
        ],
    )
    def test_tax_ids_are_compacted_with_country_prefix(self, raw: str, expected: str) -> None:
        """python-stdnum's compact form, prefixed with the country."""
        assert expected == normalise_tax_id(raw)

    def test_tax_id_of_unknown_country_is_compacted_generically(self) -> None:
        """No stdnum module: letters and digits only, upper-cased."""
        assert normalise_tax_id("us 12-3456789") == "US123456789"

    @pytest.mark.parametrize(
        "raw",
        ["https://www.example.com/about?x=1", "http://EXAMPLE.com", "www.example.com:8080/", "example.com"],
    )
    def test_domain_is_extracted_from_a_web_address(self, raw: str) -> None:
        """Scheme, www., port, path and query are removed."""
        assert normalise_domain(raw) == "example.com"

    def test_international_domains_use_their_ascii_form(self) -> None:
        """IDNA: müller.de is xn--mller-kva.de."""
        assert normalise_domain("https://www.müller.de") == "xn--mller-kva.de"
