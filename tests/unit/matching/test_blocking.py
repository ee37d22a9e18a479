"""Blocking keys bring near-duplicates together and keep unrelated records apart."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from customer360.domain.matching import MatchAddress, MatchRecord, blocking_keys, candidate_pairs

from .strategies import dates, people, postcodes

CORRUPTIBLE = ("given_name", "family_name", "birth_date", "street", "postal_code", "city")
words = st.text(alphabet="qxzvwjk", min_size=4, max_size=9)


def corrupt(record: MatchRecord, field: str, data: st.DataObject) -> MatchRecord:
    """``record`` with ``field`` replaced by an unrelated value."""
    address = record.addresses[0]
    if field == "given_name":
        return replace(record, given_name=data.draw(words))
    if field == "family_name":
        return replace(record, family_name=data.draw(words))
    if field == "birth_date":
        return replace(record, birth_date=data.draw(dates.filter(lambda d: d != record.birth_date)))
    if field == "postal_code":
        new = data.draw(postcodes.filter(lambda p: p != address.postal_code))
        return replace(record, addresses=(replace(address, postal_code=new),))
    if field == "street":
        return replace(record, addresses=(replace(address, street=data.draw(words)),))
    return replace(record, addresses=(replace(address, city=data.draw(words)),))


class TestBlockingKeys:
    @settings(max_examples=300)
    @given(people(), st.data())
    def test_near_duplicates_share_a_key_with_any_two_fields_changed(
        self, original: MatchRecord, data: st.DataObject
    ) -> None:
        """Changing any two of name, family name, birth date, street, postcode and city keeps a key."""
        fields = data.draw(st.lists(st.sampled_from(CORRUPTIBLE), min_size=2, max_size=2, unique=True))
        duplicate = replace(original, record_id="b")
        for field in fields:
            duplicate = corrupt(duplicate, field, data)
        assert blocking_keys(original) & blocking_keys(duplicate)

    def test_nickname_and_swapped_names_still_share_a_key(self) -> None:
        """ "Bill Smith" and "Smith, William" (names in the wrong fields) share a key."""
        a = MatchRecord("a", "PERSON", given_name="Bill", family_name="Smith", birth_date="1970-01-02")
        b = MatchRecord("b", "PERSON", given_name="Smith", family_name="William", birth_date="1970-01-02")
        assert blocking_keys(a) & blocking_keys(b)

    def test_shared_identifier_is_a_key(self) -> None:
        """Two records with nothing in common but an e-mail address are candidates."""
        a = MatchRecord("a", "PERSON", emails=("Jo.Doe+x@example.com",))
        b = MatchRecord("b", "PERSON", emails=("jo.doe@EXAMPLE.com",))
        assert {"Pe:jo.doe@example.com"} == blocking_keys(a) & blocking_keys(b)

    def test_persons_and_organisations_never_share_a_key(self) -> None:
        """The same e-mail on a person and a company does not make them candidates."""
        a = MatchRecord("a", "PERSON", emails=("info@acme.com",))
        b = MatchRecord("b", "ORGANIZATION", name="Acme", emails=("info@acme.com",))
        assert frozenset() == blocking_keys(a) & blocking_keys(b)

    def test_organisation_name_keys_ignore_legal_form_and_word_order(self) -> None:
        """ "Müller Bau GmbH" and "Bau Müller AG" share a name key."""
        a = MatchRecord("a", "ORGANIZATION", legal_name="Müller Bau GmbH")
        b = MatchRecord("b", "ORGANIZATION", legal_name="Bau Müller AG")
        assert {"Oow:bau|muller"} == blocking_keys(a) & blocking_keys(b)

    @given(people())
    def test_keys_are_bounded_in_length(self, record: MatchRecord) -> None:
        """No key is longer than 120 characters, whatever the input."""
        long = replace(record, emails=("x" * 300 + "@example.com",))
        assert max(len(key) for key in blocking_keys(long)) <= 120


class TestCandidatePairs:
    def test_each_pair_comes_once_in_order(self) -> None:
        """Three records sharing several keys give each pair once, sorted."""
        record = MatchRecord(
            "a",
            "PERSON",
            given_name="Anna",
            family_name="Adler",
            birth_date="1980-01-01",
            addresses=(MatchAddress(street="Lindenweg 1", postal_code="10115", city="Berlin"),),
        )
        records = [record, replace(record, record_id="b"), replace(record, record_id="c")]
        assert list(candidate_pairs(records)) == [(0, 1), (0, 2), (1, 2)]

    def test_link_only_pairs_cross_sources_only(self) -> None:
        """With link_only, records of one source are never paired with each other."""
        record = MatchRecord("a", "PERSON", emails=("a@example.com",), source_system="crm")
        records = [record, replace(record, record_id="b"), replace(record, record_id="c", source_system="erp")]
        assert list(candidate_pairs(records, link_only=True)) == [(0, 2), (1, 2)]

    def test_keys_shared_by_too_many_records_are_stop_keys(self) -> None:
        """A placeholder e-mail on many profiles generates no pairs beyond the cap."""
        records = [MatchRecord(str(i), "PERSON", emails=("noreply@example.com",)) for i in range(6)]
        assert list(candidate_pairs(records, max_block_size=5)) == []

    def test_blocks_at_the_cap_are_still_used(self) -> None:
        """A key shared by exactly max_block_size records still pairs them."""
        records = [MatchRecord(str(i), "PERSON", emails=("shared@example.com",)) for i in range(3)]
        assert len(list(candidate_pairs(records, max_block_size=3))) == 3
