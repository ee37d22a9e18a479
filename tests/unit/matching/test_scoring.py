"""Scores are Fellegi–Sunter match weights, explained field by field."""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import given

from customer360.domain.matching import (
    COMPARISONS,
    LabelledPair,
    MatchAddress,
    MatchModel,
    MatchRecord,
    TermFrequencies,
    candidate_pairs,
    compare_pairs,
    record_terms,
    score,
)
from customer360.domain.matching.comparison import comparison_vector
from customer360.domain.matching.explain import PRIOR

from .strategies import people, population

JOHN = MatchRecord(
    "a",
    "PERSON",
    given_name="John",
    family_name="Smith",
    birth_date="1970-03-04",
    emails=("john.smith@example.com",),
    addresses=(MatchAddress(street="Main Street 5", postal_code="10115", city="Berlin", country="DE"),),
)


class TestScore:
    @given(people("a"), people("b"))
    def test_explanation_sums_to_the_match_weight(self, a: MatchRecord, b: MatchRecord) -> None:
        """The prior plus every field's contribution is the match weight."""
        result = MatchModel().score(a, b)
        assert math.isclose(result.match_weight, sum(c.weight for c in result.explanation), abs_tol=1e-9)

    @given(people("a"), people("b"))
    def test_probability_follows_from_the_weight(self, a: MatchRecord, b: MatchRecord) -> None:
        """probability == 2^w / (1 + 2^w)."""
        result = MatchModel().score(a, b)
        expected = 1 / (1 + 2 ** (-result.match_weight))
        assert math.isclose(expected, result.probability, rel_tol=1e-9, abs_tol=1e-12)

    @given(people("a"), people("b"))
    def test_scoring_is_symmetric(self, a: MatchRecord, b: MatchRecord) -> None:
        """score(a, b) and score(b, a) agree, field by field."""
        model = MatchModel()
        assert model.score(a, b) == model.score(b, a)

    def test_explanation_starts_with_the_prior(self) -> None:
        """The first contribution is the prior's weight."""
        first = MatchModel().score(JOHN, JOHN).explanation[0]
        assert (first.field, first.level) == (PRIOR, "baseline")

    def test_explanation_holds_level_names_and_weights_but_no_values(self) -> None:
        """Nothing the caller passed in appears in the explanation."""
        text = json.dumps(MatchModel().score(JOHN, replace(JOHN, record_id="b", given_name="Jon")).to_dict())
        assert [v for v in ("john", "smith", "1970", "berlin", "10115", "example") if v in text.lower()] == []

    def test_missing_fields_contribute_nothing(self) -> None:
        """A field absent on one side is left out of the explanation."""
        result = MatchModel().score(JOHN, replace(JOHN, record_id="b", birth_date=None))
        assert "birth_date" not in {c.field for c in result.explanation}

    def test_identical_records_are_a_match_and_strangers_are_not(self) -> None:
        """The untrained model already tells a copy from a stranger."""
        stranger = MatchRecord("c", "PERSON", given_name="Maria", family_name="Garcia", birth_date="1991-12-01")
        assert (
            score(JOHN, replace(JOHN, record_id="b")).probability > 0.99,
            score(JOHN, stranger).probability > 0.01,
        ) == (True, False)

    def test_nickname_scores_above_a_different_given_name(self) -> None:
        """Bill for William is evidence for a match, Peter for William against."""
        william = replace(JOHN, given_name="William")
        bill, peter = replace(JOHN, record_id="b", given_name="Bill"), replace(JOHN, record_id="c", given_name="Peter")
        assert score(william, bill).match_weight > score(william, peter).match_weight

    def test_person_and_organisation_never_match(self) -> None:
        """Different kinds get a decisive negative weight."""
        company = MatchRecord("c", "ORGANIZATION", name="John Smith", emails=("john.smith@example.com",))
        assert score(JOHN, company).probability < 1e-6

    def test_a_street_found_in_the_other_records_extra_line_still_agrees(self) -> None:
        """Sources disagree about which line holds the street: found crosswise, it is the same street."""
        a = replace(JOHN, addresses=(MatchAddress(street="Lindenweg 5", line2="Haus Sonne", postal_code="10115"),))
        b = replace(
            JOHN,
            record_id="b",
            addresses=(MatchAddress(street="Haus Sonne", line2="Lindenweg 5", postal_code="10115"),),
        )
        levels = {c.field: c.level for c in MatchModel().score(a, b).explanation}
        assert levels["address"] == "same_premise"

    def test_batch_scores_equal_single_scores(self) -> None:
        """score_pairs gives the same weights as score, pair by pair."""
        records = population(40, 10)
        model = MatchModel()
        pairs = list(candidate_pairs(records))
        batch = [
            s.match_weight
            for s in model.score_pairs(records, compare_pairs([model.prepare(r) for r in records], pairs))
        ]
        single = [model.score(records[i], records[j]).match_weight for i, j in pairs]
        assert single == pytest.approx(batch)

    def test_explain_above_keeps_and_explains_what_score_pairs_and_explain_pairs_do(self) -> None:
        """explain_above: the pairs score_pairs puts at or above the threshold, explain_pairs' results, bit for bit."""
        model = MatchModel.from_dict(MatchModel().to_dict() | {"prior": 0.01})
        companies = [
            MatchRecord(f"o{n}", "ORGANIZATION", name=name, addresses=JOHN.addresses)
            for n, name in enumerate(("Acme GmbH", "Acme Logistik GmbH", "Acme GmbH"))
        ]
        records = [model.prepare(r) for r in [*population(30, 15), JOHN, replace(JOHN, record_id="b"), *companies]]
        compared = compare_pairs(records, itertools.combinations(range(len(records)), 2))
        frequencies = TermFrequencies(len(records), Counter(t for r in records for t in record_terms(r)))
        for terms, threshold in itertools.product((frequencies, None), (0.0, 0.5, 0.99)):
            scored = model.score_pairs(records, compared, terms)
            kept = [
                (s.left, s.right, v)
                for s, v in zip(scored, compared.vectors, strict=True)
                if s.probability >= threshold
            ]
            expected = [(i, j, r) for (i, j, _), r in zip(kept, model.explain_pairs(records, kept, terms), strict=True)]
            assert model.explain_above(records, compared, threshold, terms) == expected != []


class TestSerialisation:
    def test_default_model_round_trips_through_json(self) -> None:
        """to_dict -> JSON -> from_dict gives an equal model."""
        model = MatchModel(default_region="DE")
        assert model == MatchModel.from_dict(json.loads(json.dumps(model.to_dict())))

    def test_trained_model_round_trips_through_json(self) -> None:
        """An estimated model survives the round trip with the same scores."""
        records = population(200, 60)
        model = MatchModel().estimate(records, candidate_pairs(records))
        restored = MatchModel.from_dict(json.loads(json.dumps(model.to_dict())))
        assert (model, model.score(records[0], records[1])) == (restored, restored.score(records[0], records[1]))

    def test_missing_fields_keep_their_defaults(self) -> None:
        """A stored model from before a field existed still loads, with that field's defaults."""
        data = MatchModel().to_dict()
        fields = dict(data["fields"])  # type: ignore[call-overload]
        del fields["email"]
        assert MatchModel() == MatchModel.from_dict({**data, "fields": fields})

    def test_unknown_version_is_refused(self) -> None:
        """A dict of another format version raises ValueError."""
        with pytest.raises(ValueError, match="version"):
            MatchModel.from_dict({**MatchModel().to_dict(), "version": 99})

    def test_probabilities_outside_the_unit_interval_are_refused(self) -> None:
        """m = 0 would make a weight infinite: refused."""
        data = MatchModel().to_dict()
        fields = json.loads(json.dumps(data["fields"]))
        fields["given_name"]["exact"]["m"] = 0.0
        with pytest.raises(ValueError, match="given_name"):
            MatchModel.from_dict({**data, "fields": fields})


class TestRefine:
    def test_confirmed_matches_raise_m_of_the_levels_they_show(self) -> None:
        """Stewards confirming pairs with a nickname make "nickname" weigh more."""
        index = [c.name for c in COMPARISONS].index("given_name")
        bill = replace(JOHN, record_id="b", given_name="Bill")
        decisions = [LabelledPair(replace(JOHN, given_name="William"), bill, is_match=True)] * 20
        model = MatchModel()
        assert model.refine(decisions).m[index][1] > model.m[index][1]

    def test_rejected_pairs_raise_u_of_the_levels_they_show(self) -> None:
        """Dismissed pairs that agree on family name make that agreement weigh less."""
        index = [c.name for c in COMPARISONS].index("family_name")
        other = MatchRecord("z", "PERSON", given_name="Paul", family_name="Smith", birth_date="1990-01-01")
        model = MatchModel()
        refined = model.refine([LabelledPair(JOHN, other, is_match=False)] * 50)
        assert refined.u[index][0] > model.u[index][0]


class TestComparisonVector:
    @given(people("a"), people("b"))
    def test_every_level_names_a_level_of_its_field(self, a: MatchRecord, b: MatchRecord) -> None:
        """Each entry of a comparison vector is a valid level of the field at that position."""
        model = MatchModel()
        vector = comparison_vector(model.prepare(a), model.prepare(b))
        assert [len(c.levels) > level >= 0 for c, level in zip(COMPARISONS, vector, strict=True)] == [True] * len(
            COMPARISONS
        )

    def test_identical_records_agree_exactly_on_every_present_field(self) -> None:
        """A record compared with itself is at its field's best level wherever it has a value (the
        address: the same premise, as it has no flat number)."""
        prepared = MatchModel().prepare(JOHN)
        levels = {COMPARISONS[f].name: level for f, level in enumerate(comparison_vector(prepared, prepared)) if level}
        assert levels == {"given_name": 1, "family_name": 1, "birth_date": 1, "address": 2, "email": 1}
