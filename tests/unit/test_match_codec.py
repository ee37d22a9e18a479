"""The stored form of matching data: key hashes and prepared records survive the round trip exactly."""

from __future__ import annotations

import dataclasses

from hypothesis import given

from customer360.domain.matching import MatchRecord, PreparedRecord, prepare
from customer360.domain.matching.features import PreparedAddress
from customer360.infrastructure.persistence.match_codec import (
    ADDRESS_FIELDS,
    PREPARED_FIELDS,
    features_from_json,
    features_json,
    key_hash,
    key_hashes,
)
from tests.unit.matching.strategies import people


class TestFeatures:
    def test_the_codec_knows_every_field_of_the_prepared_record(self) -> None:
        """A field added to the engine's PreparedRecord fails here until the codec stores it."""
        assert (
            tuple(f.name for f in dataclasses.fields(PreparedRecord)),
            tuple(f.name for f in dataclasses.fields(PreparedAddress)),
        ) == (PREPARED_FIELDS, ADDRESS_FIELDS)

    @given(people(record_id="CUST-1"))
    def test_a_prepared_person_round_trips(self, person: MatchRecord) -> None:
        """Decoding the stored JSON gives back the very record the engine prepared."""
        prepared = prepare(person)
        assert prepared == features_from_json(person.record_id, features_json(prepared))

    def test_an_organisation_with_every_identifier_round_trips(self) -> None:
        """Legal form, e-mails, phones, tax ids, domains and national ids are all kept."""
        record = MatchRecord(
            record_id="CUST-2",
            kind="ORGANIZATION",
            legal_name="Müller Maschinenbau GmbH",
            emails=("Info@Mueller.example",),
            phones=("+49 30 1234567",),
            tax_ids=("DE136695976",),
            domains=("https://www.mueller.example",),
            national_ids=("X-1",),
            source_system="ERP",
        )
        prepared = prepare(record)
        assert prepared == features_from_json("CUST-2", features_json(prepared))


class TestKeyHashes:
    def test_hashes_are_signed_64_bit_and_stable(self) -> None:
        """The same key always gives the same bigint, within PostgreSQL's range."""
        value = key_hash("Pnp:S530|10115")
        assert (value, -(2**63) <= value < 2**63) == (key_hash("Pnp:S530|10115"), True)

    def test_a_profile_s_hashes_are_distinct_and_sorted(self) -> None:
        """Duplicates collapse; the order is the stored order."""
        hashes = key_hashes(["a", "b", "a"])
        assert hashes == sorted({key_hash("a"), key_hash("b")})
