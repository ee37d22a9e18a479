"""Interaction levels (households, same site) and term frequencies of records without a country."""

from __future__ import annotations

from dataclasses import replace

from customer360.domain.matching import (
    MatchAddress,
    MatchModel,
    MatchRecord,
    TermFrequencies,
    record_terms,
)
from customer360.domain.matching.comparison import comparison_vector
from customer360.domain.matching.levels import FIELD_INDEX

_HOME = MatchAddress(street="Hauptstrasse", house_number="5", postal_code="10115", city="Berlin", country="DE")
_HOUSEHOLD = FIELD_INDEX["household"]


def _person(record_id: str, given: str, family: str, born: str, *addresses: MatchAddress) -> MatchRecord:
    return MatchRecord(record_id, "PERSON", given_name=given, family_name=family, birth_date=born, addresses=addresses)


def _level(vector: tuple[int, ...], name: str) -> int:
    return vector[FIELD_INDEX[name]]


class TestInteractions:
    def test_a_pattern_learned_as_common_among_duplicates_adds_no_evidence(self) -> None:
        """A flatmate level whose learned m exceeds its u never raises the pair above its fields' evidence."""
        model = MatchModel()
        m = list(model.m)
        m[_HOUSEHOLD] = tuple(0.5 for _ in m[_HOUSEHOLD])  # as EM learns it where copies look like flatmates
        learned = replace(model, m=tuple(m))
        a = _person("a", "Lochlan", "Taniora", "1937-12-12", _HOME)
        b = _person("b", "Emma", "White", "1935-04-20", _HOME)
        household = [c for c in learned.score(a, b).explanation if c.field == "household"]
        assert [c.level for c in household] == ["flatmate"]
        assert household[0].weight <= 0.0
        assert learned.score(a, b).probability < 0.01

    def test_another_generation_needs_the_same_name(self) -> None:
        """Birth years 18 apart at one address are a junior and a senior only when the names agree."""
        senior = _person("a", "Hans", "Meyer", "1940-03-12", _HOME)
        junior = _person("b", "Hans", "Meyer", "1971-08-25", _HOME)
        other = _person("c", "Hans", "Schulz", "1971-08-25", _HOME)
        model = MatchModel()
        assert _level(comparison_vector(model.prepare(senior), model.prepare(junior)), "household") == 5
        assert _level(comparison_vector(model.prepare(senior), model.prepare(other)), "household") == 0

    def test_names_of_a_record_without_address_count_in_the_other_records_country(self) -> None:
        """Agreeing on a name with a record that has no address weighs as among the other record's country."""
        model = MatchModel()
        located = _person("b", "Markus", "Meyer", "1960-01-01", _HOME)
        nowhere = _person("a", "Markus", "Meyer", "1970-05-05")
        twin = _person("a", "Markus", "Meyer", "1970-05-05", _HOME)
        counts: dict[str, int] = {}
        for record in (located, twin):
            for term in record_terms(model.prepare(record)):
                counts[term] = counts.get(term, 0) + 400  # a common name among many Germans
        for term in record_terms(model.prepare(nowhere)):
            counts[term] = 2  # few records without an address: there every name looks rare
        frequencies = TermFrequencies(population=5000, counts=counts)

        def names_weight(x: MatchRecord, y: MatchRecord) -> float:
            explanation = model.score(x, y, frequencies).explanation
            return sum(c.weight for c in explanation if c.field in ("given_name", "family_name"))

        assert names_weight(nowhere, located) == names_weight(located, nowhere)
        assert names_weight(nowhere, located) == names_weight(twin, located)


_STREET = MatchAddress(street="Lindenweg", house_number="5", postal_code="10115", city="Berlin", country="DE")
_NAMESAKE_NEARBY = 6


def _with(record: MatchRecord, **changes: object) -> MatchRecord:
    return replace(record, **changes)  # type: ignore[arg-type]


class TestNamesakesNearby:
    def test_the_same_name_in_another_house_of_the_street_reads_as_namesakes(self) -> None:
        """Same name, another house of the street, no birth date or identifier in common: namesakes nearby."""
        model = MatchModel()
        a = _person("a", "Jonas", "Keller", "1980-02-03", _STREET)
        b = _person("b", "Jonas", "Keller", "1975-07-19", replace(_STREET, house_number="48"))
        assert _level(comparison_vector(model.prepare(a), model.prepare(b)), "household") == _NAMESAKE_NEARBY

    def test_a_shared_email_keeps_the_fields_own_evidence(self) -> None:
        """With a personal e-mail in common the level does not fire: names and address speak for themselves."""
        model = MatchModel()
        a = _with(_person("a", "Jonas", "Keller", "1980-02-03", _STREET), emails=("jonas.keller@example.org",))
        b = _with(
            _person("b", "Jonas", "Keller", "1975-07-19", replace(_STREET, house_number="48")),
            emails=("jonas.keller@example.org",),
        )
        assert _level(comparison_vector(model.prepare(a), model.prepare(b)), "household") == 0


class TestGivenNamesAtOneHome:
    def test_a_mistyped_given_name_at_the_same_home_is_the_same_person(self) -> None:
        """One letter off in the given name, same home and birth date: no household level, a likely duplicate."""
        model = MatchModel()
        a = _person("a", "Katharina", "Becker", "1984-06-02", _HOME)
        b = _person("b", "Katharnia", "Becker", "1984-06-02", _HOME)
        result = model.score(a, b)
        assert ("household" not in {c.field for c in result.explanation}, result.probability >= 0.9) == (True, True)

    def test_another_given_name_at_the_same_home_is_a_household_member(self) -> None:
        """Another given name and birth date, same home and family name: a household member, kept apart."""
        model = MatchModel()
        a = _person("a", "Katharina", "Becker", "1984-06-02", _HOME)
        b = _person("b", "Thomas", "Becker", "1981-11-23", _HOME)
        result = model.score(a, b)
        household = [c.level for c in result.explanation if c.field == "household"]
        assert (household, result.probability < 0.5) == (["household_member"], True)
