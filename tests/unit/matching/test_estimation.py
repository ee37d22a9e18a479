"""Unsupervised estimation learns the tenant's own m, u and prior."""

from __future__ import annotations

from dataclasses import replace

import pytest

from customer360.domain.matching import COMPARISONS, MatchModel, candidate_pairs, estimation
from customer360.domain.matching.estimation import _known_rates, estimate_u, u_records

from .strategies import population, same_person

# the level of an exact agreement per field (the address: the same premise)
FIELDS = {"given_name": 0, "family_name": 0, "birth_date": 0, "address": 1}


class TestEstimate:
    def test_em_gives_exact_agreement_more_weight_among_matches_than_chance(self) -> None:
        """After EM, m > u for the exact level of names, birth date and address."""
        records = population(600, 150)
        model = MatchModel().estimate(records, candidate_pairs(records))
        index = {c.name: i for i, c in enumerate(COMPARISONS)}
        assert all(model.m[index[f]][level] > 10 * model.u[index[f]][level] for f, level in FIELDS.items())

    def test_prior_is_close_to_the_true_share_of_matching_pairs(self) -> None:
        """The estimated prior is within a factor of two of the truth."""
        records = population(600, 150)
        true_pairs = sum(
            same_person(records[i], records[j]) for i in range(len(records)) for j in range(i + 1, len(records))
        )
        truth = true_pairs / (len(records) * (len(records) - 1) / 2)
        model = MatchModel().estimate(records, candidate_pairs(records))
        assert 0.5 * truth < model.prior < 2 * truth

    def test_estimated_model_separates_duplicates_from_strangers(self) -> None:
        """At probability 0.5, nearly every candidate is classified right."""
        records = population(600, 150)
        pairs = list(candidate_pairs(records))
        model = MatchModel().estimate(records, pairs)
        scored = model.score_pairs(records, pairs)
        wrong = sum((s.probability >= 0.5) != same_person(records[s.left], records[s.right]) for s in scored)
        assert wrong <= 0.01 * len(pairs)

    def test_estimation_is_reproducible(self) -> None:
        """The same records and seed give the same model."""
        records = population(300, 60)
        assert MatchModel().estimate(records, candidate_pairs(records), seed=3) == MatchModel().estimate(
            records, candidate_pairs(records), seed=3
        )

    def test_without_candidates_only_u_is_learned(self) -> None:
        """No candidate pairs: m and prior keep their values."""
        records = population(50, 0)
        model = MatchModel().estimate(records, [])
        assert (MatchModel().m, MatchModel().prior) == (model.m, model.prior)

    def test_a_tiny_tenant_keeps_sensible_weights(self) -> None:
        """Twenty profiles are too few to learn from; copies still match and strangers do not."""
        records = population(20, 3)
        model = MatchModel().estimate(records, candidate_pairs(records))
        copy_matches = model.score(records[0], replace(records[0], record_id="copy")).probability > 0.99
        stranger_matches = model.score(records[0], records[1]).probability > 0.5
        assert (copy_matches, stranger_matches) == (True, False)


class TestChanceAgreementOfASample:
    def test_u_of_the_records_at_the_positions_u_records_gives_is_the_u_of_them_all(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A scan decoding only the records estimate_u samples (u_records) gets the u of all of them."""
        monkeypatch.setattr(estimation, "U_RECORDS", 60)
        records = [MatchModel().prepare(r) for r in population(150, 40)]
        positions = u_records(len(records), seed=3)
        assert positions is not None
        assert len(positions) == 60
        sampled = estimate_u([records[p] for p in positions], MatchModel().u, sample_pairs=300, seed=3)
        assert (u_records(60, seed=3), sampled) == (None, estimate_u(records, MatchModel().u, sample_pairs=300, seed=3))


class TestChanceAgreementFromValueCounts:
    def test_the_rate_of_pairs_sharing_a_birth_date_is_the_count_over_every_pair(self) -> None:
        """Counted from value frequencies, it is the share of all pairs of persons with a birth date
        that have the same one (the u of the exact level, as a brute-force pass over the pairs finds)."""
        records = [MatchModel().prepare(r) for r in population(200, 60)]
        dated = [r.birth_date for r in records if r.birth_date]
        sharing = sum(a == b for i, a in enumerate(dated) for b in dated[i + 1 :])
        rates = _known_rates(records, "birth_date", link_only=False)
        assert rates == {1: ((1,), 2 * sharing / (len(dated) * (len(dated) - 1)))}
        assert sharing > 0
