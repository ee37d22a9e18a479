"""Typed input becomes domain values: a create, or a JSON merge patch of the current attributes."""

from __future__ import annotations

from datetime import date

import pytest

from customer360.application.inputs import (
    CommunicationInput,
    ContactInput,
    EmailInput,
    LocaleInput,
    PhoneInput,
    ProfileInput,
    QuietHoursInput,
)
from customer360.application.profile_input import parse_contact, parse_profile, patched_contact, patched_profile
from customer360.domain.errors import InvalidValue
from customer360.domain.values import Channel, ContactRole, CustomerKind

TODAY = date(2026, 11, 27)


def _acme() -> ProfileInput:
    return ProfileInput(
        name="Acme GmbH",
        segment="SMB",
        website="www.acme.example",
        phones=(PhoneInput(number="030 1234567"),),
        locale=LocaleInput(language="de", time_zone="Europe/Berlin"),
        communication=CommunicationInput(
            preferred_channel=Channel.EMAIL, quiet_hours=QuietHoursInput(start="22:00", end="07:00")
        ),
    )


class TestProfilePatch:
    def test_a_patch_naming_nothing_changes_nothing(self) -> None:
        """Every current value stays as it is."""
        current = parse_profile(_acme(), region="DE", today=TODAY)
        assert patched_profile(current, ProfileInput(), region="DE", today=TODAY) == current

    def test_current_values_are_not_parsed_again(self) -> None:
        """A national phone number read with the region of its day survives a patch made without one."""
        current = parse_profile(_acme(), region="DE", today=TODAY)
        patched = patched_profile(current, ProfileInput(segment="MID"), region=None, today=TODAY)
        assert (patched.phones, patched.segment) == (current.phones, "MID")

    def test_null_removes_a_value_and_what_derives_from_it(self) -> None:
        """Removing the website removes its domain too."""
        current = parse_profile(_acme(), region="DE", today=TODAY)
        patched = patched_profile(current, ProfileInput(website=None, segment=None), region="DE", today=TODAY)
        assert (patched.website, patched.domain, patched.segment) == (None, None, None)

    def test_objects_merge_field_by_field(self) -> None:
        """A new language keeps the time zone; a new preferred channel keeps the quiet hours."""
        current = parse_profile(_acme(), region="DE", today=TODAY)
        patch = ProfileInput(
            locale=LocaleInput(language="fr"), communication=CommunicationInput(preferred_channel=Channel.SMS)
        )
        patched = patched_profile(current, patch, region="DE", today=TODAY)
        assert (patched.locale.language, patched.locale.time_zone) == ("fr", "Europe/Berlin")
        assert (patched.communication.preferred_channel, patched.communication.quiet_hours) == (
            Channel.SMS,
            current.communication.quiet_hours,
        )

    def test_lists_replace_as_a_whole(self) -> None:
        """A patch's e-mails are the profile's e-mails afterwards."""
        current = parse_profile(
            ProfileInput(name="Acme", emails=(EmailInput(address="a@acme.example"),)), region=None, today=TODAY
        )
        patch = ProfileInput(emails=(EmailInput(address="b@acme.example"),))
        patched = patched_profile(current, patch, region=None, today=TODAY)
        assert [e.address for e in patched.emails] == ["b@acme.example"]

    def test_the_kind_cannot_change(self) -> None:
        """Naming another kind is refused with the field."""
        current = parse_profile(ProfileInput(name="Acme"), region=None, today=TODAY)
        with pytest.raises(InvalidValue, match="kind"):
            patched_profile(current, ProfileInput(kind=CustomerKind.PERSON), region=None, today=TODAY)

    def test_an_invalid_item_is_named_by_its_path(self) -> None:
        """The second e-mail's address is the field in error."""
        given = ProfileInput(name="Acme", emails=(EmailInput(address="a@acme.example"), EmailInput(address="nope")))
        with pytest.raises(InvalidValue) as error:
            parse_profile(given, region=None, today=TODAY)
        assert error.value.field == "emails[1].address"


class TestContactInput:
    def test_the_shortcuts_add_to_the_lists(self) -> None:
        """email goes first among the e-mails; role joins the roles; primary makes them all primary."""
        given = ContactInput(
            name="Ann",
            email="ann@acme.example",
            emails=(EmailInput(address="ann@home.example"),),
            role=ContactRole.BILLING,
            roles=(ContactRole.SALES,),
            primary=True,
        )
        contact = parse_contact(given, region=None)
        assert [e.address for e in contact.emails] == ["ann@acme.example", "ann@home.example"]
        assert contact.primary_roles == contact.roles == {ContactRole.BILLING, ContactRole.SALES}

    def test_a_new_given_name_derives_the_name_again(self) -> None:
        """Without a new name, the name follows the given and family names."""
        current = parse_contact(ContactInput(given_name="Ann", family_name="Lee"), region=None)
        patched = patched_contact(current, ContactInput(given_name="Anne"), region=None)
        assert (current.name, patched.name) == ("Ann Lee", "Anne Lee")
