"""The console explains a pair in a steward's words, the household and same-site reasons included."""

from __future__ import annotations

from customer360.infrastructure.rest.console.side_by_side import explain


def test_a_household_member_is_named_as_such() -> None:
    """The household level reads as "one household", under the field "Household", with its weight."""
    [row] = explain([{"field": "household", "level": "household_member", "weight": -9.5}])["rows"]
    assert (row["field"], row["words"].startswith("one household"), row["verdict"]) == ("Household", True, "disagree")


def test_a_sister_company_is_named_as_another_company_at_the_same_site() -> None:
    """The same-site level reads as another company at the same site."""
    [row] = explain([{"field": "same_site", "level": "other_company", "weight": -12.0}])["rows"]
    assert (row["field"], row["words"].startswith("another company at the same site")) == ("Same site", True)
