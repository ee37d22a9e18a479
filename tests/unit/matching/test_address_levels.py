"""Address levels that read a missing or misplaced part as unknown, not as a disagreement."""

from __future__ import annotations

from customer360.domain.matching import MatchAddress, MatchModel, MatchRecord


def _person(record_id: str, address: MatchAddress, given: str = "Zoe", born: str = "1933-02-12") -> MatchRecord:
    return MatchRecord(
        record_id, "PERSON", given_name=given, family_name="Szepessy", birth_date=born, addresses=(address,)
    )


def _levels(a: MatchRecord, b: MatchRecord) -> dict[str, str]:
    return {c.field: c.level for c in MatchModel().score(a, b).explanation}


_STREET = MatchAddress(street="Creswell Street", house_number="12", postal_code="2430", city="Narooma", country="AU")


class TestAddressLevels:
    def test_a_house_number_missing_on_one_side_is_not_another_house(self) -> None:
        """Same street and place, one record without a house number: its own level, not neighbours."""
        without_number = MatchAddress(street="Creswell Street", postal_code="2430", city="Narooma", country="AU")
        levels = _levels(_person("a", _STREET), _person("b", without_number, born="1933-01-22"))
        assert (levels["address"], "household" in levels) == ("street_no_number", False)

    def test_the_same_street_and_number_in_another_postcode_and_town_is_not_elsewhere(self) -> None:
        """Street and house number agree, postcode and town differ: its own level, not a different address."""
        other_town = MatchAddress(
            street="Creswell St", house_number="12", postal_code="6214", city="Kiara", country="AU"
        )
        assert _levels(_person("a", _STREET), _person("b", other_town))["address"] == "street_and_number_elsewhere"

    def test_an_extra_line_that_is_the_other_records_street_is_not_compared_again(self) -> None:
        """Street and extra line swapped: the lines were compared as the street, not as two buildings."""
        a = MatchAddress(street="Ashcroft Crescent", house_number="25", line2="Rosebery Hill", postal_code="4607")
        b = MatchAddress(street="Rosebery Hill", house_number="25", line2="Ashcroft Crescent", postal_code="4607")
        levels = _levels(_person("a", a), _person("b", b))
        assert (levels["address"], "address_line2" in levels) == ("same_premise", False)

    def test_a_misspelt_street_type_is_the_same_street(self) -> None:
        """Herron Cnescent is Herron Crescent with a typo in the type word, not another street."""
        a = MatchAddress(street="Herron Crescent", house_number="7", postal_code="3735", city="Bligh Park")
        b = MatchAddress(street="Herron Cnescent", house_number="7", postal_code="3735", city="Bligh Park")
        assert _levels(_person("a", a), _person("b", b))["address"] == "same_premise"
