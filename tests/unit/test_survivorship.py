"""Survivorship rules: which value the golden record keeps, and the decision that explains it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from customer360.domain.errors import InvalidValue
from customer360.domain.profile_attributes import ProfileAttributes
from customer360.domain.survivorship import (
    STEWARD_CHOICE,
    Candidate,
    Rule,
    SurvivorshipPolicy,
    field_choices,
    survive,
)
from customer360.domain.values import CustomerKind, EmailAddress, ExternalReference, LocalePreferences

TODAY = date(2026, 11, 27)
EARLIER = datetime(2026, 1, 1, tzinfo=UTC)
LATER = EARLIER + timedelta(days=30)


def _candidate(customer_id: str, updated_at: datetime = EARLIER, **values: Any) -> Candidate:
    values.setdefault("name", "Acme")
    attributes = ProfileAttributes.build(today=TODAY, kind=CustomerKind.ORGANIZATION, **values)
    return Candidate(customer_id, attributes, updated_at)


def _policy(**rules: str) -> SurvivorshipPolicy:
    return SurvivorshipPolicy.default().revised(rules, None)


class TestSingleValues:
    def test_keep_target_keeps_the_targets_value(self) -> None:
        """The default keeps what the surviving profile has."""
        golden = survive(_candidate("T", segment="SMB"), _candidate("S", segment="MID"), _policy(), today=TODAY)
        assert (golden.attributes.segment, golden.decision("segment").winner) == ("SMB", "TARGET")

    def test_a_missing_value_never_beats_a_present_one(self) -> None:
        """KEEP_TARGET with an empty target takes the source's value, marked as a fallback."""
        golden = survive(_candidate("T"), _candidate("S", industry="Tools"), _policy(), today=TODAY)
        decision = golden.decision("industry")
        assert (golden.attributes.industry, decision.winner, decision.fallback) == ("Tools", "SOURCE", True)

    def test_most_recent_uses_the_per_field_change_time(self) -> None:
        """The source's segment changed later, even though the target profile was updated last."""
        target = Candidate("T", _candidate("T", segment="SMB").attributes, LATER, {"segment": EARLIER})
        source = Candidate("S", _candidate("S", segment="MID").attributes, EARLIER, {"segment": LATER})
        golden = survive(target, source, _policy(segment="MOST_RECENT"), today=TODAY)
        assert golden.attributes.segment == "MID"

    def test_most_complete_prefers_the_fuller_value_and_ties_go_to_the_target(self) -> None:
        """Longer text and more sub-fields win; equal completeness keeps the target's."""
        policy = _policy(name="MOST_COMPLETE", locale="MOST_COMPLETE", segment="MOST_COMPLETE")
        target = _candidate("T", name="Acme", segment="SMB", locale=LocalePreferences(language="de"))
        source = _candidate(
            "S", name="Acme Holding", segment="MID", locale=LocalePreferences(language="de", currency="EUR")
        )
        golden = survive(target, source, policy, today=TODAY)
        assert (golden.attributes.name, golden.attributes.locale.currency, golden.attributes.segment) == (
            "Acme Holding",
            "EUR",
            "SMB",
        )

    def test_source_priority_ranks_records_by_their_systems(self) -> None:
        """A record with an MDG reference beats one known only to SALES; no listed system ranks last."""
        policy = _policy(name="SOURCE_PRIORITY")
        sales = _candidate("T", name="Acme (sales)", external_refs=(ExternalReference("SALES", "1"),))
        mdg = _candidate("S", name="Acme AG", external_refs=(ExternalReference("MDG", "9"),))
        nothing = _candidate("S", name="Acme ?")
        assert survive(sales, mdg, policy, today=TODAY).attributes.name == "Acme AG"
        assert survive(sales, nothing, policy, today=TODAY).attributes.name == "Acme (sales)"

    def test_the_website_brings_its_domain(self) -> None:
        """The web domain is derived from the website and always comes from the same side."""
        golden = survive(
            _candidate("T"),
            _candidate("S", website="https://acme.example", domain="acme.example"),
            _policy(),
            today=TODAY,
        )
        assert (golden.attributes.website, golden.attributes.domain) == ("https://acme.example", "acme.example")


class TestLists:
    def test_union_keeps_every_item_once_the_targets_first(self) -> None:
        """Tags are compared case-insensitively; item sides say who held each item."""
        golden = survive(
            _candidate("T", tags=("vip", "north")), _candidate("S", tags=("VIP", "south")), _policy(), today=TODAY
        )
        assert (golden.attributes.tags, golden.decision("tags").item_sides) == (
            ("vip", "north", "south"),
            ("BOTH", "TARGET", "SOURCE"),
        )

    def test_the_targets_primary_email_stays_the_only_primary(self) -> None:
        """Two primary addresses would break the profile's rule: the source's becomes ordinary."""
        target = _candidate("T", emails=(EmailAddress("a@acme.example", primary=True),))
        source = _candidate("S", emails=(EmailAddress("b@acme.example", primary=True),))
        emails = survive(target, source, _policy(), today=TODAY).attributes.emails
        assert [(e.address, e.primary) for e in emails] == [("a@acme.example", True), ("b@acme.example", False)]

    def test_external_references_of_one_system_are_all_kept(self) -> None:
        """A merged profile may hold two ids of one system (the system has the duplicate too)."""
        target = _candidate("T", external_refs=(ExternalReference("SALES", "1"),))
        source = _candidate("S", external_refs=(ExternalReference("SALES", "2"),))
        refs = survive(target, source, _policy(), today=TODAY).attributes.external_refs
        assert [r.external_id for r in refs] == ["1", "2"]


class TestChoicesAndPolicies:
    def test_a_stewards_choice_is_followed_even_when_it_empties_a_field(self) -> None:
        """fieldChoices SOURCE takes the source's (missing) segment; the decision says STEWARD_CHOICE."""
        golden = survive(
            _candidate("T", segment="SMB"),
            _candidate("S"),
            _policy(),
            field_choices({"segment": "SOURCE"}),
            today=TODAY,
        )
        assert (golden.attributes.segment, golden.decision("segment").rule) == (None, STEWARD_CHOICE)

    @pytest.mark.parametrize(
        ("rules", "field"),
        [
            ({"name": "UNION"}, "rules.name"),
            ({"externalRefs": "KEEP_TARGET"}, "rules.externalRefs"),
            ({"shoeSize": "KEEP_TARGET"}, "rules.shoeSize"),
            ({"segment": "LOUDEST"}, "rules.segment"),
        ],
    )
    def test_invalid_rules_are_refused_with_the_field(self, rules: dict[str, str], field: str) -> None:
        """UNION only for lists, external references only united, known fields and rules only."""
        with pytest.raises(InvalidValue) as raised:
            _policy(**rules)
        assert raised.value.field == field

    def test_source_systems_are_spelled_like_external_references(self) -> None:
        """Upper-cased, distinct, letters and digits: control characters or repeats are refused."""
        assert SurvivorshipPolicy.default().revised({}, ["mdg", "web"]).source_priority == ("MDG", "WEB")
        for bad in (["MDG", "mdg"], ["MD\x00G"], [""]):
            with pytest.raises(InvalidValue):
                SurvivorshipPolicy.default().revised({}, bad)

    def test_a_stored_policy_ignores_fields_the_service_no_longer_has(self) -> None:
        """Documents are read leniently: unknown fields are dropped, known ones override the base."""
        stored = {"rules": {"segment": "MOST_RECENT", "retired": "KEEP_TARGET"}, "sourcePriority": ["WEB"]}
        policy = SurvivorshipPolicy.from_document(stored, SurvivorshipPolicy.default(), 4)
        assert (policy.rule_for("segment"), policy.rule_for("emails"), policy.source_priority, policy.version) == (
            Rule.MOST_RECENT,
            Rule.UNION,
            ("WEB",),
            4,
        )
