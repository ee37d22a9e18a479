"""The CustomerProfile aggregate guards its invariants and records its events."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from customer360.application.profile_input import merge_patch, parse_contact, parse_profile, patched_profile
from customer360.domain.customer import CustomerProfile
from customer360.domain.errors import CustomerMerged, InvalidValue
from customer360.domain.events import CustomerProfileUpdated
from customer360.domain.profile_attributes import ContactAttributes
from customer360.domain.values import ContactRole, CustomerStatus
from tests.support.inputs import contact_input, profile_input

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


def _profile(**raw: object) -> CustomerProfile:
    raw.setdefault("name", "Acme")
    return CustomerProfile.create(
        id="CUST-1",
        tenant_id="t",
        attributes=parse_profile(profile_input(raw), region="DE", today=TODAY),
        status=CustomerStatus.ACTIVE,
        contacts=[],
        actor="u",
        now=NOW,
    )


def _contact(**raw: object) -> ContactAttributes:
    return parse_contact(contact_input(raw), region="DE")


class TestAttributes:
    def test_repeated_values_are_kept_once(self) -> None:
        """The same e-mail in two spellings is one e-mail."""
        attributes = parse_profile(
            profile_input({"name": "A", "emails": ["a@x.example", "A@X.example"]}), region=None, today=TODAY
        )
        assert len(attributes.emails) == 1

    def test_persons_have_no_legal_name(self) -> None:
        """legalName belongs to organizations."""
        with pytest.raises(InvalidValue, match="legalName"):
            parse_profile(
                profile_input({"kind": "PERSON", "name": "A", "legal_name": "A GmbH"}), region=None, today=TODAY
            )

    def test_a_birth_date_cannot_be_in_the_future(self) -> None:
        """Nobody is born tomorrow."""
        with pytest.raises(InvalidValue, match="birthDate"):
            parse_profile(
                profile_input({"kind": "PERSON", "name": "A", "birth_date": date(2030, 1, 1)}),
                region=None,
                today=TODAY,
            )


class TestRevise:
    def test_a_revision_records_old_and_new_values_and_one_version(self) -> None:
        """Two fields changed in one command: one new version, both changes with old and new values."""
        profile = _profile(segment="SMB")
        profile.events.clear()
        profile.mark_saved()
        new = patched_profile(
            profile.attributes, profile_input({"segment": "MID", "industry": "Retail"}), region=None, today=TODAY
        )
        profile.revise(new, actor="u2", now=NOW)
        [event] = profile.events
        assert isinstance(event, CustomerProfileUpdated)
        assert (profile.version, event.changed_fields, profile.updated_by) == (2, ["industry", "segment"], "u2")
        assert {("segment", "SMB", "MID"), ("industry", None, "Retail")} == {
            (c.field, c.old, c.new) for c in event.changes
        }

    def test_a_merged_profile_is_read_only(self) -> None:
        """Changing a merged profile raises CustomerMerged with the survivor."""
        profile = _profile()
        profile.status, profile.merged_into = CustomerStatus.MERGED, "CUST-2"
        with pytest.raises(CustomerMerged) as error:
            profile.change_status(CustomerStatus.INACTIVE, actor="u", now=NOW, reason=None)
        assert error.value.survivor_id == "CUST-2"


class TestContacts:
    def test_one_primary_per_role(self) -> None:
        """A new primary for BILLING removes BILLING from the former primary's primary roles only."""
        profile = _profile()
        profile.add_contact("CONT-1", _contact(name="A", roles=["BILLING", "SALES"], primary=True), actor="u", now=NOW)
        profile.add_contact("CONT-2", _contact(name="B", roles=["BILLING"], primary=True), actor="u", now=NOW)
        primaries = {c.id: c.attributes.primary_roles for c in profile.contacts}
        assert {"CONT-1": {ContactRole.SALES}, "CONT-2": {ContactRole.BILLING}} == primaries

    def test_a_removed_contact_is_kept_but_inactive(self) -> None:
        """Removal retires the contact; it stays in the aggregate for history."""
        profile = _profile()
        profile.add_contact("CONT-1", _contact(name="A"), actor="u", now=NOW)
        profile.remove_contact("CONT-1", actor="u", now=NOW)
        assert (profile.active_contacts, len(profile.contacts)) == ([], 1)


class TestMergePatch:
    def test_rfc7396_semantics(self) -> None:
        """null removes, objects merge, arrays and scalars replace."""
        target = {"a": 1, "b": {"c": 2, "d": 3}, "e": [1, 2]}
        patch = {"a": None, "b": {"c": None, "x": 9}, "e": [3]}
        assert merge_patch(target, patch) == {"b": {"d": 3, "x": 9}, "e": [3]}
